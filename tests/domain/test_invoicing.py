"""Invoice rules: only what shipped is billed, money adds up to the cent, numbers never repeat,
and the review names every problem where it is."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsco_desktop.domain.invoicing import (
    OrderLine,
    ShippedPackage,
    available_units,
    build_invoice,
    check_pattern,
    check_totals,
    format_number,
    money,
    order_lines,
    review,
    shipped_packages,
    uninvoiced,
)

ORDER: dict[str, Any] = {
    "dscoOrderId": "1001",
    "poNumber": "PO-1",
    "lineItems": [
        {"lineNumber": 1, "sku": "RED-S", "quantity": 3, "expectedCost": 12.5, "title": "Red S"},
        {"lineNumber": 2, "sku": "BLU-M", "quantity": 1, "expectedCost": "7.10"},
        {"lineNumber": 3, "sku": "GRN-L", "quantity": 1},
    ],
}
PACKAGES: list[dict[str, Any]] = [
    {
        "trackingNumber": "1ZA",
        "shipDate": "2025-11-14T10:00:00Z",
        "shipCarrier": "UPS",
        "shipCost": 6.25,
        "items": [{"lineNumber": 1, "quantity": 2}, {"sku": "BLU-M", "quantity": 1}],
    },
    {"trackingNumber": "1ZB", "items": [{"lineNumber": 1, "quantity": 1}]},
]


def parts() -> tuple[list[OrderLine], list[ShippedPackage]]:
    lines = order_lines(ORDER["lineItems"])
    return lines, shipped_packages(PACKAGES, lines)


def test_only_shipped_units_not_yet_billed_become_lines_at_the_expected_cost() -> None:
    lines, packages = parts()
    open_lines = uninvoiced(lines, packages, {("1ZA", "line:1"): 1})
    assert [(x.tracking_number, x.line_number, x.quantity, x.unit_price) for x in open_lines] == [
        ("1ZA", 1, 1, Decimal("12.50")),
        ("1ZA", 2, 1, Decimal("7.10")),  # matched by SKU: the package names no line number
        ("1ZB", 1, 1, Decimal("12.50")),
    ]
    # Line 3 never shipped: it is not billed.
    assert all(x.line_number != 3 for x in open_lines)


def test_the_draft_adds_freight_of_its_packages_and_totals_to_the_cent() -> None:
    lines, packages = parts()
    open_lines = uninvoiced(lines, packages, {})
    draft = build_invoice(
        invoice_id="INV-1",
        order=ORDER,
        lines=open_lines,
        packages=packages,
        invoice_date=date(2025, 11, 14),
        handling_amount=Decimal("1.00"),
    )
    assert draft.subtotal == Decimal("44.60")  # 2 x 12.50 + 7.10 + 12.50
    assert draft.freight_amount == Decimal("6.25")
    assert draft.total == Decimal("51.85")
    body = draft.to_wire()
    assert body["totalAmount"] == 51.85 and body["lineItemsSubtotal"] == 44.6
    assert body["ship"]["trackingNumber"] == "1ZA"
    assert [line["unitPrice"] for line in body["lineItems"]] == [12.5, 7.1, 12.5]
    assert check_totals(body) == []
    assert "not the total" in check_totals({**body, "totalAmount": 50.0})[0].message


def test_the_review_names_each_problem_on_its_line() -> None:
    lines, packages = parts()
    draft = build_invoice(
        invoice_id="INV-1",
        order=ORDER,
        lines=uninvoiced(lines, packages, {}),
        packages=packages,
        invoice_date=date(2025, 11, 14),
    )
    available = available_units(packages, {})
    assert review(draft, available=available) == []
    too_many = draft.with_line(0, quantity=3)
    [issue] = [i for i in review(too_many, available=available) if i.is_error]
    assert (issue.line, issue.field) == (0, "quantity")
    assert (
        issue.message
        == "Line 1 (RED-S): 3 invoiced but only 2 shipped in package 1ZA and not invoiced yet."
    )
    cheaper = draft.with_line(1, unit_price=Decimal("5.00"))
    [warning] = review(cheaper, available=available)
    assert not warning.is_error and "differs from the order's expected cost 7.10" in warning.message
    no_price = draft.with_line(2, unit_price=None)
    assert "needs a unit price" in review(no_price, available=available)[0].message
    taken = review(draft, available=available, taken_ids={"INV-1"})
    assert taken[0].field == "number" and "already used" in taken[0].message
    twice = draft.with_changes(lines=(draft.lines[0], draft.lines[0]))
    assert any("on the invoice twice" in i.message for i in review(twice, available=available))
    negative = draft.with_changes(freight_amount=Decimal("-1"))
    assert any(i.field == "freight" for i in review(negative, available=available))


def test_number_patterns() -> None:
    when = date(2025, 3, 9)
    assert format_number("INV-{YYYY}{MM}{DD}-{SEQ:4}", 7, when) == "INV-20250309-0007"
    assert format_number("{PO}/{SEQ}", 12, when, "PO 12#") == "PO12/12"
    assert "needs {SEQ}" in (check_pattern("INV-{YYYY}") or "")
    assert "unknown part(s) {SEQUENCE}" in (check_pattern("{SEQ}{SEQUENCE}") or "")
    with pytest.raises(ValueError):
        format_number("", 1, when)


@given(st.integers(min_value=1, max_value=10**6), st.integers(min_value=1, max_value=10**6))
def test_different_sequences_never_give_the_same_number(a: int, b: int) -> None:
    when = date(2025, 1, 1)
    pattern = "INV-{YY}-{SEQ:3}"
    assert (format_number(pattern, a, when) == format_number(pattern, b, when)) == (a == b)


def test_amounts_are_read_plainly() -> None:
    assert money("1,234.505") == Decimal("1234.51")
    assert money(None) == Decimal("0.00")
    with pytest.raises(ValueError):
        money("twelve")
