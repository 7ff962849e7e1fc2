"""The one helper for one-off background work (imports, pushes, exports, connection tests).

A job is a plain function `fn(ctx: JobContext) -> T` that runs on a QThreadPool thread. It
reports progress through `ctx.progress(...)`, checks `ctx.cancelled` (or calls
`ctx.check_cancelled()`) at safe points, and returns a plain value or raises. The `Job` handle
lives on the GUI thread and carries Qt signals (progress, succeeded, failed, cancelled,
finished), so widgets never touch a worker thread and workers never touch a widget.

Errors: a `UserFacingError` goes to the job's `failed` signal (or, when nobody listens, to the
runner's `user_error` signal for the message bridge); anything else is a bug and also goes to
`unexpected_error` for the crash dialog, with its traceback logged.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from dsco_desktop.errors import UserFacingError

log = logging.getLogger(__name__)

T = TypeVar("T")

# Progress is a UI hint: more than ~20 updates a second only costs the GUI thread.
PROGRESS_MIN_INTERVAL_S = 0.05


class JobCancelledError(Exception):
    """Raised inside a job by `JobContext.check_cancelled()` once cancellation was requested."""


class JobContext:
    """What a running job sees: a cancellation flag and a progress reporter (thread-safe)."""

    def __init__(self, emit_progress: Callable[[int, int, str], None]) -> None:
        self._emit_progress = emit_progress
        self._cancel = threading.Event()
        self._last_progress = 0.0

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()

    def check_cancelled(self) -> None:
        """Stop the job here (raise `JobCancelledError`) when the user asked to cancel."""
        if self._cancel.is_set():
            raise JobCancelledError

    def progress(self, done: int, total: int = 0, text: str = "") -> None:
        """Report `done` of `total` (0 = unknown) with a short line of text; throttled."""
        now = time.monotonic()
        final = total > 0 and done >= total
        if not final and now - self._last_progress < PROGRESS_MIN_INTERVAL_S:
            return
        self._last_progress = now
        self._emit_progress(done, total, text)


class Job(QObject, Generic[T]):
    """The GUI-thread handle of one background job."""

    progress = Signal(int, int, str)  # done, total (0 = unknown), text
    succeeded = Signal(object)  # the function's return value
    failed = Signal(object)  # the exception (UserFacingError or a bug)
    cancelled = Signal()
    finished = Signal()  # always last, whatever the outcome

    def __init__(self, name: str, emit_progress: Callable[[int, int, str], None]) -> None:
        # No Qt parent: the runner keeps the job alive until it finishes, the caller after.
        super().__init__(None)
        self.name = name
        self.context = JobContext(emit_progress)
        self.done = False
        self.result: T | None = None
        self.error: BaseException | None = None
        self.was_cancelled = False

    def cancel(self) -> None:
        """Ask the job to stop at its next check; it then emits `cancelled`."""
        self.context.cancel()


class _Runnable(QRunnable):
    def __init__(self, job: Job[Any], fn: Callable[[JobContext], Any], report: _Report) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self._job = job
        self._fn = fn
        self._report = report

    def run(self) -> None:
        job = self._job
        try:
            job.context.check_cancelled()
            result = self._fn(job.context)
        except JobCancelledError:
            self._report.finished_cancelled.emit(job)
        except BaseException as exc:
            if not isinstance(exc, UserFacingError):
                log.error("Job %r failed", job.name, exc_info=exc)
            self._report.finished_failed.emit(job, exc)
        else:
            if job.context.cancelled:
                self._report.finished_cancelled.emit(job)
            else:
                self._report.finished_ok.emit(job, result)


class _Report(QObject):
    """Carries outcomes from pool threads to the GUI thread (queued, since it lives there)."""

    finished_ok = Signal(object, object)
    finished_failed = Signal(object, object)
    finished_cancelled = Signal(object)
    progressed = Signal(object, int, int, str)


class JobRunner(QObject):
    """Runs jobs on a thread pool and delivers their outcomes on the GUI thread."""

    user_error = Signal(object)  # a UserFacingError nobody handled
    unexpected_error = Signal(object)  # a bug in a job: for the crash dialog
    active_changed = Signal(int)  # number of jobs not finished yet

    def __init__(self, max_threads: int | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        if max_threads is not None:
            self._pool.setMaxThreadCount(max_threads)
        self._report = _Report(self)
        self._report.finished_ok.connect(self._on_ok)
        self._report.finished_failed.connect(self._on_failed)
        self._report.finished_cancelled.connect(self._on_cancelled)
        self._report.progressed.connect(self._on_progress)
        self._jobs: dict[int, tuple[Job[Any], _Runnable]] = {}
        self._ids = itertools.count(1)
        self._closed = False

    @property
    def closed(self) -> bool:
        """True after `shutdown()`: new jobs are refused."""
        return self._closed

    @property
    def active_count(self) -> int:
        return len(self._jobs)

    def submit(
        self,
        fn: Callable[[JobContext], T],
        *,
        name: str,
        on_success: Callable[[T], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[int, int, str], None] | None = None,
    ) -> Job[T]:
        """Start `fn(ctx)` on a pool thread; callbacks run on the GUI thread.

        Without `on_error`, a failure goes to `user_error` (expected) or `unexpected_error`.
        """
        if self._closed:
            raise RuntimeError("the job runner is shut down")
        report = self._report
        job: Job[T] = Job(name, lambda d, t, s: report.progressed.emit(job, d, t, s))
        if on_success is not None:
            job.succeeded.connect(on_success)
        if on_progress is not None:
            job.progress.connect(on_progress)
        job.setProperty("has_error_handler", on_error is not None)
        if on_error is not None:
            job.failed.connect(on_error)
        runnable = _Runnable(job, fn, self._report)
        job_id = next(self._ids)
        job.setProperty("job_id", job_id)
        self._jobs[job_id] = (job, runnable)
        self.active_changed.emit(len(self._jobs))
        self._pool.start(runnable)
        return job

    def cancel_all(self) -> None:
        for job, _ in list(self._jobs.values()):
            job.cancel()

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Cancel everything and wait for the pool; True when every thread stopped in time."""
        self._closed = True
        self.cancel_all()
        stopped = bool(self._pool.waitForDone(timeout_ms))
        if stopped:
            # The threads are done, but their results may still be queued for the GUI thread;
            # nobody is there to receive them after shutdown, so they are dropped (see _settled).
            for job, _runnable in list(self._jobs.values()):
                self._forget(job)
        return stopped

    def wait_for_done(self, timeout_ms: int = 10_000) -> bool:
        return bool(self._pool.waitForDone(timeout_ms))

    # Outcome delivery, on the GUI thread.

    def _forget(self, job: Job[Any]) -> None:
        self._jobs.pop(int(job.property("job_id")), None)
        job.done = True
        self.active_changed.emit(len(self._jobs))

    def _on_progress(self, job: Job[Any], done: int, total: int, text: str) -> None:
        if not job.done:
            job.progress.emit(done, total, text)

    def _settled(self, job: Job[Any]) -> bool:
        """Forget a finished job; False when it was already dropped by `shutdown`."""
        if job.done:
            return False
        self._forget(job)
        return True

    def _on_ok(self, job: Job[Any], result: object) -> None:
        if not self._settled(job):
            return
        job.result = result
        job.succeeded.emit(result)
        job.finished.emit()

    def _on_failed(self, job: Job[Any], exc: BaseException) -> None:
        if not self._settled(job):
            return
        job.error = exc
        job.failed.emit(exc)
        if not isinstance(exc, UserFacingError):
            self.unexpected_error.emit(exc)
        elif not job.property("has_error_handler"):
            self.user_error.emit(exc)
        job.finished.emit()

    def _on_cancelled(self, job: Job[Any]) -> None:
        if not self._settled(job):
            return
        job.was_cancelled = True
        job.cancelled.emit()
        job.finished.emit()
