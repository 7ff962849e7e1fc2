"""The catalog's rules: which columns a catalog sheet can have, and what DSCO accepts in each.

Everything here is pure: a row of cell values (already split by column mapping) goes in, the
DSCO `ItemCatalog` fields and every problem found come out, each problem naming its field so the
caller can name the sheet's row and column. Rules come from the vendor spec's ItemCatalog
schema: required `sku` (at most 90 characters), `title` and `productStatus` (one of four values);
UPC/EAN/GTIN/ISBN patterns and check digits; non-negative prices with at most two decimals;
the unit enums; image references (the app asks for https); categories as "A||B||C" paths.
Errors stop a row from being sent; warnings are shown but do not.

`diff_item` compares a valid row with what the store holds, so an update sends only what
changed (plus the required fields DSCO wants on every record).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from dsco_desktop.domain.fields import FieldDef, field_index
from dsco_desktop.domain.identifiers import (
    NAMES,
    IdentifierKind,
    clean_code,
    identifier_problem,
    restore_lost_zeros,
)

SKU_MAX_LENGTH = 90
PRODUCT_STATUSES = ("pending", "active", "discontinued_sell_through", "discontinued")
WEIGHT_UNITS = ("oz", "g", "lb", "kg")
DIMENSION_UNITS = ("in", "ft", "m", "cm", "mm")
CATEGORY_SEPARATOR = "||"
EXTENDED_PREFIX = "extended:"
DEFAULT_IMAGE_NAME = "image"

_UNIT_ALIASES = {
    "lbs": "lb",
    "pound": "lb",
    "pounds": "lb",
    "ounce": "oz",
    "ounces": "oz",
    "gram": "g",
    "grams": "g",
    "kilogram": "kg",
    "kilograms": "kg",
    "kgs": "kg",
    "inch": "in",
    "inches": "in",
    "feet": "ft",
    "foot": "ft",
    "meter": "m",
    "meters": "m",
    "centimeter": "cm",
    "centimeters": "cm",
    "millimeter": "mm",
    "millimeters": "mm",
}


def _f(name: str, label: str, kind: Any = "text", **kw: Any) -> FieldDef:
    return FieldDef(name=name, label=label, kind=kind, **kw)


CATALOG_FIELDS: tuple[FieldDef, ...] = (
    _f(
        "sku",
        "SKU",
        "text",
        required=True,
        max_length=SKU_MAX_LENGTH,
        text_from_numbers=True,
        synonyms=(
            "Item SKU",
            "Product SKU",
            "Seller SKU",
            "Vendor SKU",
            "Supplier SKU",
            "Item Number",
            "Item No",
            "Item #",
            "Item Code",
            "Style Number",
            "Stock Code",
        ),
        note="Required. Your unique item code, at most 90 characters. Keep leading zeros: "
        "format the column as Text.",
    ),
    _f(
        "title",
        "Title",
        required=True,
        synonyms=("Product Name", "Item Name", "Name", "Item Title", "Item Description Short"),
        note="Required for new items. The item's name as shoppers see it.",
    ),
    _f(
        "productStatus",
        "Product Status",
        "enum",
        required=True,
        choices=PRODUCT_STATUSES,
        synonyms=("Status", "Item Status", "Product Status"),
        aliases={"discontinued sell through": "discontinued_sell_through", "new": "pending"},
        note="Required for new items: pending, active, discontinued_sell_through or discontinued.",
    ),
    _f(
        "description",
        "Description",
        synonyms=("Long Description", "Product Description", "Item Description", "Body HTML"),
        note="Full description; simple HTML is allowed.",
    ),
    _f("shortDescription", "Short Description", synonyms=("Summary",)),
    _f("brand", "Brand", synonyms=("Brand Name", "Label")),
    _f(
        "upc",
        "UPC",
        "identifier",
        lengths=(6, 12),
        text_from_numbers=True,
        synonyms=("UPC Code", "UPC-A", "UPC Number", "Barcode"),
        note="6 or 12 digits with a valid check digit. Format the column as Text.",
    ),
    _f(
        "ean",
        "EAN",
        "identifier",
        lengths=(8, 13),
        text_from_numbers=True,
        synonyms=("EAN13", "EAN Code", "EAN-13"),
        note="8 or 13 digits with a valid check digit.",
    ),
    _f(
        "gtin",
        "GTIN",
        "identifier",
        lengths=(8, 12, 13, 14),
        text_from_numbers=True,
        synonyms=("GTIN-14", "GTIN14"),
        note="8, 12, 13 or 14 digits with a valid check digit.",
    ),
    _f("isbn", "ISBN", "identifier", lengths=(10, 13), text_from_numbers=True),
    _f(
        "mpn",
        "MPN",
        text_from_numbers=True,
        synonyms=("Manufacturer Part Number", "Part Number", "Mfr Part Number", "Model Number"),
    ),
    _f(
        "cost",
        "Cost",
        "money",
        synonyms=("Unit Cost", "Wholesale", "Wholesale Price", "Wholesale Cost", "Price"),
        note="What the retailer pays you: a plain number with at most 2 decimals, no $.",
    ),
    _f(
        "msrp",
        "MSRP",
        "money",
        synonyms=("Retail Price", "RRP", "List Price", "Suggested Retail Price", "SRP"),
        note="Manufacturer's suggested retail price: a plain number, at most 2 decimals.",
    ),
    _f(
        "map",
        "MAP",
        "money",
        synonyms=("Minimum Advertised Price", "MAP Price"),
        note="Minimum advertised price: a plain number, at most 2 decimals.",
    ),
    _f("currencyCode", "Currency", synonyms=("Currency Code",), max_length=3),
    _f(
        "productGroup",
        "Product Group",
        text_from_numbers=True,
        synonyms=("Parent SKU", "Variant Group", "Group ID", "Style"),
        note="Items with the same product group are variants of each other.",
    ),
    _f("productTitle", "Product Title", synonyms=("Parent Title", "Group Title")),
    _f(
        "colorPrimaryDescription",
        "Color",
        synonyms=("Colour", "Color Name", "Colour Name", "Primary Color"),
    ),
    _f("sizePrimaryDescription", "Size", synonyms=("Size Name", "Primary Size")),
    _f("weight", "Weight", "number", synonyms=("Item Weight", "Shipping Weight")),
    _f(
        "weightUnits",
        "Weight Units",
        "enum",
        choices=WEIGHT_UNITS,
        aliases=_UNIT_ALIASES,
        synonyms=("Weight Unit", "Weight UOM"),
        note="oz, g, lb or kg.",
    ),
    _f("length", "Length", "number"),
    _f("width", "Width", "number"),
    _f("height", "Height", "number"),
    _f(
        "dimensionUnits",
        "Dimension Units",
        "enum",
        choices=DIMENSION_UNITS,
        aliases=_UNIT_ALIASES,
        synonyms=("Dimension Unit", "Dimensions UOM", "Size Units"),
        note="in, ft, m, cm or mm.",
    ),
    _f(
        "countryOfOrigin",
        "Country of Origin",
        max_length=2,
        synonyms=("COO", "Origin Country", "Made In"),
        note="Two-letter ISO country code, e.g. US.",
    ),
    _f(
        "condition",
        "Condition",
        "enum",
        choices=("new", "refurbished", "used"),
        note="new, refurbished or used.",
    ),
    _f(
        "category",
        "Category",
        "category",
        synonyms=("Category Path", "Categories", "Product Category", "Product Type"),
        note="A path like Apparel||Men's||Shoes.",
    ),
    _f(
        "images",
        "Image",
        "url",
        multiple=True,
        synonyms=("Image URL", "Image Link", "Main Image", "Picture", "Photo", "Images"),
        note="https:// address of an image; Image 1, Image 2, ... for more.",
    ),
    _f(
        "handlingCost",
        "Handling Cost",
        "money",
        synonyms=("Handling Fee",),
    ),
    _f(
        "listingStatus",
        "Listing Status",
        "enum",
        choices=("listed", "unlisted"),
    ),
    _f("hazmatFlag", "Hazmat", "boolean", synonyms=("Hazardous", "Hazmat Flag")),
    _f(
        "productAvailabilityStartDate",
        "Available From",
        "date",
        synonyms=("Availability Start Date", "Launch Date", "Release Date"),
    ),
)

FIELDS_BY_NAME: dict[str, FieldDef] = field_index(CATALOG_FIELDS)

# Fields DSCO wants on every catalog record, an update included.
ALWAYS_SENT = ("sku", "title", "productStatus")


class Severity(StrEnum):
    """How bad a problem is: errors block the row, warnings do not."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Issue:
    """One problem in one cell: `field` is a field name or "extended:<column>"; `position`
    tells the columns of a multiple field (Image 1, Image 2, ...) apart."""

    field: str
    severity: Severity
    message: str
    position: int = 0

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


