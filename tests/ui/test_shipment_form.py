"""The shipment form on the sandbox: defaults, carrier change re-validates, quantities never
exceed what remains, DSCO's 400 messages shown on the form, the list shows DSCO's state."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from dsco_desktop.domain.tracking import Carrier
from dsco_desktop.dsco.client import DscoClient
from dsco_desktop.services.outbox import OutboxSender
from dsco_desktop.services.shipping import ShippingService
from dsco_desktop.store.db import Database
from dsco_desktop.store.outbox import OutboxRepository
from dsco_desktop.store.shipments import ShipmentState
from dsco_desktop.ui import layout
from dsco_desktop.ui.jobs import JobRunner
from dsco_desktop.ui.shipment_models import ShipmentLinesModel, ShipmentsModel
from dsco_desktop.ui.shipments_tab import ShipmentsTab
from dsco_desktop.ui.table_model import RawRole
from dsco_desktop.ui.workers import OutboxWorker
from tests.services.test_shipping_support import (
    UPS_1,
    UPS_2,
    USPS_1,
    new_order,
    pull_order,
)
from tests.ui.shots import shot


@pytest.fixture
def worker(db: Database, client: DscoClient) -> Iterator[OutboxWorker]:
    """The app's outbox thread, sending to the sandbox."""
    sender = OutboxSender(db, client)
    thread = OutboxWorker(
        lambda: OutboxRepository(db), lambda: sender, idle_poll_s=0.05, on_exit=db.close
    )
    thread.start()
    yield thread
    thread.stop()


@pytest.fixture
def tab(
    qtbot: QtBot, db: Database, client: DscoClient, jobs: JobRunner, worker: OutboxWorker
) -> ShipmentsTab:
    widget = ShipmentsTab(
        ShippingService(db, default_warehouse="WH01"),
        jobs,
        lambda: client,
        worker.wake,
        reconcile_interval_ms=0,
    )
    qtbot.addWidget(widget)
    widget.resize(1180, 900)
    widget.show()
    return widget


def _open(qtbot: QtBot, tab: ShipmentsTab, order_id: str) -> None:
    with qtbot.waitSignal(tab.order_loaded, timeout=10_000):
        tab.open_order(order_id)


def test_form_defaults_to_everything_remaining_and_the_orders_carrier(
    qtbot: QtBot, tab: ShipmentsTab, db: Database, client: DscoClient
) -> None:
    order_id = new_order(client, [2, 1], carrier="UPS", method="Ground", code="GCG")
    pull_order(db, client, order_id)
    _open(qtbot, tab, order_id)
    form = tab.form
    model = form.lines_model
    assert model.rowCount() == 2
    remaining_col = ShipmentLinesModel.FIXED.index("Remaining")
    package_col = len(ShipmentLinesModel.FIXED)
    assert [model.index(r, remaining_col).data(RawRole) for r in range(2)] == [2, 1]
    assert [model.index(r, package_col).data(RawRole) for r in range(2)] == [2, 1]
    editor = form.packages[0]
    assert editor.chosen_carrier is Carrier.UPS
    assert editor.code_value() == "UPCG"  # never the order's generic GCG
    assert "GCG" not in [editor.code.itemData(i) for i in range(editor.code.count())]
    assert editor.ship_date.date().toPython() == date.today()
    assert editor.warehouse.currentText() == "WH01"  # the default warehouse setting
    assert form.ship_button.isEnabled()
    editor.tracking.setText("1Z879E9303 4683 4440")
    editor.weight.setValue(1.25)
    form.add_package()
    form.packages[1].tracking.setText("1Z879E930346834441")
    qtbot.waitUntil(form.packages[1].isVisible)
    shot(tab, "shipment_form")


def test_changing_the_carrier_rechecks_the_tracking_number(
    qtbot: QtBot, tab: ShipmentsTab, db: Database, client: DscoClient
) -> None:
    order_id = new_order(client, [1], carrier="UPS", method="Ground")
    pull_order(db, client, order_id)
    _open(qtbot, tab, order_id)
    editor = tab.form.packages[0]
    editor.tracking.setText(UPS_1)
    assert "check digit correct" in editor.tracking_message.text()
    assert layout.OK_COLOR in editor.tracking_message.styleSheet()

    editor.set_carrier(Carrier.USPS)
    assert "This looks like a UPS number." in editor.tracking_message.text()
    assert layout.ERROR_COLOR in editor.tracking_message.styleSheet()
    assert editor.code_value() == "USGA"  # the UPS code went with the UPS carrier

    editor.tracking.setText(USPS_1)
    assert "check digit correct" in editor.tracking_message.text()

    editor.tracking.setText(USPS_1[:-1] + str((int(USPS_1[-1]) + 1) % 10))
    assert "mistyped" in editor.tracking_message.text()

    editor.set_carrier(Carrier.LASERSHIP)
    editor.tracking.setText("1LS717793482164")
    assert "only the format was checked" in editor.tracking_message.text()
    assert "Choose the service level code" in editor.code_message.text()
    editor.code.setCurrentText("GCG")
    assert "generic" in editor.code_message.text()


