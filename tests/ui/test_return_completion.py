"""The Returns page on the sandbox: a retailer's return appears, its lines are answered one by
one (a rejection needs a reason, shown next to the line), DSCO completes it, the accepted unit
becomes a staged inventory change; a parcel that came back starts a return for shipped units."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from dsco_desktop.dsco.client import DscoClient
from dsco_desktop.services.inventory_sync import InventoryEditor
from dsco_desktop.store.db import Database
from dsco_desktop.ui import layout
from dsco_desktop.ui.invoices_returns_tab import InvoicesReturnsTab
from dsco_desktop.ui.jobs import JobRunner
from dsco_desktop.ui.return_dialog import ReturnCompletionDialog, StartReturnDialog
from tests.services.test_returns import age_returns, retailer_return, shipped_order
from tests.services.test_shipping_support import drain
from tests.ui.shots import shot
from tests.ui.test_invoice_review import make_tab


def settle(qtbot: QtBot, tab: InvoicesReturnsTab) -> None:
    with qtbot.waitSignal(tab.refreshed, timeout=10000):
        tab.settle_now()


def test_a_retailers_return_is_completed_line_by_line_and_restocked(
    qtbot: QtBot,
    qtmodeltester: Any,
    db: Database,
    jobs: JobRunner,
    client: DscoClient,
    sandbox: Any,
) -> None:
    order_id = shipped_order(db, client, [1, 1])
    retailer_return(client, order_id, "RMA-9001")
    age_returns(sandbox)
    tab = make_tab(qtbot, db, jobs, client)
    tab.pages.setCurrentIndex(1)
    settle(qtbot, tab)
    model = tab.returns_model
    qtmodeltester.check(model)
    assert model.rowCount() == 1
    assert model.index(0, 6).data() == "Created"
    next_step = model.index(0, 7)
    assert next_step.data() == "Waiting for your answer."
    assert next_step.data(Qt.ItemDataRole.ForegroundRole).color().name() == layout.ATTENTION_COLOR
    assert "1 waiting for your answer" in tab.returns_summary.text()
    shot(tab, "returns_tab")

    tab.returns_table.selectRow(0)
    with qtbot.waitSignal(tab.completion_opened, timeout=5000) as opened:
        tab.complete_selected_return()
    dialog: ReturnCompletionDialog = opened.args[0]
    first, second = dialog.rows
    assert not dialog.send_button.isEnabled()
    assert "0 accepted, 0 rejected, 2 to answer." in dialog.summary.text()

    second.reject.setChecked(True)
    assert second.problem.text().endswith("say why it is rejected.")
    assert not second.restock.isEnabled()
    assert not dialog.send_button.isEnabled()
    second.reason.setCurrentText("Used or worn")
    assert not second.problem.isVisibleTo(dialog)
    first.accept.setChecked(True)
    first.restock.setChecked(True)
    first.warehouse.setCurrentText("WH01")
    assert dialog.send_button.isEnabled()
    dialog.resize(1000, 300)
    shot(dialog, "return_completion")

    with qtbot.waitSignal(dialog.sent, timeout=5000):
        dialog.send_button.click()
    qtbot.waitUntil(lambda: model.index(0, 7).data() == "Answers waiting to be sent to DSCO.")
    drain(db, client)
    settle(qtbot, tab)
    assert model.index(0, 6).data() == "Completed"
    assert model.index(0, 7).data() == "Completed at DSCO."
    # The accepted unit waits in the Inventory tab as a staged change.
    editor = InventoryEditor(db)
    sku = dialog._record.lines[0].sku
    [row] = editor.repo.rows(keys=[(sku or "", "WH01")])
    assert row.pending and row.quantity == row.base_quantity + 1
    shot(tab, "returns_tab_completed")


def test_a_parcel_that_came_back_starts_a_return_for_shipped_units(
    qtbot: QtBot, db: Database, jobs: JobRunner, client: DscoClient
) -> None:
    order_id = shipped_order(db, client, [2])
    tab = make_tab(qtbot, db, jobs, client)
    tab.pages.setCurrentIndex(1)
    with qtbot.waitSignal(tab.message, timeout=5000) as said:
        tab.start_return("NO-SUCH-PO")
    assert said.args[0].startswith("No order NO-SUCH-PO on this computer")

    with qtbot.waitSignal(tab.start_opened, timeout=5000) as opened:
        tab.start_return(order_id)
    dialog: StartReturnDialog = opened.args[0]
    assert dialog.quantities[0].maximum() == 2
    dialog.quantities[0].setValue(1)
    dialog.resize(760, 260)
    shot(dialog, "return_start")
    with qtbot.waitSignal(dialog.sent, timeout=5000) as sent:
        dialog.send_button.click()
    number = sent.args[0].return_number
    qtbot.waitUntil(lambda: tab.returns_model.rowCount() == 1, timeout=5000)
    assert tab.returns_model.index(0, 0).data() == number
    assert tab.returns_model.index(0, 5).data() == "You"
    drain(db, client)
    settle(qtbot, tab)
    assert tab.returns_model.index(0, 6).data() == "Created"