class IssueCounts:
    """Error and warning counts of a checked sheet row (the catalog's and the inventory's)."""

    issues: list[Issue]

    @property
    def errors(self) -> int:
        return sum(1 for i in self.issues if i.is_error)

    @property
    def warnings(self) -> int:
        return sum(1 for i in self.issues if not i.is_error)


@dataclass
class RowResult(IssueCounts):
    """A validated row: the DSCO fields it sets and every problem found."""

    number: int
    sku: str | None
    item: dict[str, Any]
    issues: list[Issue] = field(default_factory=list)
    # Not in the catalog, and the sheet lacks the columns to add it: never sent.
    skipped: bool = False

    @property
    def valid(self) -> bool:
        return self.errors == 0


class DiffState(StrEnum):
    """A row compared with what the store holds."""

    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    INVALID = "invalid"
    SKIPPED = "skipped"  # not in the catalog, and the sheet cannot add it


# -- cell conversion ----------------------------------------------------------------------------

_Convert = Callable[[FieldDef, object, list[Issue], int], Any]
_EMPTY = object()
_CURRENCY = re.compile(r"[$€£¥₹]|\b(?:USD|EUR|GBP|CAD|AUD)\b", re.IGNORECASE)
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_TRUE = {"true", "yes", "y", "1", "x"}
_FALSE = {"false", "no", "n", "0"}


