"""The Orders tab as a shop owner uses it: new orders highlighted, counts, filters, cancel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from pytestqt.qtbot import QtBot

from dsco_desktop.domain.orders import CancelLine
from dsco_desktop.services.order_stream import StreamBatch
from dsco_desktop.store.db import Database
from dsco_desktop.store.orders import OrderRepository
from dsco_desktop.store.outbox import OutboxRepository
from dsco_desktop.ui.cancel_dialog import CancelDialog, OpenLine
from dsco_desktop.ui.jobs import JobRunner
from dsco_desktop.ui.messages import MessageBridge
from dsco_desktop.ui.order_model import (
    COLUMN_KEYS,
    NEW_ORDER_BACKGROUND,
    OrderIdRole,
    OrderTableModel,
    RawRole,
    UrgencyRole,
)
from dsco_desktop.ui.orders_tab import OrdersTab
from tests.ui.shots import shot

NOW = datetime.now(UTC)


def _iso(delta: timedelta) -> str:
    return (NOW + delta).isoformat()


def order(order_id: str, **extra: Any) -> dict[str, Any]:
    n = int(order_id)
    data: dict[str, Any] = {
        "dscoOrderId": order_id,
        "poNumber": f"PM{n:08d}",
        "channel": "Poshmark",
        "dscoTradingPartnerName": "Poshmark",
        "dscoLifecycle": "created",
        "dscoLastUpdate": _iso(-timedelta(minutes=n)),
        "consumerOrderDate": _iso(-timedelta(minutes=n)),
        "acknowledgeByDate": _iso(timedelta(days=1, hours=2)),
        "shipByDate": _iso(timedelta(days=3)),
        "orderTotalAmount": 20.0 + n,
        "currencyCode": "USD",
        "shipCarrier": "USPS",
        "shipMethod": "Priority Mail",
        "shippingServiceLevelCode": "USPM",
        "shipping": {
            "name": f"Buyer {n}",
            "address": [f"{n} Maple Ave"],
            "city": "Austin",
            "region": "TX",
            "postal": "78704",
            "country": "US",
        },
        "lineItems": [
            {"lineNumber": 1, "sku": f"SKU-{n}-A", "title": "Align Legging", "quantity": 2},
            {"lineNumber": 2, "sku": f"SKU-{n}-B", "title": "Denim Jacket", "quantity": 1},
        ],
        "packages": [],
    }
    data.update(extra)
    return data


@pytest.fixture
def tab(qtbot: QtBot, db: Database, jobs: JobRunner) -> OrdersTab:
    widget = OrdersTab(db, jobs, MessageBridge())
    qtbot.addWidget(widget)
    widget.resize(1500, 720)
    widget.show()
    return widget


def _refresh(qtbot: QtBot, tab: OrdersTab) -> None:
    with qtbot.waitSignal(tab.refreshed, timeout=5000):
        tab.refresh_now()


def _column(key: str) -> int:
    return COLUMN_KEYS.index(key)


def test_model_passes_the_model_tester(qtmodeltester: Any, db: Database) -> None:
    OrderRepository(db).upsert_many([order(str(n)) for n in range(1, 30)])
    model = OrderTableModel(lambda ids: OrderRepository(db).summaries(ids))
    model.set_ids(OrderRepository(db).list_ids())
    qtmodeltester.check(model)
    assert model.data(model.index(0, _column("po_number"))) == "PM00000001"
    assert model.data(model.index(0, 0), OrderIdRole) == "1"
    assert model.data(model.index(0, _column("lines")), RawRole) == 2


def test_a_new_order_appears_highlighted_and_the_tab_counts_it(
    qtbot: QtBot, tab: OrdersTab, db: Database
) -> None:
    repo = OrderRepository(db)
    repo.upsert_many([order("1"), order("2")])
    repo.mark_all_seen()
    _refresh(qtbot, tab)
    assert tab.model.rowCount() == 2
    counts: list[int] = []
    tab.new_count_changed.connect(counts.append)
    result = repo.upsert_many([order("3", consumerOrderDate=_iso(timedelta(0)))])
    with qtbot.waitSignal(tab.refreshed, timeout=5000):
        tab.notify_batch(StreamBatch(1, tuple(result.inserted), (), "z/1"))
    assert tab.model.rowCount() == 3
    row = tab.model.row_of("3")
    assert row == 0  # newest order first
    index = tab.model.index(row, 0)
    assert (
        tab.model.data(index, Qt.ItemDataRole.BackgroundRole).color().name() == NEW_ORDER_BACKGROUND
    )
    assert isinstance(tab.model.data(index, Qt.ItemDataRole.FontRole), QFont)
    assert counts[-1] == 1
    assert tab.notifier.last_message == "1 new order arrived."
    assert "New (3)" in tab.filter_combo.itemText(tab.filter_combo.findData("new"))
    shot(tab, "orders_tab_new_order")
    # Opening it ends the highlight and the count.
    tab.select_order("3")
    qtbot.waitUntil(lambda: tab.detail.order_id == "3")
    with qtbot.waitSignal(tab.new_count_changed, timeout=5000) as seen:
        pass
    assert seen.args == [0]
    row = tab.model.row_of("3")
    assert tab.model.data(tab.model.index(row, 0), Qt.ItemDataRole.BackgroundRole) is None


def test_filters_and_search_show_what_a_user_asks_for(
    qtbot: QtBot, tab: OrdersTab, db: Database
) -> None:
    OrderRepository(db).upsert_many(
        [
            order("1"),
            order("2", dscoLifecycle="acknowledged"),
            order("3", dscoLifecycle="acknowledged", shipByDate=_iso(-timedelta(hours=2))),
            order(
                "4",
                dscoLifecycle="completed",
                lineItems=[{"lineNumber": 1, "sku": "X", "quantity": 1, "shippedQuantity": 1}],
            ),
            order("5", cancelRequested=True, cancelRequestedCode="CXRR"),
        ]
    )
    _refresh(qtbot, tab)
    assert tab.model.rowCount() == 5

    def shown(filter_key: str = "all", text: str = "") -> list[str]:
        with qtbot.waitSignal(tab.refreshed, timeout=5000):
            tab.set_filter(filter_key)
            tab.search.setText(text)
            tab.refresh_now()
        return sorted(tab.model.ids)

    assert shown("new") == ["1", "5"]
    assert shown("acknowledged") == ["2"]
    assert shown("late") == ["3"]
    assert shown("shipped") == ["4"]
    assert shown("cancel_requested") == ["5"]
    assert shown("all", "buyer 3") == ["3"]
    assert shown("all", "SKU-2-B") == ["2"]
    assert shown("all", "PM00000004") == ["4"]
    assert shown("new", "PM00000004") == []
    # The late order's ship-by countdown is red, the cancel request is flagged.
    shown()
    late = tab.model.row_of("3")
    assert tab.model.data(tab.model.index(late, _column("ship_by")), UrgencyRole) == "red"
    assert "late" in tab.model.data(tab.model.index(late, _column("ship_by")))
    assert tab.model.data(tab.model.index(late, _column("status"))) == "Late"
    requested = tab.model.row_of("5")
    assert tab.model.data(tab.model.index(requested, _column("cancel_requested"))).startswith(
        "⚠ Requested: Customer changed their mind (CXRR)"
    )
    soon = tab.model.row_of("1")
    tab.model.set_now(NOW + timedelta(hours=10))  # acknowledge-by now 16 h away: amber
    assert tab.model.data(tab.model.index(soon, _column("acknowledge_by")), UrgencyRole) == "amber"


def test_sorting_by_clicking_a_header(qtbot: QtBot, tab: OrdersTab, db: Database) -> None:
    OrderRepository(db).upsert_many(
        [
            order("1", shipByDate=_iso(timedelta(days=5))),
            order("2", shipByDate=_iso(timedelta(days=1))),
        ]
    )
    _refresh(qtbot, tab)
    with qtbot.waitSignal(tab.refreshed, timeout=5000):
        tab.table.horizontalHeader().sectionClicked.emit(_column("ship_by"))
    assert list(tab.model.ids) == ["2", "1"]  # first click: soonest first


def test_detail_shows_the_order_and_acknowledge_queues_it(
    qtbot: QtBot, tab: OrdersTab, db: Database
) -> None:
    OrderRepository(db).upsert_many([order("7", cancelRequested=True, cancelRequestedCode="CXRR")])
    _refresh(qtbot, tab)
    tab.select_order("7")
    qtbot.waitUntil(lambda: tab.detail.order_id == "7")
    detail = tab.detail
    assert "PM00000007" in detail.title.text()
    assert "Buyer 7" in detail.ship_to.text() and "Austin TX 78704" in detail.ship_to.text()
    assert detail.requested.text() == "USPS · Priority Mail · USPM"
    assert detail.lines_model.rowCount() == 2
    assert detail.cancel_banner.isVisible()
    assert "retailer asks to cancel" in detail.cancel_banner.text()
    shot(tab, "orders_tab_detail")
    ships: list[str] = []
    detail.ship_requested.connect(ships.append)
    detail.ship_button.click()
    assert ships == ["7"]
    with qtbot.waitSignal(tab.outbox_changed, timeout=5000):
        detail.acknowledge_button.click()
    assert OutboxRepository(db).counts().pending == 1
    qtbot.waitUntil(
        lambda: "acknowledging" in (tab.model.data(tab.model.index(0, _column("status"))) or "")
    )
    qtbot.waitUntil(lambda: not detail.acknowledge_button.isEnabled())


def test_cancel_dialog_checks_quantities_and_names_the_line(qtbot: QtBot) -> None:
    dialog = CancelDialog(
        "PM00000009",
        [OpenLine(1, "SKU-A", "Align Legging", 2), OpenLine(2, "SKU-B", "Jacket", 0)],
        retailer_request="CXRR",
    )
    qtbot.addWidget(dialog)
    dialog.show()
    assert len(dialog.quantities) == 1  # the line with nothing left is not offered
    assert not dialog.ok_button.isEnabled()
    assert "at least one line" in dialog.error_label.text()
    # The spin box cannot go past what is left.
    dialog.quantities[0].setValue(5)
    assert dialog.quantities[0].value() == 2
    dialog.set_quantity(1, 1)
    assert dialog.ok_button.isEnabled()
    assert dialog.reasons[0].currentData() == "CXSC"  # the retailer asked: that is the reason
    assert dialog.reasons[0].currentText() == "Cancelled at the retailer's request (CXSC)"
    dialog.set_reason(1, "CXSS")
    dialog.note.setText("Sold at the market")
    shot(dialog, "cancel_dialog")
    assert dialog.lines() == [CancelLine(1, "SKU-A", 1, "CXSS", "Sold at the market")]


def test_cancel_from_the_detail_queues_it_and_shows_it_pending(
    qtbot: QtBot, tab: OrdersTab, db: Database
) -> None:
    OrderRepository(db).upsert_many([order("8")])
    _refresh(qtbot, tab)
    tab.select_order("8")
    qtbot.waitUntil(lambda: tab.detail.order_id == "8")
    dialog = tab.open_cancel_dialog("8")
    assert dialog is not None
    dialog.set_quantity(1, 2)
    with qtbot.waitSignal(tab.outbox_changed, timeout=5000):
        dialog.ok_button.click()
    [row] = OutboxRepository(db).list()
    assert row.kind == "order.cancel"
    assert row.payload["lineItems"] == [
        {"lineNumber": 1, "cancelledQuantity": 2, "cancelCode": "CXSS"}
    ]
    qtbot.waitUntil(lambda: "waiting for DSCO" in tab.detail.pending_label.text())
    assert "cancel pending" in tab.model.data(tab.model.index(0, _column("status")))


def test_export_saves_the_orders_shown(
    qtbot: QtBot, tab: OrdersTab, db: Database, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    OrderRepository(db).upsert_many([order("1"), order("2")])
    _refresh(qtbot, tab)
    target = tmp_path / "orders.xlsx"
    job = tab.export_to(target)
    qtbot.waitUntil(lambda: job.done, timeout=5000)
    rows = list(load_workbook(target).active.iter_rows(values_only=True))
    assert rows[0][:2] == ("PO number", "DSCO order id")
    assert [r[0] for r in rows[1:]] == ["PM00000001", "PM00000002"]
    assert rows[1][8] == "New"
