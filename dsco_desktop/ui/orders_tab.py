"""The Orders tab: the live inbox, its filters and search, the detail panel and the actions.

Orders arrive from the stream thread (`notify_batch`); the tab refreshes at most a few times a
second, running the filter in SQL on a job thread and resetting the model with the ids, keeping
the selection and the scroll position. New (unopened) orders are highlighted until opened; the
tab reports how many there are (`new_count_changed`, for the tab title), and `OrderNotifier`
puts "3 new orders" in the system tray when there is one. Acknowledge and cancel go through
`OrderActions` (the outbox); "Ship…" asks the shipment form through `ship_requested`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStyle,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from dsco_desktop.domain.orders import STATUS_LABELS, OrderStatus, cancel_code_label
from dsco_desktop.errors import UserFacingError
from dsco_desktop.services.order_actions import OrderActions, export_orders
from dsco_desktop.services.order_stream import ResyncReport, StreamBatch
from dsco_desktop.store._util import now_iso
from dsco_desktop.store.db import Database
from dsco_desktop.store.orders import InboxCounts, OrderRepository
from dsco_desktop.ui import layout
from dsco_desktop.ui.cancel_dialog import CancelDialog
from dsco_desktop.ui.jobs import JobContext, JobRunner
from dsco_desktop.ui.messages import MessageBridge
from dsco_desktop.ui.order_detail import OrderDetail, OrderDetailData
from dsco_desktop.ui.order_model import COLUMN_KEYS, COLUMN_WIDTHS, OrderTableModel
from dsco_desktop.ui.widgets import (
    EXPORT_FILTERS,
    ask_save_path,
    centered_hint,
    coalescing_timer,
    list_table,
    page_layout,
)

log = logging.getLogger(__name__)

Resync = Callable[[datetime, JobContext], ResyncReport]
# Countdowns move on their own: re-evaluate them this often (ms).
CLOCK_TICK_MS = 30_000
DETAIL_MIN_WIDTH = 440

# (filter key, label): OrderStatus values plus two views of their own.
FILTERS: tuple[tuple[str, str], ...] = (
    ("all", "All orders"),
    *((s.value, STATUS_LABELS[s]) for s in OrderStatus),
    ("cancel_requested", "Cancel requested"),
    ("unseen", "Not opened yet"),
)


@dataclass(frozen=True)
class InboxQuery:
    """What the tab shows: filter, search text, sort."""

    filter: str = "all"
    text: str = ""
    sort: str = "order_date"
    descending: bool = True


class OrderNotifier(QObject):
    """Desktop notifications about arriving orders (system tray, when there is one)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tray: QSystemTrayIcon | None = None
        self.last_message: str | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            style = QApplication.style()
            icon = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxInformation)
            self.tray = QSystemTrayIcon(QIcon(icon), self)
            self.tray.setToolTip("DSCO Desktop")
            self.tray.show()

    def orders_arrived(self, count: int, cancel_requests: int = 0) -> None:
        if count <= 0 and cancel_requests <= 0:
            return
        parts = []
        if count:
            parts.append(f"{count} new order{'s' if count != 1 else ''} arrived")
        if cancel_requests:
            parts.append(
                f"{cancel_requests} cancel request{'s' if cancel_requests != 1 else ''} "
                "from the retailer"
            )
        self.last_message = "; ".join(parts) + "."
        if self.tray is not None:
            self.tray.showMessage("DSCO Desktop", self.last_message)