def _whole(value: float) -> bool:
    return math.isfinite(value) and value == int(value)


def cell_text(value: object) -> str:
    """A cell as text: whole numbers without ".0", dates as ISO, the rest as typed."""
    if value.__class__ is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if _whole(value):
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value).strip()


def _text(fd: FieldDef, value: object, issues: list[Issue], pos: int) -> Any:
    text = cell_text(value)
    if fd.max_length is not None and len(text) > fd.max_length:
        issues.append(
            Issue(
                fd.name,
                Severity.ERROR,
                f"{fd.label} is {len(text)} characters long; DSCO allows at most {fd.max_length}.",
                pos,
            )
        )
    return text


def _identifier(fd: FieldDef, value: object, issues: list[Issue], pos: int) -> Any:
    kind: IdentifierKind = fd.name  # type: ignore[assignment]
    name = NAMES.get(fd.name, fd.label)
    if isinstance(value, float | int) and not isinstance(value, bool):
        if isinstance(value, float) and not _whole(value):
            issues.append(Issue(fd.name, Severity.ERROR, f"{name} {value} is not a code.", pos))
            return cell_text(value)
        digits = str(int(value))
        problem = identifier_problem(kind, digits)
        if problem is None:
            return digits
        restored = restore_lost_zeros(kind, digits)
        if restored is not None:
            issues.append(
                Issue(
                    fd.name,
                    Severity.WARNING,
                    f"{name} {digits} was typed as a number and lost its leading zero(s); "
                    f"using {restored}. Format the column as Text to keep them.",
                    pos,
                )
            )
            return restored
        issues.append(Issue(fd.name, Severity.ERROR, problem, pos))
        return digits
    code = clean_code(cell_text(value))
    problem = identifier_problem(kind, code)
    if problem is not None:
        issues.append(Issue(fd.name, Severity.ERROR, problem, pos))
    return code


