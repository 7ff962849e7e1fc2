"""Long-lived worker threads: the loop they share (`LoopThread`) and the outbox sender.

`LoopThread` is the plumbing every long-lived thread needs: a loop that sleeps between rounds
until a timeout, a thread-safe `wake()` or the stop request, whichever comes first, an ordered
`stop()` and an `on_exit` hook that runs last on the thread. The order stream poller
(`ui/stream_worker.py`) and the outbox sender both build on it.

The outbox thread owns its loop: it sends the rows that are due (through `OutboxSender`, with
its own SQLite connection since `Database.connection()` is per thread), reports the outbox
counts, then sleeps until the next row is due, a wake-up (a new row was queued, the account
changed) or the idle poll, whichever comes first. It stops cleanly from the app's ordered
shutdown: `stop()` requests interruption, wakes the loop and waits for it; `send_due` is given
`should_stop` so a long batch ends between rows. It only emits plain immutable data.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from PySide6.QtCore import QObject, QThread, Signal

log = logging.getLogger(__name__)

# Counts are re-read at least this often even when nothing is due, so rows queued by other
# threads (imports, order actions) show in the status bar without an explicit wake-up.
IDLE_POLL_S = 1.0
# After an unexpected error in a round, wait before the next one instead of spinning.
ERROR_PAUSE_S = 5.0


class SenderLike(Protocol):
    """What the worker needs from `dsco_desktop.services.outbox.OutboxSender`."""

    def send_due(self, limit: int = ..., should_stop: Callable[[], bool] = ...) -> Any: ...

    def next_due_at(self) -> Any: ...


class CountsSource(Protocol):
    """What the worker needs from `OutboxRepository`."""

    def counts(self) -> Any: ...


def seconds_until(due: object, now: float | None = None) -> float | None:
    """Seconds from now until `due` (a datetime or epoch seconds); None when nothing is due."""
    if due is None:
        return None
    now = time.time() if now is None else now
    if isinstance(due, datetime):
        if due.tzinfo is None:
            due = due.replace(tzinfo=UTC)
        return due.timestamp() - now
    if isinstance(due, int | float):
        return float(due) - now
    if isinstance(due, str):
        return seconds_until(datetime.fromisoformat(due.replace("Z", "+00:00")), now)
    raise TypeError(f"unexpected next_due_at value {due!r}")


class LoopThread(QThread):
    """A thread that runs `_loop()` and sleeps between rounds until woken or stopped.

    Subclasses implement `_loop()` (checking `isInterruptionRequested()` and calling
    `_sleep(seconds)` between rounds) and name themselves with `thread_name`.
    """

    thread_name = "LoopThread"

    def __init__(
        self, *, on_exit: Callable[[], None] | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName(self.thread_name)
        self._on_exit = on_exit
        self._wake = threading.Condition()
        self._woken = False
        self.rounds = 0

    def wake(self) -> None:
        """End the current sleep now (thread-safe)."""
        with self._wake:
            self._woken = True
            self._wake.notify_all()

    def stop(self, timeout_ms: int = 15_000) -> bool:
        """Ask the loop to end, wake it, and wait; True when the thread has finished."""
        self.requestInterruption()
        self.wake()
        self.quit()
        return bool(self.wait(timeout_ms))

    def run(self) -> None:
        try:
            self._loop()
        finally:
            if self._on_exit is not None:
                self._on_exit()
        log.info("%s stopped", self.thread_name)

    def _loop(self) -> None:
        raise NotImplementedError

    def _sleep(self, seconds: float) -> None:
        with self._wake:
            if not self._woken and seconds > 0 and not self.isInterruptionRequested():
                self._wake.wait(timeout=seconds)
            self._woken = False


class OutboxWorker(LoopThread):
    """Drains the outbox in the background for as long as the app runs."""

    thread_name = "OutboxWorker"

    counts_changed = Signal(object)  # OutboxCounts, emitted when they differ from the last
    batch_sent = Signal(object)  # SendReport of a round that handled at least one row
    round_failed = Signal(object)  # an unexpected exception in a round (logged, retried later)

    def __init__(
        self,
        make_counts: Callable[[], CountsSource],
        make_sender: Callable[[], SenderLike | None],
        *,
        batch_size: int = 50,
        idle_poll_s: float = IDLE_POLL_S,
        on_exit: Callable[[], None] | None = None,
        parent: QObject | None = None,
    ) -> None:
        """`make_counts` is called once, on the worker thread, so it opens its own connection;
        `make_sender` each round, so a changed account takes effect (None = no account yet);
        `on_exit` runs last on the worker thread (to close its database connection).
        """
        super().__init__(on_exit=on_exit, parent=parent)
        self._make_counts = make_counts
        self._make_sender = make_sender
        self._batch_size = batch_size
        self._idle_poll_s = idle_poll_s

    def _loop(self) -> None:
        counts_source = self._make_counts()
        last_counts: object = None
        while not self.isInterruptionRequested():
            delay = self._idle_poll_s
            try:
                sender = self._make_sender()
                if sender is not None:
                    report = sender.send_due(
                        limit=self._batch_size, should_stop=self.isInterruptionRequested
                    )
                    if _handled_any(report):
                        self.batch_sent.emit(report)
                    due_in = seconds_until(sender.next_due_at())
                    if due_in is not None:
                        delay = min(delay, max(0.0, due_in))
                counts = counts_source.counts()
                if counts != last_counts:
                    last_counts = counts
                    self.counts_changed.emit(counts)
            except Exception as exc:
                log.exception("Outbox round failed")
                self.round_failed.emit(exc)
                delay = ERROR_PAUSE_S
            self.rounds += 1
            self._sleep(delay)


def _handled_any(report: object) -> bool:
    """Whether a SendReport says any row was attempted (field names tolerated loosely)."""
    if report is None:
        return False
    for name in ("attempted", "processed", "total", "handled"):
        value = getattr(report, name, None)
        if isinstance(value, int):
            return value > 0
    numbers = [
        getattr(report, name)
        for name in ("sent", "retried", "failed", "rejected", "delivered")
        if isinstance(getattr(report, name, None), int)
    ]
    return sum(numbers) > 0 if numbers else True
