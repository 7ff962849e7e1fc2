"""Return rules: starting a return for shipped units, and completing one line by line.

A return names the order, a return number and, per line, the units coming back with a reason
code. The supplier starts one when a parcel comes back (never more units than shipped and not
already returned); the retailer's returns arrive from DSCO. Completing a return answers every
line "accepted" or "rejected"; DSCO's complete call carries one response per line and one
`responseReason` for the return, so the per-line reasons of rejected lines are joined into it.
Accepted units can go back on the shelf: `restock_units` says which SKU gets how many.
Pure functions over plain data: no I/O, no Qt.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from dsco_desktop.domain.invoicing import Issue, format_number

DEFAULT_RETURN_PATTERN = "RET-{YYYY}{MM}{DD}-{SEQ:4}"

ACCEPTED = "accepted"
REJECTED = "rejected"
RESPONSES = (ACCEPTED, REJECTED)

# Reason codes offered when the supplier starts a return; DSCO takes any code the retailer
# agreed on, so the field also accepts others.
REASON_CODES: dict[str, str] = {
    "UNDELIVERABLE": "Parcel came back undeliverable",
    "REFUSED": "Refused by the customer",
    "DAMAGED": "Arrived damaged",
    "DEFECTIVE": "Defective",
    "WRONG_ITEM": "Wrong item sent",
    "NOT_AS_DESCRIBED": "Not as described",
    "NO_LONGER_WANTED": "No longer wanted",
    "OTHER": "Other",
}

# Reasons offered when rejecting a returned line.
REJECT_REASONS: tuple[str, ...] = (
    "Item not received back",
    "Returned item is not ours",
    "Damaged by the customer",
    "Outside the return window",
    "Used or worn",
)


@dataclass(frozen=True)
class ReturnLine:
    """One line of a return as DSCO (or the app) described it."""

    index: int
    line_number: int | None
    sku: str | None
    dsco_item_id: str | None
    title: str | None
    quantity: int
    reason_code: str | None
    response: str | None = None  # what DSCO shows once the return is completed

    @property
    def label(self) -> str:
        number = f"Line {self.line_number}" if self.line_number is not None else "Line"
        return f"{number} ({self.sku or self.dsco_item_id or '?'})"


@dataclass(frozen=True)
class Decision:
    """The supplier's answer for one returned line."""

    index: int
    response: str | None  # accepted | rejected | None (not decided yet)
    reason: str = ""
    restock: bool = False
    warehouse_code: str | None = None


def return_lines(raw_lines: Iterable[Mapping[str, Any]]) -> list[ReturnLine]:
    """DSCO's return lineItems as `ReturnLine`s."""
    result = []
    for index, line in enumerate(raw_lines):
        number = line.get("lineNumber")
        result.append(
            ReturnLine(
                index=index,
                line_number=int(number) if isinstance(number, int | float) else None,
                sku=_text(line.get("sku")),
                dsco_item_id=_text(line.get("itemId") or line.get("dscoItemId")),
                title=_text(line.get("title")),
                quantity=int(line.get("quantity") or 0),
                reason_code=_text(line.get("reasonCode")),
                response=_text(line.get("response")),
            )
        )
    return result


def check_decisions(lines: Sequence[ReturnLine], decisions: Sequence[Decision]) -> list[Issue]:
    """Every problem before completing: each line answered, each rejection with a reason."""
    issues: list[Issue] = []
    by_index = {d.index: d for d in decisions}
    for position, line in enumerate(lines):
        decision = by_index.get(line.index)
        if decision is None or decision.response not in RESPONSES:
            issues.append(Issue(f"{line.label}: choose Accept or Reject.", position, "response"))
            continue
        if decision.response == REJECTED and not decision.reason.strip():
            issues.append(Issue(f"{line.label}: say why it is rejected.", position, "reason"))
        if decision.restock and decision.response != ACCEPTED:
            issues.append(
                Issue(f"{line.label}: only accepted units go back into stock.", position, "restock")
            )
        if decision.restock and not line.sku:
            issues.append(
                Issue(f"{line.label} has no SKU, so it cannot be restocked.", position, "restock")
            )
        if decision.restock and not (decision.warehouse_code or "").strip():
            issues.append(
                Issue(f"{line.label}: choose the warehouse to restock.", position, "warehouse")
            )
    return issues


def completion_payload(
    ret: Mapping[str, Any], lines: Sequence[ReturnLine], decisions: Sequence[Decision]
) -> dict[str, Any]:
    """The body of PUT /return/: one response per line, the rejection reasons joined."""
    by_index = {d.index: d for d in decisions}
    items = []
    reasons = []
    for line in lines:
        decision = by_index[line.index]
        item: dict[str, Any] = {"response": decision.response}
        _name_line(item, line.line_number, line.sku, line.dsco_item_id)
        items.append(item)
        if decision.reason.strip():
            reasons.append(f"{line.label}: {decision.reason.strip()}")
    body: dict[str, Any] = {"lineItems": items}
    if ret.get("dscoReturnId"):
        body["dscoReturnId"] = str(ret["dscoReturnId"])
    else:
        body["partnerReturnNumber"] = str(ret.get("returnNumber") or "")
    if reasons:
        body["responseReason"] = "; ".join(reasons)
    return body