def _number_value(
    fd: FieldDef, value: object, issues: list[Issue], pos: int, *, money: bool
) -> float | None:
    if isinstance(value, bool):
        issues.append(Issue(fd.name, Severity.ERROR, f"{fd.label} must be a number.", pos))
        return None
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = cell_text(value)
        if money and _CURRENCY.search(text):
            plain = _CURRENCY.sub("", text).strip()
            issues.append(
                Issue(
                    fd.name,
                    Severity.ERROR,
                    f"{fd.label} '{text}' has a currency symbol; enter the number alone"
                    + (f" ({plain})." if plain else "."),
                    pos,
                )
            )
            return None
        if "," in text:
            issues.append(
                Issue(
                    fd.name,
                    Severity.ERROR,
                    f"{fd.label} '{text}' has a comma; enter a plain number like 1234.50.",
                    pos,
                )
            )
            return None
        if not _NUMBER.match(text):
            issues.append(
                Issue(fd.name, Severity.ERROR, f"{fd.label} '{text}' is not a number.", pos)
            )
            return None
        number = float(text)
    if not math.isfinite(number):
        issues.append(Issue(fd.name, Severity.ERROR, f"{fd.label} is not a number.", pos))
        return None
    if number < 0:
        issues.append(
            Issue(fd.name, Severity.ERROR, f"{fd.label} {cell_text(value)} is negative.", pos)
        )
        return None
    return number


def _money(fd: FieldDef, value: object, issues: list[Issue], pos: int) -> Any:
    number = _number_value(fd, value, issues, pos, money=True)
    if number is None:
        return None
    cents = number * 100
    if not math.isfinite(cents):
        issues.append(Issue(fd.name, Severity.ERROR, f"{fd.label} {value} is far too large.", pos))
        return None
    # Spreadsheet arithmetic leaves 19.990000000000002; only real third decimals count.
    if abs(cents - round(cents)) > 1e-6:
        issues.append(
            Issue(
                fd.name,
                Severity.ERROR,
                f"{fd.label} {cell_text(value)} has more than 2 decimals.",
                pos,
            )
        )
        return None
    return round(number, 2)


def _number(fd: FieldDef, value: object, issues: list[Issue], pos: int) -> Any:
    return _number_value(fd, value, issues, pos, money=False)


def _integer(fd: FieldDef, value: object, issues: list[Issue], pos: int) -> Any:
    number = _number_value(fd, value, issues, pos, money=False)
    if number is None:
        return None
    if not _whole(number):
        issues.append(
            Issue(fd.name, Severity.ERROR, f"{fd.label} {value} must be a whole number.", pos)
        )
        return None
    return int(number)


def _enum(fd: FieldDef, value: object, issues: list[Issue], pos: int) -> Any:
    text = cell_text(value)
    key = text.lower().strip()
    if key in fd.aliases:
        return fd.aliases[key]
    if key in fd.choices:
        return key
    underscored = re.sub(r"[\s-]+", "_", key)
    if underscored in fd.choices:
        return underscored
    issues.append(
        Issue(
            fd.name,
            Severity.ERROR,
            f"{fd.label} '{text}' is not one of {', '.join(fd.choices)}.",
            pos,
        )
    )
    return None


def _boolean(fd: FieldDef, value: object, issues: list[Issue], pos: int) -> Any:
    if isinstance(value, bool):
        return value
    key = cell_text(value).lower()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    issues.append(Issue(fd.name, Severity.ERROR, f"{fd.label} '{value}' must be yes or no.", pos))
    return None


def _url(fd: FieldDef, value: object, issues: list[Issue], pos: int) -> Any:
    text = cell_text(value)
    lowered = text[:8].lower()
    if lowered == "https://" and " " not in text and text[8:].split("/", 1)[0]:
        return text  # the common case, without the cost of urlsplit
    parts = urlsplit(text)
    if parts.scheme == "http":
        issues.append(
            Issue(
                fd.name,
                Severity.ERROR,
                f"{fd.label} {text} uses http://; DSCO needs an https:// address.",
                pos,
            )
        )
        return None
    if parts.scheme != "https" or not parts.netloc or " " in text:
        issues.append(
            Issue(
                fd.name,
                Severity.ERROR,
                f"{fd.label} '{text}' is not a web address (https://...).",
                pos,
            )
        )
        return None
    return text


