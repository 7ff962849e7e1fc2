"""The Invoices & Returns tab: billing what shipped, and answering what comes back.

Invoices: the orders with shipped units not invoiced yet ("Create invoice" opens the review
for the selected order; "Invoice a day" bills every order shipped that day in small batches,
after one confirmation), and below them every invoice with its DSCO state. Returns: DSCO's
returns and those started here, with DSCO's status and the next step; "Complete" answers a
return line by line, "Start a return" opens one for an order's shipped units.
Both lists filter in SQL on a job thread and reset their model, and export to xlsx (or csv)
through the shared spreadsheet writer. A timer settles queued invoices and returns against the
outbox and DSCO (change logs, the return search) on a job, then reloads the lists.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, Qt, QTimer, Signal, SignalInstance
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from dsco_desktop.domain.invoicing import CANNOT_EDIT_NOTICE
from dsco_desktop.errors import UserFacingError
from dsco_desktop.services.invoicing import BulkResult, DraftContext, InvoicingService
from dsco_desktop.services.returns import ReturnsService
from dsco_desktop.spreadsheets.export import write_table
from dsco_desktop.store.invoices import InvoiceRecord, InvoiceState, UninvoicedOrder
from dsco_desktop.store.returns import ReturnSummary
from dsco_desktop.ui import layout
from dsco_desktop.ui.invoice_models import InvoicesModel, ReturnsModel, UninvoicedModel
from dsco_desktop.ui.invoice_review import InvoiceReviewDialog
from dsco_desktop.ui.jobs import JobContext, JobRunner
from dsco_desktop.ui.return_dialog import ReturnCompletionDialog, StartReturnDialog
from dsco_desktop.ui.widgets import (
    EXPORT_FILTERS,
    SendDialog,
    ask_save_path,
    coalescing_timer,
    list_table,
    page_layout,
)

log = logging.getLogger(__name__)

ClientProvider = Callable[[], Any]

# How often queued invoices and returns are settled and DSCO's returns pulled (ms).
SETTLE_INTERVAL_MS = 15000
UNINVOICED_COLUMN_WIDTHS = (200, 100, 100, 150, 100, 260, 110)
INVOICE_COLUMN_WIDTHS = (160, 200, 100, 60, 100, 140, 300)
RETURN_COLUMN_WIDTHS = (150, 200, 100, 180, 60, 90, 100, 200)
RETURN_STATUSES = ("created", "acknowledged", "completed")


def _search(placeholder: str) -> QLineEdit:
    field = QLineEdit()
    field.setPlaceholderText(placeholder)
    field.setClearButtonEnabled(True)
    field.setMinimumWidth(layout.SEARCH_FIELD_MIN_WIDTH)
    return field


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    return label


class InvoicesReturnsTab(QWidget):
    """Invoices and returns, each with its list, filters, actions and export."""

    refreshed = Signal()  # every list was reloaded
    message = Signal(str)  # a status line for the main window
    review_opened = Signal(object)  # the InvoiceReviewDialog
    completion_opened = Signal(object)  # the ReturnCompletionDialog
    start_opened = Signal(object)  # the StartReturnDialog

    def __init__(
        self,
        invoicing: InvoicingService,
        returns: ReturnsService,
        jobs: JobRunner,
        client_provider: ClientProvider,
        wake_outbox: Callable[[], None],
        *,
        warehouses: Callable[[], Sequence[str]] = lambda: ("WH01",),
        settle_interval_ms: int = SETTLE_INTERVAL_MS,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._invoicing = invoicing
        self._returns = returns
        self._jobs = jobs
        self._client_provider = client_provider
        self._wake_outbox = wake_outbox
        self._warehouses = warehouses
        self._loading: Any = None
        self._settling: Any = None
        self._reload_again = False
        self.dialog: QWidget | None = None

        self.pages = QTabWidget()
        self.pages.addTab(self._build_invoices(), "Invoices")
        self.pages.addTab(self._build_returns(), "Returns")
        box = page_layout(self, spacing=None)
        box.addWidget(self.pages)

        self._coalesce = coalescing_timer(self, self.reload)
        self._settle_timer = QTimer(self)
        self._settle_timer.setInterval(settle_interval_ms)
        self._settle_timer.timeout.connect(self.settle_now)
        if settle_interval_ms > 0:
            self._settle_timer.start()

    # -- building -----------------------------------------------------------------------------

    def _build_invoices(self) -> QWidget:
        self.uninvoiced_search = _search("Filter by PO, order, customer or SKU")
        self.uninvoiced_search.textChanged.connect(lambda _t: self.schedule_reload())
        self.create_button = QPushButton("Create invoice…")
        self.create_button.clicked.connect(self.create_invoice_for_selection)
        self.bulk_date = QDateEdit(QDate.currentDate())
        self.bulk_date.setCalendarPopup(True)
        self.bulk_date.setDisplayFormat("yyyy-MM-dd")
        self.bulk_button = QPushButton("Invoice all shipped that day…")
        self.bulk_button.clicked.connect(self._invoice_chosen_day)
        self.uninvoiced_model = UninvoicedModel(self)
        self.uninvoiced_table = list_table(self.uninvoiced_model, UNINVOICED_COLUMN_WIDTHS)
        self.uninvoiced_table.doubleClicked.connect(lambda _i: self.create_invoice_for_selection())
        self.uninvoiced_summary = QLabel()

        top_bar = QHBoxLayout()
        top_bar.addWidget(self.uninvoiced_search)
        top_bar.addWidget(self.create_button)
        top_bar.addStretch(1)
        top_bar.addWidget(QLabel("Shipped on"))
        top_bar.addWidget(self.bulk_date)
        top_bar.addWidget(self.bulk_button)
        upper = QWidget()
        upper_box = QVBoxLayout(upper)
        upper_box.setContentsMargins(0, 0, 0, 0)
        upper_box.addWidget(_heading("Shipped, not invoiced yet"))
        upper_box.addLayout(top_bar)
        upper_box.addWidget(self.uninvoiced_table, 1)
        upper_box.addWidget(self.uninvoiced_summary)

        self.invoice_search = _search("Filter by invoice number, PO or order")
        self.invoice_search.textChanged.connect(lambda _t: self.schedule_reload())
        self.invoice_state = QComboBox()
        self.invoice_state.addItem("All states", None)
        for state in InvoiceState:
            self.invoice_state.addItem(state.label, state)
        self.invoice_state.currentIndexChanged.connect(lambda _i: self.schedule_reload())
        self.invoice_export = QPushButton("Export…")
        self.invoice_export.clicked.connect(lambda: self._ask_export("invoices"))
        self.invoices_model = InvoicesModel(self)
        self.invoices_table = list_table(self.invoices_model, INVOICE_COLUMN_WIDTHS)
        self.invoices_summary = QLabel()
        bar = QHBoxLayout()
        bar.addWidget(self.invoice_search)
        bar.addWidget(self.invoice_state)
        bar.addStretch(1)
        bar.addWidget(self.invoice_export)
        lower = QWidget()
        lower_box = QVBoxLayout(lower)
        lower_box.setContentsMargins(0, 0, 0, 0)
        lower_box.addWidget(_heading("Invoices"))
        lower_box.addLayout(bar)
        lower_box.addWidget(self.invoices_table, 1)
        lower_box.addWidget(self.invoices_summary)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(upper)
        splitter.addWidget(lower)
        splitter.setChildrenCollapsible(False)
        page = QWidget()
        box = QVBoxLayout(page)
        box.setContentsMargins(*(layout.FORM_SPACING,) * 4)
        box.addWidget(splitter)
        return page

    def _build_returns(self) -> QWidget:
        self.return_search = _search("Filter by return number, PO, order or SKU")
        self.return_search.textChanged.connect(lambda _t: self.schedule_reload())
        self.return_status = QComboBox()
        self.return_status.addItem("All returns", None)
        self.return_status.addItem("Waiting for an answer", ["created", "acknowledged"])
        self.return_status.addItem("Completed", ["completed"])
        self.return_status.currentIndexChanged.connect(lambda _i: self.schedule_reload())
        self.complete_button = QPushButton("Complete…")
        self.complete_button.clicked.connect(self.complete_selected_return)
        self.start_order = QLineEdit()
        self.start_order.setPlaceholderText("PO number or DSCO order id")
        self.start_order.setMinimumWidth(layout.SEARCH_FIELD_MIN_WIDTH)
        self.start_button = QPushButton("Start a return…")
        self.start_button.clicked.connect(lambda: self.start_return(self.start_order.text()))
        self.pull_button = QPushButton("Check DSCO now")
        self.pull_button.clicked.connect(self.settle_now)
        self.return_export = QPushButton("Export…")
        self.return_export.clicked.connect(lambda: self._ask_export("returns"))
        self.returns_model = ReturnsModel(self)
        self.returns_table = list_table(self.returns_model, RETURN_COLUMN_WIDTHS)
        self.returns_table.doubleClicked.connect(lambda _i: self.complete_selected_return())
        self.returns_summary = QLabel()

        bar = QHBoxLayout()
        bar.addWidget(self.return_search)
        bar.addWidget(self.return_status)
        bar.addWidget(self.complete_button)
        bar.addStretch(1)
        bar.addWidget(self.pull_button)
        bar.addWidget(self.return_export)
        start_bar = QHBoxLayout()
        start_bar.addWidget(QLabel("A parcel came back?"))
        start_bar.addWidget(self.start_order)
        start_bar.addWidget(self.start_button)
        start_bar.addStretch(1)
        page = QWidget()
        box = QVBoxLayout(page)
        box.setContentsMargins(*(layout.FORM_SPACING,) * 4)
        box.addLayout(bar)
        box.addWidget(self.returns_table, 1)
        box.addWidget(self.returns_summary)
        box.addLayout(start_bar)
        return page

    # -- loading ------------------------------------------------------------------------------

    def schedule_reload(self) -> None:
        """Reload soon; typing in a filter coalesces into one query."""
        self._coalesce.start()

    def reload(self) -> None:
        """Query every list on a job thread, then reset the models."""
        if self._jobs.closed:
            return
        if self._loading is not None:
            self._reload_again = True
            return
        text_u = self.uninvoiced_search.text()
        text_i = self.invoice_search.text()
        state = self.invoice_state.currentData()
        text_r = self.return_search.text()
        statuses = self.return_status.currentData()
        invoicing, returns = self._invoicing, self._returns

        def work(
            _ctx: JobContext,
        ) -> tuple[list[UninvoicedOrder], list[InvoiceRecord], list[ReturnSummary]]:
            return (
                invoicing.uninvoiced(text=text_u),
                invoicing.list_invoices(states=[state] if state else None, text=text_i),
                returns.list_returns(text=text_r, statuses=statuses),
            )

        self._loading = self._jobs.submit(
            work,
            name="load invoices and returns",
            on_success=self._loaded,
            on_error=self._load_failed,
        )

    def _loaded(self, result: Any) -> None:
        self._loading = None
        uninvoiced, invoices, returns = result
        self.uninvoiced_model.set_rows(uninvoiced)
        self.invoices_model.set_rows(invoices)
        self.returns_model.set_rows(returns)
        units = sum(r.open_units for r in uninvoiced)
        self.uninvoiced_summary.setText(
            f"{len(uninvoiced)} order(s) with {units} shipped unit(s) to invoice."
        )
        rejected = sum(1 for r in invoices if r.state is InvoiceState.REJECTED)
        self.invoices_summary.setText(
            f"{len(invoices)} invoice(s)" + (f", {rejected} rejected by DSCO." if rejected else ".")
        )
        waiting = sum(1 for r in returns if (r.status or "") in ("created", "acknowledged"))
        self.returns_summary.setText(
            f"{len(returns)} return(s), {waiting} waiting for your answer."
        )
        if self._reload_again:
            self._reload_again = False
            self.reload()
        self.refreshed.emit()

    def _load_failed(self, exc: BaseException) -> None:
        self._loading = None
        self.message.emit(str(exc))

    def settle_now(self) -> None:
        """Settle queued invoices and returns and pull DSCO's returns, then reload."""
        if self._settling is not None or self._jobs.closed:
            return
        client = self._client_provider()
        invoicing, returns = self._invoicing, self._returns

        def work(ctx: JobContext) -> str:
            changed = invoicing.settle(client, should_stop=lambda: ctx.cancelled)
            report, settled = returns.refresh(client, should_stop=lambda: ctx.cancelled)
            parts = []
            if changed:
                parts.append(f"{len(changed)} invoice(s) updated by DSCO")
            if report is not None and report.changed:
                parts.append(f"{len(report.changed)} return(s) new or changed at DSCO")
            if settled:
                parts.append(f"{len(settled)} return(s) answered by DSCO")
            return "; ".join(parts)

        def done(text: object) -> None:
            self._settling = None
            if text:
                self.message.emit(str(text))
            self.reload()

        def failed(exc: BaseException) -> None:
            self._settling = None
            self.message.emit(exc.message if isinstance(exc, UserFacingError) else str(exc))
            self.reload()

        self._settling = self._jobs.submit(
            work, name="settle invoices and returns", on_success=done, on_error=failed
        )

    # -- invoices -----------------------------------------------------------------------------

    def _selected(self, table: QTableView, model: Any) -> Any:
        rows = table.selectionModel().selectedRows()
        return model.row_at(rows[0].row()) if rows else None

    def create_invoice_for_selection(self) -> None:
        order = self._selected(self.uninvoiced_table, self.uninvoiced_model)
        if order is None:
            self.message.emit("Select a shipped order to invoice.")
            return
        self.create_invoice(order.dsco_order_id)

    def create_invoice(self, dsco_order_id: str) -> None:
        """Build the draft on a job, then open the review."""
        invoicing = self._invoicing

        def work(_ctx: JobContext) -> DraftContext:
            return invoicing.draft(dsco_order_id)

        def build(context: DraftContext) -> SendDialog:
            return InvoiceReviewDialog(
                self._invoicing, context, self._jobs, on_sent=self._queued, parent=self
            )

        self._open_after(
            work,
            "draft invoice",
            build,
            self.review_opened,
            lambda r: f"Invoice {r.invoice_id} queued for DSCO.",
        )

    def _open_after(
        self,
        work: Callable[[JobContext], Any],
        name: str,
        build: Callable[[Any], SendDialog],
        opened: SignalInstance,
        queued_text: Callable[[Any], str],
    ) -> None:
        """Prepare on a job, then open the dialog `build` makes from the result (a problem is
        said in the status bar); once it queued its record, say so with `queued_text`."""

        def ready(result: Any) -> None:
            dialog = build(result)
            dialog.sent.connect(lambda record: self.message.emit(queued_text(record)))
            self.dialog = dialog
            opened.emit(dialog)
            dialog.open()

        self._jobs.submit(work, name=name, on_success=ready, on_error=self._say_error)

    def _say_error(self, exc: BaseException) -> None:
        self.message.emit(str(exc))

    def _queued(self) -> None:
        self._wake_outbox()
        self.reload()

    def _invoice_chosen_day(self) -> None:
        chosen = self.bulk_date.date()
        self.invoice_day(date(chosen.year(), chosen.month(), chosen.day()))

    def invoice_day(self, day: date) -> None:
        """Bill every order with a package shipped on `day`, after one confirmation."""
        invoicing = self._invoicing

        def work(_ctx: JobContext) -> tuple[list[DraftContext], list[tuple[str, str]]]:
            return invoicing.drafts_for_day(day)

        def ready(result: Any) -> None:
            contexts, skipped = result
            if not contexts:
                self.message.emit(f"Nothing shipped on {day.isoformat()} is left to invoice.")
                return
            total = sum(c.draft.total for c in contexts)
            text = (
                f"{len(contexts)} invoice(s) for orders shipped on {day.isoformat()}, "
                f"{total:,.2f} in all.\n\n{CANNOT_EDIT_NOTICE}"
            )
            if skipped:
                text += "\n\nLeft out: " + "; ".join(f"{label}: {why}" for label, why in skipped)
            if self.confirm_bulk(text):
                self._submit_bulk(contexts)

        self._jobs.submit(
            work,
            name="draft invoices of a day",
            on_success=ready,
            on_error=self._say_error,
        )

    def confirm_bulk(self, text: str) -> bool:
        """Ask before sending a day's invoices (tests replace this)."""
        answer = QMessageBox.question(
            self,
            "Invoice a day's shipments",
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _submit_bulk(self, contexts: Sequence[DraftContext]) -> None:
        invoicing = self._invoicing

        def work(_ctx: JobContext) -> BulkResult:
            return invoicing.submit_bulk(contexts)

        def done(result: object) -> None:
            assert isinstance(result, BulkResult)
            text = f"{len(result.queued)} invoice(s) queued for DSCO."
            if result.held_back:
                text += " Held back: " + "; ".join(
                    f"{label}: {issues[0].message}" for label, issues in result.held_back if issues
                )
            self.message.emit(text)
            self._queued()

        self._jobs.submit(
            work,
            name="send invoices of a day",
            on_success=done,
            on_error=self._say_error,
        )

    # -- returns ------------------------------------------------------------------------------

    def complete_selected_return(self) -> None:
        summary = self._selected(self.returns_table, self.returns_model)
        if summary is None:
            self.message.emit("Select a return to complete.")
            return
        self.complete_return(summary.return_number)

    def complete_return(self, number: str) -> None:
        returns = self._returns
        warehouses = self._warehouses

        def work(_ctx: JobContext) -> tuple[Any, Sequence[str]]:
            record = returns.get(number)
            if record.completed:
                raise UserFacingError(f"Return {number} is already completed.")
            return record, list(warehouses())

        def build(result: Any) -> SendDialog:
            record, codes = result
            return ReturnCompletionDialog(
                self._returns,
                record,
                self._jobs,
                warehouses=codes or ("WH01",),
                on_sent=self._queued,
                parent=self,
            )

        self._open_after(
            work,
            "open return",
            build,
            self.completion_opened,
            lambda r: f"Answers for return {r.return_number} queued.",
        )

    def start_return(self, order_text: str) -> None:
        """Open the start-a-return dialog for the order a PO or order id names."""
        text = order_text.strip()
        if not text:
            self.message.emit("Type the PO number or DSCO order id of the order that came back.")
            return
        returns = self._returns

        def work(_ctx: JobContext) -> tuple[str, str | None, Any, str]:
            found = returns.find_order(text)
            returnable = returns.returnable(found[0])
            if not any(line.open_units for line in returnable):
                raise UserFacingError(f"Nothing shipped on order {text} can come back.")
            return found[0], found[1], returnable, returns.next_number(found[1])

        def build(result: Any) -> SendDialog:
            order_id, po, returnable, number = result
            return StartReturnDialog(
                self._returns,
                order_id,
                returnable,
                number,
                self._jobs,
                po_number=po,
                on_sent=self._queued,
                parent=self,
            )

        self._open_after(
            work,
            "start return",
            build,
            self.start_opened,
            lambda r: f"Return {r.return_number} queued for DSCO.",
        )

    # -- export -------------------------------------------------------------------------------

    def _ask_export(self, what: str) -> None:
        path = ask_save_path(
            self, f"Export {what}", f"{what}-{date.today().isoformat()}.xlsx", EXPORT_FILTERS
        )
        if path:
            self.export(what, path)

    def export(self, what: str, path: Path) -> Any:
        """Write the list as it is filtered now to `path` on a job thread."""
        if what == "invoices":
            headers = [c.title for c in InvoicesModel.columns] + ["Order", "DSCO invoice id"]
            rows: list[list[Any]] = [
                [c.text(r) for c in InvoicesModel.columns] + [r.dsco_order_id, r.dsco_invoice_id]
                for r in self.invoices_model.rows
            ]
        else:
            headers = [c.title for c in ReturnsModel.columns] + ["Order", "DSCO return id"]
            rows = [
                [c.text(r) for c in ReturnsModel.columns] + [r.dsco_order_id, r.dsco_return_id]
                for r in self.returns_model.rows
            ]

        def work(_ctx: JobContext) -> int:
            return write_table(path, headers, rows)

        return self._jobs.submit(
            work,
            name=f"export {what}",
            on_success=lambda n: self.message.emit(f"{n} {what} saved to {path.name}."),
            on_error=self._say_error,
        )
