"""Return dialogs: completing a return line by line, and starting one for shipped units.

Completing: one row per returned line with Accept / Reject, the reason (required to reject),
"Put back in stock" and the warehouse (accepted lines only). Problems show next to the line
they name; "Send answers" stays disabled until every line is answered. The answers are
recorded and queued on the job thread; restocking happens once DSCO shows the return
completed, as a staged change in the Inventory tab.
Starting: the order's lines with the units that shipped and are not on a return yet, a
quantity and a reason code per line, and a return number from the pattern.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QSpinBox,
    QWidget,
)

from dsco_desktop.domain.invoicing import Issue
from dsco_desktop.domain.returns import (
    ACCEPTED,
    REASON_CODES,
    REJECT_REASONS,
    REJECTED,
    Decision,
    NewReturnLine,
    Returnable,
)
from dsco_desktop.services.returns import ReturnsService
from dsco_desktop.store.returns import ReturnRecord
from dsco_desktop.ui import layout
from dsco_desktop.ui.jobs import JobContext, JobRunner
from dsco_desktop.ui.widgets import SendDialog, dialog_layout, error_label

REASON_FIELD_WIDTH = 220
WAREHOUSE_FIELD_WIDTH = 90


class _LineRow:
    """The widgets of one returned line."""

    def __init__(self, parent: QWidget, warehouses: Sequence[str]) -> None:
        self.accept = QRadioButton("Accept", parent)
        self.reject = QRadioButton("Reject", parent)
        self.group = QButtonGroup(parent)
        self.group.addButton(self.accept)
        self.group.addButton(self.reject)
        self.reason = QComboBox(parent)
        self.reason.setEditable(True)
        self.reason.addItem("")
        self.reason.addItems(list(REJECT_REASONS))
        self.reason.setMinimumWidth(REASON_FIELD_WIDTH)
        line_edit = self.reason.lineEdit()
        if line_edit is not None:
            line_edit.setPlaceholderText("Reason (needed to reject)")
        self.restock = QCheckBox("Put back in stock", parent)
        self.warehouse = QComboBox(parent)
        self.warehouse.setEditable(True)
        self.warehouse.addItems(list(warehouses))
        self.warehouse.setMinimumWidth(WAREHOUSE_FIELD_WIDTH)
        self.problem = error_label()
        self.problem.setParent(parent)
        self.problem.setVisible(False)

    def response(self) -> str | None:
        if self.accept.isChecked():
            return ACCEPTED
        if self.reject.isChecked():
            return REJECTED
        return None

    def sync(self) -> None:
        accepted = self.accept.isChecked()
        self.restock.setEnabled(accepted)
        if not accepted:
            self.restock.setChecked(False)
        self.warehouse.setEnabled(accepted and self.restock.isChecked())


class ReturnCompletionDialog(SendDialog):
    """Answer every line of a return, then send the answers (`sent`: the ReturnRecord)."""

    checked = Signal()

    def __init__(
        self,
        service: ReturnsService,
        record: ReturnRecord,
        jobs: JobRunner,
        *,
        warehouses: Sequence[str] = ("WH01",),
        on_sent: Callable[[], None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(jobs, "Send answers", on_sent=on_sent, parent=parent)
        self._service = service
        self._record = record
        self.issues: list[Issue] = []
        self.setWindowTitle(f"Complete return {record.return_number}")
        self.setMinimumWidth(layout.DIALOG_MIN_WIDTH + 380)

        intro = QLabel(
            f"Return {record.return_number} for PO {record.po_number or '-'}"
            f"{' - ' + record.reason if record.reason else ''}. Answer every line: accepted "
            "units can go back into stock (a staged change in the Inventory tab, sent when you "
            "push inventory)."
        )
        intro.setWordWrap(True)

        grid = QGridLayout()
        grid.setHorizontalSpacing(layout.SECTION_SPACING)
        grid.setVerticalSpacing(layout.INLINE_SPACING)
        for column, title in enumerate(
            ("Line", "Qty", "Returned because", "Answer", "", "Reason", "Restock", "Warehouse")
        ):
            label = QLabel(f"<b>{title}</b>")
            grid.addWidget(label, 0, column)
        self.rows: list[_LineRow] = []
        for position, line in enumerate(record.lines):
            row = _LineRow(self, warehouses)
            r = 1 + position * 2
            title = line.sku or line.dsco_item_id or "?"
            if line.line_number is not None:
                title = f"{line.line_number}. {title}"
            grid.addWidget(QLabel(title), r, 0)
            grid.addWidget(QLabel(str(line.quantity)), r, 1)
            grid.addWidget(QLabel(line.reason_code or "-"), r, 2)
            grid.addWidget(row.accept, r, 3)
            grid.addWidget(row.reject, r, 4)
            grid.addWidget(row.reason, r, 5)
            grid.addWidget(row.restock, r, 6)
            grid.addWidget(row.warehouse, r, 7)
            grid.addWidget(row.problem, r + 1, 3, 1, 5)
            if line.response == ACCEPTED:
                row.accept.setChecked(True)
            elif line.response == REJECTED:
                row.reject.setChecked(True)
            if line.decision_reason:
                row.reason.setCurrentText(line.decision_reason)
            row.restock.setChecked(line.restock)
            if line.warehouse_code:
                row.warehouse.setCurrentText(line.warehouse_code)
            for signal in (row.accept.toggled, row.reject.toggled, row.restock.toggled):
                signal.connect(lambda _on: self.recheck())
            row.reason.currentTextChanged.connect(lambda _t: self.recheck())
            row.warehouse.currentTextChanged.connect(lambda _t: self.recheck())
            self.rows.append(row)
        grid.setColumnStretch(5, 1)

        self.summary = QLabel()
        self.summary.setWordWrap(True)

        box = dialog_layout(self)
        box.addWidget(intro)
        box.addLayout(grid)
        box.addWidget(self.summary)
        box.addStretch(1)
        box.addWidget(self.buttons)
        self.recheck()

    def decisions(self) -> list[Decision]:
        return [
            Decision(
                index=line.line_index,
                response=row.response(),
                reason=row.reason.currentText(),
                restock=row.restock.isChecked(),
                warehouse_code=row.warehouse.currentText().strip() or None,
            )
            for line, row in zip(self._record.lines, self.rows, strict=True)
        ]

    def recheck(self) -> list[Issue]:
        for row in self.rows:
            row.sync()
        issues = self._service.check(self._record.return_number, self.decisions())
        self.issues = issues
        by_line: dict[int, list[str]] = {}
        general: list[str] = []
        for issue in issues:
            if issue.line is None:
                general.append(issue.message)
            else:
                by_line.setdefault(issue.line, []).append(issue.message)
        for position, row in enumerate(self.rows):
            messages = by_line.get(position, [])
            # "choose Accept or Reject" is what every fresh line says: not an error yet.
            shown = [m for m in messages if not m.endswith("choose Accept or Reject.")]
            row.problem.setText(" ".join(shown))
            row.problem.setVisible(bool(shown))
        accepted = sum(1 for row in self.rows if row.response() == ACCEPTED)
        rejected = sum(1 for row in self.rows if row.response() == REJECTED)
        waiting = len(self.rows) - accepted - rejected
        text = f"{accepted} accepted, {rejected} rejected, {waiting} to answer."
        if general:
            text = " ".join(general) + " " + text
        self.summary.setText(text)
        self.summary.setStyleSheet(f"color: {layout.ERROR_COLOR};" if general else "")
        self.send_button.setEnabled(not any(i.is_error for i in issues) and self._sending is None)
        self.checked.emit()
        return issues

    def send(self) -> None:
        issues = self.recheck()
        if any(i.is_error for i in issues) or self._sending is not None:
            return
        decisions = self.decisions()
        number = self._record.return_number
        service = self._service

        def work(_ctx: JobContext) -> ReturnRecord:
            return service.complete(number, decisions)

        self.submit(work, "complete return")

    def show_failure(self, message: str, detail: str) -> None:
        self.summary.setText(f"{message} {detail}".strip())
        self.summary.setStyleSheet(f"color: {layout.ERROR_COLOR};")


class StartReturnDialog(SendDialog):
    """Start a return for units of an order that shipped (a parcel came back)."""

    def __init__(
        self,
        service: ReturnsService,
        dsco_order_id: str,
        returnable: Sequence[Returnable],
        number: str,
        jobs: JobRunner,
        *,
        po_number: str | None = None,
        on_sent: Callable[[], None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(jobs, "Start return", default=False, on_sent=on_sent, parent=parent)
        self._service = service
        self._order_id = dsco_order_id
        self._returnable = list(returnable)
        self.setWindowTitle(f"Start a return for PO {po_number or dsco_order_id}")
        self.setMinimumWidth(layout.DIALOG_MIN_WIDTH + 160)

        self.number_field = QLineEdit(number)
        self.reason_field = QLineEdit()
        self.reason_field.setPlaceholderText("Optional note, e.g. parcel came back to sender")
        form = QFormLayout()
        form.setSpacing(layout.FORM_SPACING)
        form.addRow("Return number", self.number_field)
        form.addRow("Note", self.reason_field)

        grid = QGridLayout()
        grid.setHorizontalSpacing(layout.SECTION_SPACING)
        for column, title in enumerate(
            ("Line", "Shipped", "Already returned", "Coming back", "Reason code")
        ):
            grid.addWidget(QLabel(f"<b>{title}</b>"), 0, column)
        self.quantities: list[QSpinBox] = []
        self.reasons: list[QComboBox] = []
        for position, line in enumerate(self._returnable, start=1):
            label = line.sku or line.dsco_item_id or "?"
            if line.line_number is not None:
                label = f"{line.line_number}. {label}"
            spin = QSpinBox()
            spin.setRange(0, max(0, line.open_units))
            spin.setEnabled(line.open_units > 0)
            reason = QComboBox()
            reason.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            for code, text in REASON_CODES.items():
                reason.addItem(f"{code} - {text}", code)
            grid.addWidget(QLabel(label), position, 0)
            grid.addWidget(QLabel(str(line.shipped)), position, 1)
            grid.addWidget(QLabel(str(line.returned)), position, 2)
            grid.addWidget(spin, position, 3)
            grid.addWidget(reason, position, 4)
            self.quantities.append(spin)
            self.reasons.append(reason)
        grid.setColumnStretch(4, 1)

        self.message = error_label()

        box = dialog_layout(self)
        box.addLayout(form)
        box.addLayout(grid)
        box.addWidget(self.message)
        box.addWidget(self.buttons)

    def lines(self) -> list[NewReturnLine]:
        result = []
        for line, spin, reason in zip(self._returnable, self.quantities, self.reasons, strict=True):
            code = reason.currentData()
            result.append(NewReturnLine(line.key, spin.value(), str(code or "")))
        return result

    def send(self) -> None:
        if self._sending is not None:
            return
        number = self.number_field.text()
        lines = self.lines()
        reason = self.reason_field.text()
        service, order_id = self._service, self._order_id

        def work(_ctx: JobContext) -> ReturnRecord:
            return service.start(order_id, number, lines, reason=reason)

        self.submit(work, "start return")

    def show_failure(self, message: str, detail: str) -> None:
        self.message.setText(f"{message}\n{detail}".strip())
