"""Order rules: the status a shop owner sees, deadline countdowns, cancel codes and quantities."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dsco_desktop.domain.orders import (
    SUPPLIER_CANCEL_CODES,
    CancelLine,
    CancelRequestError,
    LineQuantities,
    OrderStatus,
    Urgency,
    cancel_code_label,
    check_cancel_lines,
    countdown,
    derive_status,
    line_quantities,
    order_totals,
    parse_timestamp,
)

NOW = datetime(2025, 11, 14, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=3)


def _status(lifecycle: str, *lines: LineQuantities, ship_by=LATER, ack_by=LATER) -> OrderStatus:
    return derive_status(
        lifecycle, order_totals(lines), ship_by=ship_by, acknowledge_by=ack_by, now=NOW
    )


def test_a_fresh_order_is_new_and_an_acknowledged_one_is_acknowledged() -> None:
    assert _status("created", LineQuantities(2)) is OrderStatus.NEW
    assert _status("received", LineQuantities(2)) is OrderStatus.NEW
    assert _status("acknowledged", LineQuantities(2)) is OrderStatus.ACKNOWLEDGED


def test_shipping_part_of_an_order_makes_it_partly_shipped_and_all_of_it_shipped() -> None:
    assert _status("acknowledged", LineQuantities(2, shipped=1)) is OrderStatus.PARTLY_SHIPPED
    assert _status("acknowledged", LineQuantities(2, shipped=2)) is OrderStatus.SHIPPED
    # One line shipped, the other cancelled: the customer gets a parcel, so "shipped".
    assert (
        _status("completed", LineQuantities(1, shipped=1), LineQuantities(1, cancelled=1))
        is OrderStatus.SHIPPED
    )


def test_cancelling_everything_makes_it_cancelled() -> None:
    assert _status("acknowledged", LineQuantities(3, cancelled=3)) is OrderStatus.CANCELLED
    assert _status("completed", LineQuantities(3, cancelled=3)) is OrderStatus.CANCELLED


def test_an_open_order_past_its_ship_by_date_is_late() -> None:
    past = NOW - timedelta(minutes=1)
    assert _status("acknowledged", LineQuantities(1), ship_by=past) is OrderStatus.LATE
    assert _status("acknowledged", LineQuantities(2, 1), ship_by=past) is OrderStatus.LATE
    # Shipped orders are never late, whatever the date says.
    assert _status("completed", LineQuantities(1, shipped=1), ship_by=past) is OrderStatus.SHIPPED


def test_an_unacknowledged_order_past_its_acknowledge_by_date_is_late() -> None:
    past = NOW - timedelta(hours=1)
    assert _status("created", LineQuantities(1), ack_by=past) is OrderStatus.LATE
    # Once acknowledged, only the ship-by date counts.
    assert _status("acknowledged", LineQuantities(1), ack_by=past) is OrderStatus.ACKNOWLEDGED


def test_status_labels_are_plain_words() -> None:
    assert [s.label for s in OrderStatus] == [
        "New",
        "Acknowledged",
        "Partly shipped",
        "Shipped",
        "Cancelled",
        "Late",
    ]


@pytest.mark.parametrize(
    ("left", "urgency", "text"),
    [
        (timedelta(days=2, hours=4), Urgency.OK, "2 d 4 h left"),
        (timedelta(hours=30), Urgency.OK, "1 d 6 h left"),
        (timedelta(hours=20), Urgency.AMBER, "20 h left"),
        (timedelta(hours=3, minutes=15), Urgency.AMBER, "3 h 15 min left"),
        (timedelta(minutes=90), Urgency.RED, "1 h 30 min left"),
        (timedelta(minutes=35), Urgency.RED, "35 min left"),
        (-timedelta(hours=3), Urgency.RED, "3 h late"),
        (-timedelta(days=2), Urgency.RED, "2 d late"),
    ],
)
def test_countdown_turns_amber_then_red(left: timedelta, urgency: Urgency, text: str) -> None:
    found = countdown(NOW + left, NOW)
    assert found is not None
    assert (found.urgency, found.text) == (urgency, text)


def test_no_deadline_no_countdown() -> None:
    assert countdown(None, NOW) is None


def test_cancel_codes_have_plain_labels() -> None:
    assert list(SUPPLIER_CANCEL_CODES) == [
        "CXSS", "CXSD", "CXSN", "CXSB", "CXSI", "CXST", "CXSC", "CXSO",
    ]  # fmt: skip
    assert cancel_code_label("CXSS") == "Out of stock (CXSS)"
    assert cancel_code_label("CXRF") == "Fraud (CXRF)"
    assert cancel_code_label("ZZZZ") == "ZZZZ"


def test_line_quantities_read_nulls_as_zero_and_never_go_negative() -> None:
    line = line_quantities({"quantity": 3, "shippedQuantity": None, "cancelledQuantity": "1"})
    assert (line.ordered, line.shipped, line.cancelled, line.remaining) == (3, 0, 1, 2)
    assert LineQuantities(1, shipped=2).remaining == 0


def test_cancel_lines_are_checked_against_what_is_left() -> None:
    remaining = {(1, "A"): 2, (2, "B"): 0}
    ok = check_cancel_lines(
        [CancelLine(1, "A", 2, "CXSS"), CancelLine(2, "B", 0, "CXSS")], remaining
    )
    assert [c.line_number for c in ok] == [1]  # zero quantities are simply not sent
    with pytest.raises(CancelRequestError, match=r"Only 2 units of line 1 \(A\)"):
        check_cancel_lines([CancelLine(1, "A", 3, "CXSS")], remaining)
    with pytest.raises(CancelRequestError, match="Choose a reason"):
        check_cancel_lines([CancelLine(1, "A", 1, "CXRF")], remaining)
    with pytest.raises(CancelRequestError, match="at least one line"):
        check_cancel_lines([CancelLine(1, "A", 0, "CXSS")], remaining)
    with pytest.raises(CancelRequestError, match="has no line 9"):
        check_cancel_lines([CancelLine(9, "Z", 1, "CXSS")], remaining)


def test_timestamps_parse_from_store_and_dsco_forms() -> None:
    assert parse_timestamp("2025-11-14T12:00:00.000000Z") == NOW
    assert parse_timestamp("2025-11-14T13:00:00+01:00") == NOW
    assert parse_timestamp("garbage") is None
    assert parse_timestamp(None) is None
