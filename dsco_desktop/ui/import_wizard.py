"""The catalog import wizard: file -> columns -> every problem -> confirmed push -> results.

1. File: pick or drop a spreadsheet, choose the sheet and the header row (found automatically).
2. Columns: each sheet column's DSCO field, guessed from names, synonyms and earlier choices;
   unknown columns can go to extended attributes or be ignored; profiles can be saved.
3. Check: every row validated and compared with the stored catalog: counts of new / changed /
   unchanged / invalid rows, problems first, bad cells red with the message on hover; editing a
   cell re-validates it at once. The page's button sends, and nothing is sent before it.
4. Send: batches go out with a progress bar and Cancel; then each SKU's outcome from DSCO.

All reading, validation and sending run through the job helper; the GUI thread only shows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from dsco_desktop.domain.catalog import CATALOG_FIELDS, cell_text
from dsco_desktop.errors import UserFacingError
from dsco_desktop.services.catalog_import import (
    CatalogImportService,
    ImportMode,
    ImportSummary,
    SheetPreview,
    direct_delivery,
)
from dsco_desktop.spreadsheets.mapping import (
    EXTENDED_PREFIX,
    IGNORE,
    ColumnMapping,
    extended_target,
    mapping_problems,
)
from dsco_desktop.spreadsheets.reader import SUPPORTED_SUFFIXES, WorkbookInfo
from dsco_desktop.store.catalog_imports import ImportRowRecord
from dsco_desktop.ui import layout
from dsco_desktop.ui.catalog_models import ImportRowsModel, SheetRowsModel
from dsco_desktop.ui.jobs import Job, JobContext, JobRunner
from dsco_desktop.ui.widgets import (
    EXPORT_FILTERS,
    ask_save_path,
    encoding_combo,
    error_text,
    show_encoding,
)

FILE_FILTER = "Spreadsheets (*.xlsx *.xlsm *.xls *.ods *.csv *.tsv *.txt);;All files (*)"
# (column titles, the first page of rows, the row numbers of the whole view in order)
_FirstPage = tuple[list[str], list[ImportRowRecord], list[int]]
SAMPLE_VALUES = 3
EXTENDED_CHOICE = "__extended__"

ClientProvider = Callable[[], Any]


def _label(text: str = "", *, wrap: bool = True) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _error_label() -> QLabel:
    label = _label()
    label.setStyleSheet(f"color: {layout.ERROR_COLOR};")
    label.hide()
    return label


def _show_error(label: QLabel, text: str | None) -> None:
    label.setText(text or "")
    label.setVisible(bool(text))


def _fit_columns(table: QTableView, widest: int = 320) -> None:
    """Columns as wide as their contents (capped), the last one filling the rest."""
    header = table.horizontalHeader()
    last = table.model().columnCount() - 1
    for column in range(last):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
    table.resizeColumnsToContents()
    for column in range(last):
        table.setColumnWidth(column, min(widest, table.columnWidth(column)))
    if last >= 0:
        header.setSectionResizeMode(last, QHeaderView.ResizeMode.Stretch)


def dropped_spreadsheet(event: QDragEnterEvent | QDropEvent) -> Path | None:
    """The first local spreadsheet file in a drag, if any."""
    mime = event.mimeData()
    if not mime.hasUrls():
        return None
    for url in mime.urls():
        if url.isLocalFile():
            path = Path(url.toLocalFile())
            if path.suffix.lower() in SUPPORTED_SUFFIXES:
                return path
    return None


class FilePage(QWizardPage):
    """Step 1: the file, its sheet and its header row."""

    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle("Choose a spreadsheet")
        self.setSubTitle(
            "An Excel workbook (.xlsx, .xlsm) or a CSV/TSV file. Drop it here or browse. "
            "The header row is found automatically; change it if needed."
        )
        self.setAcceptDrops(True)
        self.path_edit = QLineEdit()
        self.path_edit.setReadOnly(True)
        self.path_edit.setPlaceholderText("No file chosen")
        self.path_edit.setMinimumWidth(layout.FIELD_MIN_WIDTH)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.sheet_combo = QComboBox()
        self.sheet_combo.setMinimumWidth(180)
        self.sheet_combo.activated.connect(lambda _i: self._reload())
        self.header_spin = QSpinBox()
        self.header_spin.setRange(1, 50)
        self.header_spin.editingFinished.connect(self._header_changed)
        # CSV/TSV only: how the file's text is decoded (detected unless the user chooses).
        self.encoding_label = QLabel("Text encoding:")
        self.encoding_combo = encoding_combo()
        self.encoding_combo.activated.connect(lambda _i: self._encoding_changed())
        self.encoding_label.hide()
        self.encoding_combo.hide()
        self.notice = _label()
        self.notice.setStyleSheet(
            f"background: {layout.WARNING_BACKGROUND}; border: 1px solid {layout.WARNING_BORDER};"
            " padding: 4px;"
        )
        self.notice.hide()
        self.error = _error_label()
        self.rows_model = SheetRowsModel(self)
        self.table = QTableView()
        self.table.setModel(self.rows_model)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.clicked.connect(lambda index: self._set_header(index.row()))

        top = QHBoxLayout()
        top.setSpacing(layout.INLINE_SPACING)
        top.addWidget(QLabel("File:"))
        top.addWidget(self.path_edit, 1)
        top.addWidget(browse)
        options = QHBoxLayout()
        options.setSpacing(layout.INLINE_SPACING)
        options.addWidget(QLabel("Sheet:"))
        options.addWidget(self.sheet_combo)
        options.addSpacing(layout.SECTION_SPACING)
        options.addWidget(QLabel("Header row:"))
        options.addWidget(self.header_spin)
        options.addSpacing(layout.SECTION_SPACING)
        options.addWidget(self.encoding_label)
        options.addWidget(self.encoding_combo)
        options.addStretch(1)
        box = QVBoxLayout(self)
        box.setSpacing(layout.SECTION_SPACING)
        box.addLayout(top)
        box.addLayout(options)
        box.addWidget(self.notice)
        box.addWidget(self.error)
        box.addWidget(QLabel("First rows (click a row to make it the header):"))
        box.addWidget(self.table, 1)

    def isComplete(self) -> bool:
        return self._wizard.preview is not None and not self._wizard.loading

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_spreadsheet(event) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        path = dropped_spreadsheet(event)
        if path is not None:
            event.acceptProposedAction()
            self._wizard.load_file(path)

    def _browse(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Import a catalog spreadsheet", "", FILE_FILTER)
        if name:
            self._wizard.load_file(Path(name))

    def _reload(self) -> None:
        if self._wizard.path is not None:
            self._wizard.load_file(
                self._wizard.path,
                sheet=self.sheet_combo.currentText(),
                encoding=self._wizard.encoding,
            )

    def _encoding_changed(self) -> None:
        if self._wizard.path is not None:
            self._wizard.load_file(self._wizard.path, encoding=self.encoding_combo.currentData())

    def _header_changed(self) -> None:
        self._set_header(self.header_spin.value() - 1)

    def _set_header(self, row: int) -> None:
        preview = self._wizard.preview
        if preview is None or row == preview.header_row:
            return
        self._wizard.load_file(
            preview.info.path, sheet=preview.sheet, header_row=row, encoding=self._wizard.encoding
        )

    def _show_encoding(self, info: WorkbookInfo) -> None:
        self.encoding_label.setVisible(info.is_text)
        self.encoding_combo.setVisible(info.is_text)
        show_encoding(self.encoding_combo, info)

    def show_preview(self, preview: SheetPreview) -> None:
        self.path_edit.setText(str(preview.info.path))
        self.sheet_combo.clear()
        self.sheet_combo.addItems(list(preview.info.sheets))
        self.sheet_combo.setCurrentText(preview.sheet)
        self.header_spin.setRange(1, max(1, len(preview.rows)))
        self.header_spin.setValue(preview.header_row + 1)
        self.rows_model.set_rows(preview.rows, preview.header_row)
        self.table.resizeColumnsToContents()
        self._show_encoding(preview.info)
        _show_error(self.notice, preview.notice)
        _show_error(self.error, None)
        self.completeChanged.emit()

    def show_error(self, text: str) -> None:
        _show_error(self.error, text)
        self.completeChanged.emit()


class MappingPage(QWizardPage):
    """Step 2: which DSCO field each column feeds."""

    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle("Match the columns")
        self.setSubTitle(
            "Each column of your sheet and the DSCO field it fills. Columns DSCO does not know "
            "can be sent as extended attributes or ignored."
        )
        self.profile_combo = QComboBox()
        self.profile_combo.setMinimumWidth(220)
        self.profile_combo.activated.connect(self._profile_chosen)
        self.profile_name = QLineEdit()
        self.profile_name.setPlaceholderText("Profile name")
        self.profile_name.setMinimumWidth(180)
        save = QPushButton("Save profile")
        save.clicked.connect(self._save_profile)
        self.profile_status = _label()
        self.problems = _error_label()
        self.combos: list[QComboBox] = []
        self._grid_host = QWidget()
        self._grid = QGridLayout(self._grid_host)
        self._grid.setHorizontalSpacing(layout.SECTION_SPACING)
        self._grid.setVerticalSpacing(layout.FORM_SPACING)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self._grid_host)

        profiles = QHBoxLayout()
        profiles.setSpacing(layout.INLINE_SPACING)
        profiles.addWidget(QLabel("Profile:"))
        profiles.addWidget(self.profile_combo)
        profiles.addSpacing(layout.SECTION_SPACING)
        profiles.addWidget(self.profile_name)
        profiles.addWidget(save)
        profiles.addStretch(1)
        box = QVBoxLayout(self)
        box.setSpacing(layout.SECTION_SPACING)
        box.addLayout(profiles)
        box.addWidget(self.profile_status)
        box.addWidget(self.problems)
        box.addWidget(scroll, 1)

    def initializePage(self) -> None:
        preview = self._wizard.preview
        assert preview is not None
        self._build(preview, self._wizard.mapping or preview.mapping)
        self.profile_combo.clear()
        self.profile_combo.addItem("Automatic")
        self.profile_combo.addItems(self._wizard.service.profile_names())
        if preview.profile_name:
            self.profile_combo.setCurrentText(preview.profile_name)
            self.profile_status.setText(f"Columns matched as in '{preview.profile_name}'.")
        else:
            self.profile_status.setText("Columns matched by their names.")

    def _build(self, preview: SheetPreview, mapping: ColumnMapping) -> None:
        while self._grid.count():
            item = self._grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.combos = []
        for column, title in enumerate(("Column", "Examples", "DSCO field")):
            head = QLabel(f"<b>{title}</b>")
            self._grid.addWidget(head, 0, column)
        data = preview.rows[preview.header_row + 1 :]
        for column in range(len(mapping.headers)):
            samples = [
                cell_text(r[column]) for r in data if column < len(r) and cell_text(r[column])
            ][:SAMPLE_VALUES]
            self._grid.addWidget(QLabel(preview.column_title(column)), column + 1, 0)
            sample = QLabel(", ".join(samples))
            sample.setStyleSheet("color: palette(mid);")
            sample.setMinimumWidth(240)
            self._grid.addWidget(sample, column + 1, 1)
            combo = QComboBox()
            combo.addItem("(ignore)", IGNORE)
            combo.addItem("Extended attribute", EXTENDED_CHOICE)
            for fd in CATALOG_FIELDS:
                combo.addItem(f"{fd.label}  ({fd.name})", fd.name)
            target = mapping.targets[column]
            if target.startswith(EXTENDED_PREFIX):
                combo.setCurrentIndex(1)
            else:
                found = combo.findData(target)
                combo.setCurrentIndex(max(0, found))
            combo.currentIndexChanged.connect(lambda _i: self._changed())
            combo.setMinimumWidth(260)
            self._grid.addWidget(combo, column + 1, 2)
            self.combos.append(combo)
        self._grid.setColumnStretch(1, 1)
        self._grid.setRowStretch(len(mapping.headers) + 1, 1)
        self._wizard.mapping = mapping
        self._check()

    def current_mapping(self) -> ColumnMapping:
        preview = self._wizard.preview
        assert preview is not None
        headers = preview.mapping.headers
        targets = []
        for column, combo in enumerate(self.combos):
            data = combo.currentData()
            if data == EXTENDED_CHOICE:
                targets.append(extended_target(preview.column_title(column)))
            else:
                targets.append(str(data or IGNORE))
        return ColumnMapping(headers, tuple(targets))

    def set_target(self, column: int, target: str) -> None:
        """Map a column (by its sheet index) to a field name, IGNORE or EXTENDED_CHOICE."""
        combo = self.combos[column]
        combo.setCurrentIndex(max(0, combo.findData(target)))

    def _changed(self) -> None:
        self._wizard.mapping = self.current_mapping()
        self._check()

    def _check(self) -> None:
        mapping = self._wizard.mapping
        problems = mapping_problems(mapping, CATALOG_FIELDS) if mapping else []
        _show_error(self.problems, " ".join(problems) or None)
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        mapping = self._wizard.mapping
        return mapping is not None and not mapping_problems(mapping, CATALOG_FIELDS)

    def _profile_chosen(self, index: int) -> None:
        preview = self._wizard.preview
        if preview is None:
            return
        if index == 0:
            self._build(preview, preview.mapping)
            self.profile_status.setText("Columns matched by their names.")
            return
        name = self.profile_combo.currentText()
        try:
            mapping = self._wizard.service.apply_profile(name, preview.mapping.headers)
        except UserFacingError as exc:
            _show_error(self.problems, exc.message)
            return
        self._build(preview, mapping)
        self.profile_status.setText(f"Columns matched as in '{name}'.")

    def _save_profile(self) -> None:
        name = self.profile_name.text().strip()
        try:
            self._wizard.service.save_profile(name, self.current_mapping())
        except UserFacingError as exc:
            _show_error(self.problems, exc.message)
            return
        if self.profile_combo.findText(name) < 0:
            self.profile_combo.addItem(name)
        self.profile_combo.setCurrentText(name)
        self.profile_status.setText(f"Saved as '{name}'; files with these columns will use it.")


class CheckPage(QWizardPage):
    """Step 3: every problem of every row, inline fixes, and the confirmation to send."""

    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle("Check before sending")
        self.setSubTitle(
            "Nothing has been sent yet. Rows with errors are listed first; point at a red cell "
            "to read the problem, double-click it to fix it."
        )
        self.setCommitPage(True)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.counts = _label()
        self.error = _error_label()
        self.modes = QButtonGroup(self)
        modes = QHBoxLayout()
        modes.setSpacing(layout.SECTION_SPACING)
        modes.addWidget(QLabel("Send:"))
        for mode, text in (
            (ImportMode.BOTH, "New and changed items"),
            (ImportMode.ADD_NEW, "Only new items"),
            (ImportMode.UPDATE_EXISTING, "Only changes to existing items"),
        ):
            button = QRadioButton(text)
            button.setProperty("mode", mode.value)
            self.modes.addButton(button)
            modes.addWidget(button)
            if mode is ImportMode.BOTH:
                button.setChecked(True)
        modes.addStretch(1)
        self.modes.buttonToggled.connect(lambda *_a: self._update_button())
        self.filter = QComboBox()
        self.filter.addItems(["Problems first", "Only rows with problems", "All rows in order"])
        self.filter.currentIndexChanged.connect(lambda _i: self.reload_rows())
        report = QPushButton("Save error report…")
        report.clicked.connect(self._save_report)
        self.model = ImportRowsModel(self)
        self.model.cell_edited.connect(self._wizard.fix_cell)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        tools = QHBoxLayout()
        tools.setSpacing(layout.INLINE_SPACING)
        tools.addWidget(QLabel("Show:"))
        tools.addWidget(self.filter)
        tools.addStretch(1)
        tools.addWidget(report)
        box = QVBoxLayout(self)
        box.setSpacing(layout.SECTION_SPACING)
        box.addWidget(self.progress)
        box.addWidget(self.counts)
        box.addWidget(self.error)
        box.addLayout(modes)
        box.addLayout(tools)
        box.addWidget(self.table, 1)

    @property
    def mode(self) -> ImportMode:
        checked = self.modes.checkedButton()
        return ImportMode(checked.property("mode")) if checked else ImportMode.BOTH

    def set_mode(self, mode: ImportMode) -> None:
        for button in self.modes.buttons():
            if button.property("mode") == mode.value:
                button.setChecked(True)

    def initializePage(self) -> None:
        self.progress.show()
        self.progress.setRange(0, 0)
        self.counts.setText("Reading and checking every row…")
        _show_error(self.error, None)
        self.model.set_rows([], [])
        self._wizard.validate()

    def cleanupPage(self) -> None:
        self._wizard.cancel_running()

    def isComplete(self) -> bool:
        summary = self._wizard.summary
        return summary is not None and not self._wizard.loading and self.sendable() > 0

    def sendable(self) -> int:
        summary = self._wizard.summary
        if summary is None:
            return 0
        counts = summary.counts
        return {
            ImportMode.BOTH: counts.new + counts.changed,
            ImportMode.ADD_NEW: counts.new,
            ImportMode.UPDATE_EXISTING: counts.changed,
        }[self.mode]

    def _update_button(self) -> None:
        count = self.sendable()
        self.setButtonText(
            QWizard.WizardButton.CommitButton,
            f"Send {count:,} item{'s' if count != 1 else ''} to DSCO",
        )
        self.completeChanged.emit()

    def show_progress(self, done: int, total: int, text: str) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.counts.setText(text)

    def show_summary(self, summary: ImportSummary) -> None:
        self.progress.hide()
        c = summary.counts
        text = (
            f"{c.total:,} rows: <b>{c.new:,}</b> new, <b>{c.changed:,}</b> changed, "
            f"{c.unchanged:,} unchanged, "
            f"<span style='color:{layout.ERROR_COLOR}'><b>{c.invalid:,}</b> with errors</span>"
            f", {c.with_warnings:,} with warnings only. Rows with errors are not sent."
        )
        if c.skipped == 1:
            text += " 1 SKU is not in your catalog and this sheet lacks the columns to add it: "
            text += "it is skipped."
        elif c.skipped:
            text += f" {c.skipped:,} SKUs are not in your catalog and this sheet lacks the "
            text += "columns to add them: they are skipped."
        self.counts.setText(text)
        self._update_button()

    def show_error(self, text: str) -> None:
        self.progress.hide()
        self.counts.setText("")
        _show_error(self.error, text)
        self.completeChanged.emit()

    def reload_rows(self) -> None:
        self._wizard.load_rows(self.filter.currentIndex())

    def _save_report(self) -> None:
        path = ask_save_path(self, "Save the error report", "catalog-problems.xlsx", EXPORT_FILTERS)
        if path:
            self._wizard.save_error_report(path)


class SendPage(QWizardPage):
    """Step 4: sending in batches, then DSCO's verdict per SKU."""

    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle("Sending to DSCO")
        self.setSubTitle("Each batch is saved on this computer first, then sent.")
        self.progress = QProgressBar()
        self.status = _label()
        self.error = _error_label()
        self.cancel_button = QPushButton("Cancel sending")
        self.cancel_button.clicked.connect(self._wizard.cancel_running)
        self.check_button = QPushButton("Check DSCO's results again")
        self.check_button.clicked.connect(self._wizard.follow)
        self.check_button.hide()
        self.model = ImportRowsModel(self)
        self.model.editable = False
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.check_button)
        buttons.addStretch(1)
        box = QVBoxLayout(self)
        box.setSpacing(layout.SECTION_SPACING)
        box.addWidget(self.progress)
        box.addWidget(self.status)
        box.addWidget(self.error)
        box.addLayout(buttons)
        box.addWidget(self.table, 1)

    def initializePage(self) -> None:
        self._wizard.push()

    def isComplete(self) -> bool:
        return not self._wizard.loading

    def show_progress(self, done: int, total: int, text: str) -> None:
        self.progress.setRange(0, max(total, 0))
        self.progress.setValue(done)
        self.status.setText(text)

    def show_result(self, summary: ImportSummary) -> None:
        push = summary.counts.push or {}
        accepted = push.get("accepted", 0)
        rejected = push.get("rejected", 0) + push.get("failed", 0)
        waiting = sum(push.get(s, 0) for s in ("queued", "sent", "pending"))
        cancelled = push.get("cancelled", 0)
        parts = [f"<b>{accepted:,}</b> accepted by DSCO"]
        colour = layout.ERROR_COLOR if rejected else "palette(text)"
        parts.append(f"<span style='color:{colour}'><b>{rejected:,}</b> rejected</span>")
        if waiting:
            parts.append(f"<b>{waiting:,}</b> still waiting for DSCO")
        if cancelled:
            parts.append(f"{cancelled:,} not sent (cancelled)")
        text = ", ".join(parts) + "."
        if summary.message:
            text += f"<br>{summary.message}"
        self.status.setText(text)
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.cancel_button.hide()
        self.check_button.setVisible(waiting > 0)
        self.completeChanged.emit()

    def show_error(self, text: str) -> None:
        _show_error(self.error, text)
        self.cancel_button.hide()
        self.completeChanged.emit()


