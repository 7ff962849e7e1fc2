"""Table models of the Invoices & Returns tab: orders left to invoice, invoices, returns, and
the editable lines of the invoice review.

The lists are `RowTableModel`s over plain rows from the store (filtered in SQL, then reset);
the review's lines model edits quantity and unit price in place and reports each edit, so the
dialog can re-check the draft. Raw values are in `RawRole`, the row object in `RecordRole`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any, ClassVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor

from dsco_desktop.domain.invoicing import InvoiceLine, money
from dsco_desktop.services import invoicing, returns
from dsco_desktop.store.invoices import InvoiceRecord, InvoiceState, UninvoicedOrder
from dsco_desktop.store.returns import ReturnState, ReturnSummary
from dsco_desktop.ui import layout
from dsco_desktop.ui.table_model import ALIGN_RIGHT, Column, Index, RowTableModel, no_tooltip


def _day(value: str | None) -> str:
    return (value or "")[:10]


def _amount(value: float | Decimal | None) -> str:
    return "" if value is None else f"{Decimal(str(value)):,.2f}"


class UninvoicedModel(RowTableModel[UninvoicedOrder]):
    """Orders with shipped units not invoiced yet."""

    columns = (
        Column("PO number", lambda r: r.po_number),
        Column("DSCO order", lambda r: r.dsco_order_id),
        Column("Channel", lambda r: r.channel),
        Column("Customer", lambda r: r.customer_name),
        Column("Last shipped", lambda r: r.last_ship_date, lambda r: _day(r.last_ship_date)),
        Column("Packages", lambda r: r.tracking_numbers, lambda r: ", ".join(r.tracking_numbers)),
        Column("Units to invoice", lambda r: r.open_units, align=ALIGN_RIGHT),
    )


def _invoice_state(record: InvoiceRecord) -> str:
    return record.state.label


class InvoicesModel(RowTableModel[InvoiceRecord]):
    """Invoices made in the app with their DSCO state; rejected ones in red."""

    columns = (
        Column("Invoice", lambda r: r.invoice_id),
        Column("PO number", lambda r: r.po_number),
        Column("Date", lambda r: r.invoice_date),
        Column("Units", lambda r: r.units, align=ALIGN_RIGHT),
        Column("Total", lambda r: r.total_amount, lambda r: _amount(r.total_amount), ALIGN_RIGHT),
        Column("DSCO state", lambda r: r.state.value, _invoice_state),
        Column(
            "DSCO says",
            lambda r: r.dsco_message,
            invoicing.describe,
            tooltip=invoicing.describe,
        ),
    )

    def cell_foreground(self, row: InvoiceRecord, column: int) -> str | None:
        if row.state in (InvoiceState.REJECTED, InvoiceState.FAILED):
            return layout.ERROR_COLOR
        if row.state is InvoiceState.ACCEPTED and column == 5:
            return layout.OK_COLOR
        if row.state in (InvoiceState.PENDING, InvoiceState.SENT):
            return layout.MUTED_COLOR
        return None


class ReturnsModel(RowTableModel[ReturnSummary]):
    """Returns with DSCO's status and what the app is doing with them."""

    columns = (
        Column("Return", lambda r: r.return_number),
        Column("PO number", lambda r: r.po_number),
        Column("Date", lambda r: r.return_date, lambda r: _day(r.return_date)),
        Column("SKUs", lambda r: r.skus),
        Column("Units", lambda r: r.units, align=ALIGN_RIGHT),
        Column("Started by", lambda r: r.source, lambda r: "You" if r.source == "app" else "DSCO"),
        Column("DSCO state", lambda r: r.status, lambda r: (r.status or "not yet").capitalize()),
        Column(
            "Next step",
            lambda r: r.state.value,
            returns.describe,
            tooltip=returns.describe,
        ),
    )

    def cell_foreground(self, row: ReturnSummary, column: int) -> str | None:
        if row.state in (ReturnState.REJECTED, ReturnState.FAILED):
            return layout.ERROR_COLOR
        if (row.status or "") in ("created", "acknowledged") and row.state is ReturnState.OPEN:
            return layout.ATTENTION_COLOR if column == 7 else None
        if (row.status or "") == "completed":
            return layout.OK_COLOR if column == 6 else None
        return layout.MUTED_COLOR if row.state is not ReturnState.OPEN else None


def _price_edit(line: InvoiceLine) -> str:
    return "" if line.unit_price is None else str(line.unit_price)


class InvoiceLinesModel(RowTableModel[InvoiceLine]):
    """The draft's lines: quantity and unit price editable, the rest read-only."""

    edited = Signal(int)  # the row whose quantity or price changed

    QTY, PRICE = 4, 5
    columns = (
        Column("Line", lambda r: r.line_number, tooltip=no_tooltip),
        Column("SKU", lambda r: r.sku, tooltip=no_tooltip),
        Column("Title", lambda r: r.title, tooltip=lambda r: r.title),
        Column("Package", lambda r: r.tracking_number, tooltip=no_tooltip),
        Column("Qty", lambda r: r.quantity, align=ALIGN_RIGHT, tooltip=no_tooltip),
        Column(
            "Unit price",
            lambda r: r.unit_price,
            lambda r: _amount(r.unit_price),
            ALIGN_RIGHT,
            no_tooltip,
            edit=_price_edit,
        ),
        Column(
            "Amount", lambda r: r.extended, lambda r: _amount(r.extended), ALIGN_RIGHT, no_tooltip
        ),
    )
    _FIELDS: ClassVar[dict[int, str]] = {QTY: "quantity", PRICE: "unit_price"}

    def __init__(self, lines: Sequence[InvoiceLine], parent: Any = None) -> None:
        super().__init__(parent)
        self._rows = list(lines)
        self._problems: dict[tuple[int, str], str] = {}

    @property
    def lines(self) -> tuple[InvoiceLine, ...]:
        return tuple(self._rows)

    def set_problems(self, problems: dict[tuple[int, str], str]) -> None:
        """Mark cells with a problem (row, field) -> message; shown red with the message."""
        self._problems = dict(problems)
        self.refresh()

    def _problem(self, index: Index) -> str | None:
        field = self._FIELDS.get(index.column())
        return self._problems.get((index.row(), field)) if field else None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # Problems are per position in the draft, so they are looked up here, not per row.
        if role == Qt.ItemDataRole.ToolTipRole and index.isValid():
            return self._problem(index) or super().data(index, role)
        if role == Qt.ItemDataRole.ForegroundRole and index.isValid() and self._problem(index):
            return QBrush(QColor(layout.ERROR_COLOR))
        return super().data(index, role)

    def cell_editable(self, row: InvoiceLine, column: int) -> bool:
        return column in self._FIELDS

    def set_cell(self, position: int, column: int, value: Any) -> bool:
        line = self._rows[position]
        try:
            if column == self.QTY:
                self._rows[position] = replace(line, quantity=int(str(value).strip()))
            else:
                self._rows[position] = replace(line, unit_price=money(value))
        except ValueError:
            return False
        self.refresh(position, position)
        self.edited.emit(position)
        return True
