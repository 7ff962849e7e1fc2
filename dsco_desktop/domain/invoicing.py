"""Invoice rules: what an invoice may bill, its money, its number, and the checks before sending.

DSCO cannot edit or re-use an invoice once it is submitted, so a wrong invoice is costly. An
invoice here is built only from what shipped: one line per package item (the package's
tracking number on the line), minus what earlier invoices of the order already billed, at the
order line's expected cost. Shipping (freight) and handling are added on top. Money is
`Decimal` rounded to cents, so totals add up exactly; the payload turns them into numbers.

Invoice numbers come from a pattern with a sequence (`INV-{YYYY}{MM}{DD}-{SEQ:5}`); the
sequence only ever grows, and the store refuses a number already used, so a number never
repeats. `review` lists every problem (errors block sending, warnings ask for a second look).
Pure functions over plain data: no I/O, no Qt.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

DEFAULT_INVOICE_PATTERN = "INV-{YYYY}{MM}{DD}-{SEQ:4}"

# What the review step says before anything is sent.
CANNOT_EDIT_NOTICE = (
    "Once DSCO has this invoice it cannot be changed or its number used again. "
    "Check the lines, the amounts and the number before sending."
)

_TOKEN = re.compile(r"\{(SEQ(?::(\d{1,2}))?|YYYY|YY|MM|DD|PO)\}")
_ANY_TOKEN = re.compile(r"\{[^{}]*\}")


def money(value: object) -> Decimal:
    """A money amount rounded to cents; None and "" are zero. ValueError if not a number."""
    if value is None or value == "":
        return ZERO
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount") from None
    if not amount.is_finite():
        raise ValueError(f"{value!r} is not an amount")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def money_or_none(value: object) -> Decimal | None:
    """Like `money`, but None (not zero) for a missing or unreadable amount."""
    if value is None or value == "":
        return None
    try:
        return money(value)
    except ValueError:
        return None


@dataclass(frozen=True)
class Issue:
    """One problem found by a check: where (line index, field) and why."""

    message: str
    line: int | None = None  # index into the draft's lines
    field: str | None = None  # "number", "quantity", "unit_price", "freight", ...
    severity: str = "error"  # or "warning"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


# -- the order as DSCO describes it ---------------------------------------------------------


def line_key(line: Mapping[str, Any], index: int = 0) -> str:
    """How a line is recognised across the order, its packages and invoices."""
    number = line.get("lineNumber")
    if number not in (None, ""):
        try:
            return f"line:{int(number)}"
        except (TypeError, ValueError):
            pass
    for name in ("dscoItemId", "sku", "partnerSku", "upc"):
        value = line.get(name)
        if value not in (None, ""):
            return f"{name}:{value}"
    return f"index:{index}"


@dataclass(frozen=True)
class OrderLine:
    """One order line as far as invoicing needs it."""

    key: str
    line_number: int | None
    sku: str | None
    dsco_item_id: str | None
    partner_sku: str | None
    upc: str | None
    title: str | None
    quantity: int
    expected_cost: Decimal | None


@dataclass(frozen=True)
class ShippedPackage:
    """One package DSCO shows on the order, with the units of each line in it."""

    tracking_number: str
    ship_date: str | None
    carrier: str | None
    method: str | None
    service_level_code: str | None
    ship_cost: Decimal
    items: tuple[tuple[str, int], ...]  # (line key, quantity)


def order_lines(raw_lines: Iterable[Mapping[str, Any]]) -> list[OrderLine]:
    """DSCO's lineItems as `OrderLine`s."""
    result = []
    for index, line in enumerate(raw_lines):
        number = line.get("lineNumber")
        result.append(
            OrderLine(
                key=line_key(line, index),
                line_number=int(number) if isinstance(number, int | float) else None,
                sku=_text(line.get("sku")),
                dsco_item_id=_text(line.get("dscoItemId")),
                partner_sku=_text(line.get("partnerSku")),
                upc=_text(line.get("upc")),
                title=_text(line.get("title")),
                quantity=int(line.get("quantity") or 0),
                expected_cost=money_or_none(line.get("expectedCost")),
            )
        )
    return result


