"""Small widget helpers the tabs and dialogs share, so each screen is built the same way.

- `dialog_layout` / `page_layout`: a dialog's or a tab's outer box with the house margins and
  spacing.
- `coalescing_timer`: one refresh after a burst of changes (typing in a search field).
- `centered_hint`: the centred, wrapping sentence an empty list shows instead.
- `list_table`: a read-only list: whole rows selected, one line per row, columns the user
  can widen, the last one stretched.
- `error_label`: a wrapping red label for a problem shown where it happened.
- `error_parts`: the sentence and detail to show for an exception from a job.
- `ask_save_path`: the "save as" question, answered with a `Path` or None.
- `SendDialog`: a dialog with a "send" button that queues one thing on a job thread, closes
  once it is queued and shows the reason in place when it is not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from dsco_desktop.errors import UserFacingError
from dsco_desktop.spreadsheets.reader import TEXT_ENCODINGS, WorkbookInfo, encoding_name
from dsco_desktop.ui import layout
from dsco_desktop.ui.jobs import JobContext, JobRunner


def encoding_combo() -> QComboBox:
    """A choice of text encoding for a CSV file: "Automatic" (detected) or one of ours."""
    combo = QComboBox()
    combo.addItem("Automatic", None)
    for codec, name in TEXT_ENCODINGS:
        combo.addItem(name, codec)
    return combo


def show_encoding(combo: QComboBox, info: WorkbookInfo) -> None:
    """Select how a file was read: the user's choice, or "Automatic (what was detected)"."""
    if info.encoding is None:
        return
    detected = "" if info.chosen else f" ({encoding_name(info.encoding)})"
    combo.setItemText(0, f"Automatic{detected}")
    combo.setCurrentIndex(max(0, combo.findData(info.encoding)) if info.chosen else 0)


def error_text(exc: BaseException) -> str:
    """A failed job's error as the user reads it (the plain message, its detail below)."""
    if isinstance(exc, UserFacingError):
        return exc.message + (f"\n{exc.detail}" if exc.detail else "")
    return f"Unexpected error: {exc}"


EXPORT_FILTERS = "Excel workbook (*.xlsx);;CSV (*.csv)"


def dialog_layout(dialog: QWidget) -> QVBoxLayout:
    """The dialog's outer box: house margins, sections spaced apart."""
    box = QVBoxLayout(dialog)
    box.setContentsMargins(*(layout.DIALOG_MARGIN,) * 4)
    box.setSpacing(layout.SECTION_SPACING)
    return box


def page_layout(page: QWidget, *, spacing: int | None = layout.SECTION_SPACING) -> QVBoxLayout:
    """A tab's outer box: page margins, sections spaced apart (None: the style's spacing)."""
    box = QVBoxLayout(page)
    box.setContentsMargins(*(layout.PAGE_MARGIN,) * 4)
    if spacing is not None:
        box.setSpacing(spacing)
    return box


def coalescing_timer(parent: QObject, slot: Callable[[], object]) -> QTimer:
    """A single-shot timer: `start()` it on every change, `slot` runs once things calm down."""
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(layout.REFRESH_COALESCE_MS)
    timer.timeout.connect(slot)
    return timer


def centered_hint(text: str) -> QLabel:
    """A centred, wrapping sentence (what an empty list shows instead)."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    return label


def list_table(
    model: QAbstractItemModel,
    widths: Sequence[int] = (),
    *,
    multi_select: bool = False,
) -> QTableView:
    """A read-only list over `model` with the given starting column widths; `multi_select`
    lets the user select several rows (shift/ctrl-click)."""
    table = QTableView()
    table.setModel(model)
    table.verticalHeader().setVisible(False)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(
        QAbstractItemView.SelectionMode.ExtendedSelection
        if multi_select
        else QAbstractItemView.SelectionMode.SingleSelection
    )
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setWordWrap(False)
    header = table.horizontalHeader()
    header.setStretchLastSection(True)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    for column, width in enumerate(widths):
        header.resizeSection(column, width)
    return table


def error_label(text: str = "") -> QLabel:
    """A wrapping label in the error colour."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {layout.ERROR_COLOR};")
    return label


def error_parts(exc: BaseException) -> tuple[str, str]:
    """The message and the detail ("" when none) to show for a failed job."""
    if isinstance(exc, UserFacingError):
        return exc.message, exc.detail or ""
    return str(exc), ""


def ask_save_path(parent: QWidget, title: str, suggested: str, filters: str) -> Path | None:
    """Ask where to save; None when the user cancels."""
    name, _ = QFileDialog.getSaveFileName(parent, title, suggested, filters)
    return Path(name) if name else None


class SendDialog(QDialog):
    """A dialog that queues one thing (an invoice, a return) on a job thread.

    Subclasses build their fields, add `self.buttons` (from `__init__`) to their layout, call
    `submit(work, name)` from `send()` and say why a send failed in `show_failure`.
    """

    sent = Signal(object)  # the record queued

    def __init__(
        self,
        jobs: JobRunner,
        send_text: str,
        *,
        default: bool = True,
        on_sent: Callable[[], None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._jobs = jobs
        self._on_sent = on_sent
        self._sending: Any = None
        self.buttons = QDialogButtonBox()
        self.send_button = QPushButton(send_text)
        self.send_button.setDefault(default)
        self.buttons.addButton(self.send_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.send)
        self.buttons.rejected.connect(self.reject)

    def send(self) -> None:
        raise NotImplementedError

    def show_failure(self, message: str, detail: str) -> None:
        raise NotImplementedError

    def submit(self, work: Callable[[JobContext], Any], name: str) -> None:
        """Run `work` on a job thread; the dialog closes when it succeeds."""
        self.send_button.setEnabled(False)
        self._sending = self._jobs.submit(
            work, name=name, on_success=self._queued, on_error=self._failed
        )

    def _queued(self, record: object) -> None:
        self._sending = None
        self.sent.emit(record)
        if self._on_sent is not None:
            self._on_sent()
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self._sending = None
        self.show_failure(*error_parts(exc))
        self.send_button.setEnabled(True)
