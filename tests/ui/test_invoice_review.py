"""The Invoices page on the sandbox: the review says an invoice cannot be changed, marks the cell
that bills more than shipped and the number already used, sends only a clean invoice, and the
list shows DSCO's verdict; a day's shipments are billed together; the list exports to xlsx."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from dsco_desktop.domain.invoicing import CANNOT_EDIT_NOTICE
from dsco_desktop.dsco.client import DscoClient
from dsco_desktop.services.invoicing import InvoicingService
from dsco_desktop.services.returns import ReturnsService
from dsco_desktop.store.db import Database
from dsco_desktop.store.invoices import InvoiceState
from dsco_desktop.ui import layout
from dsco_desktop.ui.invoice_models import InvoiceLinesModel
from dsco_desktop.ui.invoice_review import InvoiceReviewDialog
from dsco_desktop.ui.invoices_returns_tab import InvoicesReturnsTab
from dsco_desktop.ui.jobs import JobRunner
from dsco_desktop.ui.table_model import RawRole
from tests.services.test_invoicing import ship
from tests.services.test_shipping_support import (
    UPS_1,
    UPS_2,
    drain,
    new_order,
    pull_order,
)
from tests.ui.shots import shot


def make_tab(qtbot: QtBot, db: Database, jobs: JobRunner, client: DscoClient) -> InvoicesReturnsTab:
    tab = InvoicesReturnsTab(
        InvoicingService(db),
        ReturnsService(db),
        jobs,
        client_provider=lambda: client,
        wake_outbox=lambda: None,
        settle_interval_ms=0,
    )
    qtbot.addWidget(tab)
    tab.resize(*layout.MAIN_WINDOW_DEFAULT_SIZE)
    with qtbot.waitSignal(tab.refreshed, timeout=5000):
        tab.reload()
    return tab


def open_review(qtbot: QtBot, tab: InvoicesReturnsTab, order_id: str) -> InvoiceReviewDialog:
    with qtbot.waitSignal(tab.review_opened, timeout=5000) as opened:
        tab.create_invoice(order_id)
    dialog = opened.args[0]
    assert isinstance(dialog, InvoiceReviewDialog)
    return dialog


def test_the_review_marks_what_is_wrong_and_sends_only_a_clean_invoice(
    qtbot: QtBot, qtmodeltester: Any, db: Database, jobs: JobRunner, client: DscoClient
) -> None:
    order_id = new_order(client, [2, 1])
    pull_order(db, client, order_id)
    ship(db, client, order_id, {"line:1": 1}, UPS_1)
    tab = make_tab(qtbot, db, jobs, client)
    qtmodeltester.check(tab.uninvoiced_model)
    assert tab.uninvoiced_model.rowCount() == 1
    assert "1 shipped unit(s) to invoice" in tab.uninvoiced_summary.text()
    tab.uninvoiced_table.selectRow(0)
    shot(tab, "invoices_tab")

    with qtbot.waitSignal(tab.review_opened, timeout=5000) as opened:
        tab.create_invoice_for_selection()
    dialog: InvoiceReviewDialog = opened.args[0]
    dialog.resize(1000, 560)
    assert dialog.notice.text() == CANNOT_EDIT_NOTICE
    lines: InvoiceLinesModel = dialog.lines_model
    qtmodeltester.check(lines)
    assert lines.rowCount() == 1  # exactly the shipped line
    assert lines.index(0, lines.QTY).data(RawRole) == 1
    assert dialog.send_button.isEnabled()
    assert "ready to send" in dialog.issues_label.text()
    shot(dialog, "invoice_review_ok")

    # Billing 2 when 1 shipped: the quantity cell turns red and says why; sending is blocked.
    assert lines.setData(lines.index(0, lines.QTY), "2")
    qty = lines.index(0, lines.QTY)
    assert "2 invoiced but only 1 shipped" in qty.data(Qt.ItemDataRole.ToolTipRole)
    assert qty.data(Qt.ItemDataRole.ForegroundRole).color().name() == layout.ERROR_COLOR
    assert not dialog.send_button.isEnabled()
    assert "2 invoiced but only 1 shipped" in dialog.issues_label.text()
    # A changed price is only a warning, and the total follows it.
    lines.setData(qty, "1")
    lines.setData(lines.index(0, lines.PRICE), "99.5")
    dialog.freight_field.setText("4.50")
    dialog.freight_field.textEdited.emit("4.50")
    assert dialog.total_label.text().startswith("104.00")
    assert "differs from the order's expected cost" in dialog.issues_label.text()
    assert dialog.send_button.isEnabled()
    dialog.handling_field.setText("abc")
    dialog.handling_field.textEdited.emit("abc")
    assert "'abc' is not an amount" in dialog.amount_error.text()
    assert not dialog.send_button.isEnabled()
    dialog.handling_field.setText("0")
    dialog.handling_field.textEdited.emit("0")
    shot(dialog, "invoice_review_warning")

    with qtbot.waitSignal(dialog.sent, timeout=5000) as sent:
        dialog.send_button.click()
    record = sent.args[0]
    assert record.total_amount == 104.0
    qtbot.waitUntil(lambda: tab.invoices_model.rowCount() == 1, timeout=5000)
    assert tab.uninvoiced_model.rowCount() == 0

    drain(db, client)
    with qtbot.waitSignal(tab.refreshed, timeout=10000):
        tab.settle_now()
    qtmodeltester.check(tab.invoices_model)
    state = tab.invoices_model.index(0, 5)
    assert state.data() == InvoiceState.ACCEPTED.label
    assert state.data(Qt.ItemDataRole.ForegroundRole).color().name() == layout.OK_COLOR
    shot(tab, "invoices_tab_accepted")

    # The same number again for the next package: stopped in the review, next to the field.
    ship(db, client, order_id, {"line:1": 1}, UPS_2)
    again = open_review(qtbot, tab, order_id)
    again.number_field.setText(record.invoice_id)
    again.number_field.textEdited.emit(record.invoice_id)
    assert again.number_error.isVisible() or not again.number_error.isHidden()
    assert f"Invoice number {record.invoice_id} is already used" in again.number_error.text()
    assert not again.send_button.isEnabled()
    again.resize(1000, 560)
    shot(again, "invoice_review_duplicate")
    again.reject()


def test_a_days_shipments_are_invoiced_together_and_the_list_exports(
    qtbot: QtBot,
    db: Database,
    jobs: JobRunner,
    client: DscoClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for tracking in (UPS_1, UPS_2):
        order_id = new_order(client, [1])
        pull_order(db, client, order_id)
        ship(db, client, order_id, {"line:1": 1}, tracking)
    tab = make_tab(qtbot, db, jobs, client)
    asked: list[str] = []

    def confirm(text: str) -> bool:
        asked.append(text)
        return True

    monkeypatch.setattr(tab, "confirm_bulk", confirm)
    with qtbot.waitSignal(tab.message, timeout=10000) as said:
        tab.invoice_day(date.today())
    assert said.args[0] == "2 invoice(s) queued for DSCO."
    assert "cannot be changed" in asked[0]
    qtbot.waitUntil(lambda: tab.invoices_model.rowCount() == 2, timeout=5000)
    assert tab.uninvoiced_model.rowCount() == 0

    target = tmp_path / "invoices.xlsx"
    with qtbot.waitSignal(tab.message, timeout=5000) as saved:
        tab.export("invoices", target)
    assert saved.args[0] == "2 invoices saved to invoices.xlsx."
    sheet = load_workbook(target).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("Invoice", "PO number")
    assert {r[5] for r in rows[1:]} == {InvoiceState.PENDING.label}
