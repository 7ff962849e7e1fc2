"""Inventory rules: what is available to sell, bulk edits, delisting, and the import's fields.

Available to sell = on hand - allocated to open orders - safety buffer, never below 0, and 0
for a discontinued SKU. That is the quantity DSCO gets: sending on-hand instead is how
suppliers oversell.

Allocations come from open order lines. A line that names its warehouse (`warehouseCode`)
allocates there; the rest of a SKU's open units are taken from the warehouse with the most
available first (where a shop would ship from), so the SKU's total available is right whatever
the split.

Delisting means telling DSCO an item can no longer be sold: its available quantity goes to 0
where it was above 0, or it is discontinued. Both need the user's confirmation before a push.

No I/O and no Qt here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from dsco_desktop.domain.catalog import Issue, IssueCounts, Severity, cell_text
from dsco_desktop.domain.fields import FieldDef

DISCONTINUED = "discontinued"
IN_STOCK = "in-stock"
OUT_OF_STOCK = "out-of-stock"
DSCO_STATUSES = (IN_STOCK, OUT_OF_STOCK, DISCONTINUED, "hidden")
SKU_MAX_LENGTH = 90
# Quantities above this are almost certainly a typo (a barcode pasted into the quantity).
QUANTITY_MAX = 10_000_000


def available(on_hand: int, allocated: int, buffer: int, status: str = "") -> int:
    """What may be sold: on hand minus allocated minus buffer, never below 0; 0 if discontinued."""
    if status == DISCONTINUED:
        return 0
    return max(0, int(on_hand) - int(allocated) - int(buffer))


def dsco_status(total_available: int, status: str = "") -> str:
    """The item status DSCO gets for a SKU's total available quantity."""
    if status == DISCONTINUED:
        return DISCONTINUED
    return IN_STOCK if total_available > 0 else OUT_OF_STOCK


@dataclass(frozen=True)
class LevelValues:
    """The shop's own values of one SKU in one warehouse (staged or committed)."""

    quantity: int
    buffer: int = 0
    status: str = ""  # "" (sellable) or DISCONTINUED


class BulkOperation(StrEnum):
    """What a bulk edit does to each selected row."""

    SET = "set"
    ADD = "add"
    SUBTRACT = "subtract"
    PERCENT = "percent"
    SET_BUFFER = "set_buffer"
    DISCONTINUE = "discontinue"
    REACTIVATE = "reactivate"

    @property
    def label(self) -> str:
        return _BULK_LABELS[self]

    @property
    def needs_value(self) -> bool:
        return self not in (BulkOperation.DISCONTINUE, BulkOperation.REACTIVATE)


_BULK_LABELS = {
    BulkOperation.SET: "Set on hand to",
    BulkOperation.ADD: "Add to on hand",
    BulkOperation.SUBTRACT: "Subtract from on hand",
    BulkOperation.PERCENT: "Change on hand by percent",
    BulkOperation.SET_BUFFER: "Set safety buffer to",
    BulkOperation.DISCONTINUE: "Discontinue (delist)",
    BulkOperation.REACTIVATE: "Sell again (undo discontinue)",
}


def apply_bulk(op: BulkOperation, value: float, current: LevelValues) -> LevelValues:
    """One row after a bulk edit. Quantities never go below 0; percent rounds down, so a
    change never claims stock that is not there."""
    quantity, buffer, status = current.quantity, current.buffer, current.status
    if op is BulkOperation.SET:
        quantity = int(value)
    elif op is BulkOperation.ADD:
        quantity = quantity + int(value)
    elif op is BulkOperation.SUBTRACT:
        quantity = quantity - int(value)
    elif op is BulkOperation.PERCENT:
        quantity = math.floor(quantity * (100.0 + value) / 100.0 + 1e-9)
    elif op is BulkOperation.SET_BUFFER:
        buffer = int(value)
    elif op is BulkOperation.DISCONTINUE:
        status = DISCONTINUED
    elif op is BulkOperation.REACTIVATE:
        status = ""
    return LevelValues(max(0, quantity), max(0, buffer), status)


def bulk_value_problem(op: BulkOperation, value: float | None) -> str | None:
    """Why a bulk edit's value cannot be used, or None."""
    if not op.needs_value:
        return None
    if value is None or math.isnan(value):
        return "Enter a number."
    if op is BulkOperation.PERCENT:
        if value < -100:
            return "A percentage below -100 would leave less than nothing."
        return None
    if value != int(value):
        return "Quantities are whole numbers."
    if value < 0:
        return "Enter 0 or more (use Subtract to lower quantities)."
    if value > QUANTITY_MAX:
        return f"{int(value):,} is more than this app accepts ({QUANTITY_MAX:,})."
    return None