def shipped_packages(
    raw_packages: Iterable[Mapping[str, Any]], lines: Sequence[OrderLine]
) -> list[ShippedPackage]:
    """DSCO's packages with each item tied to its order line (by line number, else by id)."""
    by_key = {line.key: line for line in lines}
    result = []
    for package in raw_packages:
        tracking = _text(package.get("trackingNumber"))
        if not tracking:
            continue
        items: dict[str, int] = {}
        for index, item in enumerate(package.get("items") or package.get("lineItems") or []):
            if not isinstance(item, Mapping):
                continue
            key = _match_line(item, lines, by_key) or line_key(item, index)
            items[key] = items.get(key, 0) + int(item.get("quantity") or 0)
        details = package.get("packageDetails") if isinstance(package, Mapping) else None
        cost = package.get("shipCost")
        if cost is None and isinstance(details, Mapping):
            cost = details.get("shipCost")
        result.append(
            ShippedPackage(
                tracking_number=tracking,
                ship_date=_text(package.get("shipDate")),
                carrier=_text(package.get("shipCarrier")),
                method=_text(package.get("shipMethod")),
                service_level_code=_text(package.get("shippingServiceLevelCode")),
                ship_cost=money_or_none(cost) or ZERO,
                items=tuple((k, q) for k, q in items.items() if q > 0),
            )
        )
    return result


def _match_line(
    item: Mapping[str, Any], lines: Sequence[OrderLine], by_key: Mapping[str, OrderLine]
) -> str | None:
    key = line_key(item)
    if key in by_key:
        return key
    for line in lines:
        for mine, theirs in (
            (line.dsco_item_id, item.get("dscoItemId")),
            (line.sku, item.get("sku")),
            (line.partner_sku, item.get("partnerSku")),
            (line.upc, item.get("upc")),
        ):
            if mine and theirs not in (None, "") and mine == str(theirs):
                return line.key
    return None


# -- the invoice ----------------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceLine:
    """One billed line: units of one order line shipped in one package."""

    line_key: str
    line_number: int | None
    sku: str | None
    dsco_item_id: str | None
    partner_sku: str | None
    upc: str | None
    title: str | None
    quantity: int
    unit_price: Decimal | None
    tracking_number: str | None
    ship_date: str | None = None
    expected_cost: Decimal | None = None

    @property
    def extended(self) -> Decimal:
        """quantity x unit price (zero while the price is missing)."""
        if self.unit_price is None:
            return ZERO
        return (self.unit_price * self.quantity).quantize(CENT, rounding=ROUND_HALF_UP)

    @property
    def label(self) -> str:
        """How messages name the line: its number and SKU."""
        number = f"Line {self.line_number}" if self.line_number is not None else "Line"
        return f"{number} ({self.sku or self.dsco_item_id or self.partner_sku or '?'})"

    def to_wire(self) -> dict[str, Any]:
        line: dict[str, Any] = {
            "quantity": self.quantity,
            "unitPrice": float(self.unit_price) if self.unit_price is not None else None,
            "extendedAmount": float(self.extended),
            "lineNumber": self.line_number,
            "sku": self.sku,
            "dscoItemId": self.dsco_item_id,
            "partnerSku": self.partner_sku,
            "upc": self.upc,
            "title": self.title,
            "trackingNumber": self.tracking_number,
            "shipDate": self.ship_date,
        }
        return {k: v for k, v in line.items() if v is not None}


@dataclass(frozen=True)
class InvoiceDraft:
    """An invoice being prepared: what the review step shows and what is sent."""

    invoice_id: str
    dsco_order_id: str
    po_number: str | None
    lines: tuple[InvoiceLine, ...]
    invoice_date: str  # ISO date (YYYY-MM-DD)
    currency_code: str = "USD"
    freight_amount: Decimal = ZERO
    handling_amount: Decimal = ZERO
    sales_tax_amount: Decimal = ZERO
    consumer_order_number: str | None = None
    ship: Mapping[str, Any] = field(default_factory=dict)

    @property
    def subtotal(self) -> Decimal:
        return sum((line.extended for line in self.lines), ZERO)

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.freight_amount + self.handling_amount + self.sales_tax_amount

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)

    def with_changes(self, **changes: Any) -> InvoiceDraft:
        """A copy with some fields replaced (the review step's edits)."""
        return replace(self, **changes)

    def with_line(self, index: int, **changes: Any) -> InvoiceDraft:
        lines = list(self.lines)
        lines[index] = replace(lines[index], **changes)
        return replace(self, lines=tuple(lines))

    def to_wire(self) -> dict[str, Any]:
        """The body of POST /invoice (and of one element of the small batch)."""
        body: dict[str, Any] = {
            "invoiceId": self.invoice_id,
            "dscoOrderId": self.dsco_order_id,
            "poNumber": self.po_number,
            "consumerOrderNumber": self.consumer_order_number,
            "invoiceDate": f"{self.invoice_date}T00:00:00Z",
            "currencyCode": self.currency_code,
            "totalAmount": float(self.total),
            "lineItemsSubtotal": float(self.subtotal),
            "subtotalExcludingLineItems": float(
                self.freight_amount + self.handling_amount + self.sales_tax_amount
            ),
            "numberOfLineItems": len(self.lines),
            "freightAmount": float(self.freight_amount),
            "handlingAmount": float(self.handling_amount),
            "salesTaxAmount": float(self.sales_tax_amount),
            "lineItems": [line.to_wire() for line in self.lines],
        }
        ship = {k: v for k, v in self.ship.items() if v not in (None, "")}
        if ship:
            body["ship"] = ship
        return {k: v for k, v in body.items() if v is not None}


