"""Table models of the Catalog tab and the import wizard, over plain rows.

- `CatalogItemsModel`: stored items (`ItemRecord`) with their DSCO status; sorting asks the
  owner to reload in SQL (`sort_requested`), it never sorts in the view.
- `SheetRowsModel`: the first raw rows of a sheet, the header row in bold.
- `ImportRowsModel`: an import's rows (`ImportRowRecord`): row number, result, the sheet's own
  columns, and the problems. A bad cell is red (amber for a warning) with the messages as its
  tooltip; sheet cells are editable, and an edit is handed to the owner (`cell_edited`) to be
  re-validated off the GUI thread; `replace_rows` then swaps the fresh rows in.

Raw values are in `RawRole`; every model passes pytest-qt's model tester.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QWidget

from dsco_desktop.domain.catalog import cell_text
from dsco_desktop.store.catalog_imports import ImportRowRecord
from dsco_desktop.store.items import ItemRecord
from dsco_desktop.ui import layout
from dsco_desktop.ui.table_model import (
    ALIGN_LEFT,
    ALIGN_RIGHT,
    Column,
    RawRole,
    RowTableModel,
    no_tooltip,
)
from dsco_desktop.ui.table_model import RecordRole as RowRole

_Index = QModelIndex | QPersistentModelIndex

ERROR_CELL = "#f8d7da"
WARNING_CELL = "#fff3cd"
OK_CELL = "#e6f4ea"

DSCO_STATE_LABELS = {
    "unknown": "Not sent",
    "pending": "Waiting for DSCO",
    "accepted": "Accepted",
    "rejected": "Rejected",
    "failed": "Not delivered",
}
PUSH_STATE_LABELS = {
    "not_sent": "",
    "queued": "Queued",
    "sent": "Sent, waiting for DSCO",
    "pending": "Accepted, not applied yet",
    "accepted": "Accepted by DSCO",
    "rejected": "Rejected by DSCO",
    "cancelled": "Not sent (cancelled)",
    "failed": "Not delivered",
}
DIFF_LABELS = {
    "new": "New",
    "changed": "Changed",
    "unchanged": "Unchanged",
    "invalid": "Has errors",
}


def _money(value: float | None) -> str:
    return "" if value is None else f"{value:,.2f}"


def _tip(value: Any) -> str | None:
    return str(value) if value else None


class CatalogItemsModel(RowTableModel[ItemRecord]):
    """Stored catalog items, in the order the store returned them."""

    # The store column each column sorts by: the owner sorts in SQL and reloads.
    SORT_KEYS: tuple[str, ...] = (
        "sku",
        "title",
        "product_status",
        "upc",
        "brand",
        "cost",
        "msrp",
        "dsco_state",
        "dsco_message",
    )
    columns = (
        Column("SKU", lambda r: r.sku, tooltip=no_tooltip),
        Column("Title", lambda r: r.title, tooltip=lambda r: _tip(r.title)),
        Column("Status", lambda r: r.product_status, tooltip=no_tooltip),
        Column("UPC", lambda r: r.upc, tooltip=no_tooltip),
        Column("Brand", lambda r: r.brand, tooltip=no_tooltip),
        Column("Cost", lambda r: r.cost, lambda r: _money(r.cost), ALIGN_RIGHT, no_tooltip),
        Column("MSRP", lambda r: r.msrp, lambda r: _money(r.msrp), ALIGN_RIGHT, no_tooltip),
        Column(
            "DSCO",
            lambda r: r.dsco_state,
            lambda r: DSCO_STATE_LABELS.get(r.dsco_state, r.dsco_state),
            ALIGN_LEFT,
            no_tooltip,
        ),
        Column(
            "DSCO message",
            lambda r: r.dsco_message,
            tooltip=lambda r: _tip(r.dsco_message),
        ),
    )

    sort_requested = Signal(str, bool)  # store column, descending

    def cell_foreground(self, row: ItemRecord, column: int) -> str | None:
        if self.SORT_KEYS[column] == "dsco_state":
            if row.dsco_state in ("rejected", "failed"):
                return layout.ERROR_COLOR
            if row.dsco_state == "accepted":
                return layout.OK_COLOR
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if 0 <= column < len(self.SORT_KEYS):
            self.sort_requested.emit(self.SORT_KEYS[column], order == Qt.SortOrder.DescendingOrder)


class SheetRowsModel(QAbstractTableModel):
    """The first rows of a sheet as read, for choosing the header row."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[list[Any]] = []
        self._width = 0
        self.header_row = 0

    def set_rows(self, rows: Sequence[Sequence[Any]], header_row: int) -> None:
        self.beginResetModel()
        self._rows = [list(r) for r in rows]
        self._width = max((len(r) for r in self._rows), default=0)
        self.header_row = header_row
        self.endResetModel()

    def set_header_row(self, header_row: int) -> None:
        self.header_row = header_row
        if self._rows:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._rows) - 1, max(0, self._width - 1))
            )

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._width

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        value = row[index.column()] if index.column() < len(row) else None
        if role == RawRole:
            return value
        if role == Qt.ItemDataRole.DisplayRole:
            return cell_text(value)
        if role == Qt.ItemDataRole.FontRole and index.row() == self.header_row:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.BackgroundRole and index.row() == self.header_row:
            return QBrush(QColor(OK_CELL))
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Vertical:
            return str(section + 1)
        from dsco_desktop.spreadsheets.reader import column_letter

        return column_letter(section) if 0 <= section < self._width else None