def is_delisting(before_available: int | None, after_available: int, after_status: str) -> bool:
    """Whether a push takes an item off sale: discontinued, or available down to 0 from above."""
    if after_status == DISCONTINUED:
        return True
    return after_available == 0 and (before_available is None or before_available > 0)


def distribute_allocation(
    levels: Mapping[str, tuple[int, int]],
    explicit: Mapping[str, int],
    unassigned: int,
) -> dict[str, int]:
    """Allocated units per warehouse of one SKU.

    `levels` is {warehouse: (on hand, buffer)}; `explicit` the units of lines that name a
    warehouse; `unassigned` the units of lines that do not. Unassigned units go to the
    warehouse with the most available first; what no warehouse can cover is put on the first
    warehouse (by code), so the SKU is never shown as more available than it is.
    """
    result = {code: max(0, int(explicit.get(code, 0))) for code in levels}
    left = max(0, int(unassigned))
    if not levels:
        return result
    while left > 0:
        free = {code: on_hand - buffer - result[code] for code, (on_hand, buffer) in levels.items()}
        code = max(sorted(free), key=lambda c: free[c])
        if free[code] <= 0:
            result[sorted(levels)[0]] += left
            break
        take = min(left, free[code])
        result[code] += take
        left -= take
    return result


def item_payload(
    sku: str, warehouses: Sequence[tuple[str, int]], status: str = ""
) -> dict[str, Any]:
    """The ItemInventory DSCO gets for one SKU: every warehouse's available quantity, their sum
    as quantityAvailable (the spec wants the exact sum) and the matching status."""
    total = sum(q for _, q in warehouses)
    return {
        "sku": sku,
        "quantityAvailable": total,
        "status": dsco_status(total, status),
        "warehouses": [{"code": code, "quantity": q} for code, q in warehouses],
    }


# -- spreadsheet import ---------------------------------------------------------------------

WAREHOUSE_COLUMN_PREFIX = "warehouse_qty:"

INVENTORY_FIELDS: tuple[FieldDef, ...] = (
    FieldDef(
        "sku",
        "SKU",
        kind="identifier",
        required=True,
        synonyms=("Item SKU", "Supplier SKU", "Item", "Item Number", "Style"),
        max_length=SKU_MAX_LENGTH,
        text_from_numbers=True,
        note="Your SKU, exactly as in DSCO.",
    ),
    FieldDef(
        "warehouse",
        "Warehouse",
        synonyms=("Warehouse Code", "Location", "WH", "Warehouse ID"),
        note="The warehouse code (WH01). Leave the column out to use the default warehouse.",
    ),
    FieldDef(
        "quantity",
        "Quantity",
        kind="integer",
        synonyms=("Qty", "On Hand", "Quantity On Hand", "QOH", "Stock", "Inventory"),
        note="Units on hand (whole number, 0 or more).",
    ),
    FieldDef(
        "buffer",
        "Safety buffer",
        kind="integer",
        synonyms=("Buffer", "Safety Stock", "Reserve"),
        note="Units kept back from DSCO (optional).",
    ),
    FieldDef(
        "status",
        "Status",
        kind="enum",
        choices=("active", DISCONTINUED),
        synonyms=("Item Status", "Inventory Status"),
        note="'discontinued' to delist (optional).",
    ),
)


def import_fields(warehouse_codes: Sequence[str]) -> tuple[FieldDef, ...]:
    """The import's fields: sku/warehouse/quantity, plus one quantity field per known warehouse
    so a sheet with one column per warehouse ("WH01", "Qty WH02") maps itself."""
    per_warehouse = tuple(
        FieldDef(
            WAREHOUSE_COLUMN_PREFIX + code,
            f"Quantity in {code}",
            kind="integer",
            synonyms=(code, f"Qty {code}", f"{code} Qty", f"{code} Quantity", f"On Hand {code}"),
            note=f"Units on hand in {code}.",
        )
        for code in warehouse_codes
    )
    return INVENTORY_FIELDS + per_warehouse


def import_mapping_problems(mapped: set[str]) -> list[str]:
    """What the inventory import needs beyond the mapper's own checks."""
    wide = any(name.startswith(WAREHOUSE_COLUMN_PREFIX) for name in mapped)
    if "quantity" not in mapped and not wide and not ({"buffer", "status"} & mapped):
        return ["Map a column to Quantity, or one column per warehouse."]
    if wide and "quantity" in mapped:
        return [
            "Use either a Quantity column with a Warehouse column, or one column per warehouse, "
            "not both."
        ]
    return []


