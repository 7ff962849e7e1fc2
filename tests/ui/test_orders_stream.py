"""The stream thread feeding the inbox: orders appear without a refresh; errors never kill it."""

from __future__ import annotations

from typing import Any

from pytestqt.qtbot import QtBot

from dsco_desktop.services.order_stream import OrderStreamService
from dsco_desktop.store.db import Database
from dsco_desktop.ui.jobs import JobRunner
from dsco_desktop.ui.messages import MessageBridge
from dsco_desktop.ui.orders_tab import OrdersTab
from dsco_desktop.ui.stream_worker import StreamWorker
from tests.services.orders_support import client_for, create_orders
from tests.ui.shots import shot


def _worker(db: Database, client: Any) -> StreamWorker:
    services: dict[str, OrderStreamService] = {}

    def make(on_batch: Any) -> OrderStreamService:
        if "s" not in services:
            services["s"] = OrderStreamService(db, client, backfill_days=0, on_batch=on_batch)
        return services["s"]

    return StreamWorker(make, interval_s=lambda: 1.0, on_exit=db.close, rng=lambda: 0.0)


def test_orders_created_by_the_retailer_appear_in_the_inbox_within_one_poll(
    qtbot: QtBot, sandbox: Any, db: Database
) -> None:
    jobs = JobRunner()
    tab = OrdersTab(db, jobs, MessageBridge())
    qtbot.addWidget(tab)
    tab.resize(1400, 700)
    tab.show()
    with client_for(sandbox) as client:
        worker = _worker(db, client)
        worker.batch_applied.connect(tab.notify_batch)
        with qtbot.waitSignal(worker.poll_finished, timeout=10_000):
            worker.start()
        try:
            ids = create_orders(client, sandbox, 3)
            with qtbot.waitSignal(worker.batch_applied, timeout=10_000):
                worker.wake()
            qtbot.waitUntil(lambda: sorted(tab.model.ids) == sorted(ids), timeout=5000)
            assert tab.counts.unseen == 3
            assert tab.notifier.last_message == "3 new orders arrived."
            shot(tab, "orders_tab_live")
        finally:
            assert worker.stop()
    assert worker.isFinished()
    assert jobs.shutdown(5000)


def test_dsco_errors_back_off_and_say_so_without_stopping_the_thread(
    qtbot: QtBot, sandbox: Any, db: Database
) -> None:
    with client_for(sandbox) as client:
        worker = _worker(db, client)
        statuses: list[tuple[str, bool]] = []
        worker.status_changed.connect(lambda text, problem: statuses.append((text, problem)))
        sandbox.set_faults(error_rate=1.0)
        with qtbot.waitSignal(worker.status_changed, timeout=20_000):
            worker.start()
        try:
            text, problem = statuses[-1]
            assert problem and text.startswith("Order stream: ") and "Trying again in" in text
            assert worker.isRunning()
            assert worker.failures == 1
            sandbox.set_faults(error_rate=0.0)
            with qtbot.waitSignal(worker.poll_finished, timeout=20_000):
                worker.wake()
            assert statuses[-1] == ("Order stream: receiving again.", False)
            assert worker.failures == 0
        finally:
            assert worker.stop()


def test_backoff_doubles_up_to_five_minutes() -> None:
    worker = StreamWorker(lambda _cb: None, interval_s=lambda: 5.0, rng=lambda: 1.0)
    delays = []
    for failures in (1, 2, 3, 10):
        worker.failures = failures
        delays.append(worker.backoff_s())
    assert delays == [5.0, 10.0, 20.0, 300.0]