class ImportRowsModel(QAbstractTableModel):
    """An import's rows with their problems; sheet cells can be edited to fix them."""

    cell_edited = Signal(int, int, str)  # sheet row number, sheet column, new text

    FIXED = ("Row", "Result")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[ImportRowRecord] = []
        self._headers: list[str] = []
        self._marks: list[dict[int, list[dict[str, Any]]]] = []
        self.editable = True

    @property
    def rows(self) -> Sequence[ImportRowRecord]:
        return tuple(self._rows)

    def set_rows(self, headers: Sequence[str], rows: Sequence[ImportRowRecord]) -> None:
        self.beginResetModel()
        self._headers = list(headers)
        self._rows = list(rows)
        self._marks = [self._index_issues(r) for r in self._rows]
        self.endResetModel()

    @staticmethod
    def _index_issues(row: ImportRowRecord) -> dict[int, list[dict[str, Any]]]:
        marks: dict[int, list[dict[str, Any]]] = {}
        for issue in row.issues:
            column = issue.get("column")
            marks.setdefault(-1 if column is None else int(column), []).append(issue)
        return marks

    def replace_rows(self, fresh: Sequence[ImportRowRecord]) -> None:
        """Swap in re-validated rows (same row numbers), wherever they are shown."""
        by_number = {r.row_number: r for r in fresh}
        for position, row in enumerate(self._rows):
            new = by_number.get(row.row_number)
            if new is None:
                continue
            self._rows[position] = new
            self._marks[position] = self._index_issues(new)
            self.dataChanged.emit(
                self.index(position, 0), self.index(position, self.columnCount() - 1)
            )

    def row_at(self, position: int) -> ImportRowRecord:
        return self._rows[position]

    def sheet_column(self, column: int) -> int | None:
        """The sheet column shown in a model column (None for Row, Result, Problems)."""
        sheet = column - len(self.FIXED)
        return sheet if 0 <= sheet < len(self._headers) else None

    def model_column(self, sheet_column: int) -> int:
        return sheet_column + len(self.FIXED)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.FIXED) + len(self._headers) + 1

    def _result(self, row: ImportRowRecord) -> str:
        pushed = PUSH_STATE_LABELS.get(row.push_state, row.push_state)
        if pushed:
            return pushed
        label = DIFF_LABELS.get(row.diff, row.diff)
        if row.errors:
            return f"{row.errors} error{'s' if row.errors != 1 else ''}"
        if row.warnings:
            return f"{label}, {row.warnings} warning{'s' if row.warnings != 1 else ''}"
        return label

    def _problems(self, row: ImportRowRecord) -> str:
        parts = [str(i["message"]) for i in row.issues]
        if row.dsco_message:
            parts.append(f"DSCO: {row.dsco_message}")
        return "  ".join(parts)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == RowRole:
            return row
        last = self.columnCount() - 1
        sheet = self.sheet_column(column)
        if column == 0:
            raw: Any = row.row_number
        elif column == 1:
            raw = row.push_state if row.push_state != "not_sent" else row.diff
        elif column == last:
            raw = self._problems(row)
        else:
            assert sheet is not None
            raw = row.cells[sheet] if sheet < len(row.cells) else None
        if role == RawRole:
            return raw
        marks = self._marks[index.row()]
        found = marks.get(sheet if sheet is not None else -2, [])
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if column == 1:
                return self._result(row)
            return cell_text(raw)
        if role == Qt.ItemDataRole.ToolTipRole:
            if found:
                return "\n".join(str(i["message"]) for i in found)
            if column == last and raw:
                return "\n".join(str(i["message"]) for i in row.issues) + (
                    f"\nDSCO: {row.dsco_message}" if row.dsco_message else ""
                )
            return None
        if role == Qt.ItemDataRole.BackgroundRole:
            if found:
                is_error = any(i["severity"] == "error" for i in found)
                return QBrush(QColor(ERROR_CELL if is_error else WARNING_CELL))
            if column == 1 and row.push_state in ("rejected", "failed"):
                return QBrush(QColor(ERROR_CELL))
            if column == 1 and row.push_state == "accepted":
                return QBrush(QColor(OK_CELL))
            return None
        bad = row.errors or row.push_state in ("rejected", "failed")
        if role == Qt.ItemDataRole.ForegroundRole and column in (1, last) and bad:
            return QBrush(QColor(layout.ERROR_COLOR))
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        base = super().flags(index)
        if not index.isValid():
            return base
        row = self._rows[index.row()]
        if (
            self.editable
            and self.sheet_column(index.column()) is not None
            and row.push_state in ("not_sent", "cancelled")
        ):
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        sheet = self.sheet_column(index.column())
        if sheet is None or not (self.flags(index) & Qt.ItemFlag.ItemIsEditable):
            return False
        text = "" if value is None else str(value)
        row = self._rows[index.row()]
        if cell_text(row.cells[sheet] if sheet < len(row.cells) else None) == text.strip():
            return False
        self.cell_edited.emit(row.row_number, sheet, text)
        return True

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        if section < len(self.FIXED):
            return self.FIXED[section]
        sheet = section - len(self.FIXED)
        if sheet < len(self._headers):
            return self._headers[sheet]
        if section == self.columnCount() - 1:
            return "Problems"
        return None
