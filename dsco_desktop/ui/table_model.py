"""One table model for every list in the app: plain rows, declared columns, raw values in a role.

Each tab declares its columns once (`Column`: title, how to get the raw value, how to show it,
alignment, tooltip) and gets a `QAbstractTableModel` that shows them. Sorting and filtering
happen in SQL or on the Python list before `set_rows` (a proxy model over a big list is far
slower, see ARCHITECTURE.md). Raw values are in `RawRole` and the row object in `RecordRole`,
so tests and delegates never parse display text. A model may make cells editable
(`cell_editable` + `set_cell`) and colour or explain single cells (`cell_foreground`,
`cell_background`, `cell_tooltip`) without re-implementing the Qt plumbing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor

RawRole = Qt.ItemDataRole.UserRole + 1
RecordRole = Qt.ItemDataRole.UserRole + 2

Index = QModelIndex | QPersistentModelIndex

T = TypeVar("T")

ALIGN_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
ALIGN_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
ALIGN_CENTER = int(Qt.AlignmentFlag.AlignCenter)


def _plain(value: Any) -> str:
    return "" if value is None else str(value)


@dataclass(frozen=True)
class Column(Generic[T]):
    """One column: its title, its raw value, and how it is shown."""

    title: str
    raw: Callable[[T], Any]
    display: Callable[[T], str] | None = None  # default: str(raw), "" for None
    align: int = ALIGN_LEFT
    tooltip: Callable[[T], str | None] | None = None  # default: the display text
    edit: Callable[[T], Any] | None = None  # the editor's starting value; default: the raw value

    def text(self, row: T) -> str:
        return self.display(row) if self.display is not None else _plain(self.raw(row))


def no_tooltip(row: Any) -> None:
    """A `Column.tooltip` for cells that show no tooltip."""
    return None


class RowTableModel(QAbstractTableModel, Generic[T]):
    """A table over a list of rows, with row-level colours from two hooks.

    Subclasses set `columns` and may override `foreground(row)` / `background(row)` (a colour
    name or None), `cell_foreground` / `cell_background` / `cell_tooltip(row, column)` for
    single cells, and `cell_editable(row, column)` + `set_cell(position, column, value)` to let the
    user edit a cell (the model stays read-only unless they do).
    """

    columns: Sequence[Column[T]] = ()
    # Paging: `set_first_page(rows, total)` shows part of `total` rows; scrolling to the end asks
    # the owner for more (`more_wanted`: view generation, first position not shown yet), which
    # `append_rows` adds. A page asked for by an earlier view (an older generation) is dropped.
    more_wanted = Signal(int, int)
    PAGE_ROWS = 2000

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[T] = []
        self._total = 0
        self._generation = 0
        self._fetching = False

    @property
    def rows(self) -> Sequence[T]:
        return tuple(self._rows)

    def row_at(self, row: int) -> T | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def set_rows(self, rows: Sequence[T]) -> None:
        self.set_first_page(rows, len(rows))

    def set_first_page(self, rows: Sequence[T], total: int) -> None:
        """Show `rows`, the first of `total` (the rest come as the view scrolls to them)."""
        self.beginResetModel()
        self._rows = list(rows)
        self._begin_view(total)
        self.endResetModel()

    def _begin_view(self, total: int) -> None:
        self._total = max(len(self._rows), total)
        self._generation += 1
        self._fetching = False

    @property
    def total_rows(self) -> int:
        """How many rows the view has, shown or not yet."""
        return self._total

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._fetching and len(self._rows) < self._total

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        if self.canFetchMore(parent):
            self._fetching = True
            self.more_wanted.emit(self._generation, len(self._rows))

    def append_rows(self, generation: int, rows: Sequence[T], asked: int | None = None) -> None:
        """Add the page `more_wanted` asked for; fewer rows than `asked` means the rest are
        gone (the total shrinks, so they are not asked for again)."""
        if generation != self._generation or not self._fetching:
            return
        self._fetching = False
        expected = min(asked, self._total - len(self._rows)) if asked is not None else 0
        if len(rows) < expected:
            self._total -= expected - len(rows)
        if not rows:
            self._total = len(self._rows)  # nothing more to come
            return
        start = len(self._rows)
        self.beginInsertRows(QModelIndex(), start, start + len(rows) - 1)
        self._rows.extend(rows)
        self._appended(rows)
        self.endInsertRows()

    def _appended(self, rows: Sequence[T]) -> None:
        """Hook: rows were just added to the end (inside the insert notification)."""

    def page_failed(self, generation: int) -> None:
        """The next page could not be read: scrolling to the end asks again."""
        if generation == self._generation:
            self._fetching = False

    def column_index(self, title: str) -> int:
        return next(i for i, column in enumerate(self.columns) if column.title == title)

    def refresh(self, first: int = 0, last: int | None = None) -> None:
        """Tell the views rows `first`..`last` (default: to the end) changed in place."""
        last = self.rowCount() - 1 if last is None else last
        if self.rowCount() and self.columnCount() and first <= last:
            self.dataChanged.emit(self.index(first, 0), self.index(last, self.columnCount() - 1))

    # Hooks -------------------------------------------------------------------------------

    def foreground(self, row: T) -> str | None:
        return None

    def background(self, row: T) -> str | None:
        return None

    def cell_foreground(self, row: T, column: int) -> str | None:
        return self.foreground(row)

    def cell_background(self, row: T, column: int) -> str | None:
        return self.background(row)

    def cell_tooltip(self, row: T, column: int) -> str | None:
        spec = self.columns[column]
        return spec.tooltip(row) if spec.tooltip is not None else spec.text(row)

    def cell_editable(self, row: T, column: int) -> bool:
        return False

    def set_cell(self, position: int, column: int, value: Any) -> bool:
        """Apply an edit of row `position`; False refuses it (the view keeps the old value)."""
        return False

    # Qt ----------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        if not 0 <= index.column() < len(self.columns):
            return None
        row = self._rows[index.row()]
        column = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(row)
        if role == RawRole:
            return column.raw(row)
        if role == RecordRole:
            return row
        if role == Qt.ItemDataRole.EditRole:
            return column.edit(row) if column.edit is not None else column.raw(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.cell_tooltip(row, index.column())
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return column.align
        if role == Qt.ItemDataRole.ForegroundRole:
            colour = self.cell_foreground(row, index.column())
            return QBrush(QColor(colour)) if colour else None
        if role == Qt.ItemDataRole.BackgroundRole:
            colour = self.cell_background(row, index.column())
            return QBrush(QColor(colour)) if colour else None
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        row = self.row_at(index.row()) if index.isValid() else None
        if row is not None and self.cell_editable(row, index.column()):
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        row = self.row_at(index.row())
        if row is None or not self.cell_editable(row, index.column()):
            return False
        return self.set_cell(index.row(), index.column(), value)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(self.columns)
        ):
            return self.columns[section].title
        return None