class ResyncDialog(QDialog):
    """How far back a resync looks."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Resync orders")
        self.days = QSpinBox()
        self.days.setRange(1, 90)
        self.days.setValue(7)
        self.days.setSuffix(" days")
        text = QLabel(
            "Read every order DSCO changed in this period and add or update what the stream "
            "did not deliver. You will see what was missing."
        )
        text.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(QLabel("Look back"))
        row.addWidget(self.days)
        row.addStretch(1)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        box.setContentsMargins(*(layout.DIALOG_MARGIN,) * 4)
        box.addWidget(text)
        box.addLayout(row)
        box.addWidget(buttons)
        self.setMinimumWidth(layout.DIALOG_MIN_WIDTH)


class OrdersTab(QWidget):
    """The order inbox."""

    ship_requested = Signal(str)  # dscoOrderId: open the shipment form for it
    new_count_changed = Signal(int)  # orders not opened yet
    outbox_changed = Signal()  # something was queued: wake the outbox thread
    refreshed = Signal()

    def __init__(
        self,
        db: Database,
        jobs: JobRunner,
        bridge: MessageBridge,
        *,
        resync: Resync | None = None,
        notifier: OrderNotifier | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._db = db
        self._jobs = jobs
        self._bridge = bridge
        self._resync = resync
        self.order_actions = OrderActions(db)
        self.notifier = notifier or OrderNotifier(self)
        self.query = InboxQuery()
        self.counts = InboxCounts()
        self._generation = 0
        self._loading = False
        self._pending = False
        self._arrived = 0
        self._arrived_cancel_requests = 0
        self._detail_generation = 0
        self.refresh_count = 0
        self.resync_job: Any = None

        self.model = OrderTableModel(self._load_rows, self)
        self.filter_combo = QComboBox()
        for key, label in FILTERS:
            self.filter_combo.addItem(label, key)
        self.filter_combo.setMinimumContentsLength(22)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search PO, customer name or SKU")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(layout.SEARCH_FIELD_MIN_WIDTH)
        self.summary = QLabel()
        self.acknowledge_button = QPushButton("Acknowledge")
        self.acknowledge_button.setToolTip("Acknowledge the selected orders with DSCO.")
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save the orders shown to an Excel file.")
        self.resync_button = QPushButton("Resync…")
        self.resync_button.setToolTip("Re-read recent orders from DSCO and fill any gaps.")
        self.resync_button.setEnabled(resync is not None)
        self.seen_button = QPushButton("Mark all opened")

        self.table = list_table(self.model, COLUMN_WIDTHS, multi_select=True)
        self.table.setSortingEnabled(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        header = self.table.horizontalHeader()
        header.setSortIndicatorShown(True)
        header.setSectionsClickable(True)
        header.setSortIndicator(COLUMN_KEYS.index("order_date"), Qt.SortOrder.DescendingOrder)
        self.detail = OrderDetail()
        self.detail.setMinimumWidth(DETAIL_MIN_WIDTH)
        self.empty_label = centered_hint(
            "No orders yet. New orders from DSCO appear here as they arrive, highlighted "
            "until you open them."
        )

        bar = QHBoxLayout()
        bar.setSpacing(layout.SECTION_SPACING)
        bar.addWidget(self.filter_combo)
        bar.addWidget(self.search, 1)
        bar.addWidget(self.summary)
        actions = QHBoxLayout()
        actions.setSpacing(layout.INLINE_SPACING)
        for button in (self.acknowledge_button,):
            actions.addWidget(button)
        actions.addStretch(1)
        for button in (self.seen_button, self.export_button, self.resync_button):
            actions.addWidget(button)
        left = QWidget()
        left_box = QVBoxLayout(left)
        left_box.setContentsMargins(0, 0, 0, 0)
        left_box.setSpacing(layout.FORM_SPACING)
        left_box.addLayout(actions)
        left_box.addWidget(self.table, 1)
        left_box.addWidget(self.empty_label, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        box = page_layout(self)
        box.addLayout(bar)
        box.addWidget(self.splitter, 1)

        self._timer = coalescing_timer(self, self.refresh_now)
        self._clock = QTimer(self)
        self._clock.setInterval(CLOCK_TICK_MS)
        self._clock.timeout.connect(lambda: self.model.set_now(datetime.now(UTC)))
        self._clock.start()

        self.filter_combo.currentIndexChanged.connect(self._filter_changed)
        self.search.textChanged.connect(self._filter_changed)
        header.sectionClicked.connect(self._sort_clicked)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.acknowledge_button.clicked.connect(self.acknowledge_selected)
        self.export_button.clicked.connect(self._export_clicked)
        self.resync_button.clicked.connect(self.open_resync_dialog)
        self.seen_button.clicked.connect(self.mark_all_seen)
        self.detail.acknowledge_requested.connect(lambda oid: self.acknowledge([oid]))
        self.detail.cancel_requested.connect(self.open_cancel_dialog)
        self.detail.ship_requested.connect(self.ship_requested.emit)
        self._update_buttons()
        self._show_rows()

    # -- loading ------------------------------------------------------------------------------

    def _load_rows(self, ids: Sequence[str]) -> dict[str, Any]:
        # A page of rows by primary key: a few milliseconds, fine on the GUI thread.
        return OrderRepository(self._db).summaries(ids)

    def notify_batch(self, batch: StreamBatch) -> None:
        """The stream committed new or changed orders: refresh soon, notify about arrivals."""
        self._arrived += len(batch.inserted)
        self._arrived_cancel_requests += len(batch.cancel_requests)
        self.model.invalidate([*batch.inserted, *batch.updated])
        if self.detail.order_id in batch.updated:
            self._load_detail(self.detail.order_id)
        self.schedule_refresh()

    def schedule_refresh(self, *_args: object) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def _filter_changed(self, *_args: object) -> None:
        self.query = InboxQuery(
            filter=str(self.filter_combo.currentData()),
            text=self.search.text().strip(),
            sort=self.query.sort,
            descending=self.query.descending,
        )
        self.schedule_refresh()

    def set_filter(self, key: str) -> None:
        """Show one filter (a status value, "all", "cancel_requested" or "unseen")."""
        self.filter_combo.setCurrentIndex(self.filter_combo.findData(key))

    def _sort_clicked(self, column: int) -> None:
        key = COLUMN_KEYS[column]
        descending = not self.query.descending if key == self.query.sort else key == "order_date"
        self.query = InboxQuery(self.query.filter, self.query.text, key, descending)
        self.table.horizontalHeader().setSortIndicator(
            column, Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder
        )
        self.schedule_refresh()

    def refresh_now(self) -> None:
        """Run the current filter in SQL on a job thread, then reset the model."""
        if self._jobs.closed:
            return
        if self._loading:
            self._pending = True
            return
        self._loading = True
        self._generation += 1
        generation = self._generation
        query = self.query
        db = self._db

        def run(_ctx: JobContext) -> tuple[list[str], InboxCounts]:
            repo = OrderRepository(db)
            now = now_iso()
            status = query.filter if query.filter in {s.value for s in OrderStatus} else None
            ids = repo.list_ids(
                status=status,
                text=query.text or None,
                cancel_requested=query.filter == "cancel_requested",
                unseen=query.filter == "unseen",
                sort=query.sort,
                descending=query.descending,
                now=now,
            )
            return ids, repo.status_counts(now=now)

        job = self._jobs.submit(
            run, name="order inbox refresh", on_success=lambda r: self._apply(generation, *r)
        )
        job.finished.connect(self._refresh_done)

    def _refresh_done(self) -> None:
        self._loading = False
        if self._pending:
            self._pending = False
            self.refresh_now()

    def _apply(self, generation: int, ids: list[str], counts: InboxCounts) -> None:
        if generation != self._generation:
            return
        selected = self.selected_ids()
        current = self.table.currentIndex()
        current_id = self.model.order_id(current.row()) if current.isValid() else None
        scroll = self.table.verticalScrollBar().value()
        self.model.set_now(datetime.now(UTC))
        self.model.set_ids(ids)
        self._restore_selection(selected, current_id)
        self.table.verticalScrollBar().setValue(scroll)
        self.counts = counts
        self._update_counts(counts)
        if self._arrived or self._arrived_cancel_requests:
            self.notifier.orders_arrived(self._arrived, self._arrived_cancel_requests)
            self._arrived = self._arrived_cancel_requests = 0
        self.refresh_count += 1
        self._show_rows()
        self.refreshed.emit()

    def _restore_selection(self, ids: Sequence[str], current_id: str | None) -> None:
        selection = self.table.selectionModel()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        with _SignalsBlocked(selection):
            for order_id in ids:
                row = self.model.row_of(order_id)
                if row is not None:
                    selection.select(self.model.index(row, 0), flags)
            row = None if current_id is None else self.model.row_of(current_id)
            if row is not None:
                selection.setCurrentIndex(
                    self.model.index(row, 0), QItemSelectionModel.SelectionFlag.NoUpdate
                )
        self._update_buttons()

    def _update_counts(self, counts: InboxCounts) -> None:
        for index, (key, label) in enumerate(FILTERS):
            if key == "all":
                n = counts.total
            elif key == "cancel_requested":
                n = counts.cancel_requested
            elif key == "unseen":
                n = counts.unseen
            else:
                n = counts.by_status.get(key, 0)
            self.filter_combo.setItemText(index, f"{label} ({n:,})")
        self.new_count_changed.emit(counts.unseen)

    def _show_rows(self) -> None:
        count = self.model.rowCount()
        filtered = self.query.filter != "all" or bool(self.query.text)
        self.table.setVisible(count > 0 or filtered)
        self.empty_label.setVisible(count == 0 and not filtered)
        noun = "order" if count == 1 else "orders"
        self.summary.setText(f"{count:,} {noun} shown")

    # -- selection and detail -----------------------------------------------------------------

    def selected_ids(self) -> list[str]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [i for i in (self.model.order_id(r) for r in rows) if i is not None]

    def select_order(self, order_id: str) -> bool:
        """Select and open one order (as a click on its row would)."""
        row = self.model.row_of(order_id)
        if row is None:
            return False
        self.table.selectRow(row)
        self.table.scrollTo(self.model.index(row, 0))
        return True

    def _selection_changed(self, *_args: object) -> None:
        self._update_buttons()
        ids = self.selected_ids()
        if len(ids) == 1:
            self._open(ids[0])
        elif not ids:
            self.detail.show_order(None)

    def _update_buttons(self) -> None:
        self.acknowledge_button.setEnabled(bool(self.table.selectionModel().selectedRows()))

    def _open(self, order_id: str) -> None:
        """Show the order and mark it opened (it stops being highlighted)."""
        row = self.model.row_of(order_id)
        summary = self.model.summary(row) if row is not None else None
        if summary is not None and not summary.seen:
            OrderRepository(self._db).mark_seen([order_id])
            self.model.invalidate([order_id])
            self.schedule_refresh()
        self._load_detail(order_id)

    def _load_detail(self, order_id: str | None) -> None:
        if order_id is None or self._jobs.closed:
            return
        self._detail_generation += 1
        generation = self._detail_generation
        db = self._db

        def run(_ctx: JobContext) -> OrderDetailData | None:
            repo = OrderRepository(db)
            order = repo.get(order_id)
            summary = repo.summaries([order_id]).get(order_id)
            if order is None or summary is None:
                return None
            return OrderDetailData(
                order, summary, tuple(repo.events(order_id)), tuple(repo.cancels(order_id))
            )

        def show(data: OrderDetailData | None) -> None:
            if generation == self._detail_generation:
                self.detail.show_order(data)

        self._jobs.submit(run, name="order detail", on_success=show)

    # -- actions ------------------------------------------------------------------------------

    def acknowledge_selected(self) -> None:
        self.acknowledge(self.selected_ids())

    def acknowledge(self, order_ids: Sequence[str]) -> None:
        """Queue acknowledgements (through the outbox) for these orders."""
        if not order_ids:
            return
        actions = self.order_actions
        wanted = list(order_ids)
        self._jobs.submit(
            lambda _ctx: actions.acknowledge(wanted),
            name="acknowledge orders",
            on_success=self._queued,
            on_error=self._action_failed,
        )

    def _queued(self, result: Any) -> None:
        message = getattr(result, "message", None) or "Queued for DSCO."
        self._bridge.status(message)
        self.outbox_changed.emit()
        self.model.invalidate()
        self.schedule_refresh()
        self._load_detail(self.detail.order_id)

    def _action_failed(self, exc: BaseException) -> None:
        # A bug already went to the crash dialog through the job runner.
        if isinstance(exc, UserFacingError):
            self._bridge.user_error(exc)

    def open_cancel_dialog(self, order_id: str) -> CancelDialog | None:
        """Open the cancel dialog for the order shown in the detail panel."""
        data = self.detail.data
        if data is None or data.order.dsco_order_id != order_id:
            return None
        summary = data.summary
        dialog = CancelDialog(
            data.order.po_number or order_id,
            data.open_lines(),
            retailer_request=(cancel_code_label(summary.cancel_requested_code) or "no reason given")
            if summary.cancel_requested
            else None,
            parent=self,
        )
        dialog.accepted.connect(lambda: self.cancel_lines(order_id, dialog.lines()))
        dialog.open()
        self.cancel_dialog = dialog
        return dialog

    def cancel_lines(self, order_id: str, lines: Sequence[Any]) -> None:
        actions = self.order_actions
        chosen = list(lines)
        self._jobs.submit(
            lambda _ctx: actions.cancel_lines(order_id, chosen),
            name="cancel order lines",
            on_success=lambda _row: self._queued(None),
            on_error=self._action_failed,
        )

    def mark_all_seen(self) -> None:
        OrderRepository(self._db).mark_all_seen()
        self.model.invalidate()
        self.schedule_refresh()

    # -- export and resync --------------------------------------------------------------------

    def _export_clicked(self) -> None:
        path = ask_save_path(self, "Export orders", "orders.xlsx", EXPORT_FILTERS)
        if path:
            self.export_to(path)

    def export_to(self, path: Path) -> Any:
        """Save the orders shown (in their order) to `path` on a job thread."""
        ids = list(self.model.ids)
        db = self._db

        def run(ctx: JobContext) -> int:
            return export_orders(db, ids, path, progress=ctx.progress)

        return self._jobs.submit(
            run,
            name="export orders",
            on_success=lambda n: self._bridge.status(f"Saved {n:,} order(s) to {path.name}."),
            on_error=self._action_failed,
        )

    def open_resync_dialog(self) -> ResyncDialog:
        """Ask how far back to look, then resync."""
        dialog = ResyncDialog(self)
        dialog.accepted.connect(
            lambda: self.start_resync(datetime.now(UTC) - timedelta(days=dialog.days.value()))
        )
        dialog.open()
        return dialog

    def start_resync(self, since: datetime) -> Any:
        """Re-read orders since `since` on a job thread and report what was missing."""
        if self._resync is None:
            return None
        resync = self._resync
        self.resync_button.setEnabled(False)
        self._bridge.status("Resyncing orders with DSCO…", 0)

        def done(report: ResyncReport) -> None:
            self._bridge.status(report.summary, 0)
            if report.missing_po:
                shown = ", ".join(report.missing_po[:20])
                more = len(report.missing_po) - 20
                self._bridge.info(
                    report.summary,
                    detail="Not delivered by the stream: PO "
                    + shown
                    + (f" and {more} more" if more > 0 else ""),
                )
            self.model.invalidate()
            self.schedule_refresh()

        def failed(exc: BaseException) -> None:
            self._bridge.status("The resync did not finish.", 0)
            self._action_failed(exc)

        job = self._jobs.submit(
            lambda ctx: resync(since, ctx),
            name="resync orders",
            on_success=done,
            on_error=failed,
        )
        job.finished.connect(lambda: self.resync_button.setEnabled(True))
        self.resync_job = job
        return job


class _SignalsBlocked:
    """Block an object's signals inside a with-block."""

    def __init__(self, obj: QObject) -> None:
        self._obj = obj

    def __enter__(self) -> None:
        self._was = self._obj.blockSignals(True)

    def __exit__(self, *_exc: object) -> None:
        self._obj.blockSignals(self._was)
