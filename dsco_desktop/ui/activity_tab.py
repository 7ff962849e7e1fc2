"""The Activity tab: every DSCO call the app made (method, path, status, time, requestId, error).

The model is a QAbstractTableModel over plain `CallRecord` rows with raw values in `RawRole`.
Filtering (text, errors only) happens in SQL through the repository, on a job thread, and the
model is reset with the result. Calls arrive from any thread in bursts; `notify_new_calls()`
only starts a timer, so the table refreshes at most a few times a second.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from dsco_desktop.domain.activity import CallRecord
from dsco_desktop.ui import layout
from dsco_desktop.ui.jobs import JobContext, JobRunner
from dsco_desktop.ui.table_model import ALIGN_RIGHT, Column, RowTableModel
from dsco_desktop.ui.widgets import centered_hint, coalescing_timer, list_table, page_layout

ACTIVITY_LIMIT = 500

ActivityLoader = Callable[[str | None, bool, int], list[CallRecord]]


def _is_error(record: CallRecord) -> bool:
    return record.error is not None or record.status is None or record.status >= 400


def _local_time(iso: str) -> str:
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    if moment.tzinfo is not None:
        moment = moment.astimezone()
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _status_text(record: CallRecord) -> str:
    return "—" if record.status is None else str(record.status)


class ActivityModel(RowTableModel[CallRecord]):
    """The activity rows, newest first, as the repository returned them."""

    columns = (
        Column("Time", lambda r: r.at, lambda r: _local_time(r.at)),
        Column("Method", lambda r: r.method),
        Column("Path", lambda r: r.path),
        Column("Status", lambda r: r.status, _status_text, ALIGN_RIGHT),
        Column(
            "Duration", lambda r: r.duration_ms, lambda r: f"{r.duration_ms:,.0f} ms", ALIGN_RIGHT
        ),
        Column("Request ID", lambda r: r.request_id),
        Column("Error", lambda r: r.error),
    )

    def foreground(self, row: CallRecord) -> str | None:
        return layout.ERROR_COLOR if _is_error(row) else None


class ActivityTab(QWidget):
    """The filterable activity log."""

    def __init__(
        self, load: ActivityLoader, jobs: JobRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._load = load
        self._jobs = jobs
        self._generation = 0
        self._loading = False
        self._pending = False
        self.refresh_count = 0

        self.model = ActivityModel(self)
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter by path, method, status, request ID or error")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setMinimumWidth(layout.SEARCH_FIELD_MIN_WIDTH)
        self.errors_only = QCheckBox("Errors only")
        self.summary = QLabel()
        self.table = list_table(
            self.model,
            layout.ACTIVITY_COLUMN_WIDTHS,
            multi_select=True,
        )
        self.table.setAlternatingRowColors(True)
        self.empty_label = centered_hint(
            "No calls to DSCO yet. Every call the app makes shows here, with its status, "
            "duration and DSCO's request ID."
        )

        bar = QHBoxLayout()
        bar.setSpacing(layout.SECTION_SPACING)
        bar.addWidget(self.filter_edit, 1)
        bar.addWidget(self.errors_only)
        bar.addStretch(0)
        bar.addWidget(self.summary)
        box = page_layout(self)
        box.addLayout(bar)
        box.addWidget(self.table, 1)
        box.addWidget(self.empty_label, 1)

        self._timer = coalescing_timer(self, self.refresh_now)
        self.filter_edit.textChanged.connect(self.schedule_refresh)
        self.errors_only.toggled.connect(self.schedule_refresh)
        self._show_rows()

    def notify_new_calls(self, *_args: object) -> None:
        """New calls were recorded: refresh soon (coalesced)."""
        self.schedule_refresh()

    def schedule_refresh(self, *_args: object) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def refresh_now(self) -> None:
        """Query the log with the current filter on a job thread, then reset the model."""
        if self._jobs.closed:
            return  # the app is shutting down; a late notification is not worth a query
        if self._loading:
            # One query at a time; the latest filter is applied when this one returns.
            self._pending = True
            return
        self._loading = True
        self._generation += 1
        generation = self._generation
        text = self.filter_edit.text().strip() or None
        errors_only = self.errors_only.isChecked()

        def query(_ctx: JobContext) -> list[CallRecord]:
            return self._load(text, errors_only, ACTIVITY_LIMIT)

        job = self._jobs.submit(
            query,
            name="activity refresh",
            on_success=lambda rows: self._apply(generation, rows),
        )
        job.finished.connect(self._done)

    def _done(self) -> None:
        self._loading = False
        if self._pending:
            self._pending = False
            self.refresh_now()

    def _apply(self, generation: int, rows: list[CallRecord]) -> None:
        if generation != self._generation:
            return
        self.model.set_rows(rows)
        self.refresh_count += 1
        self._show_rows()

    def _show_rows(self) -> None:
        count = self.model.rowCount()
        filtered = bool(self.filter_edit.text().strip()) or self.errors_only.isChecked()
        self.table.setVisible(count > 0 or filtered)
        self.empty_label.setVisible(count == 0 and not filtered)
        noun = "call" if count == 1 else "calls"
        more = f" (latest {ACTIVITY_LIMIT})" if count >= ACTIVITY_LIMIT else ""
        self.summary.setText(f"{count:,} {noun}{more}")
