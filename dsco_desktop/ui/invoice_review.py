"""The invoice review: the last look at an invoice before DSCO has it for good.

It says first that DSCO cannot change or re-use a sent invoice, then shows the number, the
date, the lines (quantity and unit price editable), shipping, handling and tax, and the total.
Every edit re-runs the checks: errors (a number already used, more units than shipped, a
missing price) are listed in red, next to the cell they name, and keep "Send invoice"
disabled; warnings (a price other than the order's expected cost) are listed in amber.
Sending records the invoice and its outbox row on the job thread; the dialog then closes.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from dsco_desktop.domain.invoicing import CANNOT_EDIT_NOTICE, InvoiceDraft, Issue, money
from dsco_desktop.services.invoicing import DraftContext, InvoicingService
from dsco_desktop.store.invoices import InvoiceRecord
from dsco_desktop.ui import layout
from dsco_desktop.ui.invoice_models import InvoiceLinesModel
from dsco_desktop.ui.jobs import JobContext, JobRunner
from dsco_desktop.ui.widgets import SendDialog, dialog_layout, error_label

# The lines table's column widths (the title column stretches).
LINE_COLUMN_WIDTHS = (48, 130, 220, 170, 56, 90, 90)
AMOUNT_FIELD_WIDTH = 110


class InvoiceReviewDialog(SendDialog):
    """Review, adjust and send one invoice (`sent`: the InvoiceRecord queued)."""

    checked = Signal()  # the issues list was refreshed

    def __init__(
        self,
        service: InvoicingService,
        context: DraftContext,
        jobs: JobRunner,
        *,
        on_sent: Callable[[], None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(jobs, "Send invoice", on_sent=on_sent, parent=parent)
        self._service = service
        self._context = context
        self.issues: list[Issue] = []
        draft = context.draft
        order = context.order
        self.setWindowTitle(f"Review invoice for PO {order.po_number or order.dsco_order_id}")
        self.setMinimumWidth(layout.DIALOG_MIN_WIDTH + 420)

        self.notice = QLabel(CANNOT_EDIT_NOTICE)
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet(
            f"background: {layout.WARNING_BACKGROUND}; border: 1px solid {layout.WARNING_BORDER};"
            f" padding: {layout.FORM_SPACING}px;"
        )

        self.number_field = QLineEdit(draft.invoice_id)
        self.number_field.setMinimumWidth(layout.FIELD_MIN_WIDTH // 2)
        self.number_error = _error_label()
        self.date_field = QLineEdit(draft.invoice_date)
        self.date_field.setReadOnly(True)
        self.freight_field = _amount_field(draft.freight_amount)
        self.handling_field = _amount_field(draft.handling_amount)
        self.tax_field = _amount_field(draft.sales_tax_amount)
        self.amount_error = _error_label()

        header = QFormLayout()
        header.setSpacing(layout.FORM_SPACING)
        header.addRow("Order", QLabel(f"PO {order.po_number or '-'}  (DSCO {order.dsco_order_id})"))
        number_box = QVBoxLayout()
        number_box.setSpacing(2)
        number_box.addWidget(self.number_field)
        number_box.addWidget(self.number_error)
        header.addRow("Invoice number", number_box)
        header.addRow("Invoice date", self.date_field)

        self.lines_model = InvoiceLinesModel(draft.lines, self)
        self.lines_model.edited.connect(lambda _row: self.recheck())
        self.lines = QTableView()
        self.lines.setModel(self.lines_model)
        self.lines.verticalHeader().setVisible(False)
        self.lines.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.lines.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        head = self.lines.horizontalHeader()
        for column, width in enumerate(LINE_COLUMN_WIDTHS):
            head.resizeSection(column, width)
        head.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        row_height = self.lines.verticalHeader().defaultSectionSize()
        visible = max(2, min(len(draft.lines), 8))
        self.lines.setMinimumHeight(row_height * (visible + 1) + 4)

        amounts = QFormLayout()
        amounts.setSpacing(layout.FORM_SPACING)
        amounts.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.subtotal_label = QLabel()
        self.total_label = QLabel()
        font = self.total_label.font()
        font.setBold(True)
        self.total_label.setFont(font)
        amounts.addRow("Lines subtotal", self.subtotal_label)
        amounts.addRow("Shipping (freight)", self.freight_field)
        amounts.addRow("Handling", self.handling_field)
        amounts.addRow("Sales tax", self.tax_field)
        amounts.addRow("Invoice total", self.total_label)
        amounts_row = QHBoxLayout()
        # Keep the amounts on the right whether or not an amount problem is shown.
        policy = self.amount_error.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.amount_error.setSizePolicy(policy)
        amounts_row.addWidget(self.amount_error, 1)
        amounts_row.addLayout(amounts)

        self.issues_label = QLabel()
        self.issues_label.setWordWrap(True)
        self.issues_label.setTextFormat(Qt.TextFormat.RichText)

        box = dialog_layout(self)
        box.addWidget(self.notice)
        box.addLayout(header)
        box.addWidget(self.lines, 1)
        box.addLayout(amounts_row)
        box.addWidget(self.issues_label)
        box.addWidget(self.buttons)

        for field in (self.number_field, self.freight_field, self.handling_field, self.tax_field):
            field.textEdited.connect(lambda _text: self.recheck())
        self.recheck()

    # -- the draft as edited ------------------------------------------------------------------

    def current_draft(self) -> tuple[InvoiceDraft, list[Issue]]:
        """The draft with the dialog's edits, and the problems of the fields themselves."""
        problems: list[Issue] = []
        values: dict[str, Decimal] = {}
        for name, field, label in (
            ("freight_amount", self.freight_field, "Shipping"),
            ("handling_amount", self.handling_field, "Handling"),
            ("sales_tax_amount", self.tax_field, "Sales tax"),
        ):
            try:
                values[name] = money(field.text())
            except ValueError:
                problems.append(Issue(f"{label}: '{field.text()}' is not an amount.", field=name))
                values[name] = Decimal("0.00")
        draft = self._context.draft.with_changes(
            invoice_id=self.number_field.text().strip(),
            lines=self.lines_model.lines,
            **values,
        )
        return draft, problems

    def recheck(self) -> list[Issue]:
        """Run every check on the edited draft and show the result."""
        draft, problems = self.current_draft()
        issues = problems + self._service.review(self._context, draft)
        self.issues = issues
        self.subtotal_label.setText(f"{draft.subtotal:,.2f} {draft.currency_code}")
        self.total_label.setText(f"{draft.total:,.2f} {draft.currency_code}")
        number = [i.message for i in issues if i.field == "number" and i.is_error]
        self.number_error.setText("\n".join(number))
        self.number_error.setVisible(bool(number))
        amount = [
            i.message
            for i in issues
            if i.field in ("freight_amount", "handling_amount", "sales_tax_amount", "freight")
            or i.field in ("handling", "tax", "total")
        ]
        self.amount_error.setText("\n".join(amount))
        self.amount_error.setVisible(bool(amount))
        self.lines_model.set_problems(
            {(i.line, i.field): i.message for i in issues if i.line is not None and i.field}
        )
        errors = [i for i in issues if i.is_error]
        warnings = [i for i in issues if not i.is_error]
        parts = [
            f"<span style='color:{layout.ERROR_COLOR}'>&#10007; {_html(i.message)}</span>"
            for i in errors
        ]
        parts += [
            f"<span style='color:{layout.ATTENTION_COLOR}'>! {_html(i.message)}</span>"
            for i in warnings
        ]
        if not issues:
            parts = [
                f"<span style='color:{layout.OK_COLOR}'>&#10003; Lines, amounts and number "
                "checked: ready to send.</span>"
            ]
        self.issues_label.setText("<br>".join(parts))
        self.send_button.setEnabled(not errors and self._sending is None)
        self.checked.emit()
        return issues

    # -- sending ------------------------------------------------------------------------------

    def send(self) -> None:
        """Record and queue the invoice on the job thread (nothing is sent with errors)."""
        issues = self.recheck()
        if any(i.is_error for i in issues) or self._sending is not None:
            return
        draft, _ = self.current_draft()
        context = self._context
        service = self._service
        self.send_button.setText("Sending…")

        def work(_ctx: JobContext) -> InvoiceRecord:
            return service.submit(context, draft)

        self.submit(work, "send invoice")

    def show_failure(self, message: str, detail: str) -> None:
        self.send_button.setText("Send invoice")
        self.issues_label.setText(
            f"<span style='color:{layout.ERROR_COLOR}'>&#10007; {_html(message)}"
            f"{'<br>' + _html(detail) if detail else ''}</span>"
        )


def _error_label() -> QLabel:
    label = error_label()
    label.setVisible(False)
    return label


def _amount_field(value: Decimal) -> QLineEdit:
    field = QLineEdit(f"{value:.2f}")
    field.setAlignment(Qt.AlignmentFlag.AlignRight)
    field.setFixedWidth(AMOUNT_FIELD_WIDTH)
    return field


def _html(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br>")
    )
