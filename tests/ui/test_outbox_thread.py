"""The outbox sender thread: the status bar follows the outbox, and the GUI never stalls."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from dsco_desktop.app import DscoDesktop
from dsco_desktop.paths import resolve_paths
from dsco_desktop.services.account import Credentials
from dsco_desktop.store.outbox import OutboxRepository
from tests.ui.shots import shot


@pytest.fixture
def desktop(qtbot: QtBot) -> Iterator[DscoDesktop]:
    paths = resolve_paths()
    paths.create()
    app = DscoDesktop(paths, log_file=paths.log_file)
    app.start()
    assert app.window is not None
    qtbot.addWidget(app.window)
    app.window.show()
    yield app
    app.shutdown()


def _connect(app: DscoDesktop, sandbox: Any) -> None:
    """What saving the account does: new credentials, a new client, the outbox woken."""
    app.session.configure(
        Credentials("sandbox", sandbox.base_url, sandbox.client_id, sandbox.client_secret)
    )
    app.wake_outbox()


def _enqueue(app: DscoDesktop, count: int, tag: str) -> None:
    repo = OutboxRepository(app.db)
    with app.db.transaction() as tx:
        for n in range(count):
            payload = {
                "items": [{"sku": f"{tag}-{n}", "warehouses": [{"code": "WH01", "quantity": n}]}]
            }
            repo.enqueue("inventory.batch", payload, f"{tag}:{n}", conn=tx)


def test_status_bar_follows_the_outbox(
    qtbot: QtBot, desktop: DscoDesktop, sandbox_factory: Callable[..., Any]
) -> None:
    status = desktop.window.status  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: "0 pending · 0 failed" in status.outbox_label.text())
    _enqueue(desktop, 5, "status")
    desktop.wake_outbox()
    # No account yet: the rows wait, and the user sees them waiting.
    qtbot.waitUntil(lambda: status.pending == 5, timeout=5000)
    assert "5 pending" in status.outbox_label.text()
    shot(desktop.window, "status_pending")
    _connect(desktop, sandbox_factory(rate_limits=False))
    qtbot.waitUntil(lambda: status.pending == 0, timeout=15_000)
    assert "0 pending · 0 failed" in status.outbox_label.text()
    counts = OutboxRepository(desktop.db).counts()
    assert (counts.sent, counts.failed, counts.rejected) == (5, 0, 0)
    qtbot.waitUntil(lambda: status.connection_state == "Connected", timeout=5000)


def test_gui_thread_never_stalls_while_1000_rows_are_sent(
    qtbot: QtBot, desktop: DscoDesktop, sandbox_factory: Callable[..., Any]
) -> None:
    status = desktop.window.status  # type: ignore[union-attr]
    _enqueue(desktop, 1000, "probe")
    desktop.wake_outbox()
    qtbot.waitUntil(lambda: status.pending == 1000, timeout=5000)
    ticks: list[float] = []
    probe = QTimer()
    probe.setInterval(100)
    probe.timeout.connect(lambda: ticks.append(time.monotonic()))
    probe.start()
    started = time.monotonic()
    _connect(desktop, sandbox_factory(rate_limits=False))
    qtbot.waitUntil(lambda: status.pending == 0, timeout=120_000)
    probe.stop()
    elapsed = time.monotonic() - started
    counts = OutboxRepository(desktop.db).counts()
    assert counts.sent == 1000 and counts.failed == 0 and counts.rejected == 0
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert len(ticks) >= elapsed / 0.5 - 1
    assert max(gaps) < 0.5, f"the GUI thread stalled for {max(gaps):.2f} s"
