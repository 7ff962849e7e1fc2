"""The Inventory tab's side panel: the staged changes as a diff, undo/redo, push; and history.

Each staging action (inline edit, bulk edit, import) is one `StagedCommand` on a QUndoStack;
undoing it puts the staged state back as it was (through the tab's serial write queue, never
on the GUI thread). The stack is cleared once a push has committed the changes: a pushed
change is not undone by Ctrl+Z but by a new edit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from dsco_desktop.services.inventory_sync import ReviewSummary, StagedChange
from dsco_desktop.store.inventory import HistoryEntry
from dsco_desktop.ui import layout
from dsco_desktop.ui.inventory_model import RawRole, ReviewModel

_Index = QModelIndex | QPersistentModelIndex

SOURCE_LABELS = {
    "edit": "Edited",
    "bulk": "Bulk edit",
    "import": "Imported",
    "undo": "Undone",
    "redo": "Redone",
    "discard": "Discarded",
    "push": "Sent",
    "dsco": "DSCO",
}


class StagedCommand(QUndoCommand):
    """One staging action; its first redo is the staging itself, already done."""

    def __init__(
        self,
        change: StagedChange,
        run: Callable[[StagedChange, bool], None],
    ) -> None:
        super().__init__(change.description)
        self.change = change
        self._run = run
        self._first = True

    def redo(self) -> None:
        if self._first:
            self._first = False
            return
        self._run(self.change, True)

    def undo(self) -> None:
        self._run(self.change, False)


class ReviewPanel(QWidget):
    """Staged changes (diff), undo/redo/discard/push buttons."""

    push_requested = Signal()
    discard_requested = Signal()
    line_activated = Signal(str)  # sku

    def __init__(self, stack: QUndoStack, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.stack = stack
        self.summary = QLabel("No staged changes.")
        self.summary.setWordWrap(True)
        self.summary.setObjectName("reviewSummary")
        self.model = ReviewModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        _compact(self.table)
        self.table.doubleClicked.connect(self._activated)

        self.undo_button = QPushButton("Undo")
        self.redo_button = QPushButton("Redo")
        self.discard_button = QPushButton("Discard all")
        self.push_button = QPushButton("Push to DSCO…")
        self.push_button.setDefault(True)
        self.undo_button.clicked.connect(stack.undo)
        self.redo_button.clicked.connect(stack.redo)
        self.discard_button.clicked.connect(self.discard_requested.emit)
        self.push_button.clicked.connect(self.push_requested.emit)
        stack.canUndoChanged.connect(self.undo_button.setEnabled)
        stack.canRedoChanged.connect(self.redo_button.setEnabled)
        stack.undoTextChanged.connect(lambda t: self.undo_button.setToolTip(f"Undo: {t}"))
        stack.redoTextChanged.connect(lambda t: self.redo_button.setToolTip(f"Redo: {t}"))
        self.undo_button.setEnabled(False)
        self.redo_button.setEnabled(False)
        self.discard_button.setEnabled(False)

        buttons = QHBoxLayout()
        buttons.setSpacing(layout.INLINE_SPACING)
        for button in (self.undo_button, self.redo_button, self.discard_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.push_button)

        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(layout.FORM_SPACING)
        box.addWidget(self.summary)
        box.addWidget(self.table, 1)
        box.addLayout(buttons)

    def show_review(self, review: ReviewSummary) -> None:
        self.summary.setText(review.text)
        self.model.set_lines(review.lines)
        self.discard_button.setEnabled(bool(review.lines))

    def _activated(self, index: object) -> None:
        key = self.model.key_at(self.table.currentIndex().row())
        if key is not None:
            self.line_activated.emit(key[0])


class HistoryModel(QAbstractTableModel):
    """History entries of one SKU, newest first."""

    HEADERS = ("When (UTC)", "Warehouse", "What", "Change", "Before", "After", "Note")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._entries: list[HistoryEntry] = []

    def set_entries(self, entries: Sequence[HistoryEntry]) -> None:
        self.beginResetModel()
        self._entries = list(entries)
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._entries)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.HEADERS):
            return self.HEADERS[section]
        return None

    def cells(self, row: int) -> tuple[str, ...]:
        e = self._entries[row]
        return (
            e.at[:19].replace("T", " "),
            e.warehouse_code,
            SOURCE_LABELS.get(e.source, e.source),
            e.field,
            e.before or "",
            e.after or "",
            e.note or "",
        )

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._entries):
            return None
        if role == RawRole:
            return self._entries[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self.cells(index.row())[index.column()]
        return None


class HistoryPanel(QWidget):
    """One SKU's history: every edit and every DSCO answer with before and after."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("Select a row to see its history.")
        self.title.setWordWrap(True)
        self.model = HistoryModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        _compact(self.table)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(layout.FORM_SPACING)
        box.addWidget(self.title)
        box.addWidget(self.table, 1)

    @property
    def rows(self) -> list[tuple[str, ...]]:
        return [self.model.cells(r) for r in range(self.model.rowCount())]

    def show_history(self, sku: str, entries: Sequence[HistoryEntry]) -> None:
        self.title.setText(f"History of {sku}: {len(entries):,} entries, newest first.")
        self.model.set_entries(entries)


class SidePanel(QTabWidget):
    """Review and History, side by side with the table."""

    def __init__(self, stack: QUndoStack, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.review = ReviewPanel(stack)
        self.history = HistoryPanel()
        self.addTab(_padded(self.review), "Review")
        self.addTab(_padded(self.history), "History")
        self.setMinimumWidth(layout.INVENTORY_PANEL_MIN_WIDTH)


def _compact(table: QTableView) -> None:
    """One text line per row, columns fitted to their contents, the last one filling."""
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(
        table.fontMetrics().height() + layout.INLINE_SPACING
    )
    table.setWordWrap(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)


def _padded(widget: QWidget) -> QWidget:
    page = QWidget()
    box = QVBoxLayout(page)
    box.setContentsMargins(
        layout.FORM_SPACING, layout.FORM_SPACING, layout.FORM_SPACING, layout.FORM_SPACING
    )
    box.addWidget(widget)
    return page
