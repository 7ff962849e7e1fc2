"""The order stream poller thread: runs `OrderStreamService.poll` for as long as the app runs.

It owns its loop: poll (which reads until DSCO has nothing more), then sleep for the poll
interval, a wake-up (account changed, "poll now") or the stop request, whichever comes first.
DSCO errors and dropped connections never end the thread: it backs off (doubling, up to five
minutes, with jitter) and says so through `status_changed`; the next success says "receiving".
It only emits plain immutable data: each applied page (`StreamBatch`) as it is committed, and a
`PollReport` per round. Stopping is part of the app's ordered shutdown (`stop()`).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from dsco_desktop.errors import UserFacingError
from dsco_desktop.ui.workers import LoopThread

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 300.0


class StreamWorker(LoopThread):
    """Polls the order stream in the background."""

    thread_name = "StreamWorker"

    batch_applied = Signal(object)  # StreamBatch, once its orders are committed
    poll_finished = Signal(object)  # PollReport of a round
    status_changed = Signal(str, bool)  # a line for the status bar, whether it is a problem

    def __init__(
        self,
        make_service: Callable[[Callable[[Any], None]], Any | None],
        *,
        interval_s: Callable[[], float],
        on_exit: Callable[[], None] | None = None,
        rng: Callable[[], float] = random.random,
        parent: QObject | None = None,
    ) -> None:
        """`make_service(on_batch)` is called on the worker thread each round and returns an
        `OrderStreamService` (or None while there is no account); it may return the same one.
        `on_exit` runs last on the worker thread (to close its database connection).
        """
        super().__init__(on_exit=on_exit, parent=parent)
        self._make_service = make_service
        self._interval_s = interval_s
        self._rng = rng
        self.failures = 0

    def backoff_s(self) -> float:
        """How long to wait after the current run of failures."""
        base = max(1.0, float(self._interval_s()))
        step = min(MAX_BACKOFF_S, base * 2 ** max(0, self.failures - 1))
        return step / 2 + self._rng() * step / 2

    def _loop(self) -> None:
        while not self.isInterruptionRequested():
            delay = float(self._interval_s())
            try:
                service = self._make_service(self.batch_applied.emit)
                if service is not None:
                    report = service.poll(should_stop=self.isInterruptionRequested)
                    if self.failures:
                        self.status_changed.emit("Order stream: receiving again.", False)
                    self.failures = 0
                    self.poll_finished.emit(report)
            except UserFacingError as exc:
                delay = self._failed(exc.message)
            except Exception as exc:
                log.exception("Order stream round failed")
                delay = self._failed(f"unexpected error ({type(exc).__name__}); see the log")
            self.rounds += 1
            self._sleep(delay)

    def _failed(self, message: str) -> float:
        self.failures += 1
        delay = self.backoff_s()
        log.info("Order stream: %s; next try in %.0f s", message, delay)
        sentence = message if message.endswith((".", "!", "?")) else message + "."
        self.status_changed.emit(f"Order stream: {sentence} Trying again in {delay:.0f} s.", True)
        return delay