def _category(fd: FieldDef, value: object, issues: list[Issue], pos: int) -> Any:
    text = cell_text(value)
    path = text
    if CATEGORY_SEPARATOR not in path and " > " in path:
        path = path.replace(" > ", CATEGORY_SEPARATOR)
    if path.endswith(CATEGORY_SEPARATOR):
        path = path[: -len(CATEGORY_SEPARATOR)]
    parts = path.split(CATEGORY_SEPARATOR)
    if any(not p.strip() for p in parts) or "|" in path.replace(CATEGORY_SEPARATOR, ""):
        issues.append(
            Issue(
                fd.name,
                Severity.ERROR,
                f"{fd.label} '{text}' is not a category path like Apparel||Men's||Shoes "
                "(levels separated by ||, none empty).",
                pos,
            )
        )
        return None
    return CATEGORY_SEPARATOR.join(p.strip() for p in parts)


def _date(fd: FieldDef, value: object, issues: list[Issue], pos: int) -> Any:
    moment: datetime | None = None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    else:
        text = cell_text(value)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            issues.append(
                Issue(
                    fd.name,
                    Severity.ERROR,
                    f"{fd.label} '{text}' is not a date (use 2025-03-31).",
                    pos,
                )
            )
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


_CONVERTERS: dict[str, _Convert] = {
    "text": _text,
    "identifier": _identifier,
    "money": _money,
    "number": _number,
    "integer": _integer,
    "enum": _enum,
    "boolean": _boolean,
    "url": _url,
    "category": _category,
    "date": _date,
}


def is_empty(value: object) -> bool:
    """Whether a cell holds nothing (None, or only spaces)."""
    return value is None or (isinstance(value, str) and not value.strip())


def convert(fd: FieldDef, value: object, issues: list[Issue], position: int = 0) -> Any:
    """One non-empty cell as the DSCO value of its field (None when it has an error)."""
    return _CONVERTERS[fd.kind](fd, value, issues, position)


class CellMemo:
    """Remembers cell conversions during one sheet's validation.

    Converting a cell is pure (the field and the value decide the result and the problems), and
    catalogs repeat themselves: statuses, brands, categories, units, sizes and prices come back
    row after row. `validate_row` answers a value seen before in the same field from memory. A
    field with more than `max_distinct` different values (SKUs, titles, UPCs) is no longer
    remembered, so memory stays small and unique columns cost nothing extra.
    """

    def __init__(self, max_distinct: int = 2000) -> None:
        # field name -> {(type, value): (result, problems)}
        self.tables: dict[str, dict[tuple[type, object], tuple[Any, tuple[Issue, ...]]]] = {}
        self._given_up: set[str] = set()
        self._max_distinct = max_distinct

    def learn(self, name: str, value: object, result: Any, issues: Sequence[Issue]) -> None:
        """Remember one conversion (the type is part of the key: 1, 1.0 and True are equal but
        convert differently)."""
        if name in self._given_up:
            return
        table = self.tables.setdefault(name, {})
        if len(table) >= self._max_distinct:
            del self.tables[name]
            self._given_up.add(name)
            return
        with suppress(TypeError):  # an unhashable value is simply not remembered
            table[(value.__class__, value)] = (result, tuple(issues))

    def remembering(self, name: str) -> bool:
        """Whether values of this field are (still) being remembered."""
        return name not in self._given_up


# -- rows ---------------------------------------------------------------------------------------


