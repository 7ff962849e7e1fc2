"""The shipment form: an order's lines, quantities per package, and each package's carrier,
service level code, tracking number, ship date, weight and warehouse.

Everything a shop owner types is checked as they type, next to the field: the tracking number
against the chosen carrier's formats and check digit (changing the carrier re-checks it), the
service level code (never DSCO's generic GCG), and quantities (the table refuses more than
remains). "Ship" records the shipment and queues it in the outbox on a job thread, then waits
there for DSCO's answer: a rejection shows DSCO's messages under the form.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDoubleSpinBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from dsco_desktop.domain.shipping import (
    CARRIER_CHOICES,
    WEIGHT_UNITS,
    PackagePlan,
    Preselection,
    Problem,
    check_plan,
    check_service_level,
    default_quantities,
    service_level,
    service_levels_for,
)
from dsco_desktop.domain.tracking import Carrier, Verdict, check_tracking
from dsco_desktop.errors import UserFacingError
from dsco_desktop.services.shipping import (
    Outcome,
    PlanRejectedError,
    ShipmentForm,
    ShippingService,
)
from dsco_desktop.store.shipments import ShipmentState
from dsco_desktop.ui import layout
from dsco_desktop.ui.jobs import JobContext, JobRunner
from dsco_desktop.ui.shipment_models import ShipmentLinesModel

log = logging.getLogger(__name__)

ClientProvider = Callable[[], Any]


def _style(color: str) -> str:
    return f"color: {color};"


def _set_message(label: QLabel, text: str, color: str | None) -> None:
    label.setText(text)
    label.setStyleSheet(_style(color) if color else "")
    label.setVisible(bool(text))


class PackageEditor(QGroupBox):
    """One package's shipping fields, each with its inline message."""

    changed = Signal()
    remove_requested = Signal(object)  # self

    def __init__(
        self,
        number: int,
        preselection: Preselection,
        warehouses: Sequence[str],
        default_warehouse: str | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(f"Package {number}", parent)
        self.carrier = QComboBox()
        for carrier in CARRIER_CHOICES:
            self.carrier.addItem(carrier.value, carrier.value)
        self.other_carrier = QLineEdit()
        self.other_carrier.setPlaceholderText("Carrier name")
        self.code = QComboBox()
        self.code.setEditable(True)
        self.code.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        code_edit = self.code.lineEdit()
        if code_edit is not None:
            code_edit.setPlaceholderText("DSCO code, e.g. USGA")
        self.tracking = QLineEdit()
        self.tracking.setPlaceholderText("Scan or type the tracking number")
        self.tracking.setMinimumWidth(layout.FIELD_MIN_WIDTH)
        self.ship_date = QDateEdit(QDate.currentDate())
        self.ship_date.setCalendarPopup(True)
        self.ship_date.setDisplayFormat("yyyy-MM-dd")
        self.weight = QDoubleSpinBox()
        self.weight.setRange(0.0, 9999.0)
        self.weight.setDecimals(2)
        self.weight.setSpecialValueText("not given")
        self.weight_unit = QComboBox()
        self.weight_unit.addItems(list(WEIGHT_UNITS))
        self.warehouse = QComboBox()
        self.warehouse.setEditable(True)
        self.warehouse.addItems(list(warehouses))
        if default_warehouse:
            self.warehouse.setCurrentText(default_warehouse)
        self.remove_button = QPushButton("Remove package")
        self.remove_button.clicked.connect(lambda: self.remove_requested.emit(self))

        self.tracking_message = QLabel()
        self.code_message = QLabel()
        self.other_message = QLabel()
        for label in (self.tracking_message, self.code_message, self.other_message):
            label.setWordWrap(True)
            label.setVisible(False)
            label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        for field in (self.carrier, self.code, self.ship_date, self.warehouse):
            field.setMinimumWidth(layout.SHIPMENT_FIELD_WIDTH)

        grid = QGridLayout(self)
        grid.setHorizontalSpacing(layout.FORM_SPACING)
        grid.setVerticalSpacing(layout.INLINE_SPACING)
        grid.addWidget(QLabel("Carrier"), 0, 0)
        carrier_row = QHBoxLayout()
        carrier_row.addWidget(self.carrier)
        carrier_row.addWidget(self.other_carrier)
        grid.addLayout(carrier_row, 0, 1)
        grid.addWidget(QLabel("Service level"), 0, 2)
        grid.addWidget(self.code, 0, 3)
        grid.addWidget(self.code_message, 1, 2, 1, 2)
        grid.addWidget(QLabel("Tracking number"), 2, 0)
        grid.addWidget(self.tracking, 2, 1, 1, 3)
        grid.addWidget(self.tracking_message, 3, 1, 1, 3)
        grid.addWidget(QLabel("Ship date"), 4, 0)
        grid.addWidget(self.ship_date, 4, 1)
        grid.addWidget(QLabel("Weight"), 4, 2)
        weight_row = QHBoxLayout()
        weight_row.addWidget(self.weight)
        weight_row.addWidget(self.weight_unit)
        grid.addLayout(weight_row, 4, 3)
        grid.addWidget(QLabel("Warehouse"), 5, 0)
        grid.addWidget(self.warehouse, 5, 1)
        grid.addWidget(self.remove_button, 5, 3, Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self.other_message, 6, 0, 1, 4)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)

        index = self.carrier.findData(preselection.carrier.value)
        self.carrier.setCurrentIndex(max(0, index))
        self._fill_codes(preselection.code)
        self._update_other()
        self.carrier.currentIndexChanged.connect(self._carrier_changed)
        self.other_carrier.textChanged.connect(self._revalidate)
        self.code.currentTextChanged.connect(self._revalidate)
        self.tracking.textChanged.connect(self._revalidate)
        for signal in (
            self.ship_date.dateChanged,
            self.weight.valueChanged,
            self.weight_unit.currentIndexChanged,
            self.warehouse.currentTextChanged,
        ):
            signal.connect(lambda *_: self.changed.emit())
        self.validate()

    # -- values -----------------------------------------------------------------------------

    @property
    def chosen_carrier(self) -> Carrier:
        data = self.carrier.currentData()
        try:
            return Carrier(str(data))
        except ValueError:
            return Carrier.OTHER

    def carrier_name(self) -> str:
        if self.chosen_carrier is Carrier.OTHER:
            return self.other_carrier.text().strip()
        return self.chosen_carrier.value

    def code_value(self) -> str:
        text = self.code.currentText().strip()
        index = self.code.findText(text)
        if index >= 0 and self.code.itemData(index):
            return str(self.code.itemData(index))
        return text.split(" ", 1)[0].upper() if text else ""

    def set_carrier(self, carrier: Carrier) -> None:
        self.carrier.setCurrentIndex(max(0, self.carrier.findData(carrier.value)))

    def set_code(self, code: str) -> None:
        for index in range(self.code.count()):
            if self.code.itemData(index) == code:
                self.code.setCurrentIndex(index)
                return
        self.code.setCurrentText(code)

    def plan(self, quantities: dict[str, int]) -> PackagePlan:
        day = self.ship_date.date()
        weight = self.weight.value()
        code = self.code_value()
        known = service_level(code)
        return PackagePlan(
            carrier=self.carrier_name(),
            service_level_code=code,
            tracking_number=self.tracking.text(),
            ship_date=date(day.year(), day.month(), day.day()),
            weight=weight if weight > 0 else None,
            weight_unit=self.weight_unit.currentText(),
            warehouse_code=self.warehouse.currentText().strip() or None,
            method=known.method if known else None,
            quantities=quantities,
        )

    # -- behaviour --------------------------------------------------------------------------

    def _fill_codes(self, preferred: str | None) -> None:
        self.code.blockSignals(True)
        self.code.clear()
        for level in service_levels_for(self.chosen_carrier):
            self.code.addItem(f"{level.code} - {level.method}", level.code)
        self.code.blockSignals(False)
        if preferred:
            self.set_code(preferred)
        elif self.code.count():
            self.code.setCurrentIndex(0)
        else:
            self.code.setCurrentText("")

    def _update_other(self) -> None:
        self.other_carrier.setVisible(self.chosen_carrier is Carrier.OTHER)

    def _carrier_changed(self) -> None:
        keep = self.code_value()
        known = service_level(keep)
        self._update_other()
        # Keep a typed (ship-mapped) code; replace a code of the previous carrier.
        self._fill_codes(keep if keep and known is None else None)
        self._revalidate()

    def _revalidate(self, *_args: object) -> None:
        self.validate()
        self.changed.emit()

    def validate(self) -> bool:
        """Re-check tracking and code for the current carrier; True when both may be sent."""
        ok = True
        if self.chosen_carrier is Carrier.OTHER and not self.other_carrier.text().strip():
            _set_message(self.other_message, "Type the carrier's name.", layout.ERROR_COLOR)
            ok = False
        else:
            _set_message(self.other_message, "", None)
        code_problem = check_service_level(self.code_value(), self.chosen_carrier)
        _set_message(self.code_message, code_problem or "", layout.ERROR_COLOR)
        ok = ok and code_problem is None
        text = self.tracking.text()
        if not text.strip():
            _set_message(self.tracking_message, "", None)
            return False
        result = check_tracking(text, self.chosen_carrier)
        if result.verdict is Verdict.VERIFIED:
            _set_message(self.tracking_message, result.message, layout.OK_COLOR)
        elif result.ok:
            _set_message(self.tracking_message, result.message, layout.ATTENTION_COLOR)
        else:
            _set_message(self.tracking_message, result.message, layout.ERROR_COLOR)
        return ok and result.ok

    def show_problem(self, problem: Problem) -> None:
        target = {
            "tracking": self.tracking_message,
            "code": self.code_message,
            "carrier": self.other_message,
        }.get(problem.field or "", self.other_message)
        color = layout.ERROR_COLOR if problem.is_error else layout.ATTENTION_COLOR
        _set_message(target, problem.message, color)