InvoicedKey = tuple[str, str]  # (tracking number, line key)


def uninvoiced(
    lines: Sequence[OrderLine],
    packages: Sequence[ShippedPackage],
    invoiced: Mapping[InvoicedKey, int],
) -> list[InvoiceLine]:
    """What shipped and is not billed yet, one line per package item, at the expected cost."""
    by_key = {line.key: line for line in lines}
    billed = dict(invoiced)
    result: list[InvoiceLine] = []
    for package in packages:
        for key, quantity in package.items:
            already = billed.get((package.tracking_number, key), 0)
            open_units = quantity - already
            billed[(package.tracking_number, key)] = max(0, already - quantity)
            if open_units <= 0:
                continue
            line = by_key.get(key)
            result.append(
                InvoiceLine(
                    line_key=key,
                    line_number=line.line_number if line else None,
                    sku=line.sku if line else None,
                    dsco_item_id=line.dsco_item_id if line else None,
                    partner_sku=line.partner_sku if line else None,
                    upc=line.upc if line else None,
                    title=line.title if line else None,
                    quantity=open_units,
                    unit_price=line.expected_cost if line else None,
                    tracking_number=package.tracking_number,
                    ship_date=package.ship_date,
                    expected_cost=line.expected_cost if line else None,
                )
            )
    return result


def available_units(
    packages: Sequence[ShippedPackage], invoiced: Mapping[InvoicedKey, int]
) -> dict[InvoicedKey, int]:
    """Per (tracking number, line key): shipped units not yet billed by another invoice."""
    result: dict[InvoicedKey, int] = {}
    for package in packages:
        for key, quantity in package.items:
            slot = (package.tracking_number, key)
            result[slot] = result.get(slot, 0) + quantity
    for slot, billed in invoiced.items():
        if slot in result:
            result[slot] = max(0, result[slot] - billed)
    return result


def build_invoice(
    *,
    invoice_id: str,
    order: Mapping[str, Any],
    lines: Sequence[InvoiceLine],
    packages: Sequence[ShippedPackage],
    invoice_date: date,
    handling_amount: Decimal = ZERO,
) -> InvoiceDraft:
    """A draft billing `lines`, with the freight of the packages they came from."""
    tracking = [line.tracking_number for line in lines if line.tracking_number]
    used = [p for p in packages if p.tracking_number in set(tracking)]
    freight = sum((p.ship_cost for p in used), ZERO)
    first = used[0] if used else None
    ship: dict[str, Any] = {}
    if first is not None:
        ship = {
            "trackingNumber": first.tracking_number,
            "carrier": first.carrier,
            "method": first.method,
            "serviceLevelCode": first.service_level_code,
            "date": first.ship_date,
            "numberOfUnitsShipped": sum(line.quantity for line in lines),
        }
    return InvoiceDraft(
        invoice_id=invoice_id,
        dsco_order_id=str(order.get("dscoOrderId") or ""),
        po_number=_text(order.get("poNumber")),
        consumer_order_number=_text(order.get("consumerOrderNumber")),
        lines=tuple(lines),
        invoice_date=invoice_date.isoformat(),
        currency_code=_text(order.get("currencyCode")) or "USD",
        freight_amount=freight,
        handling_amount=handling_amount,
        ship=ship,
    )


# -- numbers ----------------------------------------------------------------------------------


def check_pattern(pattern: str) -> str | None:
    """Why an invoice number pattern cannot be used, or None when it is fine."""
    if not pattern.strip():
        return "The invoice number pattern is empty."
    if not any(m.group(1).startswith("SEQ") for m in _TOKEN.finditer(pattern)):
        return "The invoice number pattern needs {SEQ} (a running number), so no number repeats."
    unknown = [t for t in _ANY_TOKEN.findall(pattern) if not _TOKEN.fullmatch(t)]
    if unknown:
        return (
            f"The invoice number pattern has unknown part(s) {', '.join(unknown)}; "
            "use {SEQ}, {SEQ:5}, {YYYY}, {YY}, {MM}, {DD} or {PO}."
        )
    return None


