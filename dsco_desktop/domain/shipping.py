"""Shipping rules: carriers, DSCO's carrier-specific service level codes, and shipment plans.

DSCO accepts generic, order-level service level codes such as GCG ("generic ground") on
orders but rejects them on shipments: a shipment needs a carrier-specific code (USGA for USPS
Ground Advantage, UPCG for UPS Ground, FECG for FedEx Ground, ...). `SERVICE_LEVELS` lists the
codes named by DSCO's own ship-mapping pages and seen accepted on the wire; an account's ship
mapping may add its own codes, so other codes are allowed, but never the generic ones.

A shipment plan is one or more packages for one order, each with its line quantities. The
rules here (no more than remains per line, across all packages; a reason for every line that
cannot ship; tracking checked per carrier) are pure functions over plain data, shared by the
form, the spreadsheet batch and the command line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from dsco_desktop.domain.tracking import Carrier, carrier_from_name, check_tracking

# Order-level generic codes: valid on orders, refused by DSCO on shipments.
GENERIC_SERVICE_LEVELS: frozenset[str] = frozenset(
    {"GCG", "GENERIC", "GROUND", "GC2D", "GCND", "GCSD", "GCEX", "GC3D", "GCST"}
)


@dataclass(frozen=True)
class ServiceLevel:
    """One DSCO service level code: the carrier, the method name DSCO pairs with it."""

    code: str
    carrier: Carrier
    method: str

    @property
    def label(self) -> str:
        return f"{self.code} - {self.carrier.value} {self.method}"


SERVICE_LEVELS: tuple[ServiceLevel, ...] = (
    ServiceLevel("USGA", Carrier.USPS, "Ground Advantage"),
    ServiceLevel("USPM", Carrier.USPS, "Priority Mail"),
    ServiceLevel("UPCG", Carrier.UPS, "Ground"),
    ServiceLevel("UPSP", Carrier.UPS, "SurePost"),
    ServiceLevel("UPSV", Carrier.UPS, "Saver"),
    ServiceLevel("FECG", Carrier.FEDEX, "Ground"),
    ServiceLevel("FEHD", Carrier.FEDEX, "Home Delivery"),
    ServiceLevel("FESP", Carrier.FEDEX, "SmartPost"),
    ServiceLevel("FE2D", Carrier.FEDEX, "2Day"),
    ServiceLevel("F2DA", Carrier.FEDEX, "2Day A.M."),
    ServiceLevel("FEES", Carrier.FEDEX, "Express Saver"),
    ServiceLevel("FESO", Carrier.FEDEX, "Standard Overnight"),
    ServiceLevel("FEPO", Carrier.FEDEX, "Priority Overnight"),
    ServiceLevel("FEFO", Carrier.FEDEX, "First Overnight"),
    ServiceLevel("FESD", Carrier.FEDEX, "Same Day"),
    ServiceLevel("FSDC", Carrier.FEDEX, "Same Day City"),
    ServiceLevel("ONCG", Carrier.ONTRAC, "Ground"),
)

_BY_CODE: dict[str, ServiceLevel] = {s.code: s for s in SERVICE_LEVELS}

CARRIER_CHOICES: tuple[Carrier, ...] = (
    Carrier.USPS,
    Carrier.UPS,
    Carrier.FEDEX,
    Carrier.DHL,
    Carrier.ONTRAC,
    Carrier.LASERSHIP,
    Carrier.OTHER,
)

WEIGHT_UNITS: tuple[str, ...] = ("LB", "OZ", "KG", "G")


def service_levels_for(carrier: Carrier | str) -> list[ServiceLevel]:
    """The known codes of one carrier (empty for carriers DSCO's lists do not name)."""
    chosen = carrier if isinstance(carrier, Carrier) else carrier_from_name(carrier)
    return [s for s in SERVICE_LEVELS if s.carrier is chosen]


def service_level(code: str | None) -> ServiceLevel | None:
    """The known service level of a code, or None."""
    return _BY_CODE.get((code or "").strip().upper())


def is_generic_code(code: str | None) -> bool:
    """Whether `code` is one of DSCO's generic order-level codes (never valid on a shipment)."""
    return (code or "").strip().upper() in GENERIC_SERVICE_LEVELS


def check_service_level(code: str | None, carrier: Carrier | str) -> str | None:
    """Why `code` cannot go on a shipment by `carrier`, or None when it can."""
    chosen = carrier if isinstance(carrier, Carrier) else carrier_from_name(carrier)
    value = (code or "").strip().upper()
    if not value:
        return "Choose the service level code DSCO knows this shipping method by."
    if is_generic_code(value):
        examples = ", ".join(s.code for s in service_levels_for(chosen)[:3]) or "USGA, UPCG"
        return (
            f"{value} is DSCO's generic order-level code; shipments need the carrier's own "
            f"code (for example {examples})."
        )
    if not re.fullmatch(r"[A-Z0-9_]{2,20}", value):
        return "A service level code is 2 to 20 letters or digits, like USGA or FECG."
    known = service_level(value)
    if known is not None and chosen is not Carrier.OTHER and known.carrier is not chosen:
        return f"{value} is a {known.carrier.value} code ({known.method}), not {chosen.value}."
    return None


@dataclass(frozen=True)
class Preselection:
    """What the form starts with for an order: carrier, code, method, and why."""

    carrier: Carrier
    code: str | None
    method: str | None
    note: str


_METHOD_RULES: tuple[tuple[Carrier, str, str], ...] = (
    # (carrier, words in the requested method, code); first match wins.
    (Carrier.USPS, "priority", "USPM"),
    (Carrier.USPS, "ground advantage", "USGA"),
    (Carrier.USPS, "first", "USGA"),
    (Carrier.USPS, "parcel", "USGA"),
    (Carrier.USPS, "ground", "USGA"),
    (Carrier.UPS, "surepost", "UPSP"),
    (Carrier.UPS, "ground", "UPCG"),
    (Carrier.FEDEX, "smart", "FESP"),
    (Carrier.FEDEX, "ground economy", "FESP"),
    (Carrier.FEDEX, "home", "FEHD"),
    (Carrier.FEDEX, "2day a", "F2DA"),
    (Carrier.FEDEX, "2 day a", "F2DA"),
    (Carrier.FEDEX, "2day", "FE2D"),
    (Carrier.FEDEX, "2 day", "FE2D"),
    (Carrier.FEDEX, "express saver", "FEES"),
    (Carrier.FEDEX, "first overnight", "FEFO"),
    (Carrier.FEDEX, "priority overnight", "FEPO"),
    (Carrier.FEDEX, "standard overnight", "FESO"),
    (Carrier.FEDEX, "ground", "FECG"),
    (Carrier.ONTRAC, "ground", "ONCG"),
)

# A carrier with one everyday code: used when the method names nothing more specific.
_DEFAULT_CODE: dict[Carrier, str] = {
    Carrier.USPS: "USGA",
    Carrier.UPS: "UPCG",
    Carrier.FEDEX: "FECG",
    Carrier.ONTRAC: "ONCG",
}


def preselect(
    *,
    carrier: str | None = None,
    method: str | None = None,
    code: str | None = None,
    requested_carrier: str | None = None,
    requested_method: str | None = None,
    requested_code: str | None = None,
) -> Preselection:
    """The carrier and code to start the form with, from what the order asks for.

    DSCO's `shipCarrier`/`shipMethod`/`shippingServiceLevelCode` (what the supplier should use)
    come first, then the `requested*` values. A generic code is never preselected: it is
    translated through the carrier and method, and USPS Ground Advantage is the fallback.
    """
    for value in (code, requested_code):
        known = service_level(value)
        if known is not None:
            return Preselection(
                known.carrier, known.code, known.method, f"The order asks for {known.label}."
            )
    named = next(
        (
            carrier_from_name(c)
            for c in (carrier, requested_carrier)
            if c and carrier_from_name(c) is not Carrier.OTHER
        ),
        None,
    )
    methods = " ".join(m for m in (method, requested_method) if m).lower()
    generic = next((c for c in (code, requested_code) if is_generic_code(c)), None)
    if named is not None:
        for rule_carrier, words, rule_code in _METHOD_RULES:
            if rule_carrier is named and words in methods:
                level = _BY_CODE[rule_code]
                return Preselection(
                    named,
                    rule_code,
                    level.method,
                    f"The order asks for {named.value} {method or requested_method}.",
                )
        default = _DEFAULT_CODE.get(named)
        fallback = _BY_CODE.get(default or "")
        note = f"The order asks for {named.value}"
        note += f" {method or requested_method}." if (method or requested_method) else "."
        if fallback is None:
            note += " Enter the service level code of your DSCO ship mapping."
        return Preselection(named, default, fallback.method if fallback else method, note)
    own = next((c for c in (code, requested_code) if c and not is_generic_code(c)), None)
    if own:
        # An account-specific (ship-mapped) code DSCO gave the order: keep it as it is.
        return Preselection(Carrier.OTHER, own.strip().upper(), method, "Code from the order.")
    note = (
        f"The order asks for the generic code {generic.upper()}, which DSCO refuses on "
        "shipments; USPS Ground Advantage (USGA) is preselected. Change it if you ship otherwise."
        if generic
        else "The order names no carrier; USPS Ground Advantage (USGA) is preselected."
    )
    return Preselection(Carrier.USPS, "USGA", "Ground Advantage", note)


# -- the lines of an order, and what can still ship --------------------------------------------


@dataclass(frozen=True)
class LineState:
    """One order line with its quantities, as the form and the batch check see it."""

    line_number: int | None
    sku: str | None
    title: str | None
    ordered: int
    shipped: int
    cancelled: int
    pending: int = 0  # in local shipments not yet confirmed by DSCO
    status: str | None = None
    dsco_item_id: str | None = None
    line_index: int = 0

    @property
    def remaining(self) -> int:
        """What may still be shipped."""
        return max(0, self.ordered - self.shipped - self.cancelled - self.pending)

    @property
    def key(self) -> str:
        """How the line is named in plans: its line number, else its SKU."""
        if self.line_number is not None:
            return f"line:{self.line_number}"
        return f"sku:{self.sku or self.line_index}"

    @property
    def label(self) -> str:
        if self.line_number is not None:
            return f"line {self.line_number} ({self.sku or 'no SKU'})"
        return f"SKU {self.sku}"

    def not_shippable_reason(self) -> str | None:
        """Why nothing of this line can ship now, or None when some can."""
        if self.remaining > 0:
            return None
        if (self.status or "").lower() == "rejected":
            return "Rejected by the retailer."
        if self.ordered and self.cancelled >= self.ordered:
            return "Cancelled."
        if self.pending and self.shipped + self.cancelled + self.pending >= self.ordered:
            return f"{self.pending} already in a shipment waiting for DSCO."
        if self.shipped and self.shipped + self.cancelled >= self.ordered:
            if self.cancelled:
                return f"Done: {self.shipped} shipped, {self.cancelled} cancelled."
            return "Already shipped."
        return "Nothing left to ship."


def _int(value: Any) -> int:
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0


def line_states(
    lines: Iterable[Mapping[str, Any]], pending: Mapping[str, int] | None = None
) -> list[LineState]:
    """LineStates from DSCO line items (`lineItems[]` dicts), minus what is pending locally.

    DSCO's own `remainingQuantity` wins when it says less remains than the other quantities
    imply (it also counts quantities DSCO tracks elsewhere, such as rejections).
    """
    states: list[LineState] = []
    for index, line in enumerate(lines):
        ordered = _int(line.get("quantity"))
        shipped = _int(line.get("shippedQuantity"))
        cancelled = _int(line.get("cancelledQuantity"))
        remaining = line.get("remainingQuantity")
        if remaining is not None:
            implied = ordered - shipped - cancelled
            if _int(remaining) < implied:
                # Count the difference as cancelled so `remaining` matches DSCO.
                cancelled += implied - _int(remaining)
        raw_number = line.get("lineNumber")
        number = None if raw_number in (None, "") else _int(raw_number)
        state = LineState(
            line_number=number,
            sku=line.get("sku") or None,
            title=line.get("title") or None,
            ordered=ordered,
            shipped=shipped,
            cancelled=cancelled,
            status=line.get("status") or None,
            dsco_item_id=str(line["dscoItemId"]) if line.get("dscoItemId") else None,
            line_index=index,
        )
        waiting = (pending or {}).get(state.key, 0)
        if waiting:
            state = replace(state, pending=waiting)
        states.append(state)
    return states


# -- plans ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackagePlan:
    """One package: how it ships and which line quantities are in it (line key -> quantity)."""

    carrier: str
    service_level_code: str
    tracking_number: str
    ship_date: date | None = None
    weight: float | None = None
    weight_unit: str = "LB"
    warehouse_code: str | None = None
    method: str | None = None
    quantities: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a plan: where (package index or line key, field) and why."""

    message: str
    package: int | None = None  # 0-based package index
    line: str | None = None  # line key
    field: str | None = None  # "tracking", "carrier", "code", "quantity", "weight", ...
    severity: str = "error"  # or "warning"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


def check_plan(
    lines: Sequence[LineState],
    packages: Sequence[PackagePlan],
    *,
    existing_tracking: Iterable[str] = (),
    today: date | None = None,
) -> list[Problem]:
    """Every problem of a plan, in form order; an empty list means it may be sent."""
    problems: list[Problem] = []
    by_key = {line.key: line for line in lines}
    if not packages:
        return [Problem("Add at least one package.")]
    seen_tracking: dict[str, int] = {}
    existing = {t.strip().upper() for t in existing_tracking if t}
    totals: dict[str, int] = {}
    for index, package in enumerate(packages):
        problems.extend(_check_package(index, package, today))
        number = "".join(package.tracking_number.split()).upper()
        if number:
            if number in existing:
                problems.append(
                    Problem(
                        "This tracking number is already on the order.",
                        index,
                        field="tracking",
                    )
                )
            elif number in seen_tracking:
                problems.append(
                    Problem(
                        f"Package {seen_tracking[number] + 1} has the same tracking number.",
                        index,
                        field="tracking",
                    )
                )
            seen_tracking.setdefault(number, index)
        units = 0
        for key, quantity in package.quantities.items():
            line = by_key.get(key)
            if line is None:
                problems.append(
                    Problem(f"The order has no {key.replace(':', ' ')}.", index, key, "quantity")
                )
                continue
            if quantity < 0:
                problems.append(Problem("A quantity cannot be negative.", index, key, "quantity"))
                continue
            units += quantity
            totals[key] = totals.get(key, 0) + quantity
        if units == 0:
            problems.append(
                Problem(
                    "This package ships nothing: enter a quantity for at least one line.",
                    index,
                    field="quantity",
                )
            )
    for key, total in totals.items():
        line = by_key[key]
        if total <= line.remaining:
            continue
        name = line.label[:1].upper() + line.label[1:]
        reason = line.not_shippable_reason()
        if reason:
            message = f"{name} cannot ship: {reason}"
        else:
            message = (
                f"{name}: {total} to ship but only {line.remaining} "
                f"remain{'s' if line.remaining == 1 else ''} "
                f"(ordered {line.ordered}, shipped {line.shipped}, cancelled {line.cancelled}"
                + (f", {line.pending} waiting for DSCO" if line.pending else "")
                + ")."
            )
        problems.append(Problem(message, None, key, "quantity"))
    return problems


def _check_package(index: int, package: PackagePlan, today: date | None) -> list[Problem]:
    problems: list[Problem] = []
    carrier_name = (package.carrier or "").strip()
    if not carrier_name:
        problems.append(Problem("Choose the carrier.", index, field="carrier"))
    carrier = carrier_from_name(carrier_name)
    code_problem = check_service_level(package.service_level_code, carrier)
    if code_problem:
        problems.append(Problem(code_problem, index, field="code"))
    tracking = check_tracking(package.tracking_number, carrier)
    if not tracking.ok:
        problems.append(Problem(tracking.message, index, field="tracking"))
    if package.weight is not None and package.weight <= 0:
        problems.append(Problem("The weight must be more than 0.", index, field="weight"))
    if package.weight is not None and package.weight_unit.upper() not in WEIGHT_UNITS:
        problems.append(
            Problem(f"Weight unit must be one of {', '.join(WEIGHT_UNITS)}.", index, field="weight")
        )
    if package.ship_date is not None and today is not None and package.ship_date > today:
        problems.append(
            Problem(
                "The ship date is in the future; DSCO expects the day the package left.",
                index,
                field="ship_date",
                severity="warning",
            )
        )
    return problems


def plan_payload(
    order_id: str | None,
    po_number: str | None,
    lines: Sequence[LineState],
    packages: Sequence[PackagePlan],
) -> dict[str, Any]:
    """The singleShipment body (ShipmentsForUpdate) for a checked plan.

    Each line item names the line by number and SKU: DSCO's validation has required `sku`
    even though the spec does not. Lines with quantity 0 are left out.
    """
    by_key = {line.key: line for line in lines}
    shipments: list[dict[str, Any]] = []
    for package in packages:
        carrier = carrier_from_name(package.carrier)
        code = package.service_level_code.strip().upper()
        known = service_level(code)
        method = package.method or (known.method if known else None)
        shipment: dict[str, Any] = {
            "trackingNumber": "".join(package.tracking_number.split()).upper(),
            "shipCarrier": carrier.value if carrier is not Carrier.OTHER else package.carrier,
            "shippingServiceLevelCode": code,
        }
        if method:
            shipment["shipMethod"] = method
        if package.ship_date is not None:
            shipment["shipDate"] = f"{package.ship_date.isoformat()}T00:00:00Z"
        if package.weight is not None:
            shipment["shipWeight"] = package.weight
            shipment["shipWeightUnits"] = package.weight_unit.upper()
        if package.warehouse_code:
            shipment["warehouseCode"] = package.warehouse_code
        items: list[dict[str, Any]] = []
        for key, quantity in package.quantities.items():
            line = by_key.get(key)
            if line is None or quantity <= 0:
                continue
            item: dict[str, Any] = {"quantity": quantity}
            if line.line_number is not None:
                item["lineNumber"] = line.line_number
            if line.sku:
                item["sku"] = line.sku
            if line.dsco_item_id:
                item["dscoItemId"] = line.dsco_item_id
            items.append(item)
        shipment["lineItems"] = items
        shipments.append(shipment)
    body: dict[str, Any] = {"shipments": shipments}
    if order_id:
        body["dscoOrderId"] = order_id
    if po_number:
        body["poNumber"] = po_number
    return body


def default_quantities(lines: Sequence[LineState]) -> dict[str, int]:
    """Everything that remains, per line: what the form starts with."""
    return {line.key: line.remaining for line in lines if line.remaining > 0}
