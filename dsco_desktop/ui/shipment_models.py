"""Table models of the Shipments tab: an order's lines with a quantity column per package, and
the list of shipments with their DSCO state.

Both are `RowTableModel`s over plain rows (the lines model adds a column per package), with
raw values in `RawRole`. The lines model
refuses a quantity that would ship more than remains (across all packages) and says why
through `refused`, so the form can show it next to the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Signal
from PySide6.QtWidgets import QWidget

from dsco_desktop.domain.shipping import LineState
from dsco_desktop.services.shipping import BatchRow
from dsco_desktop.store.shipments import ShipmentRecord, ShipmentState
from dsco_desktop.ui import layout
from dsco_desktop.ui.table_model import ALIGN_RIGHT, Column, RowTableModel, no_tooltip

_Index = QModelIndex | QPersistentModelIndex


def _remaining_text(line: LineState) -> str:
    return f"{line.remaining} ({line.pending} waiting)" if line.pending else str(line.remaining)


class ShipmentLinesModel(RowTableModel[LineState]):
    """The order's lines: ordered, shipped, cancelled, remaining, and one column per package."""

    LINE_COLUMNS: tuple[Column[LineState], ...] = (
        Column("Line", lambda r: r.line_number, tooltip=no_tooltip),
        Column("SKU", lambda r: r.sku, tooltip=no_tooltip),
        Column("Item", lambda r: r.title, tooltip=lambda r: r.title),
        Column("Ordered", lambda r: r.ordered, align=ALIGN_RIGHT, tooltip=no_tooltip),
        Column("Shipped", lambda r: r.shipped, align=ALIGN_RIGHT, tooltip=no_tooltip),
        Column("Cancelled", lambda r: r.cancelled, align=ALIGN_RIGHT, tooltip=no_tooltip),
        Column("Remaining", lambda r: r.remaining, _remaining_text, ALIGN_RIGHT, no_tooltip),
        Column(
            "Not shippable because",
            lambda r: r.not_shippable_reason(),
            tooltip=lambda r: r.not_shippable_reason(),
        ),
    )
    FIXED: tuple[str, ...] = tuple(c.title for c in LINE_COLUMNS)
    quantities_changed = Signal()
    refused = Signal(str)  # why an entered quantity was not accepted

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._packages: list[dict[str, int]] = []
        self.columns = self.LINE_COLUMNS

    # -- data in and out --------------------------------------------------------------------

    @property
    def lines(self) -> Sequence[LineState]:
        return self.rows

    @property
    def package_count(self) -> int:
        return len(self._packages)

    def _package_column(self, package: int) -> Column[LineState]:
        return Column(
            f"Package {package + 1}",
            lambda r: self._packages[package].get(r.key, 0),
            align=ALIGN_RIGHT,
            tooltip=lambda r: f"Units of {_line_name(r)} in this package (0 to {r.remaining}).",
        )

    def _set_packages(self, packages: list[dict[str, int]]) -> None:
        self._packages = packages
        self.columns = self.LINE_COLUMNS + tuple(
            self._package_column(p) for p in range(len(packages))
        )

    def set_lines(self, lines: Sequence[LineState], first_package: dict[str, int]) -> None:
        """New lines; one package holding `first_package` (usually all that remains)."""
        self.beginResetModel()
        self._rows = list(lines)
        self._set_packages([dict(first_package)])
        self.endResetModel()
        self.quantities_changed.emit()

    def quantities(self, package: int) -> dict[str, int]:
        return {k: v for k, v in self._packages[package].items() if v > 0}

    def add_package(self) -> None:
        """Another package, empty: the user moves units into it."""
        column = len(self.FIXED) + len(self._packages)
        self.beginInsertColumns(QModelIndex(), column, column)
        self._set_packages([*self._packages, {}])
        self.endInsertColumns()
        self.quantities_changed.emit()

    def remove_package(self, package: int) -> None:
        if len(self._packages) <= 1 or not 0 <= package < len(self._packages):
            return
        column = len(self.FIXED) + package
        self.beginRemoveColumns(QModelIndex(), column, column)
        self._set_packages([p for i, p in enumerate(self._packages) if i != package])
        self.endRemoveColumns()
        self.quantities_changed.emit()

    def total(self, key: str) -> int:
        return sum(p.get(key, 0) for p in self._packages)

    def set_quantity(self, row: int, package: int, quantity: int) -> bool:
        """Set one cell; refuses (and says why) anything above what remains for the line."""
        line = self._rows[row]
        others = self.total(line.key) - self._packages[package].get(line.key, 0)
        allowed = max(0, line.remaining - others)
        if quantity < 0:
            self.refused.emit("A quantity cannot be negative.")
            return False
        if quantity > allowed:
            reason = line.not_shippable_reason()
            if reason:
                self.refused.emit(f"{_line_name(line)} cannot ship: {reason}")
            else:
                where = " (the rest is in other packages)" if others else ""
                self.refused.emit(
                    f"{_line_name(line)}: at most {allowed} can go in this package{where}; "
                    f"{line.remaining} remain to ship."
                )
            return False
        self._packages[package][line.key] = quantity
        index = self.index(row, len(self.FIXED) + package)
        self.dataChanged.emit(index, index)
        self.quantities_changed.emit()
        return True

    # -- RowTableModel hooks ----------------------------------------------------------------

    def foreground(self, row: LineState) -> str | None:
        return layout.MUTED_COLOR if row.remaining == 0 else None

    def cell_editable(self, row: LineState, column: int) -> bool:
        return column >= len(self.FIXED) and row.remaining > 0

    def set_cell(self, position: int, column: int, value: Any) -> bool:
        try:
            quantity = int(str(value).strip() or 0)
        except ValueError:
            self.refused.emit(f"'{value}' is not a whole number.")
            return False
        return self.set_quantity(position, column - len(self.FIXED), quantity)