@dataclass(frozen=True)
class ImportedLevel:
    """One (sku, warehouse) a sheet row sets; None leaves that value as it is."""

    sku: str
    warehouse_code: str
    quantity: int | None = None
    buffer: int | None = None
    status: str | None = None


@dataclass
class InventoryRowResult(IssueCounts):
    """One sheet row: the levels it sets and its problems (by field name)."""

    number: int
    sku: str | None
    levels: list[ImportedLevel] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)


def parse_quantity(value: object, label: str, name: str, issues: list[Issue]) -> int | None:
    """A whole number >= 0 from a cell; None (with an issue when it was not blank) otherwise."""
    text = cell_text(value)
    if text == "":
        return None
    number: float
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    else:
        try:
            number = float(text.replace(",", ""))
        except ValueError:
            issues.append(Issue(name, Severity.ERROR, f"{label} '{text}' is not a number."))
            return None
    if math.isnan(number) or number != int(number):
        issues.append(Issue(name, Severity.ERROR, f"{label} {text} is not a whole number."))
        return None
    if number < 0:
        issues.append(Issue(name, Severity.ERROR, f"{label} {text} is below 0."))
        return None
    if number > QUANTITY_MAX:
        issues.append(
            Issue(name, Severity.ERROR, f"{label} {text} is more than {QUANTITY_MAX:,}: a typo?")
        )
        return None
    return int(number)


def validate_inventory_row(
    number: int,
    values: Mapping[str, Any],
    *,
    known_warehouses: Sequence[str],
    default_warehouse: str = "",
) -> InventoryRowResult:
    """Check one mapped sheet row and turn it into the levels it sets.

    Unknown warehouses are errors when the shop's warehouses are known (DSCO refuses them).
    """
    issues: list[Issue] = []
    sku = cell_text(values.get("sku"))
    if not sku:
        issues.append(Issue("sku", Severity.ERROR, "The SKU is empty."))
    elif len(sku) > SKU_MAX_LENGTH:
        issues.append(
            Issue(
                "sku",
                Severity.ERROR,
                f"SKU is {len(sku)} characters long; DSCO allows at most {SKU_MAX_LENGTH}.",
            )
        )
    buffer = parse_quantity(values.get("buffer"), "Safety buffer", "buffer", issues)
    status: str | None = None
    status_text = cell_text(values.get("status")).lower()
    if status_text:
        if status_text in (DISCONTINUED, "discontinue", "delist", "delisted"):
            status = DISCONTINUED
        elif status_text in ("active", "in-stock", "in stock", "instock", "out-of-stock", "sell"):
            status = ""
        else:
            issues.append(
                Issue(
                    "status",
                    Severity.ERROR,
                    f"Status '{status_text}' is not 'active' or 'discontinued'.",
                )
            )
    levels: list[ImportedLevel] = []
    known = set(known_warehouses)
    wide = {
        name[len(WAREHOUSE_COLUMN_PREFIX) :]: value
        for name, value in values.items()
        if name.startswith(WAREHOUSE_COLUMN_PREFIX)
    }
    if wide:
        for code, cell in wide.items():
            quantity = parse_quantity(
                cell, f"Quantity in {code}", WAREHOUSE_COLUMN_PREFIX + code, issues
            )
            if quantity is not None or buffer is not None or status is not None:
                levels.append(ImportedLevel(sku, code, quantity, buffer, status))
    else:
        code = cell_text(values.get("warehouse")) or default_warehouse
        quantity = parse_quantity(values.get("quantity"), "Quantity", "quantity", issues)
        if not code:
            issues.append(
                Issue(
                    "warehouse",
                    Severity.ERROR,
                    "No warehouse: add a Warehouse column or choose a default warehouse.",
                )
            )
        elif known and code not in known:
            issues.append(
                Issue(
                    "warehouse",
                    Severity.ERROR,
                    f"Warehouse {code} is not one of yours ({', '.join(sorted(known))}).",
                )
            )
        elif quantity is not None or buffer is not None or status is not None:
            levels.append(ImportedLevel(sku, code, quantity, buffer, status))
        if (
            quantity is None
            and "quantity" in values
            and not any(i.field == "quantity" for i in issues)
        ):
            issues.append(
                Issue("quantity", Severity.WARNING, "The quantity is empty; it stays as it is.")
            )
    if not levels and not issues:
        issues.append(Issue("sku", Severity.WARNING, "The row sets nothing; it is skipped."))
    if any(i.is_error for i in issues):
        levels = []
    return InventoryRowResult(number, sku or None, levels, issues)
