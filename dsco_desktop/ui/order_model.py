"""The inbox table model: order ids in display order plus a lazy cache of their rows.

Filtering and sorting happen in SQL (`OrderRepository.list_ids`, on a job thread); the model
holds only the resulting ids, so 200,000 orders cost a list of strings. Rows are read in pages
of `PAGE_SIZE` by primary key the first time the view asks for them (a few milliseconds).
Countdowns and the "late" status depend on the time, so `set_now()` recomputes them from the
row's facts with the domain rules, without a query. Raw values are in `RawRole`, the order id in
`OrderIdRole`, the whole `OrderSummary` in `SummaryRole`. The shipment form (issue 5) may use
this model to pick orders.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from dsco_desktop.domain.orders import (
    Countdown,
    OrderStatus,
    OrderTotals,
    Urgency,
    cancel_code_label,
    countdown,
    derive_status,
    parse_timestamp,
)
from dsco_desktop.store.orders import OrderSummary
from dsco_desktop.ui import layout

OrderIdRole = Qt.ItemDataRole.UserRole + 1
RawRole = Qt.ItemDataRole.UserRole + 2
SummaryRole = Qt.ItemDataRole.UserRole + 3
UrgencyRole = Qt.ItemDataRole.UserRole + 4

PAGE_SIZE = 200
# Colours of the inbox (kept beside the model that uses them).
NEW_ORDER_BACKGROUND = "#e3f0ff"
AMBER_COLOR = "#b26a00"
RED_COLOR = layout.ERROR_COLOR

# (key, header); keys are also the sort keys understood by OrderRepository.list_ids.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("po_number", "PO number"),
    ("retailer", "Retailer / channel"),
    ("customer", "Customer"),
    ("order_date", "Order date"),
    ("acknowledge_by", "Acknowledge by"),
    ("ship_by", "Ship by"),
    ("lines", "Lines"),
    ("total", "Total"),
    ("status", "Status"),
    ("cancel_requested", "Cancel request"),
)
COLUMN_KEYS = tuple(key for key, _ in COLUMNS)
COLUMN_WIDTHS = (110, 135, 120, 105, 195, 205, 50, 80, 170, 170)

_Index = QModelIndex | QPersistentModelIndex
SummaryLoader = Callable[[Sequence[str]], dict[str, OrderSummary]]


def local_time(value: str | None) -> str:
    """A stored UTC timestamp in the computer's time zone, to the minute."""
    moment = parse_timestamp(value)
    return "" if moment is None else moment.astimezone().strftime("%Y-%m-%d %H:%M")


def short_time(value: str | None) -> str:
    """'Nov 24 19:49' in the computer's time zone (for table cells)."""
    moment = parse_timestamp(value)
    return "" if moment is None else moment.astimezone().strftime("%b %d %H:%M")


def live_status(row: OrderSummary, now: datetime) -> OrderStatus:
    """The row's status at `now` (the stored one was computed when it was read)."""
    totals = OrderTotals(row.qty_ordered, row.qty_shipped, row.qty_cancelled, row.qty_remaining)
    return derive_status(
        row.lifecycle,
        totals,
        ship_by=parse_timestamp(row.ship_by),
        acknowledge_by=parse_timestamp(row.acknowledge_by),
        now=now,
    )


def status_text(row: OrderSummary, now: datetime) -> str:
    """'New', 'New · acknowledging…', 'Acknowledged · cancel pending', ..."""
    text = live_status(row, now).label
    if row.acknowledgement in ("queued", "sent"):
        text += " · acknowledging…"
    elif row.acknowledgement == "failed":
        text += " · acknowledge failed"
    if row.cancels_pending:
        text += " · cancel pending"
    return text


def _money(value: float | None, currency: str | None) -> str:
    if value is None:
        return ""
    symbol = "$" if (currency or "USD") == "USD" else f"{currency} "
    return f"{symbol}{value:,.2f}"


