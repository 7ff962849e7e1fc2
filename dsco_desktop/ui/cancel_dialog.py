"""The cancel dialog: how many units of each open line to cancel, and DSCO's reason code.

One row per line that still has units to ship: the SKU and title, what is left, a quantity
(0 = keep) and a reason picked by its plain-language label (the code is sent). A note goes to
DSCO as the cancelled reason. Mistakes are shown inline under the lines and keep the dialog
open; nothing is queued until the quantities make sense.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from dsco_desktop.domain.orders import (
    SUPPLIER_CANCEL_CODES,
    CancelLine,
    CancelRequestError,
    check_cancel_lines,
)
from dsco_desktop.ui import layout
from dsco_desktop.ui.widgets import dialog_layout, error_label


@dataclass(frozen=True)
class OpenLine:
    """A line the dialog offers: what is left of it to cancel."""

    line_number: int | None
    sku: str | None
    title: str | None
    remaining: int


class CancelDialog(QDialog):
    """Pick quantities and reasons; `lines()` gives what to cancel once accepted."""

    def __init__(
        self,
        po_number: str,
        open_lines: Sequence[OpenLine],
        *,
        retailer_request: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Cancel lines of PO {po_number}")
        self.setMinimumWidth(layout.DIALOG_MIN_WIDTH + 160)
        self._open = [line for line in open_lines if line.remaining > 0]
        self.quantities: list[QSpinBox] = []
        self.reasons: list[QComboBox] = []

        intro = QLabel(
            "Choose how many units of each line to cancel and why. DSCO tells the retailer; "
            "units you keep stay open to ship."
        )
        intro.setWordWrap(True)
        box = dialog_layout(self)
        box.addWidget(intro)
        if retailer_request:
            banner = QLabel(f"⚠ The retailer asked to cancel this order ({retailer_request}).")
            banner.setWordWrap(True)
            banner.setStyleSheet(
                f"background:{layout.WARNING_BACKGROUND}; border:1px solid "
                f"{layout.WARNING_BORDER}; padding:6px;"
            )
            box.addWidget(banner)

        grid = QGridLayout()
        grid.setHorizontalSpacing(layout.SECTION_SPACING)
        grid.setVerticalSpacing(layout.FORM_SPACING)
        for column, text in enumerate(("Line", "Item", "Left", "Cancel", "Reason")):
            header = QLabel(f"<b>{text}</b>")
            grid.addWidget(header, 0, column)
        default_code = "CXSC" if retailer_request else "CXSS"
        for row, line in enumerate(self._open, start=1):
            item = QLabel(" · ".join(x for x in (line.sku, line.title) if x))
            item.setWordWrap(True)
            item.setMinimumWidth(layout.FIELD_MIN_WIDTH - 80)
            quantity = QSpinBox()
            quantity.setRange(0, line.remaining)
            quantity.setAccessibleName(f"Units to cancel on line {line.line_number}")
            reason = QComboBox()
            for code, label in SUPPLIER_CANCEL_CODES.items():
                reason.addItem(f"{label} ({code})", code)
            reason.setCurrentIndex(list(SUPPLIER_CANCEL_CODES).index(default_code))
            grid.addWidget(QLabel(str(line.line_number or "")), row, 0)
            grid.addWidget(item, row, 1)
            grid.addWidget(QLabel(str(line.remaining)), row, 2, Qt.AlignmentFlag.AlignRight)
            grid.addWidget(quantity, row, 3)
            grid.addWidget(reason, row, 4)
            quantity.valueChanged.connect(self._validate)
            self.quantities.append(quantity)
            self.reasons.append(reason)
        grid.setColumnStretch(1, 1)
        box.addLayout(grid)

        self.note = QLineEdit()
        self.note.setPlaceholderText("Note for the retailer (optional)")
        box.addWidget(self.note)
        self.error_label = error_label()
        box.addWidget(self.error_label)
        if not self._open:
            self.error_label.setText("Every line is already shipped or cancelled.")

        self.buttons = QDialogButtonBox()
        self.ok_button = self.buttons.addButton(
            "Cancel these units", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.addButton("Keep the order", QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        box.addWidget(self.buttons)
        self._validate()

    def set_quantity(self, line_number: int | None, units: int) -> None:
        """Set the units to cancel on one line (also what a click on the spin box does)."""
        for line, spin in zip(self._open, self.quantities, strict=True):
            if line.line_number == line_number:
                spin.setValue(units)

    def set_reason(self, line_number: int | None, code: str) -> None:
        for line, combo in zip(self._open, self.reasons, strict=True):
            if line.line_number == line_number:
                combo.setCurrentIndex(combo.findData(code))

    def lines(self) -> list[CancelLine]:
        """The chosen lines (units > 0), with their codes and the note."""
        note = self.note.text().strip()
        return [
            CancelLine(line.line_number, line.sku, spin.value(), str(combo.currentData()), note)
            for line, spin, combo in zip(self._open, self.quantities, self.reasons, strict=True)
            if spin.value() > 0
        ]

    def _validate(self) -> bool:
        remaining = {(line.line_number, line.sku): line.remaining for line in self._open}
        try:
            check_cancel_lines(self.lines(), remaining)
        except CancelRequestError as exc:
            if self._open:
                self.error_label.setText(str(exc))
            self.ok_button.setEnabled(False)
            return False
        self.error_label.setText("")
        self.ok_button.setEnabled(True)
        return True

    def accept(self) -> None:
        if self._validate():
            super().accept()