class ShipmentFormWidget(QWidget):
    """The form for one order; empty until `load` is called with a `ShipmentForm`."""

    outcome_ready = Signal(object)  # Outcome, after DSCO answered (or the wait ran out)
    shipment_queued = Signal(object)  # ShipmentRecord, as soon as it is in the outbox

    def __init__(
        self,
        service: ShippingService,
        jobs: JobRunner,
        client_provider: ClientProvider,
        wake_outbox: Callable[[], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._jobs = jobs
        self._client_provider = client_provider
        self._wake_outbox = wake_outbox
        self.data: ShipmentForm | None = None
        self.packages: list[PackageEditor] = []
        self.job: Any = None
        self._key = ""

        self.header = QLabel(
            "Choose an order to ship: type its PO number above, or use Ship on an order."
        )
        self.header.setWordWrap(True)
        self.preselection_note = QLabel()
        self.preselection_note.setWordWrap(True)
        self.preselection_note.setEnabled(False)

        self.lines_model = ShipmentLinesModel(self)
        self.lines = QTableView()
        self.lines.setModel(self.lines_model)
        self.lines.verticalHeader().setVisible(False)
        self.lines.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.lines.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        self.lines.horizontalHeader().setStretchLastSection(False)
        self.lines.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.lines.setWordWrap(False)
        self.lines.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.lines_message = QLabel()
        self.lines_message.setWordWrap(True)
        self.lines_message.setVisible(False)

        self.packages_box = QVBoxLayout()
        self.packages_box.setSpacing(layout.SECTION_SPACING)
        self.add_package_button = QPushButton("Add package")
        self.add_package_button.clicked.connect(self.add_package)

        self.result = QLabel()
        self.result.setWordWrap(True)
        self.result.setVisible(False)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.ship_button = QPushButton("Ship")
        self.ship_button.setDefault(True)
        self.ship_button.clicked.connect(self.ship)

        buttons = QHBoxLayout()
        buttons.addWidget(self.add_package_button)
        buttons.addStretch(1)
        buttons.addWidget(self.ship_button)

        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(layout.SECTION_SPACING)
        box.addWidget(self.header)
        box.addWidget(self.preselection_note)
        box.addWidget(self.lines)
        box.addWidget(self.lines_message)
        box.addLayout(self.packages_box)
        box.addLayout(buttons)
        box.addWidget(self.result)
        box.addStretch(1)

        self.lines_model.refused.connect(
            lambda text: _set_message(self.lines_message, text, layout.ERROR_COLOR)
        )
        self.lines_model.quantities_changed.connect(self._quantities_changed)
        self._set_enabled(False)

    # -- loading ----------------------------------------------------------------------------

    def load(self, data: ShipmentForm, *, keep_result: bool = False) -> None:
        """Show one order: its lines with everything remaining in package 1.

        `keep_result` keeps DSCO's last answer on screen (after a shipment, the order is
        reloaded to show what now remains).
        """
        previous = (self.result.text(), self.result.styleSheet()) if keep_result else None
        self.data = data
        self._key = f"shipment:{uuid.uuid4()}"
        order = data.order
        customer = (order.ship_to or {}).get("name") or ""
        parts = [
            f"PO {order.po_number}" if order.po_number else None,
            f"order {order.dsco_order_id}",
        ]
        if customer:
            parts.append(f"to {customer}")
        if order.lifecycle:
            parts.append(f"DSCO lifecycle: {order.lifecycle}")
        self.header.setText("Ship " + " · ".join(p for p in parts if p))
        self.preselection_note.setText(data.preselection.note)
        for editor in list(self.packages):
            self._drop_editor(editor)
        self.lines_model.set_lines(data.lines, default_quantities(data.lines))
        self._add_editor()
        self._size_columns()
        _set_message(self.lines_message, "", None)
        _set_message(self.result, "", None)
        if previous is not None and previous[0]:
            self.result.setText(previous[0])
            self.result.setStyleSheet(previous[1])
            self.result.setVisible(True)
        elif not data.shippable:
            reasons = {line.not_shippable_reason() for line in data.lines}
            _set_message(
                self.result,
                "Nothing on this order can ship: " + " ".join(sorted(r for r in reasons if r)),
                layout.ATTENTION_COLOR,
            )
        self._set_enabled(data.shippable)

    def _fit_lines(self) -> None:
        """Show every line (up to a screenful) without an inner scroll bar."""
        rows = min(self.lines_model.rowCount(), layout.SHIPMENT_LINES_VISIBLE_MAX)
        height = self.lines.horizontalHeader().sizeHint().height()
        height += max(1, rows) * self.lines.verticalHeader().defaultSectionSize()
        height += 2 * self.lines.frameWidth() + self.lines.horizontalScrollBar().sizeHint().height()
        self.lines.setFixedHeight(height)

    def _size_columns(self) -> None:
        self._fit_lines()
        header = self.lines.horizontalHeader()
        for column, width in enumerate(layout.SHIPMENT_LINE_COLUMN_WIDTHS):
            header.resizeSection(column, width)
        for package in range(self.lines_model.package_count):
            header.resizeSection(
                len(ShipmentLinesModel.FIXED) + package, layout.SHIPMENT_PACKAGE_COLUMN_WIDTH
            )

    def _set_enabled(self, enabled: bool) -> None:
        self.ship_button.setEnabled(enabled)
        self.add_package_button.setEnabled(enabled)
        self.lines.setEnabled(self.data is not None)
        for editor in self.packages:
            editor.setEnabled(enabled)

    def _add_editor(self) -> PackageEditor:
        assert self.data is not None
        previous = self.packages[-1] if self.packages else None
        editor = PackageEditor(
            len(self.packages) + 1,
            self.data.preselection,
            self.data.warehouses,
            self.data.default_warehouse,
        )
        if previous is not None:
            # A second package usually goes the same way as the first.
            editor.set_carrier(previous.chosen_carrier)
            editor.other_carrier.setText(previous.other_carrier.text())
            editor.set_code(previous.code_value())
            editor.warehouse.setCurrentText(previous.warehouse.currentText())
        editor.remove_requested.connect(self.remove_package)
        editor.changed.connect(self._clear_result)
        self.packages.append(editor)
        self.packages_box.addWidget(editor)
        # A layout shows a new child only on the next event-loop turn; show it now.
        editor.show()
        self._update_remove_buttons()
        return editor

    def _drop_editor(self, editor: PackageEditor) -> None:
        self.packages.remove(editor)
        self.packages_box.removeWidget(editor)
        editor.deleteLater()

    def _update_remove_buttons(self) -> None:
        for number, editor in enumerate(self.packages, start=1):
            editor.setTitle(f"Package {number}")
            editor.remove_button.setVisible(len(self.packages) > 1)

    def add_package(self) -> PackageEditor:
        """Another package (empty: type its quantities in the new table column)."""
        self.lines_model.add_package()
        self._size_columns()
        return self._add_editor()

    def remove_package(self, editor: PackageEditor) -> None:
        if editor not in self.packages or len(self.packages) <= 1:
            return
        self.lines_model.remove_package(self.packages.index(editor))
        self._drop_editor(editor)
        self._update_remove_buttons()

    def _quantities_changed(self) -> None:
        _set_message(self.lines_message, "", None)
        self._clear_result()

    def _clear_result(self) -> None:
        if self.job is None:
            _set_message(self.result, "", None)

    # -- sending ----------------------------------------------------------------------------

    def plans(self) -> list[PackagePlan]:
        return [
            editor.plan(self.lines_model.quantities(index))
            for index, editor in enumerate(self.packages)
        ]

    def check(self) -> list[Problem]:
        """Check the form as it stands; show each problem where it belongs."""
        assert self.data is not None
        problems = check_plan(
            self.lines_model.lines,
            self.plans(),
            existing_tracking=self.data.existing_tracking,
            today=date.today(),
        )
        self.show_problems(problems)
        return problems

    def show_problems(self, problems: Sequence[Problem]) -> None:
        for editor in self.packages:
            editor.validate()
        general: list[str] = []
        for problem in problems:
            if problem.package is not None and 0 <= problem.package < len(self.packages):
                if problem.field == "quantity":
                    general.append(f"Package {problem.package + 1}: {problem.message}")
                else:
                    self.packages[problem.package].show_problem(problem)
            else:
                general.append(problem.message)
        errors = [p for p in problems if p.is_error]
        if general:
            _set_message(self.lines_message, "\n".join(general), layout.ERROR_COLOR)
        if errors:
            _set_message(
                self.result,
                f"Fix the {len(errors)} problem{'s' if len(errors) != 1 else ''} marked in red; "
                "nothing was sent.",
                layout.ERROR_COLOR,
            )

    def ship(self) -> None:
        """Check, then record and send on a job thread; DSCO's answer comes back here."""
        if self.data is None or self.job is not None:
            return
        if any(p.is_error for p in self.check()):
            return
        client = self._client_provider()
        service = self._service
        order_id = self.data.order.dsco_order_id
        plans = self.plans()
        key = self._key
        wake = self._wake_outbox
        queued = self.shipment_queued

        def work(ctx: JobContext) -> Outcome:
            record = service.submit(order_id, plans, idempotency_key=key, today=date.today())
            queued.emit(record)
            wake()
            return service.wait_for_outcome(client, record.id, should_stop=lambda: ctx.cancelled)

        _set_message(self.result, "Sending to DSCO…", None)
        self._set_enabled(False)
        self.job = self._jobs.submit(
            work, name="ship order", on_success=self._done, on_error=self._failed
        )

    def _done(self, outcome: Outcome) -> None:
        self.job = None
        state = outcome.state
        color = {
            ShipmentState.CONFIRMED: layout.OK_COLOR,
            ShipmentState.REJECTED: layout.ERROR_COLOR,
            ShipmentState.FAILED: layout.ERROR_COLOR,
            ShipmentState.ACCEPTED_NOT_APPLIED: layout.ATTENTION_COLOR,
        }.get(state)
        text = outcome.message
        if state is ShipmentState.PENDING:
            text = (
                "Saved and queued: DSCO has not answered yet. The outbox keeps sending it; "
                "the list below shows when DSCO confirms."
            )
        elif state is ShipmentState.REJECTED:
            # A fresh key lets the user fix the form and send again.
            self._key = f"shipment:{uuid.uuid4()}"
        _set_message(self.result, text, color)
        finished = state in (
            ShipmentState.CONFIRMED,
            ShipmentState.ACCEPTED_NOT_APPLIED,
            ShipmentState.PENDING,
            ShipmentState.SENT,
        )
        self.ship_button.setEnabled(not finished)
        self.add_package_button.setEnabled(not finished)
        for editor in self.packages:
            editor.setEnabled(not finished)
        self.outcome_ready.emit(outcome)

    def _failed(self, exc: BaseException) -> None:
        self.job = None
        self._set_enabled(True)
        if isinstance(exc, PlanRejectedError):
            self.show_problems(exc.problems)
        elif isinstance(exc, UserFacingError):
            _set_message(self.result, exc.message, layout.ERROR_COLOR)
        else:
            log.error("Shipping failed", exc_info=exc)
            _set_message(self.result, f"The shipment could not be saved: {exc}", layout.ERROR_COLOR)
