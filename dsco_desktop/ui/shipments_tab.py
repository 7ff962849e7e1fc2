"""The Shipments tab: the shipment form for one order, and every shipment with its DSCO state.

An order reaches the form by its PO number (the field at the top) or from the order detail's
"Ship" action (`open_order`). The list below shows each shipment's state (pending, sent,
confirmed, rejected with DSCO's message, accepted but not applied); it is filtered in SQL on a
job thread and reset, and settled against the outbox every few seconds so shipments sent in
the background move on their own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from dsco_desktop.errors import UserFacingError
from dsco_desktop.services.shipping import BatchReport, Outcome, ShipmentForm, ShippingService
from dsco_desktop.store.shipments import ShipmentRecord, ShipmentState
from dsco_desktop.ui import layout
from dsco_desktop.ui.jobs import JobContext, JobRunner
from dsco_desktop.ui.packing_slips import write_pdf
from dsco_desktop.ui.shipment_form import ClientProvider, ShipmentFormWidget
from dsco_desktop.ui.shipment_models import BatchRowsModel, ShipmentsModel
from dsco_desktop.ui.widgets import ask_save_path, coalescing_timer, dialog_layout, list_table

log = logging.getLogger(__name__)

# How often open shipments are settled against the outbox and DSCO (ms).
RECONCILE_INTERVAL_MS = 5000


class BatchDialog(QDialog):
    """Preview of a batch shipment file: every row with its problems, then send."""

    sent = Signal(int)  # shipments queued

    def __init__(
        self,
        report: BatchReport,
        service: ShippingService,
        jobs: JobRunner,
        *,
        wake_outbox: Callable[[], None],
        key_prefix: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Ship from {report.file}")
        self.setMinimumWidth(layout.DIALOG_MIN_WIDTH)
        self.resize(*layout.BATCH_DIALOG_SIZE)
        self.report = report
        self._service = service
        self._jobs = jobs
        self._wake = wake_outbox
        self._key_prefix = key_prefix
        ready = len(report.shipments)
        held = len(report.held_back)
        self.summary = QLabel(
            f"{len(report.rows)} rows: {report.rows_with_errors} with problems (in red). "
            f"{ready} shipment(s) ready to send"
            + (f"; {held} PO(s) held back until their rows are fixed." if held else ".")
        )
        self.summary.setWordWrap(True)
        self.model = BatchRowsModel(self)
        self.model.set_rows(report.rows)
        self.table = list_table(
            self.model,
            layout.BATCH_COLUMN_WIDTHS,
            multi_select=True,
        )
        self.details = QLabel("Select a row to read all of its problems here.")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table.selectionModel().currentRowChanged.connect(self._show_details)
        self.only_problems = QCheckBox("Only rows with problems")
        self.only_problems.toggled.connect(self._filter)
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.send_button = QPushButton(f"Send {ready} shipment(s)")
        self.send_button.setEnabled(ready > 0)
        self.send_button.clicked.connect(self.send)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.result_label, 1)
        buttons.addWidget(self.send_button)
        buttons.addWidget(close)
        box = dialog_layout(self)
        box.addWidget(self.summary)
        box.addWidget(self.only_problems)
        box.addWidget(self.table, 1)
        box.addWidget(self.details)
        box.addLayout(buttons)

    def _show_details(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        row = self.model.rows[current.row()]
        problems = row.errors + [f"Warning: {w}" for w in row.warnings]
        text = "\n".join(problems) if problems else "No problems."
        self.details.setText(f"Row {row.row}: {text}")
        color = layout.ERROR_COLOR if row.errors else layout.OK_COLOR
        self.details.setStyleSheet(f"color: {color};")

    def _filter(self, only: bool) -> None:
        rows = [r for r in self.report.rows if r.errors or r.warnings] if only else self.report.rows
        self.model.set_rows(rows)

    def send(self) -> None:
        self.send_button.setEnabled(False)
        service, report, prefix, wake = self._service, self.report, self._key_prefix, self._wake

        def work(_ctx: JobContext) -> int:
            queued = service.send_batch(report, key_prefix=prefix)
            wake()
            return len(queued)

        def done(count: int) -> None:
            self.result_label.setText(
                f"{count} shipment(s) queued; the Shipments list shows DSCO's answer for each."
            )
            self.result_label.setStyleSheet(f"color: {layout.OK_COLOR};")
            self.sent.emit(count)

        def failed(exc: BaseException) -> None:
            self.send_button.setEnabled(True)
            text = exc.message if isinstance(exc, UserFacingError) else f"Sending failed: {exc}"
            self.result_label.setText(text)
            self.result_label.setStyleSheet(f"color: {layout.ERROR_COLOR};")

        self._jobs.submit(work, name="send batch shipments", on_success=done, on_error=failed)


class ShipmentsTab(QWidget):
    """Form above, shipments below."""

    refreshed = Signal()  # the list was reloaded
    order_loaded = Signal(str)  # the form shows this dscoOrderId
    documents_written = Signal(str, int)  # PDF path, pages

    def __init__(
        self,
        service: ShippingService,
        jobs: JobRunner,
        client_provider: ClientProvider,
        wake_outbox: Callable[[], None],
        *,
        reconcile_interval_ms: int = RECONCILE_INTERVAL_MS,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._jobs = jobs
        self._client_provider = client_provider
        self._loading: Any = None
        self._listing: Any = None
        self._reconciling: Any = None
        self._refresh_again = False

        self.order_field = QLineEdit()
        self.order_field.setPlaceholderText("PO number or DSCO order id")
        self.order_field.setMinimumWidth(layout.SEARCH_FIELD_MIN_WIDTH)
        self.order_field.returnPressed.connect(self.open_typed_order)
        self.open_button = QPushButton("Open order")
        self.open_button.clicked.connect(self.open_typed_order)
        self.order_message = QLabel()
        self.order_message.setWordWrap(True)
        self.order_message.setVisible(False)

        self.form = ShipmentFormWidget(service, jobs, client_provider, wake_outbox)
        self.form.outcome_ready.connect(self._shipment_answered)
        self.form.shipment_queued.connect(lambda _r: self.refresh())
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        holder = QWidget()
        inner = QVBoxLayout(holder)
        inner.setContentsMargins(*(layout.PAGE_MARGIN,) * 4)
        inner.addWidget(self.form)
        scroll.setWidget(holder)

        self.filter_field = QLineEdit()
        self.filter_field.setPlaceholderText("Filter by PO, order or tracking number")
        self.filter_field.setMinimumWidth(layout.SEARCH_FIELD_MIN_WIDTH)
        self.state_filter = QComboBox()
        self.state_filter.addItem("All states", None)
        for state in ShipmentState:
            self.state_filter.addItem(state.label, state)
        self.model = ShipmentsModel(self)
        self.table = list_table(
            self.model,
            layout.SHIPMENTS_COLUMN_WIDTHS,
            multi_select=True,
        )
        self.table.doubleClicked.connect(self._open_selected)
        self.summary = QLabel()
        self.slip_button = QPushButton("Packing slips PDF…")
        self.slip_button.setToolTip(
            "Packing slips of the selected shipments' orders, or of the order in the form."
        )
        self.slip_button.clicked.connect(lambda: self.export_documents("slip"))
        self.pick_button = QPushButton("Pick list PDF…")
        self.pick_button.setToolTip("One pick list for the selected shipments' orders.")
        self.pick_button.clicked.connect(lambda: self.export_documents("pick"))
        self.documents_message = QLabel()
        self.documents_message.setVisible(False)
        self.batch_button = QPushButton("Ship from spreadsheet…")
        self.batch_button.setToolTip(
            "One row per PO and line: PO number, SKU or line number, quantity, carrier, "
            "service level, tracking number, ship date."
        )
        self.batch_button.clicked.connect(self._choose_batch_file)
        self.batch_dialog: BatchDialog | None = None
        self._wake_outbox = wake_outbox

        top = QHBoxLayout()
        top.addWidget(QLabel("Ship order"))
        top.addWidget(self.order_field)
        top.addWidget(self.open_button)
        top.addWidget(self.batch_button)
        top.addStretch(1)
        top.addWidget(self.documents_message)
        top.addWidget(self.slip_button)
        top.addWidget(self.pick_button)

        list_bar = QHBoxLayout()
        list_bar.addWidget(QLabel("Shipments"))
        list_bar.addWidget(self.filter_field)
        list_bar.addWidget(self.state_filter)
        list_bar.addStretch(1)
        list_bar.addWidget(self.summary)
        lower = QWidget()
        lower_box = QVBoxLayout(lower)
        lower_box.setContentsMargins(layout.PAGE_MARGIN, 0, layout.PAGE_MARGIN, 0)
        lower_box.addLayout(list_bar)
        lower_box.addWidget(self.table)

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(scroll)
        self.splitter.addWidget(lower)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)

        box = QVBoxLayout(self)
        box.setContentsMargins(0, layout.PAGE_MARGIN, 0, layout.PAGE_MARGIN)
        box.setSpacing(layout.SECTION_SPACING)
        head = QVBoxLayout()
        head.setContentsMargins(layout.PAGE_MARGIN, 0, layout.PAGE_MARGIN, 0)
        head.addLayout(top)
        head.addWidget(self.order_message)
        box.addLayout(head)
        box.addWidget(self.splitter, 1)

        self._filter_timer = coalescing_timer(self, self.refresh)
        self.filter_field.textChanged.connect(lambda _t: self._filter_timer.start())
        self.state_filter.currentIndexChanged.connect(lambda _i: self.refresh())
        self._reconcile_timer = QTimer(self)
        self._reconcile_timer.setInterval(reconcile_interval_ms)
        self._reconcile_timer.timeout.connect(self.reconcile)
        if reconcile_interval_ms > 0:
            self._reconcile_timer.start()

    # -- opening an order ---------------------------------------------------------------------

    def open_typed_order(self) -> None:
        text = self.order_field.text()
        service = self._service

        def work(_ctx: JobContext) -> ShipmentForm:
            return service.form(service.find_order(text))

        self._load(work)

    def open_order(self, dsco_order_id: str) -> None:
        """Show the form for one order (the order detail's "Ship" calls this)."""
        service = self._service
        self._load(lambda _ctx: service.form(dsco_order_id))

    def _load(self, work: Callable[[JobContext], ShipmentForm]) -> None:
        self.order_message.setVisible(False)
        self._loading = self._jobs.submit(
            work, name="open order for shipping", on_success=self._loaded, on_error=self._not_loaded
        )

    def _shipment_answered(self, outcome: Outcome) -> None:
        self.refresh()
        if outcome.state in (ShipmentState.CONFIRMED, ShipmentState.REJECTED):
            # Show what now remains (DSCO's answer stays on screen).
            order_id = outcome.shipment.dsco_order_id
            if order_id:
                service = self._service
                self._loading = self._jobs.submit(
                    lambda _ctx: service.form(order_id),
                    name="reload order after shipping",
                    on_success=lambda data: self._loaded(data, keep_result=True),
                    on_error=self._not_loaded,
                )

    def _loaded(self, data: ShipmentForm, *, keep_result: bool = False) -> None:
        self._loading = None
        self.form.load(data, keep_result=keep_result)
        self.order_field.setText(data.order.po_number or data.order.dsco_order_id)
        self.order_loaded.emit(data.order.dsco_order_id)

    def _not_loaded(self, exc: BaseException) -> None:
        self._loading = None
        text = exc.message if isinstance(exc, UserFacingError) else f"Could not open it: {exc}"
        if not isinstance(exc, UserFacingError):
            log.error("Opening an order for shipping failed", exc_info=exc)
        self.order_message.setText(text)
        self.order_message.setStyleSheet(f"color: {layout.ERROR_COLOR};")
        self.order_message.setVisible(True)

    def _open_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return
        record: ShipmentRecord = self.model.rows[rows[0].row()]
        if record.dsco_order_id:
            self.open_order(record.dsco_order_id)

    # -- the list -----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload the list (coalesced: one query at a time, one more if asked meanwhile)."""
        if self._jobs.closed:
            return
        if self._listing is not None:
            self._refresh_again = True
            return
        text = self.filter_field.text().strip() or None
        state = self.state_filter.currentData()
        states = [state] if isinstance(state, ShipmentState) else None
        service = self._service

        def work(_ctx: JobContext) -> list[ShipmentRecord]:
            return service.list(states=states, text=text)

        self._listing = self._jobs.submit(
            work, name="list shipments", on_success=self._listed, on_error=self._list_failed
        )

    def _listed(self, rows: list[ShipmentRecord]) -> None:
        self._listing = None
        self.model.set_rows(rows)
        counts: dict[ShipmentState, int] = {}
        for row in rows:
            counts[row.state] = counts.get(row.state, 0) + 1
        parts = [f"{n} {s.label.lower()}" for s, n in counts.items() if n]
        self.summary.setText(", ".join(parts) if parts else "No shipments yet.")
        self.refreshed.emit()
        if self._refresh_again:
            self._refresh_again = False
            self.refresh()

    def _list_failed(self, exc: BaseException) -> None:
        self._listing = None
        self.summary.setText(
            exc.message if isinstance(exc, UserFacingError) else "The list could not be read."
        )

    def reconcile(self) -> None:
        """Settle open shipments against the outbox and DSCO, then refresh if any moved."""
        if self._jobs.closed:
            # The app is shutting down: no more background work from this tab.
            self._reconcile_timer.stop()
            return
        if self._reconciling is not None:
            return
        client = self._client_provider()
        service = self._service

        def work(ctx: JobContext) -> int:
            return len(service.reconcile(client, should_stop=lambda: ctx.cancelled))

        def done(changed: int) -> None:
            self._reconciling = None
            if changed:
                self.refresh()

        def failed(exc: BaseException) -> None:
            self._reconciling = None
            log.info("Settling shipments failed: %s", exc)

        self._reconciling = self._jobs.submit(
            work, name="settle shipments", on_success=done, on_error=failed
        )

    # -- batch shipments ----------------------------------------------------------------------

    def _choose_batch_file(self) -> None:
        chosen, _filter = QFileDialog.getOpenFileName(
            self,
            "Ship from a spreadsheet",
            str(Path.home()),
            "Spreadsheets (*.xlsx *.xlsm *.xls *.ods *.csv *.tsv)",
        )
        if chosen:
            self.open_batch(Path(chosen))

    def open_batch(self, path: Path) -> None:
        """Check a batch shipment file on a job thread, then show the preview dialog."""
        service = self._service
        target = path

        def work(_ctx: JobContext) -> BatchReport:
            return service.check_batch_path(target)

        def done(report: BatchReport) -> None:
            try:
                stat = target.stat()
                prefix = f"{target.name}:{stat.st_size}:{int(stat.st_mtime)}"
            except OSError:
                prefix = target.name
            dialog = BatchDialog(
                report,
                service,
                self._jobs,
                wake_outbox=self._wake_outbox,
                key_prefix=prefix,
                parent=self,
            )
            dialog.sent.connect(lambda _n: self.refresh())
            self.batch_dialog = dialog
            dialog.open()

        def failed(exc: BaseException) -> None:
            self._not_loaded(exc)

        self._jobs.submit(work, name="check batch shipments", on_success=done, on_error=failed)

    # -- packing slips and pick lists ----------------------------------------------------------

    def selected_order_ids(self) -> list[str]:
        """Orders of the selected shipments, else the order in the form."""
        ids: list[str] = []
        for index in self.table.selectionModel().selectedRows():
            order_id = self.model.rows[index.row()].dsco_order_id
            if order_id and order_id not in ids:
                ids.append(order_id)
        if not ids and self.form.data is not None:
            ids.append(self.form.data.order.dsco_order_id)
        return ids

    def export_documents(
        self, kind: str, order_ids: list[str] | None = None, path: Path | None = None
    ) -> None:
        """Write packing slips ("slip") or a pick list ("pick") to a PDF on a job thread."""
        ids = order_ids if order_ids is not None else self.selected_order_ids()
        if not ids:
            self._documents_note("Open an order or select shipments first.", layout.ERROR_COLOR)
            return
        if path is None:
            name = "pick-list.pdf" if kind == "pick" else "packing-slips.pdf"
            path = ask_save_path(self, "Save PDF", str(Path.home() / name), "PDF files (*.pdf)")
            if path is None:
                return
        service = self._service
        target = path

        def work(_ctx: JobContext) -> tuple[Path, int]:
            title, html = service.documents(ids, kind)
            return target, write_pdf(html, target, title)

        def done(result: tuple[Path, int]) -> None:
            written, pages = result
            self._documents_note(f"Saved {written.name} ({pages} page(s)).", layout.OK_COLOR)
            self.documents_written.emit(str(written), pages)

        def failed(exc: BaseException) -> None:
            text = exc.message if isinstance(exc, UserFacingError) else f"PDF failed: {exc}"
            self._documents_note(text, layout.ERROR_COLOR)

        self._jobs.submit(work, name="write PDF", on_success=done, on_error=failed)

    def _documents_note(self, text: str, color: str) -> None:
        self.documents_message.setText(text)
        self.documents_message.setStyleSheet(f"color: {color};")
        self.documents_message.setVisible(True)

    def stop(self) -> None:
        """Stop the periodic settling (at shutdown)."""
        self._reconcile_timer.stop()