def restock_units(
    lines: Sequence[ReturnLine], decisions: Sequence[Decision]
) -> list[tuple[str, str, int]]:
    """(sku, warehouse, units) to put back, per accepted line marked for restocking."""
    by_index = {d.index: d for d in decisions}
    result: dict[tuple[str, str], int] = {}
    for line in lines:
        decision = by_index.get(line.index)
        if (
            decision is None
            or decision.response != ACCEPTED
            or not decision.restock
            or not line.sku
            or not decision.warehouse_code
        ):
            continue
        slot = (line.sku, decision.warehouse_code)
        result[slot] = result.get(slot, 0) + line.quantity
    return [(sku, wh, units) for (sku, wh), units in result.items() if units > 0]


# -- starting a return ------------------------------------------------------------------------


@dataclass(frozen=True)
class Returnable:
    """An order line and how many of its units can still come back."""

    key: str
    line_number: int | None
    sku: str | None
    dsco_item_id: str | None
    title: str | None
    shipped: int
    returned: int

    @property
    def open_units(self) -> int:
        return max(0, self.shipped - self.returned)


@dataclass(frozen=True)
class NewReturnLine:
    """One line of a return the supplier starts."""

    key: str
    quantity: int
    reason_code: str


def check_new_return(
    number: str,
    returnable: Sequence[Returnable],
    lines: Sequence[NewReturnLine],
    *,
    taken_numbers: Iterable[str] = (),
) -> list[Issue]:
    """Every problem of a new return: its number, at least one line, units and reasons."""
    issues: list[Issue] = []
    if not number.strip():
        issues.append(Issue("The return needs a number.", field="number"))
    elif number.strip() in set(taken_numbers):
        issues.append(Issue(f"Return number {number.strip()} is already used.", field="number"))
    by_key = {r.key: r for r in returnable}
    wanted = [line for line in lines if line.quantity > 0]
    if not wanted:
        issues.append(Issue("Choose at least one unit that is coming back.", field="quantity"))
    for position, line in enumerate(lines):
        if line.quantity <= 0:
            continue
        source = by_key.get(line.key)
        label = _returnable_label(source, line.key)
        if source is None:
            issues.append(Issue(f"{label} is not on the order.", position, "quantity"))
            continue
        if line.quantity > source.open_units:
            issues.append(
                Issue(
                    f"{label}: {line.quantity} coming back but only {source.open_units} shipped "
                    "and not returned yet.",
                    position,
                    "quantity",
                )
            )
        if not line.reason_code.strip():
            issues.append(Issue(f"{label}: choose a reason code.", position, "reason"))
    return issues


def _name_line(
    item: dict[str, Any], line_number: int | None, sku: str | None, dsco_item_id: str | None
) -> None:
    """Say which order line a return line is: its number, and its SKU or else DSCO's item id."""
    if line_number is not None:
        item["lineNumber"] = line_number
    if sku:
        item["sku"] = sku
    elif dsco_item_id:
        item["itemId"] = dsco_item_id


def create_payload(
    number: str,
    order: Mapping[str, Any],
    returnable: Sequence[Returnable],
    lines: Sequence[NewReturnLine],
    *,
    reason: str = "",
    when: date | None = None,
) -> dict[str, Any]:
    """The body of POST /return/."""
    by_key = {r.key: r for r in returnable}
    items = []
    for line in lines:
        if line.quantity <= 0:
            continue
        source = by_key[line.key]
        item: dict[str, Any] = {"quantity": line.quantity, "reasonCode": line.reason_code.strip()}
        _name_line(item, source.line_number, source.sku, source.dsco_item_id)
        if source.title:
            item["title"] = source.title
        items.append(item)
    body: dict[str, Any] = {
        "returnNumber": number.strip(),
        "dscoOrderId": str(order.get("dscoOrderId") or ""),
        "poNumber": order.get("poNumber"),
        "lineItems": items,
    }
    if reason.strip():
        body["reason"] = reason.strip()
    if when is not None:
        body["returnDate"] = f"{when.isoformat()}T00:00:00Z"
    return {k: v for k, v in body.items() if v not in (None, "")}


def return_number(pattern: str, sequence: int, when: date, po_number: str | None = None) -> str:
    """A return number from the pattern (the same tokens as invoice numbers)."""
    return format_number(pattern, sequence, when, po_number)


def _returnable_label(source: Returnable | None, key: str) -> str:
    if source is None:
        return f"Line {key}"
    number = f"Line {source.line_number}" if source.line_number is not None else "Line"
    return f"{number} ({source.sku or source.dsco_item_id or '?'})"


def _text(value: object) -> str | None:
    if value is None or value == "":
        return None
    return str(value)