def _line_name(line: LineState) -> str:
    return f"Line {line.line_number}" if line.line_number is not None else f"SKU {line.sku}"


STATE_COLORS: dict[ShipmentState, str] = {
    ShipmentState.CONFIRMED: layout.OK_COLOR,
    ShipmentState.REJECTED: layout.ERROR_COLOR,
    ShipmentState.FAILED: layout.ERROR_COLOR,
    ShipmentState.ACCEPTED_NOT_APPLIED: layout.ATTENTION_COLOR,
}


def _local_time(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def _shipment_message(record: ShipmentRecord) -> str:
    if record.messages:
        return "; ".join(record.messages)
    return record.dsco_message or ""


class ShipmentsModel(RowTableModel[ShipmentRecord]):
    """Shipments made in the app, newest first, with DSCO's state and message."""

    columns = (
        Column("Created", lambda r: r.created_at, lambda r: _local_time(r.created_at)),
        Column("PO", lambda r: r.po_number),
        Column("Order", lambda r: r.dsco_order_id),
        Column("Tracking", lambda r: ", ".join(r.tracking_numbers)),
        Column("Units", lambda r: r.units, align=ALIGN_RIGHT),
        Column("State", lambda r: r.state.value, lambda r: r.state.label),
        Column("DSCO says", _shipment_message),
    )

    def cell_foreground(self, row: ShipmentRecord, column: int) -> str | None:
        return STATE_COLORS.get(row.state) if column in (5, 6) else None


def _batch_line(row: BatchRow) -> str:
    return row.sku or (f"line {row.line_number}" if row.line_number is not None else "")


def _batch_problems(row: BatchRow) -> str:
    return " ".join(row.errors + [f"(warning) {w}" for w in row.warnings])


class BatchRowsModel(RowTableModel[BatchRow]):
    """The rows of a batch shipment file with every problem; rows with errors in red."""

    columns = (
        Column("Row", lambda r: r.row, align=ALIGN_RIGHT),
        Column("PO", lambda r: r.po_number),
        Column("SKU / line", _batch_line),
        Column("Qty", lambda r: r.quantity or None, align=ALIGN_RIGHT),
        Column("Carrier", lambda r: r.carrier),
        Column("Service level", lambda r: r.service_level),
        Column("Tracking", lambda r: r.tracking),
        Column("Ship date", lambda r: r.ship_date.isoformat() if r.ship_date else None),
        Column("Problems", _batch_problems),
    )

    def foreground(self, row: BatchRow) -> str | None:
        return layout.ERROR_COLOR if row.errors else None