def format_number(pattern: str, sequence: int, when: date, po_number: str | None = None) -> str:
    """The number `pattern` gives for `sequence` on `when` (ValueError for a bad pattern)."""
    problem = check_pattern(pattern)
    if problem:
        raise ValueError(problem)

    def part(match: re.Match[str]) -> str:
        token = match.group(1)
        if token.startswith("SEQ"):
            width = int(match.group(2) or 1)
            return str(sequence).zfill(width)
        return {
            "YYYY": f"{when.year:04d}",
            "YY": f"{when.year % 100:02d}",
            "MM": f"{when.month:02d}",
            "DD": f"{when.day:02d}",
            "PO": re.sub(r"[^A-Za-z0-9_-]", "", po_number or ""),
        }[token]

    return _TOKEN.sub(part, pattern)


# -- review -----------------------------------------------------------------------------------


def review(
    draft: InvoiceDraft,
    *,
    available: Mapping[InvoicedKey, int],
    taken_ids: Iterable[str] = (),
) -> list[Issue]:
    """Every problem of a draft: errors block sending, warnings ask for a second look."""
    issues: list[Issue] = []
    number = draft.invoice_id.strip()
    if not number:
        issues.append(Issue("The invoice needs a number.", field="number"))
    elif number in set(taken_ids):
        issues.append(
            Issue(
                f"Invoice number {number} is already used. DSCO never accepts a number twice; "
                "choose another.",
                field="number",
            )
        )
    if not draft.lines:
        issues.append(Issue("The invoice has no lines: nothing shipped is left to bill."))
    left = dict(available)
    seen: set[InvoicedKey] = set()
    for index, line in enumerate(draft.lines):
        slot = (line.tracking_number or "", line.line_key)
        if slot in seen:
            issues.append(
                Issue(
                    f"{line.label} of package {line.tracking_number} is on the invoice twice.",
                    index,
                    "quantity",
                )
            )
        seen.add(slot)
        if line.quantity < 1:
            issues.append(
                Issue(f"{line.label}: the quantity must be at least 1.", index, "quantity")
            )
        else:
            can = left.get(slot, 0)
            if line.quantity > can:
                issues.append(
                    Issue(
                        f"{line.label}: {line.quantity} invoiced but only {can} shipped in "
                        f"package {line.tracking_number or '?'} and not invoiced yet.",
                        index,
                        "quantity",
                    )
                )
            left[slot] = max(0, can - line.quantity)
        if line.unit_price is None:
            issues.append(
                Issue(
                    f"{line.label} needs a unit price (the order gives no expected cost).",
                    index,
                    "unit_price",
                )
            )
        elif line.unit_price < 0:
            issues.append(
                Issue(f"{line.label}: the unit price cannot be negative.", index, "unit_price")
            )
        elif line.unit_price == 0:
            issues.append(Issue(f"{line.label} is billed at 0.00.", index, "unit_price", "warning"))
        elif line.expected_cost is not None and line.unit_price != line.expected_cost:
            issues.append(
                Issue(
                    f"{line.label}: unit price {line.unit_price} differs from the order's "
                    f"expected cost {line.expected_cost}; the retailer may dispute it.",
                    index,
                    "unit_price",
                    "warning",
                )
            )
    for name, amount in (
        ("freight", draft.freight_amount),
        ("handling", draft.handling_amount),
        ("tax", draft.sales_tax_amount),
    ):
        if amount < 0:
            issues.append(Issue(f"The {name} amount cannot be negative.", field=name))
    if draft.lines and draft.total <= 0:
        issues.append(Issue("The invoice total must be more than 0.00.", field="total"))
    issues.extend(check_totals(draft.to_wire()))
    return issues


def check_totals(body: Mapping[str, Any]) -> list[Issue]:
    """Whether an invoice body adds up: lines to the subtotal, the parts to the total."""
    issues: list[Issue] = []
    try:
        lines = [
            money(line.get("unitPrice")) * int(line.get("quantity") or 0)
            for line in body.get("lineItems") or []
        ]
        subtotal = money(body.get("lineItemsSubtotal"))
        total = money(body.get("totalAmount"))
        parts = sum(
            (
                money(body.get(name))
                for name in ("freightAmount", "handlingAmount", "salesTaxAmount")
            ),
            ZERO,
        )
    except ValueError as exc:
        return [Issue(f"An amount of the invoice is not a number: {exc}.", field="total")]
    if sum(lines, ZERO).quantize(CENT) != subtotal:
        issues.append(
            Issue(
                f"The lines add up to {sum(lines, ZERO).quantize(CENT)}, not the subtotal "
                f"{subtotal}.",
                field="total",
            )
        )
    if subtotal + parts != total:
        issues.append(
            Issue(
                f"Subtotal {subtotal} plus shipping, handling and tax {parts} is not the total "
                f"{total}.",
                field="total",
            )
        )
    return issues


def _text(value: object) -> str | None:
    if value is None or value == "":
        return None
    return str(value)
