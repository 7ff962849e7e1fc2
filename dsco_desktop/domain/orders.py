"""Pure order rules: lifecycle status, deadline countdowns, cancel codes, remaining quantities.

DSCO describes an order with a lifecycle (received, created, acknowledged, completed) and
per-line quantities; a shop owner thinks in "new", "acknowledged", "partly shipped",
"shipped", "cancelled" and "late". The translation lives here, once, and the store mirrors it
in SQL (`store/orders.py`, `STATUS_SQL`) so a status filter can run in the database; a test
keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any


class OrderStatus(StrEnum):
    """What the inbox says about an order."""

    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    PARTLY_SHIPPED = "partly_shipped"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"
    LATE = "late"

    @property
    def label(self) -> str:
        """The plain-language name shown in the table and the filter."""
        return STATUS_LABELS[self]


STATUS_LABELS: dict[OrderStatus, str] = {
    OrderStatus.NEW: "New",
    OrderStatus.ACKNOWLEDGED: "Acknowledged",
    OrderStatus.PARTLY_SHIPPED: "Partly shipped",
    OrderStatus.SHIPPED: "Shipped",
    OrderStatus.CANCELLED: "Cancelled",
    OrderStatus.LATE: "Late",
}

# DSCO lifecycles in which the supplier has not yet acknowledged the order.
UNACKNOWLEDGED_LIFECYCLES = frozenset({"received", "created"})

# Supplier-initiated cancel codes (DSCO support article "Cancel Codes"). Retailers choose which
# are enabled through their cancel-code mapping, so DSCO may still refuse one.
SUPPLIER_CANCEL_CODES: dict[str, str] = {
    "CXSS": "Out of stock",
    "CXSD": "Discontinued",
    "CXSN": "Not enough stock",
    "CXSB": "Bad or incorrect address",
    "CXSI": "Invalid ship instructions",
    "CXST": "Can't ship on time",
    "CXSC": "Cancelled at the retailer's request",
    "CXSO": "Other",
}
# Retailer-initiated codes: only shown (a retailer's cancel request names one), never chosen.
RETAILER_CANCEL_CODES: dict[str, str] = {
    "CXRR": "Customer changed their mind",
    "CXRF": "Fraud",
    "CXRN": "Non-compliant",
    "CXLS": "Order expired: late shipment",
    "CXRO": "Other (retailer)",
}


def cancel_code_label(code: str | None) -> str:
    """'Out of stock (CXSS)' for a known code, the code itself otherwise."""
    if not code:
        return ""
    label = SUPPLIER_CANCEL_CODES.get(code) or RETAILER_CANCEL_CODES.get(code)
    return f"{label} ({code})" if label else code


# -- quantities ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineQuantities:
    """One line's quantities: what was ordered, shipped, cancelled, and what is left to ship."""

    ordered: int
    shipped: int = 0
    cancelled: int = 0

    @property
    def remaining(self) -> int:
        """Still to ship (never negative, whatever DSCO reported)."""
        return remaining_quantity(self.ordered, self.shipped, self.cancelled)


def remaining_quantity(ordered: int | None, shipped: int | None, cancelled: int | None) -> int:
    """Units of a line still to ship or cancel."""
    return max(0, int(ordered or 0) - int(shipped or 0) - int(cancelled or 0))


def line_quantities(line: Mapping[str, Any]) -> LineQuantities:
    """The quantities of a DSCO OrderLineItem (nulls read as zero)."""

    def number(key: str) -> int:
        value = line.get(key)
        try:
            return int(float(value)) if value not in (None, "") else 0
        except (TypeError, ValueError):
            return 0

    return LineQuantities(
        number("quantity"), number("shippedQuantity"), number("cancelledQuantity")
    )


@dataclass(frozen=True)
class OrderTotals:
    """Per-order sums of its lines, kept with the order so lists never open every line."""

    ordered: int
    shipped: int
    cancelled: int
    remaining: int


def order_totals(lines: Iterable[LineQuantities]) -> OrderTotals:
    """Sum an order's line quantities."""
    ordered = shipped = cancelled = remaining = 0
    for line in lines:
        ordered += line.ordered
        shipped += line.shipped
        cancelled += line.cancelled
        remaining += line.remaining
    return OrderTotals(ordered, shipped, cancelled, remaining)


# -- status ---------------------------------------------------------------------------------------


