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

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QWidget

from dsco_desktop.domain.catalog import cell_text, field_label
from dsco_desktop.store.catalog_imports import ImportRowRecord
from dsco_desktop.store.items import ItemRecord
from dsco_desktop.ui import layout
from dsco_desktop.ui.table_model import (
    ALIGN_LEFT,
    ALIGN_RIGHT,
    Column,
    RowTableModel,
    no_tooltip,
)

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
    "skipped": "Not in catalog",
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


def _raw_cell(column: int) -> Callable[[list[Any]], Any]:
    return lambda row: row[column] if column < len(row) else None


class SheetRowsModel(RowTableModel[list[Any]]):
    """The first rows of a sheet as read, for choosing the header row (shown bold)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.header_row = 0

    def set_rows(  # type: ignore[override]
        self, rows: Sequence[Sequence[Any]], header_row: int
    ) -> None:
        from dsco_desktop.spreadsheets.reader import column_letter

        self.beginResetModel()
        self._rows = [list(r) for r in rows]
        width = max((len(r) for r in self._rows), default=0)
        self.columns = [
            Column(column_letter(c), _raw_cell(c), _as_text(_raw_cell(c)), tooltip=no_tooltip)
            for c in range(width)
        ]
        self.header_row = header_row
        self.endResetModel()

    def set_header_row(self, header_row: int) -> None:
        self.header_row = header_row
        self.refresh()

    def _is_header(self, row: list[Any]) -> bool:
        return self.row_at(self.header_row) is row

    def cell_background(self, row: list[Any], column: int) -> str | None:
        return OK_CELL if self._is_header(row) else None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.FontRole and index.isValid() and index.row() == self.header_row:
            font = QFont()
            font.setBold(True)
            return font
        return super().data(index, role)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Vertical and role == Qt.ItemDataRole.DisplayRole:
            return str(section + 1)
        return super().headerData(section, orientation, role)


def _sheet_cell(sheet: int) -> Callable[[ImportRowRecord], Any]:
    return lambda row: row.cells[sheet] if sheet < len(row.cells) else None


def _as_text(raw: Callable[[Any], Any]) -> Callable[[Any], str]:
    return lambda row: cell_text(raw(row))


class ImportRowsModel(RowTableModel[ImportRowRecord]):
    """An import's rows with their problems; sheet cells can be edited to fix them.

    A big import is shown a page at a time: `set_rows` takes the first page and the order of
    every row (row numbers, read once when the view was chosen); scrolling to the end asks the
    owner for the next page (`more_wanted`), whose row numbers `order` gives. The order is kept,
    so a fix that would move a row in SQL's order never skips or repeats one while scrolling.
    """

    cell_edited = Signal(int, int, str)  # sheet row number, sheet column, new text

    FIXED = ("Row", "Result")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._headers: list[str] = []
        self._marks: dict[int, dict[int, list[dict[str, Any]]]] = {}  # by sheet row number
        self.columns = self._columns_for([])
        self.editable = True
        self.order: list[int] = []

    def _columns_for(self, headers: Sequence[str]) -> list[Column[ImportRowRecord]]:
        def column(title: str, raw: Callable[[ImportRowRecord], Any]) -> Column[ImportRowRecord]:
            text = _as_text(raw)
            return Column(title, raw, text, tooltip=no_tooltip, edit=text)

        return [
            column("Row", lambda r: r.row_number),
            Column(
                "Result",
                lambda r: r.push_state if r.push_state != "not_sent" else r.diff,
                self._result,
                tooltip=no_tooltip,
                edit=self._result,
            ),
            *(column(title, _sheet_cell(sheet)) for sheet, title in enumerate(headers)),
            column("Problems", self._problems),
        ]

    def set_rows(  # type: ignore[override]
        self,
        headers: Sequence[str],
        rows: Sequence[ImportRowRecord],
        order: Sequence[int] | None = None,
    ) -> None:
        """Show `rows`, the first of `order` (all rows' numbers; None: `rows` are all)."""
        self.beginResetModel()
        self._headers = list(headers)
        self.columns = self._columns_for(headers)
        self._rows = list(rows)
        self._marks = {r.row_number: self._index_issues(r) for r in self._rows}
        self.order = list(order) if order is not None else [r.row_number for r in self._rows]
        self._begin_view(len(self.order))
        self.endResetModel()

    def _appended(self, rows: Sequence[ImportRowRecord]) -> None:
        for row in rows:
            self._marks[row.row_number] = self._index_issues(row)

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
            self._marks[new.row_number] = self._index_issues(new)
            self.refresh(position, position)

    def sheet_column(self, column: int) -> int | None:
        """The sheet column shown in a model column (None for Row, Result, Problems)."""
        sheet = column - len(self.FIXED)
        return sheet if 0 <= sheet < len(self._headers) else None

    def model_column(self, sheet_column: int) -> int:
        return sheet_column + len(self.FIXED)

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

    def _found(self, row: ImportRowRecord, column: int) -> list[dict[str, Any]]:
        """The issues marked on one cell (only sheet cells carry marks)."""
        sheet = self.sheet_column(column)
        return self._marks.get(row.row_number, {}).get(sheet if sheet is not None else -2, [])

    def cell_tooltip(self, row: ImportRowRecord, column: int) -> str | None:
        found = self._found(row, column)
        if found:
            return "\n".join(str(i["message"]) for i in found)
        if column == 1 and row.diff == "changed" and row.changed_fields:
            return "Changes " + ", ".join(field_label(f) for f in row.changed_fields) + "."
        if column == len(self.columns) - 1 and self._problems(row):
            return "\n".join(str(i["message"]) for i in row.issues) + (
                f"\nDSCO: {row.dsco_message}" if row.dsco_message else ""
            )
        return None

    def cell_background(self, row: ImportRowRecord, column: int) -> str | None:
        found = self._found(row, column)
        if found:
            return ERROR_CELL if any(i["severity"] == "error" for i in found) else WARNING_CELL
        if column == 1 and row.push_state in ("rejected", "failed"):
            return ERROR_CELL
        if column == 1 and row.push_state == "accepted":
            return OK_CELL
        return None

    def cell_foreground(self, row: ImportRowRecord, column: int) -> str | None:
        bad = row.errors or row.push_state in ("rejected", "failed")
        return layout.ERROR_COLOR if column in (1, len(self.columns) - 1) and bad else None

    def cell_editable(self, row: ImportRowRecord, column: int) -> bool:
        return (
            self.editable
            and self.sheet_column(column) is not None
            and row.push_state in ("not_sent", "cancelled")
        )

    def set_cell(self, position: int, column: int, value: Any) -> bool:
        sheet = self.sheet_column(column)
        assert sheet is not None  # only sheet cells are editable
        text = "" if value is None else str(value)
        row = self._rows[position]
        if cell_text(row.cells[sheet] if sheet < len(row.cells) else None) == text.strip():
            return False
        self.cell_edited.emit(row.row_number, sheet, text)
        return True
