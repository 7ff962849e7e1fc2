"""The background-job helper: results, progress, errors and cancellation reach the GUI thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from dsco_desktop.errors import UserFacingError
from dsco_desktop.ui.jobs import JobContext, JobRunner


@pytest.fixture
def runner(qtbot: QtBot) -> Iterator[JobRunner]:
    jobs = JobRunner(max_threads=2)
    yield jobs
    assert jobs.shutdown(5000)


def test_result_and_progress_arrive_on_the_gui_thread(qtbot: QtBot, runner: JobRunner) -> None:
    worker_threads: list[threading.Thread] = []
    progress: list[tuple[int, int, str]] = []
    seen_on: list[threading.Thread] = []

    def work(ctx: JobContext) -> int:
        worker_threads.append(threading.current_thread())
        for i in range(1, 4):
            ctx.progress(i, 3, f"step {i}")
        return 42

    def on_progress(done: int, total: int, text: str) -> None:
        seen_on.append(threading.current_thread())
        progress.append((done, total, text))

    job = runner.submit(work, name="answer", on_progress=on_progress)
    with qtbot.waitSignal(job.succeeded) as result:
        pass
    assert result.args == [42]
    assert job.result == 42 and job.done
    assert worker_threads[0] is not threading.main_thread()
    qtbot.waitUntil(lambda: (3, 3, "step 3") in progress)
    assert all(t is threading.main_thread() for t in seen_on)
    assert runner.active_count == 0


def test_user_error_goes_to_the_handler_without_alarm(qtbot: QtBot, runner: JobRunner) -> None:
    errors: list[BaseException] = []
    bugs: list[object] = []
    runner.unexpected_error.connect(bugs.append)

    def work(_ctx: JobContext) -> None:
        raise UserFacingError("DSCO refused the file.")

    job = runner.submit(work, name="push", on_error=errors.append)
    with qtbot.waitSignal(job.finished):
        pass
    assert [str(e) for e in errors] == ["DSCO refused the file."]
    assert bugs == []


def test_unhandled_errors_are_routed_by_kind(qtbot: QtBot, runner: JobRunner) -> None:
    user_errors: list[object] = []
    bugs: list[object] = []
    runner.user_error.connect(user_errors.append)
    runner.unexpected_error.connect(bugs.append)

    def expected(_ctx: JobContext) -> None:
        raise UserFacingError("The spreadsheet is empty.")

    def bug(_ctx: JobContext) -> None:
        raise ZeroDivisionError("oops")

    with qtbot.waitSignal(runner.submit(expected, name="a").finished):
        pass
    with qtbot.waitSignal(runner.submit(bug, name="b").finished):
        pass
    assert [str(e) for e in user_errors] == ["The spreadsheet is empty."]
    assert len(bugs) == 1 and isinstance(bugs[0], ZeroDivisionError)


def test_cancel_stops_the_job_at_its_next_check(qtbot: QtBot, runner: JobRunner) -> None:
    started = threading.Event()
    release = threading.Event()
    steps: list[int] = []

    def work(ctx: JobContext) -> str:
        started.set()
        for i in range(1000):
            release.wait(5)
            ctx.check_cancelled()
            steps.append(i)
        return "finished"

    done: list[object] = []
    job = runner.submit(work, name="long", on_success=done.append)
    assert started.wait(5)
    job.cancel()
    release.set()
    with qtbot.waitSignal(job.cancelled):
        pass
    assert job.was_cancelled and done == [] and steps == []


def test_shutdown_cancels_running_jobs_and_refuses_new_ones(qtbot: QtBot) -> None:
    jobs = JobRunner()
    started = threading.Event()

    def work(ctx: JobContext) -> None:
        started.set()
        while not ctx.cancelled:
            threading.Event().wait(0.01)

    jobs.submit(work, name="forever")
    assert started.wait(5)
    assert jobs.shutdown(5000)
    with pytest.raises(RuntimeError):
        jobs.submit(work, name="late")
