"""The Shipments tab in the running app (sandbox mode): it replaces the placeholder, "Ship"
opens an order in the form, and a shipment goes through the app's own outbox thread."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from dsco_desktop.app import DscoDesktop
from dsco_desktop.domain.tracking import Carrier
from dsco_desktop.paths import resolve_paths
from dsco_desktop.store.orders import OrderRepository
from dsco_desktop.store.shipments import ShipmentState
from dsco_desktop.ui.shipments_tab import ShipmentsTab
from tests.services.test_shipping_support import UPS_1, new_order
from tests.ui.shots import shot


@pytest.fixture
def desktop(qtbot: QtBot) -> Iterator[DscoDesktop]:
    paths = resolve_paths()
    paths.create()
    app = DscoDesktop(paths, log_file=paths.log_file, use_sandbox=True)
    app.start()
    assert app.window is not None
    qtbot.addWidget(app.window)
    yield app
    app.shutdown()


def test_ship_an_order_from_the_app(qtbot: QtBot, desktop: DscoDesktop) -> None:
    window = desktop.window
    assert window is not None
    tab = window.pages["Shipments"]
    assert isinstance(tab, ShipmentsTab)
    client: Any = desktop.session.client()
    order_id = new_order(client, [1, 2], carrier="USPS", method="Priority Mail", code="USPM")
    order = client.get_order("dscoOrderId", order_id)
    OrderRepository(desktop.db).upsert_many([order])

    window.resize(1280, 900)
    window.show()
    # "Ship…" in the Orders tab's order detail.
    with qtbot.waitSignal(tab.order_loaded, timeout=10_000):
        desktop.orders_tab.ship_requested.emit(order_id)
    assert window.tabs.currentWidget() is tab
    editor = tab.form.packages[0]
    assert editor.code_value() == "USPM"
    editor.set_carrier(Carrier.UPS)
    editor.tracking.setText(UPS_1)
    with qtbot.waitSignal(tab.form.outcome_ready, timeout=30_000) as caught:
        tab.form.ship()
    assert caught.args[0].state is ShipmentState.CONFIRMED
    stored = OrderRepository(desktop.db).get(order_id)
    assert stored is not None and stored.lifecycle == "completed"
    qtbot.waitUntil(
        lambda: tab.model.rowCount() == 1 and tab.model.rows[0].state is ShipmentState.CONFIRMED,
        timeout=10_000,
    )
    # The form shows the order as it is now: nothing left, DSCO's answer still on screen.
    qtbot.waitUntil(lambda: "completed" in tab.form.header.text(), timeout=10_000)
    assert "DSCO confirmed the shipment" in tab.form.result.text()
    assert not tab.form.ship_button.isEnabled()
    shot(window, "main_window_shipments")