def validate_row(
    number: int,
    values: Mapping[str, object],
    *,
    extended: Mapping[str, object] | None = None,
    stored: Mapping[str, Any] | None = None,
    fields: Mapping[str, FieldDef] = FIELDS_BY_NAME,
    looked_up: bool = False,
    memo: CellMemo | None = None,
) -> RowResult:
    """Check one sheet row: `values` maps field names to raw cells (lists for multiple fields).

    `stored` is what the store holds for this SKU: a sheet without a title column can update an
    existing item, but a new item needs every required field. With `looked_up` (the caller
    asked the store, so no `stored` means the SKU is not in the catalog), a row of such a
    partial-column sheet whose SKU is unknown is skipped with a warning instead of failing.
    Empty cells never erase stored values (DSCO erases only on an explicit null). A `memo`
    shared by the rows of one sheet converts repeated values once.
    """
    tables = memo.tables if memo is not None else {}
    issues: list[Issue] = []
    item: dict[str, Any] = {}
    for name, raw in values.items():
        fd = fields[name]
        if fd.multiple:
            cells = raw if isinstance(raw, list) else [raw]
            converted = []
            for position, cell in enumerate(cells):
                if is_empty(cell):
                    continue
                result = convert(fd, cell, issues, position)
                if result is not None:
                    converted.append(result)
            if converted:
                item[name] = converted
            continue
        # Inlined is_empty and memory: this loop runs for every cell of every imported row.
        if raw is None or (raw.__class__ is str and (not raw or raw.isspace())):
            continue
        table = tables.get(name)
        if table:
            try:
                known = table.get((raw.__class__, raw))
            except TypeError:
                known = None
            if known is not None:
                if known[1]:
                    issues.extend(known[1])
                if known[0] is not None:
                    item[name] = known[0]
                continue
        before = len(issues)
        result = _CONVERTERS[fd.kind](fd, raw, issues, 0)
        if memo is not None:
            memo.learn(name, raw, result, issues[before:])
        if result is not None:
            item[name] = result
    sku = item.get("sku")
    sku_text = sku if sku.__class__ is str else cell_text(values.get("sku"))
    if not sku_text:
        issues.append(Issue("sku", Severity.ERROR, "SKU is missing."))
    skipped = False
    for name in ("title", "productStatus"):
        if name in item or any(i.field == name for i in issues):
            continue
        if stored is not None and stored.get(name):
            continue
        if stored is None and looked_up and sku_text and name not in values:
            # A partial-column sheet (sku, cost) updates; it cannot add an item.
            skipped = True
            continue
        label = fields[name].label
        what = "a new item" if sku_text else "every item"
        issues.append(
            Issue(name, Severity.ERROR, f"{label} is missing; it is required for {what}.")
        )
    if skipped:
        absent = [fields[n].label for n in ALWAYS_SENT[1:] if n not in values]
        columns = f"{' and '.join(absent)} column{'s' if len(absent) > 1 else ''}"
        issues.append(
            Issue(
                "sku",
                Severity.WARNING,
                f"{sku_text} is not in your catalog, and this sheet has no {columns} to add it: "
                "the row is skipped.",
            )
        )
    if extended:
        attrs = {k: _extended_value(v) for k, v in extended.items() if not is_empty(v)}
        if attrs:
            item["extendedAttributes"] = attrs
    _cross_field_warnings(item, issues)
    return RowResult(
        number, sku if isinstance(sku, str) and sku else sku_text or None, item, issues, skipped
    )


def _extended_value(value: object) -> Any:
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return int(value) if _whole(value) else value
    return cell_text(value)


def _cross_field_warnings(item: Mapping[str, Any], issues: list[Issue]) -> None:
    cost, msrp, map_price = item.get("cost"), item.get("msrp"), item.get("map")
    if cost is not None and msrp is not None and cost > msrp:
        issues.append(
            Issue("cost", Severity.WARNING, f"Cost {cost:.2f} is higher than MSRP {msrp:.2f}.")
        )
    if map_price is not None and msrp is not None and map_price > msrp:
        issues.append(
            Issue("map", Severity.WARNING, f"MAP {map_price:.2f} is higher than MSRP {msrp:.2f}.")
        )
    if item.get("weight") is not None and "weightUnits" not in item:
        issues.append(
            Issue("weight", Severity.WARNING, "Weight has no unit; add a Weight Units column.")
        )


class DuplicateTracker:
    """Finds SKUs and UPCs that appear on more than one row of the same file."""

    def __init__(self) -> None:
        self.skus: dict[str, int] = {}
        self.upcs: dict[str, int] = {}

    def check(self, result: RowResult) -> None:
        """Add duplicate errors to `result` (the first row with a value keeps it)."""
        sku = result.sku
        if sku:
            key = sku.casefold()
            first = self.skus.setdefault(key, result.number)
            if first != result.number:
                result.issues.append(
                    Issue("sku", Severity.ERROR, f"SKU {sku} is also on row {first}.")
                )
        upc = result.item.get("upc")
        if upc:
            first = self.upcs.setdefault(upc, result.number)
            if first != result.number:
                result.issues.append(
                    Issue("upc", Severity.ERROR, f"UPC {upc} is also on row {first}.")
                )


