"""Table models of the Inventory tab: SKU x warehouse levels (ids + lazy rows), and the review.

`InventoryTableModel` holds only the row ids the store filtered and sorted in SQL; the rows
themselves are read by id in blocks when the view first paints them, and kept in a bounded
cache, so 200,000 levels cost a list of ints. Sorting asks the owner to reload the ids
(`sort_requested`); editing a cell asks the owner to stage the change (`edit_requested`), which
then refreshes the rows it touched (`invalidate`). Staged rows are highlighted, rows DSCO
refused are red, low stock amber.

`ReviewModel` lists the staged changes as before -> after. Raw values are in `RawRole`, the
whole row in `RowRole`; both models pass pytest-qt's model tester.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QWidget

from dsco_desktop.domain.inventory import DISCONTINUED, LevelValues
from dsco_desktop.services.inventory_sync import ReviewLine
from dsco_desktop.store.inventory import InventoryRow, Key
from dsco_desktop.ui import layout

RawRole = Qt.ItemDataRole.UserRole + 1
RowRole = Qt.ItemDataRole.UserRole + 2

_Index = QModelIndex | QPersistentModelIndex

# Roles as plain ints: comparing the int Qt passes with an enum member is slow, and data() is
# called thousands of times per repaint.
_DISPLAY = int(Qt.ItemDataRole.DisplayRole.value)
_EDIT = int(Qt.ItemDataRole.EditRole.value)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole.value)
_BACKGROUND = int(Qt.ItemDataRole.BackgroundRole.value)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole.value)
_FONT = int(Qt.ItemDataRole.FontRole.value)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole.value)
_RAW = int(RawRole)
_ROW = int(RowRole)
_HANDLED = frozenset(
    {_DISPLAY, _EDIT, _ALIGN, _BACKGROUND, _FOREGROUND, _FONT, _TOOLTIP, _RAW, _ROW}
)
_RIGHT = int((Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter).value)

_FLAGS = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled
_EDITABLE_FLAGS = _FLAGS | Qt.ItemFlag.ItemIsEditable

FETCH_BLOCK = 200
CACHE_LIMIT = 20_000

PENDING_BACKGROUND = QColor(layout.INVENTORY_PENDING_BACKGROUND)
ERROR_BACKGROUND = QColor(layout.INVENTORY_ERROR_BACKGROUND)
LOW_STOCK_COLOR = QColor(layout.ATTENTION_COLOR)
ERROR_COLOR = QColor(layout.ERROR_COLOR)
OK_COLOR = QColor(layout.OK_COLOR)
MUTED = QColor(layout.MUTED_COLOR)
_PENDING_BRUSH = QBrush(PENDING_BACKGROUND)
_ERROR_BRUSH = QBrush(ERROR_BACKGROUND)
_BOLD = QFont()
_BOLD.setBold(True)

PUSH_STATE_LABELS = {
    "": "",
    "queued": "Queued",
    "sent": "Sent, waiting for DSCO",
    "pending": "Accepted, not applied yet",
    "accepted": "Confirmed",
    "rejected": "Rejected",
    "failed": "Not delivered",
}
DSCO_STATUS_LABELS = {
    "in-stock": "In stock",
    "out-of-stock": "Out of stock",
    "discontinued": "Discontinued",
    "hidden": "Hidden",
}


def confirmed_text(stamp: str | None) -> str:
    """A store timestamp as "2025-01-31 14:05" (UTC), or "" when DSCO never confirmed."""
    if not stamp:
        return ""
    return stamp[:16].replace("T", " ")


class InventoryTableModel(QAbstractTableModel):
    """SKU x warehouse levels by id; rows fetched lazily through `fetch`."""

    COLUMNS: tuple[tuple[str, str], ...] = (
        ("SKU", "sku"),
        ("Warehouse", "warehouse_code"),
        ("On hand", "quantity"),
        ("Allocated", "allocated"),
        ("Buffer", "buffer"),
        ("Available", "available"),
        ("Status", "status"),
        ("DSCO status", "dsco_status"),
        ("Confirmed by DSCO", "last_confirmed_at"),
        ("Last push", "push_state"),
    )
    EDITABLE = frozenset({"quantity", "buffer"})
    NUMERIC = frozenset({"quantity", "allocated", "buffer", "available"})

    sort_requested = Signal(str, bool)  # store column, descending
    edit_requested = Signal(object, object)  # Key, LevelValues

    def __init__(
        self,
        fetch: Callable[[Sequence[int]], Mapping[int, InventoryRow]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._fetch = fetch
        self._ids: list[int] = []
        self._cache: dict[int, InventoryRow] = {}
        self.low_stock_at = 5

    # -- contents ----------------------------------------------------------------------------

    @property
    def ids(self) -> Sequence[int]:
        return self._ids

    def set_ids(self, ids: Sequence[int]) -> None:
        self.beginResetModel()
        self._ids = list(ids)
        self._cache.clear()
        self.endResetModel()

    def invalidate(self, ids: Sequence[int] | None = None) -> None:
        """Forget cached rows (all, or these) and repaint; they are read again when shown."""
        if ids is None:
            self._cache.clear()
        else:
            for row_id in ids:
                self._cache.pop(row_id, None)
        if self._ids:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._ids) - 1, len(self.COLUMNS) - 1)
            )

    def row_at(self, row: int) -> InventoryRow | None:
        if not 0 <= row < len(self._ids):
            return None
        row_id = self._ids[row]
        found = self._cache.get(row_id)
        if found is None:
            if len(self._cache) > CACHE_LIMIT:
                self._cache.clear()
            start = max(0, row - FETCH_BLOCK // 4)
            block = [i for i in self._ids[start : start + FETCH_BLOCK] if i not in self._cache]
            self._cache.update(self._fetch(block))
            found = self._cache.get(row_id)
        return found

    def id_at(self, row: int) -> int | None:
        return self._ids[row] if 0 <= row < len(self._ids) else None

    # -- Qt ----------------------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.COLUMNS):
            if role == Qt.ItemDataRole.DisplayRole:
                return self.COLUMNS[section][0]
            if role == Qt.ItemDataRole.ToolTipRole and self.COLUMNS[section][1] == "available":
                return "On hand - allocated to open orders - buffer, never below 0."
        if orientation == Qt.Orientation.Vertical and role == Qt.ItemDataRole.DisplayRole:
            return section + 1
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        if self.COLUMNS[index.column()][1] in self.EDITABLE:
            return _EDITABLE_FLAGS
        return _FLAGS

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        role = int(role)
        if role not in _HANDLED or not index.isValid():
            return None
        row = self.row_at(index.row())
        if row is None:
            return None
        attr = self.COLUMNS[index.column()][1]
        if role in (_DISPLAY, _EDIT):
            return self._display(row, attr, getattr(row, attr), role)
        if role == _BACKGROUND:
            if row.has_error:
                return _ERROR_BRUSH
            return _PENDING_BRUSH if row.pending else None
        if role == _FOREGROUND:
            return self._foreground(row, attr)
        if role == _ALIGN:
            return _RIGHT if attr in self.NUMERIC else None
        if role == _FONT:
            return _BOLD if row.pending and self._changed(row, attr) else None
        if role == _RAW:
            return getattr(row, attr)
        if role == _ROW:
            return row
        return self._tooltip(row, attr)

    def _display(self, row: InventoryRow, attr: str, value: Any, role: int) -> Any:
        if role == _EDIT and attr in self.EDITABLE:
            return int(value)
        if attr == "status":
            return "Discontinued" if value == DISCONTINUED else "Active"
        if attr == "dsco_status":
            return DSCO_STATUS_LABELS.get(value or "", value or "")
        if attr == "last_confirmed_at":
            return confirmed_text(value)
        if attr == "push_state":
            return PUSH_STATE_LABELS.get(value, value)
        if attr in self.NUMERIC:
            return f"{int(value):,}"
        return "" if value is None else str(value)

    def _changed(self, row: InventoryRow, attr: str) -> bool:
        if attr == "quantity":
            return row.quantity != row.base_quantity
        if attr == "buffer":
            return row.buffer != row.base_buffer
        if attr == "status":
            return row.status != row.base_status
        return attr == "available"

    def _foreground(self, row: InventoryRow, attr: str) -> Any:
        if attr == "push_state":
            if row.has_error:
                return QBrush(ERROR_COLOR)
            if row.push_state == "accepted":
                return QBrush(OK_COLOR)
            return QBrush(MUTED)
        if attr == "available":
            if row.available == 0:
                return QBrush(ERROR_COLOR)
            if row.available <= self.low_stock_at:
                return QBrush(LOW_STOCK_COLOR)
        if attr == "status" and row.status == DISCONTINUED:
            return QBrush(ERROR_COLOR)
        return None

    def _tooltip(self, row: InventoryRow, attr: str) -> str | None:
        if attr == "push_state" and row.push_message:
            return row.push_message
        if row.pending and attr in ("quantity", "buffer", "status") and self._changed(row, attr):
            before = {
                "quantity": row.base_quantity,
                "buffer": row.base_buffer,
                "status": row.base_status or "active",
            }[attr]
            return f"Staged change (was {before}); not sent to DSCO yet."
        if attr == "available":
            return (
                f"{row.quantity:,} on hand - {row.allocated:,} allocated - {row.buffer:,} buffer"
                + (" (discontinued: 0)" if row.status == DISCONTINUED else "")
            )
        if attr == "dsco_status" and row.dsco_quantity is not None:
            return f"DSCO has {row.dsco_quantity:,} in {row.warehouse_code}."
        return None

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        attr = self.COLUMNS[index.column()][1]
        row = self.row_at(index.row())
        if row is None or attr not in self.EDITABLE:
            return False
        try:
            number = int(str(value).replace(",", "").strip())
        except ValueError:
            return False
        if number < 0:
            return False
        current = row.values
        new = (
            LevelValues(number, current.buffer, current.status)
            if attr == "quantity"
            else LevelValues(current.quantity, number, current.status)
        )
        if new == current:
            return False
        self.edit_requested.emit(row.key, new)
        return True

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if 0 <= column < len(self.COLUMNS):
            self.sort_requested.emit(self.COLUMNS[column][1], order == Qt.SortOrder.DescendingOrder)


def change_text(before: LevelValues, after: LevelValues) -> str:
    """A staged change in a few words: "on hand 7 → 12, buffer 0 → 2"."""
    parts = []
    if before.quantity != after.quantity:
        parts.append(f"on hand {before.quantity:,} → {after.quantity:,}")
    if before.buffer != after.buffer:
        parts.append(f"buffer {before.buffer:,} → {after.buffer:,}")
    if before.status != after.status:
        parts.append("discontinued" if after.status == DISCONTINUED else "back on sale")
    return ", ".join(parts)


class ReviewModel(QAbstractTableModel):
    """The staged changes: SKU, warehouse, what changes, available before -> after."""

    COLUMNS = ("SKU", "Warehouse", "Available", "Change")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lines: list[ReviewLine] = []

    @property
    def lines(self) -> Sequence[ReviewLine]:
        return tuple(self._lines)

    def set_lines(self, lines: Sequence[ReviewLine]) -> None:
        self.beginResetModel()
        self._lines = list(lines)
        self.endResetModel()

    def key_at(self, row: int) -> Key | None:
        if not 0 <= row < len(self._lines):
            return None
        line = self._lines[row]
        return (line.sku, line.warehouse_code)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._lines)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.COLUMNS):
            return self.COLUMNS[section]
        if orientation == Qt.Orientation.Vertical:
            return section + 1
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._lines):
            return None
        line = self._lines[index.row()]
        column = index.column()
        raw: tuple[Any, ...] = (
            line.sku,
            line.warehouse_code,
            (line.available_before, line.available_after),
            (line.before, line.after),
        )
        if role == RawRole:
            return raw[column]
        if role == RowRole:
            return line
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 2:
                return f"{line.available_before:,} → {line.available_after:,}"
            if column == 3:
                return change_text(line.before, line.after)
            return str(raw[column])
        if role == Qt.ItemDataRole.ForegroundRole and column in (2, 3) and line.delisting:
            return QBrush(ERROR_COLOR)
        if role == Qt.ItemDataRole.ToolTipRole and line.delisting:
            return "This change takes the item off sale at DSCO (delisting)."
        return None
