"""The order detail panel: ship-to, lines and quantities, packages, history, and the actions.

It shows one order as loaded by the inbox (`OrderDetailData`, read on a job thread) and asks for
actions through signals carrying the dscoOrderId: `acknowledge_requested`, `cancel_requested`
and `ship_requested` (the shipment form, issue 5, listens to the last). A retailer's cancel
request is a banner at the top; actions on their way to DSCO are listed until confirmed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from dsco_desktop.domain.orders import (
    OrderStatus,
    cancel_code_label,
    remaining_quantity,
)
from dsco_desktop.store.orders import CancelRecord, OrderEventRecord, OrderRecord, OrderSummary
from dsco_desktop.ui import layout
from dsco_desktop.ui.cancel_dialog import OpenLine
from dsco_desktop.ui.order_model import live_status, local_time, status_text
from dsco_desktop.ui.table_model import ALIGN_LEFT, ALIGN_RIGHT, Column, RowTableModel
from dsco_desktop.ui.widgets import centered_hint

_REASONS = {
    "create": "Order received",
    "update_status_lifecycle": "Status changed",
    "add_shipment": "Shipment added",
    "update_shipment": "Shipment changed",
    "remove_shipment": "Shipment removed",
    "update_order_info": "Order details changed",
    "update_supplier_order_number": "Supplier order number set",
    "update_estimated_ship_date": "Estimated ship date changed",
    "update_shipping_info": "Shipping details changed",
    "resync": "Found by a resync",
}


@dataclass(frozen=True)
class OrderDetailData:
    """Everything the panel shows about one order."""

    order: OrderRecord
    summary: OrderSummary
    events: tuple[OrderEventRecord, ...]
    cancels: tuple[CancelRecord, ...]

    def open_lines(self) -> list[OpenLine]:
        """Lines with units left, minus units already on their way to being cancelled."""
        pending: dict[tuple[int | None, str | None], int] = {}
        for cancel in self.cancels:
            if cancel.state in ("queued", "sent"):
                key = (cancel.line_number, cancel.sku)
                pending[key] = pending.get(key, 0) + cancel.quantity
        lines = []
        for line in self.order.lines:
            left = remaining_quantity(line.quantity, line.shipped_quantity, line.cancelled_quantity)
            left = max(0, left - pending.get((line.line_number, line.sku), 0))
            lines.append(OpenLine(line.line_number, line.sku, line.title, left))
        return lines


def _cell(column: int) -> Callable[[tuple[Any, ...]], Any]:
    return lambda row: row[column]


class RowsModel(RowTableModel[tuple[Any, ...]]):
    """A small read-only table (an order's lines, packages or history) over plain tuples."""

    def __init__(self, headers: Sequence[str], parent: Any = None) -> None:
        super().__init__(parent)
        self._headers = tuple(headers)
        self.columns = self._columns_for(())

    def _columns_for(self, right_aligned: Sequence[int]) -> list[Column[tuple[Any, ...]]]:
        return [
            Column(title, _cell(i), align=ALIGN_RIGHT if i in right_aligned else ALIGN_LEFT)
            for i, title in enumerate(self._headers)
        ]

    def set_rows(self, rows: Sequence[tuple[Any, ...]], right_aligned: Sequence[int] = ()) -> None:
        self.beginResetModel()
        self._rows = [tuple(r) for r in rows]
        self.columns = self._columns_for(right_aligned)
        self.endResetModel()


# Small tables show up to this many rows before they scroll.
VISIBLE_ROWS_MAX = 8
ROW_HEIGHT = 24


def _table(model: RowsModel, stretch: int) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
    view.setWordWrap(False)
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def fit() -> None:
        # As tall as its rows (the panel scrolls, not each table), at least one empty row.
        rows = min(max(model.rowCount(), 1), VISIBLE_ROWS_MAX)
        view.setFixedHeight(header.sizeHint().height() + rows * ROW_HEIGHT + 2 * view.frameWidth())

    model.modelReset.connect(fit)
    fit()
    return view


def _section(title: str) -> QLabel:
    label = QLabel(f"<b>{title}</b>")
    label.setContentsMargins(0, layout.FORM_SPACING, 0, 0)
    return label


class OrderDetail(QWidget):
    """One order in full, with Acknowledge, Cancel lines and Ship."""

    acknowledge_requested = Signal(str)
    cancel_requested = Signal(str)
    ship_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data: OrderDetailData | None = None
        self.title = QLabel()
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.subtitle = QLabel()
        self.subtitle.setWordWrap(True)
        self.cancel_banner = QLabel()
        self.cancel_banner.setWordWrap(True)
        self.cancel_banner.setStyleSheet(
            f"background:{layout.WARNING_BACKGROUND}; border:1px solid {layout.WARNING_BORDER};"
            f" color:{layout.ERROR_COLOR}; font-weight:bold; padding:8px;"
        )
        self.pending_label = QLabel()
        self.pending_label.setWordWrap(True)

        self.acknowledge_button = QPushButton("Acknowledge")
        self.cancel_button = QPushButton("Cancel lines…")
        self.ship_button = QPushButton("Ship…")
        self.acknowledge_button.setToolTip("Tell DSCO you have the order and will ship it.")
        self.acknowledge_button.clicked.connect(lambda: self._emit(self.acknowledge_requested))
        self.cancel_button.clicked.connect(lambda: self._emit(self.cancel_requested))
        self.ship_button.clicked.connect(lambda: self._emit(self.ship_requested))
        buttons = QHBoxLayout()
        buttons.setSpacing(layout.INLINE_SPACING)
        for button in (self.acknowledge_button, self.cancel_button, self.ship_button):
            buttons.addWidget(button)
        buttons.addStretch(1)

        self.ship_to = QLabel()
        self.ship_to.setWordWrap(True)
        self.ship_to.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.requested = QLabel()
        self.requested.setWordWrap(True)
        self.acknowledge_by = QLabel()
        self.ship_by = QLabel()
        facts = QFormLayout()
        facts.setSpacing(layout.FORM_SPACING)
        facts.addRow("Ship to:", self.ship_to)
        facts.addRow("Requested shipping:", self.requested)
        facts.addRow("Acknowledge by:", self.acknowledge_by)
        facts.addRow("Ship by:", self.ship_by)

        self.lines_model = RowsModel(
            ("Line", "SKU", "Title", "Ordered", "Shipped", "Cancelled", "Remaining")
        )
        self.packages_model = RowsModel(("Tracking", "Carrier", "Service", "Shipped", "Items"))
        self.history_model = RowsModel(("When", "What", "Lifecycle", "Source"))
        self.lines_view = _table(self.lines_model, stretch=2)
        self.packages_view = _table(self.packages_model, stretch=4)
        self.history_view = _table(self.history_model, stretch=1)

        body = QWidget()
        inner = QVBoxLayout(body)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.setSpacing(layout.FORM_SPACING)
        inner.addWidget(self.title)
        inner.addWidget(self.subtitle)
        inner.addWidget(self.cancel_banner)
        inner.addLayout(buttons)
        inner.addWidget(self.pending_label)
        inner.addLayout(facts)
        inner.addWidget(_section("Lines"))
        inner.addWidget(self.lines_view)
        inner.addWidget(_section("Packages"))
        inner.addWidget(self.packages_view)
        inner.addWidget(_section("History"))
        inner.addWidget(self.history_view)
        inner.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(body)
        self.empty = centered_hint("Select an order to see its lines, packages and history.")
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.empty)
        box.addWidget(scroll, 1)
        self._scroll = scroll
        self.show_order(None)

    @property
    def order_id(self) -> str | None:
        return None if self.data is None else self.data.order.dsco_order_id

    def _emit(self, signal: Any) -> None:
        if self.data is not None:
            signal.emit(self.data.order.dsco_order_id)

    def show_order(self, data: OrderDetailData | None, now: datetime | None = None) -> None:
        """Show an order (None: the hint to pick one)."""
        self.data = data
        self.empty.setVisible(data is None)
        self._scroll.setVisible(data is not None)
        if data is None:
            return
        now = now or datetime.now(UTC)
        order, summary = data.order, data.summary
        status = live_status(summary, now)
        self.title.setText(
            f"<span style='font-size:15pt; font-weight:bold'>PO {order.po_number or '—'}</span>"
            f"&nbsp;&nbsp;{status_text(summary, now)}"
        )
        retailer = " / ".join(
            n for n in dict.fromkeys((order.trading_partner_name, order.channel)) if n
        )
        self.subtitle.setText(
            f"{retailer or 'Unknown retailer'} · DSCO order {order.dsco_order_id}"
            f" · {summary.line_count} line(s) · ordered {local_time(summary.order_date)}"
        )
        if summary.cancel_requested and summary.qty_remaining > 0:
            code = cancel_code_label(summary.cancel_requested_code)
            self.cancel_banner.setText(
                "⚠ The retailer asks to cancel this order"
                + (f" ({code})" if code else "")
                + ". Cancel its lines (reason: cancelled at the retailer's request) unless it "
                "has already shipped."
            )
            self.cancel_banner.show()
        else:
            self.cancel_banner.hide()
        unacknowledged = (order.lifecycle or "") in ("created", "received")
        on_its_way = summary.acknowledgement in ("queued", "sent")
        self.acknowledge_button.setEnabled(unacknowledged and not on_its_way)
        open_units = any(line.remaining > 0 for line in data.open_lines())
        self.cancel_button.setEnabled(open_units)
        self.ship_button.setEnabled(
            status not in (OrderStatus.SHIPPED, OrderStatus.CANCELLED) and summary.qty_remaining > 0
        )
        self.pending_label.setText(self._pending_text(data))
        self.pending_label.setVisible(bool(self.pending_label.text()))

        self.ship_to.setText(_address(order.ship_to))
        self.requested.setText(
            " · ".join(
                x
                for x in (
                    order.ship_carrier,
                    order.ship_method,
                    order.shipping_service_level_code,
                )
                if x
            )
            or "Not given"
        )
        self.acknowledge_by.setText(local_time(summary.acknowledge_by) or "—")
        self.ship_by.setText(local_time(summary.ship_by) or "—")
        self.lines_model.set_rows(
            [
                (
                    line.line_number,
                    line.sku,
                    line.title,
                    line.quantity,
                    line.shipped_quantity or 0,
                    line.cancelled_quantity or 0,
                    remaining_quantity(
                        line.quantity, line.shipped_quantity, line.cancelled_quantity
                    ),
                )
                for line in order.lines
            ],
            right_aligned=(3, 4, 5, 6),
        )
        self.packages_model.set_rows(
            [
                (
                    p.tracking_number,
                    p.ship_carrier,
                    p.shipping_service_level_code or p.ship_method,
                    local_time(p.ship_date),
                    ", ".join(
                        f"{i.get('sku') or i.get('lineNumber')} × {i.get('quantity')}"
                        for i in p.raw.get("items") or []
                        if isinstance(i, dict)
                    ),
                )
                for p in order.packages
            ]
        )
        self.history_model.set_rows(
            [
                (
                    local_time(e.at),
                    ", ".join(_REASONS.get(r, r.replace("_", " ")) for r in e.reasons)
                    or "Order sent again by DSCO",
                    e.lifecycle,
                    e.source,
                )
                for e in reversed(data.events)
            ]
        )

    @staticmethod
    def _pending_text(data: OrderDetailData) -> str:
        notes = []
        if data.summary.acknowledgement in ("queued", "sent"):
            notes.append("Acknowledgement on its way to DSCO.")
        elif data.summary.acknowledgement == "failed":
            notes.append("DSCO did not take the acknowledgement: see the Activity tab.")
        for cancel in data.cancels:
            what = f"Cancel {cancel.quantity} × line {cancel.line_number} ({cancel.sku})"
            if cancel.state in ("queued", "sent"):
                notes.append(f"{what}: waiting for DSCO to confirm.")
            elif cancel.state == "failed":
                notes.append(f"{what}: refused by DSCO: {cancel.error or 'see the Activity tab'}")
        return "\n".join(notes)


def _address(ship_to: dict[str, Any]) -> str:
    if not ship_to:
        return "Not given"
    lines = [ship_to.get("name"), ship_to.get("company")]
    address = ship_to.get("address")
    if isinstance(address, list):
        lines.extend(address)
    elif ship_to.get("address1"):
        lines.extend([ship_to.get("address1"), ship_to.get("address2")])
    city = " ".join(
        str(x) for x in (ship_to.get("city"), ship_to.get("region"), ship_to.get("postal")) if x
    )
    lines.extend([city, ship_to.get("country"), ship_to.get("phone")])
    return "\n".join(str(x) for x in lines if x)