# -- comparing with the store ------------------------------------------------------------------


def to_dsco(item: Mapping[str, Any], stored: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A row's fields as DSCO ItemCatalog attributes (images, categories and extended attributes
    in DSCO's shapes; extended attributes merged into the stored ones)."""
    out: dict[str, Any] = {}
    for key, value in item.items():
        if key == "images":
            out["images"] = [
                {"name": f"{DEFAULT_IMAGE_NAME}{n}", "reference": url}
                for n, url in enumerate(value, start=1)
            ]
        elif key == "category":
            out["categories"] = {"default": [value]}
        elif key == "extendedAttributes":
            before = _default_extended(stored)
            out["extendedAttributes"] = {"default": {**before, **value}}
        else:
            out[key] = value
    return out


def _default_extended(stored: Mapping[str, Any] | None) -> dict[str, Any]:
    attrs = (stored or {}).get("extendedAttributes")
    if isinstance(attrs, Mapping):
        default = attrs.get("default")
        if isinstance(default, Mapping):
            return dict(default)
    return {}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return abs(float(a) - float(b)) < 1e-9
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


def _comparable(key: str, value: Any) -> Any:
    if key == "images" and isinstance(value, list):
        return [i.get("reference") if isinstance(i, Mapping) else i for i in value]
    return value


def diff_item(
    result: RowResult, stored: Mapping[str, Any] | None
) -> tuple[DiffState, list[str], dict[str, Any]]:
    """(state, changed DSCO fields, payload to send) for a row against the stored item.

    The payload of a change holds the changed fields plus sku, title and productStatus (from
    the store when the sheet has no such column), which DSCO wants on every record.
    """
    if not result.valid:
        return DiffState.INVALID, [], {}
    if result.skipped:
        return DiffState.SKIPPED, [], {}
    wire = to_dsco(result.item, stored)
    if stored is None:
        return DiffState.NEW, sorted(k for k in wire if k != "sku"), wire
    changed = [
        key
        for key, value in wire.items()
        if key != "sku" and not _same(_comparable(key, value), _comparable(key, stored.get(key)))
    ]
    if not changed:
        return DiffState.UNCHANGED, [], {}
    payload = {key: wire[key] for key in changed}
    for key in ALWAYS_SENT:
        if key in wire:
            payload[key] = wire[key]
        elif stored.get(key) is not None:
            payload[key] = stored[key]
    return DiffState.CHANGED, sorted(changed), payload


def diff_state(result: RowResult, stored: Mapping[str, Any] | None) -> tuple[DiffState, list[str]]:
    """(state, changed DSCO fields) of a row against the stored item: `diff_item` without the
    payload. A new item lists no changed fields (all of it is new), and costs no payload."""
    if stored is None and result.valid and not result.skipped:
        return DiffState.NEW, []
    state, changed, _payload = diff_item(result, stored)
    return state, changed


# DSCO fields of a diff that `to_dsco` names differently from the sheet's fields.
_WIRE_LABELS = {"categories": "Category", "extendedAttributes": "Extended attributes"}


def field_label(name: str) -> str:
    """A field's label for people: a sheet field ("msrp" -> "MSRP"), an extended attribute
    ("extended:Fabric" -> "Fabric (extended attribute)") or a DSCO field of a diff
    ("categories" -> "Category")."""
    if name.startswith(EXTENDED_PREFIX):
        return f"{name[len(EXTENDED_PREFIX) :]} (extended attribute)"
    fd = FIELDS_BY_NAME.get(name)
    return fd.label if fd else _WIRE_LABELS.get(name, name)


def merged(stored: Mapping[str, Any] | None, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The stored item with a payload applied, as the local store should hold it."""
    return {**(stored or {}), **payload}
