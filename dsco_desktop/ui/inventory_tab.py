"""The Inventory tab: SKU x warehouse quantities, staged edits, review, push, import, export.

The table shows on hand, allocated to open orders, safety buffer, available to sell, DSCO's
status and when DSCO last confirmed each level; the store filters and sorts (search, low
stock, out of stock, staged, errors), the model reads only the rows on screen. Inline edits,
bulk edits of a selection and imported sheets are staged (highlighted, listed in the review
panel, undoable) and only a push sends them: it pulls the order stream first, warns when DSCO
may hold orders the app has not pulled, asks before delisting, and shows each SKU's outcome.
An optional scheduled sync pushes every changed quantity every N minutes.

Every store read and write runs through the job helper, one at a time in the order asked
(`_serial`), so a refresh always sees the edit before it; the GUI thread only reads the few
rows on screen by id.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from dsco_desktop.domain.inventory import (
    BulkOperation,
    LevelValues,
    bulk_value_problem,
    import_fields,
)
from dsco_desktop.domain.settings import AppSettings
from dsco_desktop.errors import UserFacingError
from dsco_desktop.services.catalog_import import SheetPreview
from dsco_desktop.services.inventory_sync import (
    InventoryEditor,
    InventoryImport,
    InventorySync,
    PushPlan,
    PushReport,
    ReviewSummary,
    StagedChange,
)
from dsco_desktop.spreadsheets.mapping import IGNORE, ColumnMapping
from dsco_desktop.spreadsheets.reader import column_letter
from dsco_desktop.store.db import Database
from dsco_desktop.store.inventory import InventoryCounts, InventoryFilter, Key
from dsco_desktop.ui import layout
from dsco_desktop.ui.catalog_models import SheetRowsModel
from dsco_desktop.ui.inventory_model import InventoryTableModel
from dsco_desktop.ui.inventory_review import SidePanel, StagedCommand
from dsco_desktop.ui.jobs import JobContext, JobRunner
from dsco_desktop.ui.widgets import encoding_combo, error_text, show_encoding

log = logging.getLogger(__name__)

FILE_FILTER = "Spreadsheets (*.xlsx *.xlsm *.xls *.ods *.csv *.tsv *.txt);;All files (*)"
SEARCH_DELAY_MS = 250

ClientProvider = Callable[[], Any]
SettingsProvider = Callable[[], AppSettings]


_Queued = tuple[
    str,
    Callable[[JobContext], Any],
    Callable[[Any], None],
    Callable[[BaseException], None] | None,
]


@dataclass(frozen=True)
class _Loaded:
    ids: list[int]
    counts: InventoryCounts
    review: ReviewSummary
    warehouses: list[str]


class BulkEditDialog(QDialog):
    """Choose a bulk operation and its value; the error shows under the field."""

    def __init__(self, rows: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Bulk edit")
        self.setMinimumWidth(layout.DIALOG_MIN_WIDTH)
        self.operation = QComboBox()
        for op in BulkOperation:
            self.operation.addItem(op.label, op)
        self.value = QDoubleSpinBox()
        self.value.setRange(-100_000, 10_000_000)
        self.value.setDecimals(0)
        self.error = QLabel()
        self.error.setStyleSheet(f"color: {layout.ERROR_COLOR};")
        self.error.setWordWrap(True)
        self.error.hide()
        self.operation.currentIndexChanged.connect(self._changed)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.setSpacing(layout.FORM_SPACING)
        form.addRow(QLabel(f"Change {rows:,} selected row{'s' if rows != 1 else ''}:"))
        form.addRow("Operation", self.operation)
        form.addRow("Value", self.value)
        form.addRow("", self.error)
        box = QVBoxLayout(self)
        box.setContentsMargins(*(layout.DIALOG_MARGIN,) * 4)
        box.addLayout(form)
        box.addWidget(buttons)
        self._changed()

    @property
    def chosen(self) -> tuple[BulkOperation, float | None]:
        op = BulkOperation(self.operation.currentData())
        return op, (self.value.value() if op.needs_value else None)

    def _changed(self) -> None:
        op = BulkOperation(self.operation.currentData())
        self.value.setEnabled(op.needs_value)
        self.value.setSuffix(" %" if op is BulkOperation.PERCENT else "")
        self.error.hide()

    def _accept(self) -> None:
        op, value = self.chosen
        problem = bulk_value_problem(op, value)
        if problem:
            self.error.setText(problem)
            self.error.show()
            return
        self.accept()


class InventoryImportDialog(QDialog):
    """An inventory sheet: its first rows, each column's meaning, then every problem."""

    def __init__(
        self,
        preview: SheetPreview,
        warehouses: list[str],
        check: Callable[[ColumnMapping], None],
        parent: QWidget | None = None,
        reopen: Callable[[str | None], None] | None = None,
    ) -> None:
        """`reopen(encoding)` reads a CSV file again with another text encoding."""
        super().__init__(parent)
        self.setWindowTitle(f"Import inventory from {preview.info.path.name}")
        self.resize(*layout.BATCH_DIALOG_SIZE)
        self.preview = preview
        self._check = check
        self.checked: InventoryImport | None = None
        fields = import_fields(warehouses)
        self.sheet = SheetRowsModel(self)
        self.sheet.set_rows(preview.rows, preview.header_row)
        sheet_view = QTableView()
        sheet_view.setModel(self.sheet)
        sheet_view.setMaximumHeight(180)
        self.combos: list[QComboBox] = []
        grid_host = QWidget()
        grid = QGridLayout(grid_host)
        grid.setHorizontalSpacing(layout.SECTION_SPACING)
        grid.setVerticalSpacing(layout.FORM_SPACING)
        for column, title in enumerate(preview.headers):
            combo = QComboBox()
            combo.addItem("(ignore)", IGNORE)
            for fd in fields:
                combo.addItem(fd.label, fd.name)
            target = (
                preview.mapping.targets[column] if column < len(preview.mapping.targets) else ""
            )
            combo.setCurrentIndex(max(0, combo.findData(target)))
            combo.currentIndexChanged.connect(self._mapping_changed)
            label = QLabel(f"{column_letter(column)}: {title or '(no header)'}")
            grid.addWidget(label, column // 3, (column % 3) * 2)
            grid.addWidget(combo, column // 3, (column % 3) * 2 + 1)
            self.combos.append(combo)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(grid_host)
        scroll.setMaximumHeight(150)
        # Tall enough for every row of columns (up to the maximum), with room for a scroll bar.
        frame = 2 * scroll.frameWidth() + scroll.horizontalScrollBar().sizeHint().height()
        scroll.setMinimumHeight(min(150, grid_host.sizeHint().height() + frame))
        self.summary = QLabel(
            "Check the columns, then press Check to read every row. Nothing changes before "
            "you stage the result."
        )
        self.summary.setWordWrap(True)
        self.problems = QTableView()
        self.problems.verticalHeader().setVisible(False)
        self.problems_model = _ProblemsModel(self)
        self.problems.setModel(self.problems_model)
        self.problems.horizontalHeader().setStretchLastSection(True)
        self.check_button = QPushButton("Check")
        self.check_button.clicked.connect(self._run_check)
        self.stage_button = QPushButton("Stage changes")
        self.stage_button.setEnabled(False)
        self.stage_button.clicked.connect(self.accept)
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.check_button, self.stage_button, cancel):
            buttons.addWidget(b)
        box = QVBoxLayout(self)
        box.setContentsMargins(*(layout.DIALOG_MARGIN,) * 4)
        box.setSpacing(layout.SECTION_SPACING)
        if preview.notice:
            notice = QLabel(preview.notice)
            notice.setWordWrap(True)
            box.addWidget(notice)
        # CSV/TSV only: read the file again with another text encoding.
        self.encoding = encoding_combo()
        encoding_row = QWidget()
        row = QHBoxLayout(encoding_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Text encoding:"))
        row.addWidget(self.encoding)
        row.addStretch(1)
        box.addWidget(encoding_row)
        encoding_row.setVisible(preview.info.is_text and reopen is not None)
        if reopen is not None:
            show_encoding(self.encoding, preview.info)
            self.encoding.activated.connect(lambda _i: reopen(self.encoding.currentData()))
        box.addWidget(
            QLabel(f"<b>Sheet {preview.sheet}</b>, header on row {preview.header_row + 1}:")
        )
        box.addWidget(sheet_view)
        box.addWidget(QLabel("<b>Columns</b>"))
        box.addWidget(scroll)
        box.addWidget(self.summary)
        box.addWidget(self.problems, 1)
        box.addLayout(buttons)

    @property
    def mapping(self) -> ColumnMapping:
        targets = tuple(str(c.currentData() or "") for c in self.combos)
        return ColumnMapping(self.preview.headers, targets)

    def _mapping_changed(self) -> None:
        self.checked = None
        self.stage_button.setEnabled(False)

    def _run_check(self) -> None:
        self.check_button.setEnabled(False)
        self.summary.setText("Reading every row…")
        self._check(self.mapping)

    def show_result(self, checked: InventoryImport) -> None:
        self.check_button.setEnabled(True)
        self.checked = checked
        self.summary.setStyleSheet("")
        self.summary.setText(checked.summary)
        self.problems_model.set_problems(checked)
        self.stage_button.setEnabled(bool(checked.levels))

    def show_error(self, text: str) -> None:
        self.check_button.setEnabled(True)
        self.summary.setStyleSheet(f"color: {layout.ERROR_COLOR};")
        self.summary.setText(text)


class _ProblemsModel(SheetRowsModel):
    """Rows with problems: row number, SKU, and what is wrong where."""

    def set_problems(self, checked: InventoryImport) -> None:
        rows = [["Row", "SKU", "Problem"]] + [
            [
                p.number,
                p.sku or "",
                ("Error: " if p.has_error else "Warning: ") + p.text(checked.mapping),
            ]
            for p in checked.problems
        ]
        self.set_rows(rows, 0)


class InventoryTab(QWidget):
    """The Inventory tab."""

    message = Signal(str)
    loaded = Signal()  # the table shows fresh ids (tests wait on it)
    pushed = Signal(object)  # PushReport

    def __init__(
        self,
        db: Database,
        jobs: JobRunner,
        *,
        client_provider: ClientProvider,
        deliver: Callable[[], object],
        settings: SettingsProvider = AppSettings,
        sync_factory: Callable[[Any], InventorySync] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._db = db
        self.import_dialog: InventoryImportDialog | None = None
        self._jobs = jobs
        self._client = client_provider
        self._deliver = deliver
        self._settings = settings
        self._sync_factory = sync_factory
        self._queue: deque[_Queued] = deque()
        self._busy = False
        self._reload_queued = False
        self._reload_again = False
        self._sort = ("sku", False)
        self.warehouses: list[str] = []
        self.counts = InventoryCounts()
        self.last_report: PushReport | None = None
        self._pushing = False
        # The GUI thread reads the rows on screen by id (primary-key lookups).
        self._reader = InventoryEditor(db)

        self.stack = QUndoStack(self)
        self.model = InventoryTableModel(self._reader.repo.rows_by_id, self)
        self.model.sort_requested.connect(self._sort_requested)
        self.model.edit_requested.connect(self.stage_edit)

        self.search = QLineEdit()
        self.search.setPlaceholderText("Search SKU or warehouse")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(layout.SEARCH_FIELD_MIN_WIDTH)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.refresh)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.low_stock = QCheckBox("Low stock")
        self.out_of_stock = QCheckBox("Out of stock")
        self.pending_only = QCheckBox("Staged changes")
        self.errors_only = QCheckBox("Errors")
        for check in (self.low_stock, self.out_of_stock, self.pending_only, self.errors_only):
            check.toggled.connect(self.refresh)

        self.bulk_button = QPushButton("Bulk edit…")
        self.bulk_button.clicked.connect(self.open_bulk_edit)
        self.import_button = QPushButton("Import…")
        self.import_button.clicked.connect(self._choose_import)
        self.export_button = QPushButton("Export…")
        self.export_button.clicked.connect(self._choose_export)
        self.fetch_button = QPushButton("Get from DSCO")
        self.fetch_button.setToolTip(
            "Read DSCO's quantities of the selected SKUs (all SKUs when nothing is selected)."
        )
        self.fetch_button.clicked.connect(self.fetch_from_dsco)

        self.table = QTableView()
        self.table.setModel(self.model)
        # Indicator first: enabling sorting sorts by it at once (Qt's default is descending).
        self.table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        self.table.verticalHeader().setDefaultSectionSize(
            self.table.fontMetrics().height() + layout.INLINE_SPACING
        )
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        for column, width in enumerate(layout.INVENTORY_COLUMN_WIDTHS):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            self.table.setColumnWidth(column, width)
        header.setStretchLastSection(True)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)

        self.side = SidePanel(self.stack)
        self.review = self.side.review
        self.review.push_requested.connect(self.start_push)
        self.review.discard_requested.connect(self.discard_all)
        self.review.line_activated.connect(self.show_history)

        self.summary = QLabel("")
        self.summary.setObjectName("inventorySummary")

        filters = QHBoxLayout()
        filters.setSpacing(layout.INLINE_SPACING)
        filters.addWidget(self.search)
        for check in (self.low_stock, self.out_of_stock, self.pending_only, self.errors_only):
            filters.addWidget(check)
        filters.addStretch(1)
        for button in (self.bulk_button, self.import_button, self.export_button, self.fetch_button):
            filters.addWidget(button)

        left = QWidget()
        left_box = QVBoxLayout(left)
        left_box.setContentsMargins(0, 0, 0, 0)
        left_box.setSpacing(layout.FORM_SPACING)
        left_box.addLayout(filters)
        left_box.addWidget(self.table, 1)
        left_box.addWidget(self.summary)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.side)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        self.splitter = splitter

        box = QVBoxLayout(self)
        box.setContentsMargins(*(layout.PAGE_MARGIN,) * 4)
        box.addWidget(splitter)

        undo = QShortcut(QKeySequence.StandardKey.Undo, self)
        undo.activated.connect(self.stack.undo)
        redo = QShortcut(QKeySequence.StandardKey.Redo, self)
        redo.activated.connect(self.stack.redo)

        self._sync_timer = QTimer(self)
        self._sync_timer.timeout.connect(self.scheduled_sync)
        self.apply_settings()

    # -- settings ----------------------------------------------------------------------------

    def apply_settings(self) -> None:
        """Low stock threshold and the scheduled sync interval from the settings."""
        settings = self._settings()
        self.model.low_stock_at = settings.low_stock_threshold
        self.low_stock.setToolTip(
            f"Available at or below {settings.low_stock_threshold} (Settings: low stock threshold)."
        )
        minutes = settings.inventory_sync_minutes
        if minutes > 0:
            self._sync_timer.start(int(minutes * 60_000))
        else:
            self._sync_timer.stop()

    # -- the serial queue --------------------------------------------------------------------

    def _run(
        self,
        name: str,
        work: Callable[[JobContext], Any],
        done: Callable[[Any], None] = lambda _r: None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Run store work in the background, one job at a time, in the order asked."""
        self._queue.append((name, work, done, on_error))
        self._next()

    def _next(self) -> None:
        if self._busy or not self._queue or self._jobs.closed:
            return
        name, work, done, on_error = self._queue.popleft()
        self._busy = True

        def finished_ok(result: Any) -> None:
            self._busy = False
            try:
                done(result)
            finally:
                self._next()

        def failed(exc: BaseException) -> None:
            self._busy = False
            self.message.emit(error_text(exc))
            if not isinstance(exc, UserFacingError):
                log.error("Inventory job %s failed", name, exc_info=exc)
            try:
                if on_error is not None:
                    on_error(exc)
            finally:
                self._next()

        self._jobs.submit(work, name=name, on_success=finished_ok, on_error=failed)

    @property
    def idle(self) -> bool:
        """No store work queued or running (tests wait on it)."""
        return not self._busy and not self._queue and not self._reload_queued

    # -- loading -----------------------------------------------------------------------------

    def current_filter(self) -> InventoryFilter:
        threshold = self._settings().low_stock_threshold
        return InventoryFilter(
            text=self.search.text(),
            low_stock_at=threshold if self.low_stock.isChecked() else None,
            out_of_stock=self.out_of_stock.isChecked(),
            pending=self.pending_only.isChecked(),
            errors=self.errors_only.isChecked(),
        )

    def refresh(self) -> None:
        """Reload ids, counts and the review; asked again while one runs, it runs once more."""
        if self._reload_queued:
            self._reload_again = True
            return
        self._reload_queued = True
        db, sort, flt = self._db, self._sort, self.current_filter()
        threshold = self._settings().low_stock_threshold

        def work(_ctx: JobContext) -> _Loaded:
            editor = InventoryEditor(db)
            return _Loaded(
                editor.repo.ids(flt, sort=sort[0], descending=sort[1]),
                editor.repo.counts(threshold),
                editor.review(),
                editor.repo.warehouse_codes(),
            )

        def settle() -> None:
            self._reload_queued = False
            if self._reload_again:
                self._reload_again = False
                self.refresh()

        def done(loaded: _Loaded) -> None:
            self._show(loaded)
            settle()

        self._run("inventory reload", work, done, lambda _exc: settle())

    def _show(self, loaded: _Loaded) -> None:
        selected = self._selected_ids()
        current = self.model.id_at(self.table.currentIndex().row())
        self.model.set_ids(loaded.ids)
        self.counts = loaded.counts
        self.warehouses = loaded.warehouses
        self.review.show_review(loaded.review)
        c = loaded.counts
        shown = len(loaded.ids)
        self.summary.setText(
            f"{shown:,} of {c.levels:,} rows ({c.skus:,} SKUs) · {c.pending:,} staged · "
            f"{c.low_stock:,} low stock · {c.out_of_stock:,} out of stock · {c.errors:,} errors"
        )
        self._reselect(selected, current)
        self.loaded.emit()

    def _reselect(self, ids: list[int], current: int | None) -> None:
        if not ids and current is None:
            return
        position = {row_id: row for row, row_id in enumerate(self.model.ids)}
        selection = self.table.selectionModel()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        for row_id in ids:
            row = position.get(row_id)
            if row is not None:
                selection.select(self.model.index(row, 0), flags)
        if current is not None and current in position:
            selection.setCurrentIndex(
                self.model.index(position[current], 0), QItemSelectionModel.SelectionFlag.NoUpdate
            )

    def _sort_requested(self, column: str, descending: bool) -> None:
        self._sort = (column, descending)
        self.refresh()

    def _selected_ids(self) -> list[int]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [row_id for r in rows if (row_id := self.model.id_at(r)) is not None]

    # -- staging -----------------------------------------------------------------------------

    def _staged(self, change: StagedChange) -> None:
        if change.size:
            self.stack.push(StagedCommand(change, self._replay))
            self.message.emit(f"Staged: {change.description}. Push to send it to DSCO.")
        self.refresh()

    def _replay(self, change: StagedChange, forward: bool) -> None:
        db = self._db

        def work(_ctx: JobContext) -> None:
            editor = InventoryEditor(db)
            if forward:
                editor.redo(change)
            else:
                editor.undo(change)

        self._run("inventory undo" if not forward else "inventory redo", work)
        self.refresh()

    def stage_edit(self, key: Key, values: LevelValues) -> None:
        """An inline edit of one cell."""
        db = self._db

        def work(_ctx: JobContext) -> StagedChange:
            return InventoryEditor(db).stage(
                {key: values}, description=f"Edit {key[0]} in {key[1]}"
            )

        self._run("inventory edit", work, self._staged)

    def bulk_edit(self, op: BulkOperation, value: float | None) -> None:
        """Apply a bulk operation to the selected rows."""
        ids = self._selected_ids()
        if not ids:
            self.message.emit("Select the rows to change first.")
            return
        db = self._db

        def work(_ctx: JobContext) -> StagedChange:
            editor = InventoryEditor(db)
            keys = [row.key for row in editor.repo.rows_by_id(ids).values()]
            return editor.stage_bulk(keys, op, value)

        self._run("inventory bulk edit", work, self._staged)

    def open_bulk_edit(self) -> BulkEditDialog | None:
        ids = self._selected_ids()
        if not ids:
            self.message.emit("Select the rows to change first (Ctrl+A selects all shown).")
            return None
        dialog = BulkEditDialog(len(ids), self)
        dialog.accepted.connect(lambda: self.bulk_edit(*dialog.chosen))
        dialog.open()
        return dialog

    def discard_all(self) -> None:
        db = self._db

        def work(_ctx: JobContext) -> int:
            return InventoryEditor(db).discard_all()

        def done(count: int) -> None:
            self.stack.clear()
            self.message.emit(f"Discarded {count:,} staged changes.")
            self.refresh()

        self._run("inventory discard", work, done)

    # -- history -----------------------------------------------------------------------------

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        row = self.model.row_at(current.row()) if current.isValid() else None
        if row is not None:
            self.show_history(row.sku)

    def show_history(self, sku: str) -> None:
        db = self._db

        def work(_ctx: JobContext) -> Any:
            return InventoryEditor(db).history(sku)

        self._run(
            "inventory history", work, lambda entries: self.side.history.show_history(sku, entries)
        )

    # -- pushing -----------------------------------------------------------------------------

    def _sync(self) -> InventorySync:
        client = self._client()
        if client is None:
            raise UserFacingError("Connect to DSCO first (File > Account).")
        if self._sync_factory is not None:
            return self._sync_factory(client)
        return InventorySync(self._db, client, deliver=self._deliver)

    def start_push(self) -> None:
        """Pull orders and plan, ask for confirmation, then push."""
        if self._pushing:
            return
        self._pushing = True
        self.review.push_button.setEnabled(False)
        self.message.emit("Pulling new orders from DSCO before pushing…")

        def work(_ctx: JobContext) -> PushPlan:
            return self._sync().plan(all_changed=True)

        def failed(exc: BaseException) -> None:
            self._push_done()
            self.message.emit(error_text(exc))

        self._jobs.submit(
            work, name="inventory push plan", on_success=self._confirm_push, on_error=failed
        )

    def _confirm_push(self, plan: PushPlan) -> None:
        self.refresh()
        if not plan.skus:
            self._push_done()
            self.message.emit(plan.text)
            return
        box = QMessageBox(self)
        box.setWindowTitle("Push inventory to DSCO")
        box.setIcon(
            QMessageBox.Icon.Warning
            if plan.pull.warning or plan.delist_skus
            else QMessageBox.Icon.Question
        )
        text = plan.text
        if plan.pull.warning:
            text += "\n\n" + plan.pull.warning
        if plan.delist_skus:
            shown = ", ".join(plan.delist_skus[:8])
            more = len(plan.delist_skus) - 8
            text += f"\n\nDelisted (0 available or discontinued): {shown}" + (
                f" and {more:,} more" if more > 0 else ""
            )
        box.setText(text)
        box.setStandardButtons(QMessageBox.StandardButton.Cancel)
        send = box.addButton(
            "Send anyway" if plan.pull.warning else "Send", QMessageBox.ButtonRole.AcceptRole
        )
        box.setDefaultButton(QMessageBox.StandardButton.Cancel if plan.pull.warning else send)
        self.confirm_box = box

        def answered(_result: int) -> None:
            if box.clickedButton() is send:
                self.push(confirm_delisting=True, allow_unpulled=bool(plan.pull.warning))
            else:
                self._push_done()
                self.message.emit("Push cancelled; your staged changes are kept.")

        box.finished.connect(answered)
        box.open()

    def push(self, *, confirm_delisting: bool, allow_unpulled: bool) -> None:
        self._pushing = True
        self.message.emit("Sending available quantities to DSCO…")

        def work(ctx: JobContext) -> PushReport:
            return self._sync().push(
                confirm_delisting=confirm_delisting,
                allow_unpulled=allow_unpulled,
                progress=ctx.progress,
                should_stop=lambda: ctx.cancelled,
            )

        def done(report: PushReport) -> None:
            self._push_done()
            self.stack.clear()
            self.last_report = report
            self.message.emit(report.text)
            self.pushed.emit(report)
            self.refresh()

        def failed(exc: BaseException) -> None:
            self._push_done()
            self.message.emit(error_text(exc))
            self.refresh()

        self._jobs.submit(
            work,
            name="inventory push",
            on_success=done,
            on_error=failed,
            on_progress=lambda _d, _t, text: self.message.emit(text),
        )

    def _push_done(self) -> None:
        self._pushing = False
        self.review.push_button.setEnabled(True)

    def scheduled_sync(self) -> None:
        """Push every changed quantity; staged delistings wait for a confirmed push."""
        if self._pushing or self._client() is None:
            return
        self._pushing = True

        def work(ctx: JobContext) -> PushReport:
            return self._sync().push(hold_back_delistings=True, should_stop=lambda: ctx.cancelled)

        def done(report: PushReport) -> None:
            self._push_done()
            if report.skus or report.held_back:
                self.stack.clear()
                self.message.emit("Scheduled inventory sync: " + report.text)
            self.refresh()

        def failed(exc: BaseException) -> None:
            self._push_done()
            self.message.emit("Scheduled inventory sync did not run: " + error_text(exc))

        self._jobs.submit(work, name="inventory scheduled sync", on_success=done, on_error=failed)

    def fetch_from_dsco(self) -> None:
        """Read DSCO's quantities for the selected SKUs (or every known SKU)."""
        ids = self._selected_ids()
        db = self._db

        def work(ctx: JobContext) -> int:
            editor = InventoryEditor(db)
            if ids:
                skus = sorted({row.sku for row in editor.repo.rows_by_id(ids).values()})
            else:
                skus = editor.repo.all_skus()
            return self._sync().refresh_from_dsco(
                skus, progress=ctx.progress, should_stop=lambda: ctx.cancelled
            )

        def done(count: int) -> None:
            self.message.emit(f"Read {count:,} warehouse quantities from DSCO.")
            self.refresh()

        self._jobs.submit(
            work,
            name="inventory from DSCO",
            on_success=done,
            on_error=lambda exc: self.message.emit(error_text(exc)),
            on_progress=lambda _d, _t, text: self.message.emit(text),
        )

    # -- import and export -------------------------------------------------------------------

    def _choose_import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import inventory", "", FILE_FILTER)
        if path:
            self.open_import(Path(path))

    def open_import(self, path: Path, encoding: str | None = None) -> None:
        """Preview an inventory sheet in the import dialog (`encoding`: for a CSV file, the
        text encoding the user chose; None: detected)."""
        db = self._db
        warehouses = self._known_warehouses()

        def work(_ctx: JobContext) -> SheetPreview:
            return InventoryEditor(db).preview_import(path, warehouses, encoding=encoding)

        def done(preview: SheetPreview) -> None:
            if self.import_dialog is not None:
                self.import_dialog.close()  # the same file, read with another encoding
            self.import_dialog = InventoryImportDialog(
                preview,
                warehouses,
                lambda mapping: self._check_import(preview, mapping),
                self,
                reopen=lambda chosen: self.open_import(path, chosen),
            )
            self.import_dialog.accepted.connect(self._stage_import)
            self.import_dialog.open()

        self._jobs.submit(
            work,
            name="inventory import preview",
            on_success=done,
            on_error=lambda exc: self.message.emit(error_text(exc)),
        )

    def _known_warehouses(self) -> list[str]:
        codes = set(self.warehouses)
        default = self._settings().default_warehouse_code
        if default:
            codes.add(default)
        return sorted(codes)

    def _check_import(self, preview: SheetPreview, mapping: ColumnMapping) -> None:
        db = self._db
        warehouses = self._known_warehouses()
        default = self._settings().default_warehouse_code

        def work(ctx: JobContext) -> InventoryImport:
            return InventoryEditor(db).validate_import(
                preview,
                warehouses,
                mapping,
                default_warehouse=default,
                progress=ctx.progress,
                should_stop=lambda: ctx.cancelled,
            )

        dialog = self.import_dialog
        assert dialog is not None  # the check is asked for by the dialog
        self._jobs.submit(
            work,
            name="inventory import check",
            on_success=dialog.show_result,
            on_error=lambda exc: dialog.show_error(error_text(exc)),
        )

    def _stage_import(self) -> None:
        checked = self.import_dialog.checked if self.import_dialog is not None else None
        if checked is None:
            return
        db = self._db

        def work(_ctx: JobContext) -> StagedChange:
            return InventoryEditor(db).stage_import(checked)

        self._run("inventory import", work, self._staged)

    def _choose_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export inventory", "inventory.xlsx", "Excel (*.xlsx);;CSV (*.csv)"
        )
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> None:
        db = self._db
        flt = self.current_filter()

        def work(_ctx: JobContext) -> int:
            return InventoryEditor(db).export_table(path, flt)

        self._jobs.submit(
            work,
            name="inventory export",
            on_success=lambda n: self.message.emit(f"Exported {n:,} rows to {path.name}."),
            on_error=lambda exc: self.message.emit(error_text(exc)),
        )