def derive_status(
    lifecycle: str | None,
    totals: OrderTotals,
    *,
    ship_by: datetime | None,
    acknowledge_by: datetime | None,
    now: datetime,
) -> OrderStatus:
    """The inbox status of an order at `now`.

    Nothing left to ship: shipped (if anything shipped) or cancelled. Otherwise late once the
    ship-by date passed, or the acknowledge-by date passed while still unacknowledged; then
    partly shipped, new (not acknowledged) or acknowledged.
    """
    lifecycle = (lifecycle or "").lower()
    if totals.remaining == 0 or lifecycle == "completed":
        return OrderStatus.SHIPPED if totals.shipped > 0 else OrderStatus.CANCELLED
    unacknowledged = lifecycle in UNACKNOWLEDGED_LIFECYCLES
    if (ship_by is not None and ship_by < now) or (
        unacknowledged and acknowledge_by is not None and acknowledge_by < now
    ):
        return OrderStatus.LATE
    if totals.shipped > 0:
        return OrderStatus.PARTLY_SHIPPED
    return OrderStatus.NEW if unacknowledged else OrderStatus.ACKNOWLEDGED


def is_open(status: OrderStatus) -> bool:
    """Whether the order still needs the shop's work."""
    return status not in (OrderStatus.SHIPPED, OrderStatus.CANCELLED)


# -- countdowns -----------------------------------------------------------------------------------


class Urgency(StrEnum):
    """How close a deadline is: plenty of time, soon (amber), overdue or nearly (red)."""

    OK = "ok"
    AMBER = "amber"
    RED = "red"


# A day's notice turns a deadline amber; the last two hours (and anything overdue) are red.
AMBER_WITHIN = timedelta(hours=24)
RED_WITHIN = timedelta(hours=2)


@dataclass(frozen=True)
class Countdown:
    """A deadline as the table shows it: '2 d 4 h left', '35 min left', '3 h late'."""

    urgency: Urgency
    text: str
    seconds_left: float


def _span(seconds: float) -> str:
    seconds = abs(seconds)
    if seconds < 3600:
        return f"{max(1, int(seconds // 60))} min"
    if seconds < 86400:
        hours, rest = divmod(int(seconds), 3600)
        minutes = rest // 60
        return f"{hours} h {minutes} min" if hours < 10 and minutes else f"{hours} h"
    days, rest = divmod(int(seconds), 86400)
    hours = rest // 3600
    return f"{days} d {hours} h" if hours else f"{days} d"


def countdown(deadline: datetime | None, now: datetime) -> Countdown | None:
    """The countdown to `deadline` at `now`; None when there is no deadline."""
    if deadline is None:
        return None
    left = (deadline - now).total_seconds()
    if left < 0:
        return Countdown(Urgency.RED, f"{_span(left)} late", left)
    urgency = (
        Urgency.RED
        if left <= RED_WITHIN.total_seconds()
        else Urgency.AMBER
        if left <= AMBER_WITHIN.total_seconds()
        else Urgency.OK
    )
    return Countdown(urgency, f"{_span(left)} left", left)


def parse_timestamp(value: str | None) -> datetime | None:
    """A stored or DSCO ISO-8601 timestamp as an aware UTC datetime; None if empty or unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


# -- cancellations --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CancelLine:
    """A request to cancel `quantity` units of one order line, with DSCO's cancel code."""

    line_number: int | None
    sku: str | None
    quantity: int
    cancel_code: str
    reason: str = ""


class CancelRequestError(ValueError):
    """A cancellation that cannot be sent as asked (the message names the line)."""


def check_cancel_lines(
    lines: Iterable[CancelLine], remaining_by_line: Mapping[tuple[int | None, str | None], int]
) -> list[CancelLine]:
    """The lines to cancel (zero quantities dropped), or `CancelRequestError` naming the bad one.

    `remaining_by_line` maps (line number, sku) to the units still open on that line.
    """
    chosen = [line for line in lines if line.quantity != 0]
    if not chosen:
        raise CancelRequestError("Choose a quantity to cancel on at least one line.")
    for line in chosen:
        name = f"line {line.line_number}" if line.line_number is not None else "the line"
        if line.sku:
            name += f" ({line.sku})"
        if line.quantity < 0:
            raise CancelRequestError(f"The quantity to cancel on {name} cannot be negative.")
        if line.cancel_code not in SUPPLIER_CANCEL_CODES:
            raise CancelRequestError(f"Choose a reason for cancelling {name}.")
        open_units = remaining_by_line.get((line.line_number, line.sku))
        if open_units is None:
            raise CancelRequestError(f"The order has no {name}.")
        if line.quantity > open_units:
            raise CancelRequestError(
                f"Only {open_units} unit{'s' if open_units != 1 else ''} of {name} "
                f"can still be cancelled; {line.quantity} were asked."
            )
    return chosen