def test_quantities_never_exceed_what_remains(
    qtbot: QtBot, tab: ShipmentsTab, db: Database, client: DscoClient
) -> None:
    order_id = new_order(client, [2])
    pull_order(db, client, order_id)
    _open(qtbot, tab, order_id)
    form = tab.form
    model = form.lines_model
    package_1 = model.index(0, len(ShipmentLinesModel.FIXED))
    assert not model.setData(package_1, 3)
    assert "at most 2 can go in this package" in form.lines_message.text()
    assert package_1.data(RawRole) == 2

    form.add_package()
    assert model.columnCount() == len(ShipmentLinesModel.FIXED) + 2
    package_2 = model.index(0, len(ShipmentLinesModel.FIXED) + 1)
    assert not model.setData(package_2, 1)
    assert "the rest is in other packages" in form.lines_message.text()
    assert model.setData(package_1, 1)
    assert model.setData(package_2, 1)
    assert len(form.packages) == 2
    assert form.packages[1].chosen_carrier is form.packages[0].chosen_carrier


def test_shipped_and_cancelled_lines_say_why_they_cannot_ship(
    qtbot: QtBot, tab: ShipmentsTab, db: Database, client: DscoClient
) -> None:
    order_id = new_order(client, [1, 1])
    client.cancel_order_item(
        {
            "id": order_id,
            "type": "DSCO_ORDER_ID",
            "lineItems": [{"lineNumber": 2, "cancelledQuantity": 1, "cancelCode": "CXSS"}],
        }
    )
    pull_order(db, client, order_id)
    _open(qtbot, tab, order_id)
    model = tab.form.lines_model
    reason_col = ShipmentLinesModel.FIXED.index("Not shippable because")
    assert model.index(1, reason_col).data() == "Cancelled."
    flags = model.flags(model.index(1, len(ShipmentLinesModel.FIXED)))
    assert not flags & Qt.ItemFlag.ItemIsEditable


def test_ship_confirms_and_the_list_shows_it(
    qtbot: QtBot, tab: ShipmentsTab, db: Database, client: DscoClient
) -> None:
    order_id = new_order(client, [1])
    pull_order(db, client, order_id)
    _open(qtbot, tab, order_id)
    form = tab.form
    form.packages[0].tracking.setText(UPS_1)
    with qtbot.waitSignal(form.outcome_ready, timeout=20_000) as caught:
        form.ship()
    assert caught.args[0].state is ShipmentState.CONFIRMED
    assert "DSCO confirmed the shipment" in form.result.text()
    assert not form.ship_button.isEnabled()
    qtbot.waitUntil(lambda: tab.model.rowCount() == 1, timeout=10_000)
    state_col = tab.model.column_index("State")
    qtbot.waitUntil(lambda: tab.model.index(0, state_col).data() == "Confirmed", timeout=10_000)
    shot(tab, "shipments_tab_confirmed")


def test_dscos_400_messages_show_on_the_form(
    qtbot: QtBot, tab: ShipmentsTab, db: Database, client: DscoClient
) -> None:
    order_id = new_order(client, [1])
    pull_order(db, client, order_id)
    # The line was shipped elsewhere (DSCO's portal); this computer does not know yet.
    client.single_shipment(
        {
            "dscoOrderId": order_id,
            "shipments": [
                {
                    "trackingNumber": UPS_2,
                    "shipCarrier": "UPS",
                    "shippingServiceLevelCode": "UPCG",
                    "lineItems": [{"lineNumber": 1, "quantity": 1}],
                }
            ],
        }
    )
    _open(qtbot, tab, order_id)
    form = tab.form
    form.packages[0].tracking.setText(UPS_1)
    with qtbot.waitSignal(form.outcome_ready, timeout=20_000):
        form.ship()
    assert form.result.text().startswith("DSCO rejected the shipment:")
    assert "exceeds the 0 remaining" in form.result.text()
    assert layout.ERROR_COLOR in form.result.styleSheet()
    assert form.ship_button.isEnabled()  # fix and send again
    state_col = tab.model.column_index("State")
    qtbot.waitUntil(lambda: tab.model.index(0, state_col).data() == "Rejected", timeout=10_000)
    message_col = tab.model.column_index("DSCO says")
    assert "exceeds the 0 remaining" in tab.model.index(0, message_col).data()
    shot(tab, "shipment_form_rejected")


def test_local_problems_are_shown_and_nothing_is_sent(
    qtbot: QtBot, tab: ShipmentsTab, db: Database, client: DscoClient
) -> None:
    order_id = new_order(client, [1], carrier="UPS")
    pull_order(db, client, order_id)
    _open(qtbot, tab, order_id)
    form = tab.form
    form.packages[0].tracking.setText("1Z879E930346834441")  # check digit off by one
    form.ship()
    assert form.job is None
    assert "problem" in form.result.text() and "nothing was sent" in form.result.text()
    assert OutboxRepository(db).counts().pending == 0


def test_unknown_po_is_explained_next_to_the_field(qtbot: QtBot, tab: ShipmentsTab) -> None:
    tab.order_field.setText("PO-NOPE")
    tab.open_typed_order()
    qtbot.waitUntil(tab.order_message.isVisible, timeout=5000)
    assert "No order PO-NOPE" in tab.order_message.text()


def test_models_pass_the_model_tester(qtmodeltester: Any) -> None:
    from dsco_desktop.domain.shipping import line_states

    lines = ShipmentLinesModel()
    lines.set_lines(
        line_states([{"lineNumber": 1, "sku": "A", "quantity": 2}, {"lineNumber": 2, "sku": "B"}]),
        {"line:1": 2},
    )
    lines.add_package()
    qtmodeltester.check(lines)
    qtmodeltester.check(ShipmentsModel())
