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
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor

from dsco_desktop.domain.invoicing import InvoiceLine, money
from dsco_desktop.services import invoicing, returns
from dsco_desktop.store.invoices import InvoiceRecord, InvoiceState, UninvoicedOrder
from dsco_desktop.store.returns import ReturnState, ReturnSummary
from dsco_desktop.ui import layout
from dsco_desktop.ui.table_model import ALIGN_RIGHT, Column, RawRole, RecordRole, RowTableModel

Index = QModelIndex | QPersistentModelIndex


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


class InvoiceLinesModel(QAbstractTableModel):
    """The draft's lines: quantity and unit price editable, the rest read-only."""

    edited = Signal(int)  # the row whose quantity or price changed

    HEADERS = ("Line", "SKU", "Title", "Package", "Qty", "Unit price", "Amount")
    QTY, PRICE = 4, 5

    def __init__(self, lines: Sequence[InvoiceLine], parent: Any = None) -> None:
        super().__init__(parent)
        self._lines = list(lines)
        self._problems: dict[tuple[int, str], str] = {}

    @property
    def lines(self) -> tuple[InvoiceLine, ...]:
        return tuple(self._lines)

    def set_problems(self, problems: dict[tuple[int, str], str]) -> None:
        """Mark cells with a problem (row, field) -> message; shown red with the message."""
        self._problems = dict(problems)
        if self._lines:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._lines) - 1, len(self.HEADERS) - 1)
            )

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._lines)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(self.HEADERS)
        ):
            return self.HEADERS[section]
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() in (self.QTY, self.PRICE):
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def _field(self, column: int) -> str | None:
        return {self.QTY: "quantity", self.PRICE: "unit_price"}.get(column)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._lines):
            return None
        if not 0 <= index.column() < len(self.HEADERS):
            return None
        line = self._lines[index.row()]
        column = index.column()
        raw: Any = (
            line.line_number,
            line.sku,
            line.title,
            line.tracking_number,
            line.quantity,
            line.unit_price,
            line.extended,
        )[column]
        field = self._field(column)
        problem = self._problems.get((index.row(), field)) if field else None
        if role == Qt.ItemDataRole.DisplayRole:
            if column in (self.PRICE, 6):
                return "" if raw is None else _amount(raw)
            return "" if raw is None else str(raw)
        if role == Qt.ItemDataRole.EditRole:
            if column == self.PRICE:
                return "" if raw is None else str(raw)
            return raw
        if role == RawRole:
            return raw
        if role == RecordRole:
            return line
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return ALIGN_RIGHT if column >= self.QTY else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return problem or (line.title if column == 2 else None)
        if role == Qt.ItemDataRole.ForegroundRole and problem:
            return QBrush(QColor(layout.ERROR_COLOR))
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        row, column = index.row(), index.column()
        line = self._lines[row]
        try:
            if column == self.QTY:
                quantity = int(str(value).strip())
                self._lines[row] = _replace(line, quantity=quantity)
            elif column == self.PRICE:
                self._lines[row] = _replace(line, unit_price=money(value))
            else:
                return False
        except ValueError:
            return False
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.HEADERS) - 1))
        self.edited.emit(row)
        return True


def _replace(line: InvoiceLine, **changes: Any) -> InvoiceLine:
    return replace(line, **changes)