class ImportWizard(QWizard):
    """The catalog import, from a file to DSCO's verdict per SKU."""

    imported = Signal(int)  # import id, once a push finished (or stopped)

    def __init__(
        self,
        service: CatalogImportService,
        jobs: JobRunner,
        *,
        client_provider: ClientProvider,
        deliver: Callable[[], object] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import catalog")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setMinimumSize(980, 660)
        self.service = service
        self.jobs = jobs
        self.client_provider = client_provider
        self.deliver = deliver
        self.path: Path | None = None
        self.encoding: str | None = None  # chosen for a CSV file; None: detected
        self.preview: SheetPreview | None = None
        self.mapping: ColumnMapping | None = None
        self.summary: ImportSummary | None = None
        self.loading = False
        self.current_job: Job[Any] | None = None
        self.file_page = FilePage(self)
        self.mapping_page = MappingPage(self)
        self.check_page = CheckPage(self)
        self.send_page = SendPage(self)
        for grid in (self.check_page, self.send_page):
            grid.model.more_wanted.connect(
                lambda generation, start, grid=grid: self._load_page(grid, generation, start)
            )
        for page in (self.file_page, self.mapping_page, self.check_page, self.send_page):
            self.addPage(page)
        self.setButtonText(QWizard.WizardButton.FinishButton, "Close")
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)

    # -- jobs ------------------------------------------------------------------------------

    def _run(
        self,
        fn: Callable[[JobContext], Any],
        name: str,
        on_success: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
        on_progress: Callable[[int, int, str], None] | None = None,
        *,
        busy: bool = True,
    ) -> Job[Any]:
        if busy:
            self.loading = True
        job = self.jobs.submit(
            fn, name=name, on_success=on_success, on_error=on_error, on_progress=on_progress
        )
        if busy:
            self.current_job = job
            job.finished.connect(lambda: self._job_done(job))
        return job

    def _job_done(self, job: Job[Any]) -> None:
        if self.current_job is job:
            self.current_job = None
            self.loading = False
            page = self.currentPage()
            if page is not None:
                page.completeChanged.emit()

    def cancel_running(self) -> None:
        if self.current_job is not None:
            self.current_job.cancel()

    # -- step 1 ----------------------------------------------------------------------------

    def load_file(
        self,
        path: Path,
        *,
        sheet: str | None = None,
        header_row: int | None = None,
        encoding: str | None = None,
    ) -> Job[Any]:
        """Open a file (in the background) and show its first rows and guessed mapping.

        `encoding`: the text encoding chosen for a CSV file (None: detected)."""
        self.path = path
        self.encoding = encoding
        self.preview = None
        self.mapping = None
        self.file_page.path_edit.setText(str(path))
        self.file_page.completeChanged.emit()

        def work(_ctx: JobContext) -> SheetPreview:
            return self.service.preview(path, sheet, header_row, encoding=encoding)

        def done(preview: SheetPreview) -> None:
            self.preview = preview
            self.mapping = preview.mapping
            self.file_page.show_preview(preview)

        def failed(exc: BaseException) -> None:
            self.file_page.show_error(error_text(exc))

        return self._run(work, "open spreadsheet", done, failed)

    # -- step 3 ----------------------------------------------------------------------------

    def validate(self) -> Job[Any]:
        preview, mapping = self.preview, self.mapping
        assert preview is not None and mapping is not None
        previous = self.summary
        self.summary = None

        def work(ctx: JobContext) -> ImportSummary:
            if previous is not None and previous.state == "validated":
                self.service.imports.delete(previous.import_id)
            return self.service.validate(
                preview, mapping, progress=ctx.progress, should_stop=lambda: ctx.cancelled
            )

        def done(summary: ImportSummary) -> None:
            self.summary = summary
            self.check_page.show_summary(summary)
            self.check_page.reload_rows()

        def failed(exc: BaseException) -> None:
            self.check_page.show_error(error_text(exc))

        return self._run(work, "check catalog rows", done, failed, self.check_page.show_progress)

    def load_rows(self, view: int = 0) -> Job[Any] | None:
        """Fetch the import's rows for the grid: 0 problems first, 1 problems only, 2 in order."""
        summary = self.summary
        if summary is None:
            return None
        import_id = summary.import_id

        def work(_ctx: JobContext) -> _FirstPage:
            order = self.service.imports.row_numbers(
                import_id, problems_only=view == 1, problems_first=view != 2
            )
            return self._first_page(import_id, order)

        def done(result: _FirstPage) -> None:
            headers, rows, order = result
            self.check_page.model.set_rows(headers, rows, order)
            _fit_columns(self.check_page.table)

        return self._run(
            work,
            "load import rows",
            done,
            lambda e: self.check_page.show_error(error_text(e)),
            busy=False,
        )

    def _first_page(self, import_id: int, order: list[int]) -> _FirstPage:
        """(column titles, the first page of rows, every row number in order): a job's work."""
        rows = self._rows_in_order(import_id, order[: ImportRowsModel.PAGE_ROWS])
        return self.service.column_titles(import_id), rows, order

    def _rows_in_order(self, import_id: int, numbers: Sequence[int]) -> list[ImportRowRecord]:
        found = {r.row_number: r for r in self.service.imports.rows(import_id, row_numbers=numbers)}
        return [found[n] for n in numbers if n in found]

    def _load_page(self, page: CheckPage | SendPage, generation: int, start: int) -> None:
        """Read the next rows a grid scrolled to, off the GUI thread."""
        summary = self.summary
        if summary is None:
            return
        import_id = summary.import_id
        model = page.model
        numbers = model.order[start : start + model.PAGE_ROWS]

        def work(_ctx: JobContext) -> list[ImportRowRecord]:
            return self._rows_in_order(import_id, numbers)

        def failed(exc: BaseException) -> None:
            model.page_failed(generation)
            _show_error(page.error, error_text(exc))

        self._run(
            work,
            "load more import rows",
            lambda rows: model.append_rows(generation, rows, asked=len(numbers)),
            failed,
            busy=False,
        )

    def fix_cell(self, row_number: int, column: int, text: str) -> Job[Any] | None:
        """Re-validate an edited cell off the GUI thread; the grid and counts update after."""
        summary = self.summary
        if summary is None:
            return None
        import_id = summary.import_id

        def work(_ctx: JobContext) -> tuple[list[ImportRowRecord], ImportSummary]:
            rows = self.service.fix_cell(import_id, row_number, column, text)
            return rows, self.service.summary(import_id)

        def done(result: tuple[list[ImportRowRecord], ImportSummary]) -> None:
            rows, fresh = result
            self.summary = fresh
            self.check_page.model.replace_rows(rows)
            self.check_page.show_summary(fresh)

        return self._run(
            work,
            "fix a cell",
            done,
            lambda e: self.check_page.show_error(error_text(e)),
            busy=False,
        )

    def save_error_report(self, path: Path) -> Job[Any] | None:
        summary = self.summary
        if summary is None:
            return None
        import_id = summary.import_id

        def work(_ctx: JobContext) -> int:
            return self.service.export_error_report(import_id, path)

        def done(count: int) -> None:
            self.check_page.counts.setText(
                self.check_page.counts.text() + f"<br>Error report saved: {count:,} rows in {path}."
            )

        return self._run(
            work,
            "save error report",
            done,
            lambda e: self.check_page.show_error(error_text(e)),
            busy=False,
        )

    # -- step 4 ----------------------------------------------------------------------------

    def _delivery(self, client: Any) -> Callable[[], object]:
        if self.deliver is not None:
            return self.deliver
        return direct_delivery(self.service.db, client)

    def push(self) -> Job[Any] | None:
        summary = self.summary
        if summary is None:
            return None
        client = self.client_provider()
        if client is None:
            self.send_page.show_error(
                "No DSCO account is set up, so nothing was sent. Set it up under File > "
                "Account…, then send this import from the Catalog tab."
            )
            return None
        import_id = summary.import_id
        mode = self.check_page.mode
        deliver = self._delivery(client)

        def work(ctx: JobContext) -> ImportSummary:
            return self.service.push(
                import_id,
                mode,
                deliver=deliver,
                client=client,
                progress=ctx.progress,
                should_stop=lambda: ctx.cancelled,
            )

        job = self._run(
            work,
            "send catalog",
            self._pushed,
            lambda e: self.send_page.show_error(error_text(e)),
            self.send_page.show_progress,
        )
        job.cancelled.connect(self._after_cancel)
        return job

    def _after_cancel(self) -> None:
        summary = self.summary
        if summary is None:
            return
        self.send_page.status.setText("Stopping: finishing the batch in flight…")
        self.follow(quick=True)

    def follow(self, quick: bool = False) -> Job[Any] | None:
        """Read DSCO's verdicts for what was sent (again)."""
        summary = self.summary
        client = self.client_provider()
        if summary is None or client is None:
            return None
        import_id = summary.import_id
        deliver = self._delivery(client)

        def work(ctx: JobContext) -> ImportSummary:
            if quick:
                self.service.imports.cancel_unsent(import_id)
            return self.service.follow(
                import_id,
                client,
                progress=ctx.progress,
                should_stop=lambda: ctx.cancelled,
                timeout_s=10.0 if quick else 120.0,
                deliver=deliver,
            )

        self.send_page.cancel_button.show()
        return self._run(
            work,
            "read catalog results",
            self._pushed,
            lambda e: self.send_page.show_error(error_text(e)),
            self.send_page.show_progress,
        )

    def _pushed(self, summary: ImportSummary) -> None:
        self.summary = summary
        self.send_page.show_result(summary)
        import_id = summary.import_id

        def work(_ctx: JobContext) -> _FirstPage:
            order = self.service.imports.row_numbers(
                import_id,
                push_states=(
                    "queued",
                    "sent",
                    "pending",
                    "accepted",
                    "rejected",
                    "failed",
                    "cancelled",
                ),
                failures_first=True,
            )
            return self._first_page(import_id, order)

        def done(result: _FirstPage) -> None:
            headers, rows, order = result
            self.send_page.model.set_rows(headers, rows, order)
            _fit_columns(self.send_page.table)
            self.imported.emit(import_id)

        self._run(
            work,
            "load results",
            done,
            lambda e: self.send_page.show_error(error_text(e)),
            busy=False,
        )