class OrderTableModel(QAbstractTableModel):
    """Orders of the current filter, in order; rows loaded lazily by id."""

    def __init__(self, load: SummaryLoader, parent: Any = None) -> None:
        super().__init__(parent)
        self._load = load
        self._ids: list[str] = []
        self._row_of: dict[str, int] = {}
        self._cache: dict[str, OrderSummary] = {}
        self._now = datetime.now(UTC)
        self._bold = QFont()
        self._bold.setBold(True)
        self.pages_loaded = 0

    # -- content ------------------------------------------------------------------------------

    @property
    def ids(self) -> Sequence[str]:
        return tuple(self._ids)

    @property
    def now(self) -> datetime:
        return self._now

    def set_ids(self, ids: Sequence[str]) -> None:
        """Show these orders (the result of a filter), forgetting cached rows."""
        self.beginResetModel()
        self._ids = list(ids)
        self._row_of = {order_id: row for row, order_id in enumerate(self._ids)}
        self._cache.clear()
        self.endResetModel()

    def invalidate(self, ids: Sequence[str] | None = None) -> None:
        """These orders changed in the store (None: all): re-read them when next shown."""
        if ids is None:
            self._cache.clear()
            if self._ids:
                self.dataChanged.emit(
                    self.index(0, 0), self.index(len(self._ids) - 1, len(COLUMNS) - 1)
                )
            return
        for order_id in ids:
            self._cache.pop(order_id, None)
            row = self._row_of.get(order_id)
            if row is not None:
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def set_now(self, now: datetime) -> None:
        """Move the clock: countdowns and statuses are recomputed from the cached facts."""
        self._now = now
        if self._ids:
            first = COLUMN_KEYS.index("acknowledge_by")
            last = COLUMN_KEYS.index("status")
            self.dataChanged.emit(self.index(0, first), self.index(len(self._ids) - 1, last))

    def order_id(self, row: int) -> str | None:
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def row_of(self, order_id: str) -> int | None:
        return self._row_of.get(order_id)

    def summary(self, row: int) -> OrderSummary | None:
        """The row's facts, loading its page when not cached yet."""
        order_id = self.order_id(row)
        if order_id is None:
            return None
        found = self._cache.get(order_id)
        if found is None:
            start = (row // PAGE_SIZE) * PAGE_SIZE
            page = [i for i in self._ids[start : start + PAGE_SIZE] if i not in self._cache]
            self._cache.update(self._load(page))
            self.pages_loaded += 1
            found = self._cache.get(order_id)
        return found

    # -- Qt -----------------------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(COLUMNS)
        ):
            return COLUMNS[section][1]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._ids):
            return None
        if role == OrderIdRole:
            return self._ids[index.row()]
        if role not in _ROLES:
            return None
        row = self.summary(index.row())
        if row is None:
            return None
        key = COLUMN_KEYS[index.column()]
        if role == SummaryRole:
            return row
        if role == RawRole:
            return _raw(row, key, self._now)
        if role == Qt.ItemDataRole.FontRole:
            return self._bold if not row.seen or key == "cancel_requested" else None
        if role == Qt.ItemDataRole.BackgroundRole:
            return QBrush(QColor(NEW_ORDER_BACKGROUND)) if not row.seen else None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if key in ("lines", "total"):
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return None
        deadline = self._countdown(row, key)
        if role == UrgencyRole:
            return None if deadline is None else deadline.urgency.value
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._foreground(row, key, deadline)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, key)
        return self._display(row, key, deadline)

    def _countdown(self, row: OrderSummary, key: str) -> Countdown | None:
        status = live_status(row, self._now)
        if key == "ship_by" and status not in (OrderStatus.SHIPPED, OrderStatus.CANCELLED):
            return countdown(parse_timestamp(row.ship_by), self._now)
        if key == "acknowledge_by" and (row.lifecycle or "") in ("created", "received"):
            return countdown(parse_timestamp(row.acknowledge_by), self._now)
        return None

    def _display(self, row: OrderSummary, key: str, deadline: Countdown | None) -> str:
        if key in ("ship_by", "acknowledge_by"):
            when = short_time(row.ship_by if key == "ship_by" else row.acknowledge_by)
            return f"{deadline.text} · {when}" if deadline is not None else when
        if key == "status":
            return status_text(row, self._now)
        if key == "cancel_requested":
            if not row.cancel_requested:
                return ""
            code = cancel_code_label(row.cancel_requested_code)
            return f"⚠ Requested{': ' + code if code else ''}"
        if key == "order_date":
            return short_time(row.order_date)
        if key == "total":
            return _money(row.total, row.currency_code)
        if key == "lines":
            return str(row.line_count)
        if key == "retailer":
            names = [n for n in dict.fromkeys((row.retailer, row.channel)) if n]
            return " / ".join(names)
        value = _raw(row, key, self._now)
        return "" if value is None else str(value)

    def _foreground(self, row: OrderSummary, key: str, deadline: Countdown | None) -> Any:
        if deadline is not None and deadline.urgency is not Urgency.OK:
            return QBrush(QColor(RED_COLOR if deadline.urgency is Urgency.RED else AMBER_COLOR))
        if key == "cancel_requested" and row.cancel_requested:
            return QBrush(QColor(RED_COLOR))
        if key == "status" and (
            live_status(row, self._now) is OrderStatus.LATE or row.acknowledgement == "failed"
        ):
            return QBrush(QColor(RED_COLOR))
        return None

    def _tooltip(self, row: OrderSummary, key: str) -> str | None:
        if key == "cancel_requested" and row.cancel_requested:
            return "The retailer asks to cancel this order. Cancel its lines or contact them."
        if key == "status" and row.acknowledgement in ("queued", "sent"):
            return "The acknowledgement is on its way; DSCO has not confirmed it yet."
        if key == "po_number" and not row.seen:
            return "New: not opened yet."
        return None


_ROLES = frozenset(
    {
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.ToolTipRole,
        Qt.ItemDataRole.FontRole,
        Qt.ItemDataRole.BackgroundRole,
        Qt.ItemDataRole.ForegroundRole,
        Qt.ItemDataRole.TextAlignmentRole,
        RawRole,
        SummaryRole,
        UrgencyRole,
    }
)


def _raw(row: OrderSummary, key: str, now: datetime) -> Any:
    return {
        "po_number": row.po_number,
        "retailer": row.retailer or row.channel,
        "customer": row.customer_name,
        "order_date": row.order_date,
        "acknowledge_by": row.acknowledge_by,
        "ship_by": row.ship_by,
        "lines": row.line_count,
        "total": row.total,
        "status": live_status(row, now).value,
        "cancel_requested": row.cancel_requested,
    }[key]
