"""The sandbox's platform state: SQLite persistence and DSCO's business rules.

One `SandboxState` owns one SQLite file. It holds the shop (items with catalog and inventory,
warehouses), orders, invoices, returns, async requests and their change logs, and streams
with their events. The HTTP layer (`routes.py`) only parses requests and shapes responses;
every rule (lifecycle, shipment validation, per-record results, event emission) lives here.

All access is serialised by one re-entrant lock: the event loop, the async-request worker and
the order generator share one connection, and SQLite statements here take microseconds.
"""

from __future__ import annotations

import json
import random
import sqlite3
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeGuard

from dsco_desktop.sandbox import seed

Json = dict[str, Any]

RETAILER_ID = "1000051226"
SUPPLIER_ID = "1000012345"
SUPPLIER_NAME = "Sandbox Resale Co"
TRADING_PARTNER_ID = "1000051226"
TRADING_PARTNER_NAME = "Poshmark"

SUPPLIER_CANCEL_CODES = {
    "CXSS": "Out of Stock",
    "CXSD": "Discontinued",
    "CXSN": "Not Enough Stock",
    "CXSB": "Bad/Incorrect Address",
    "CXSI": "Invalid Ship Instructions",
    "CXST": "Can't Ship On Time",
    "CXSC": "Cancelled at Retailer Request",
    "CXSO": "Other",
}
RETAILER_CANCEL_CODES = {
    "CXRR": "Customer Regret",
    "CXRF": "Fraud",
    "CXRN": "Non-compliant",
    "CXLS": "Order Expiry - Late Shipment",
    "CXRO": "Other",
}
CANCEL_CODES = {**SUPPLIER_CANCEL_CODES, **RETAILER_CANCEL_CODES}
# Order-level generic codes that DSCO accepts on orders but rejects on shipments.
GENERIC_SERVICE_LEVELS = {"GCG", "GENERIC", "GROUND", "GC2D", "GCND"}

ORDER_KEY_TYPES = {"DSCO_ORDER_ID": "dscoOrderId", "PO_NUMBER": "poNumber"}
ORDER_KEY_TYPES["SUPPLIER_ORDER_NUMBER"] = "supplierOrderNumber"
ITEM_KEYS = ("dscoItemId", "sku", "partnerSku", "upc", "ean", "mpn", "isbn", "gtin")
STREAM_OBJECT_TYPES = (
    "order",
    "invoice",
    "inventory",
    "catalog",
    "catalogchangelog",
    "orderitemchange",
    "undeliverableshipment",
    "returns",
    "validation",
)
DEFAULT_MAX_EVENTS: Json = {"objectCount": 1000, "numBytes": 4194304, "durationSec": 22}
MAX_EVENT_LIMITS = {"objectCount": (1, 10000), "numBytes": (1024, 4718592), "durationSec": (1, 22)}
MAX_PARTITIONS = 20

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS warehouses(code TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items(
    sku TEXT PRIMARY KEY, dsco_item_id TEXT NOT NULL UNIQUE, upc TEXT, ean TEXT, mpn TEXT,
    isbn TEXT, gtin TEXT, partner_sku TEXT, catalog TEXT NOT NULL, inventory TEXT);
CREATE INDEX IF NOT EXISTS items_upc ON items(upc);
CREATE INDEX IF NOT EXISTS items_ean ON items(ean);
CREATE TABLE IF NOT EXISTS orders(
    dsco_order_id TEXT PRIMARY KEY, po_number TEXT NOT NULL, supplier_order_number TEXT,
    consumer_order_number TEXT, status TEXT NOT NULL, test INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS orders_po ON orders(po_number);
CREATE INDEX IF NOT EXISTS orders_son ON orders(supplier_order_number);
CREATE INDEX IF NOT EXISTS orders_updated ON orders(updated_ms);
CREATE TABLE IF NOT EXISTS invoices(
    dsco_invoice_id TEXT PRIMARY KEY, invoice_id TEXT NOT NULL UNIQUE, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS returns(
    dsco_return_id TEXT PRIMARY KEY, return_number TEXT NOT NULL, status TEXT NOT NULL,
    created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS requests(
    request_id TEXT PRIMARY KEY, kind TEXT NOT NULL, operation TEXT NOT NULL,
    detail TEXT NOT NULL, params TEXT NOT NULL, body TEXT, created_ms INTEGER NOT NULL,
    due_ms INTEGER, done INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS requests_due ON requests(done, due_ms);
CREATE TABLE IF NOT EXISTS changelog(
    id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, request_id TEXT NOT NULL,
    created_ms INTEGER NOT NULL, status TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS changelog_request ON changelog(kind, request_id);
CREATE INDEX IF NOT EXISTS changelog_time ON changelog(kind, created_ms);
CREATE TABLE IF NOT EXISTS streams(id TEXT PRIMARY KEY, created_ms INTEGER NOT NULL,
    doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS partitions(
    stream_id TEXT NOT NULL, partition_id INTEGER NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY(stream_id, partition_id));
CREATE TABLE IF NOT EXISTS events(
    stream_id TEXT NOT NULL, partition_id INTEGER NOT NULL, seq INTEGER NOT NULL,
    ms INTEGER NOT NULL, event_id TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY(stream_id, partition_id, seq)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_ms ON events(stream_id, partition_id, ms);
"""


class Invalid(Exception):  # noqa: N818 - mirrors DSCO's "validation failed" outcome
    """A request or record failed DSCO's validation; carries DSCO-style messages."""

    def __init__(self, *descriptions: str, code: str = "VALIDATION_FAILED") -> None:
        super().__init__("; ".join(descriptions))
        self.messages = [message(d, code=code) for d in descriptions]


class NotFound(Exception):  # noqa: N818 - maps to HTTP 404
    """The addressed object does not exist."""


def message(description: str, *, code: str = "VALIDATION_FAILED", severity: str = "error") -> Json:
    """One DSCO ApiResponseMessage."""
    return {"code": code, "severity": severity, "description": description}


def dumps(obj: Any) -> str:
    """Compact JSON, the way the sandbox stores and serves documents."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def iso(ms: int) -> str:
    """An ISO 8601 UTC timestamp with milliseconds and an explicit offset, as DSCO sends."""
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


def parse_iso(value: str) -> int:
    """Milliseconds since the epoch for an ISO 8601 date-time; naive values are UTC."""
    parsed = datetime.fromisoformat(value.strip().replace(" ", "+"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


def event_id(ms: int, seq: int) -> str:
    """DSCO's event id: `z/YYYY/MM/DD/HH/mm/<epochMillis>-<seq>`, UTC."""
    t = datetime.fromtimestamp(ms / 1000, UTC)
    return f"z/{t:%Y/%m/%d/%H/%M}/{ms}-{seq:07d}"


def partition_position(ms: int) -> str:
    """A fresh partition's position: the creation time in event-id form, without a sequence."""
    t = datetime.fromtimestamp(ms / 1000, UTC)
    return f"z/{t:%Y/%m/%d/%H/%M}/{ms}"


@dataclass(frozen=True)
class Position:
    """A parsed stream position: an exact event (`seq`) or a moment (`ms`)."""

    ms: int
    seq: int | None = None


def parse_position(text: str) -> Position:
    """Parse an event id, a partition's creation position, an ISO date-time or "0"."""
    text = text.strip()
    if text in ("", "0"):
        return Position(0)
    if text.startswith("z/"):
        last = text.rsplit("/", 1)[-1]
        try:
            if "-" in last:
                ms, seq = last.split("-", 1)
                return Position(int(ms), int(seq))
            return Position(int(last))
        except ValueError:
            pass
        raise Invalid(f"Invalid stream position: {text}")
    try:
        return Position(parse_iso(text))
    except ValueError:
        raise Invalid(f"Invalid stream position: {text}") from None


def _strip_none(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _strip_none(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, list):
        return [_strip_none(v) for v in obj]
    return obj


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass
class Scroll:
    """A server-side cursor behind a scrollId: a snapshot of keys and how far the caller got."""

    kind: str
    keys: list[Any]
    offset: int
    page_size: int
    expires_at: float
    extra: Json = field(default_factory=dict)


class SandboxState:
    """All of the sandbox's data and rules over one SQLite file."""

    def __init__(
        self,
        db_path: Path,
        *,
        rng: random.Random,
        async_delay_s: Callable[[], float],
        scroll_ttl_s: Callable[[], float],
        seed_demo: bool,
        catalog_required: Callable[[], Sequence[str]] = tuple,
    ) -> None:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self.rng = rng
        self._async_delay_s = async_delay_s
        self._scroll_ttl_s = scroll_ttl_s
        self._catalog_required = catalog_required
        self.base_url = ""
        self.work_ready = threading.Event()
        self._process_lock = threading.Lock()  # one applier at a time, or a request runs twice
        self.conn = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(_SCHEMA)
        self._scrolls: dict[str, Scroll] = {}
        self._last_ms = 0
        row = self.conn.execute("SELECT max(seq), max(ms) FROM events").fetchone()
        self._seq = row[0] or 0
        self._last_ms = row[1] or 0
        if seed_demo and self._meta("seeded") is None:
            self._seed()
        elif not self.conn.execute("SELECT 1 FROM warehouses").fetchone():
            self._seed_warehouses()

    # ----------------------------------------------------------------- plumbing

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction under the state lock."""
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def _meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _next_id(self, name: str, start: int) -> int:
        """A persistent counter (order ids, item ids, package ids, ...)."""
        current = self._meta(name)
        value = start if current is None else int(current) + 1
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES(?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (name, str(value)),
        )
        return value

    def _stamp(self) -> int:
        """A monotonic millisecond clock, so event ids and update dates never go backwards."""
        ms = max(now_ms(), self._last_ms)
        self._last_ms = ms
        return ms

    # ----------------------------------------------------------------- seeding

    def _seed_warehouses(self) -> None:
        with self.tx() as c:
            for n, wh in enumerate(seed.WAREHOUSES, start=1):
                doc = {
                    "warehouseId": f"{SUPPLIER_ID[:6]}{n:04d}",
                    "supplierId": SUPPLIER_ID,
                    "status": "active",
                    "createDate": iso(now_ms()),
                    "lastUpdate": iso(now_ms()),
                    **wh,
                }
                c.execute("INSERT OR IGNORE INTO warehouses VALUES(?, ?)", (wh["code"], dumps(doc)))

    def _seed(self) -> None:
        self._seed_warehouses()
        rng = random.Random(self.rng.random())
        codes = [wh["code"] for wh in seed.WAREHOUSES]
        with self.tx():
            for rec in seed.demo_catalog(rng):
                self.apply_catalog(rec, emit=False)
                qty = {code: rng.choice([0, 1, 2, 3, 5, 8]) for code in codes}
                if rng.random() < 0.15:
                    qty = dict.fromkeys(codes, 0)
                self.apply_inventory(
                    {
                        "sku": rec["sku"],
                        "warehouses": [{"code": c, "quantity": q} for c, q in qty.items()],
                        "cost": rec["cost"],
                    },
                    emit=False,
                )
            skus = self.all_skus()
            orders = [self.create_order(seed.random_order(rng, skus, n))[1] for n in range(1, 9)]
            # A few orders further along their lifecycle, so every tab has something to show.
            self.acknowledge({"id": orders[2]["dscoOrderId"], "type": "DSCO_ORDER_ID"})
            self.acknowledge({"id": orders[3]["dscoOrderId"], "type": "DSCO_ORDER_ID"})
            line = orders[3]["lineItems"][0]
            self.ship(
                {
                    "dscoOrderId": orders[3]["dscoOrderId"],
                    "shipments": [
                        {
                            "trackingNumber": f"9400{rng.randrange(10**18):018d}",
                            "shipCarrier": "USPS",
                            "shipMethod": "Priority Mail",
                            "shippingServiceLevelCode": "USPM",
                            "lineItems": [
                                {"lineNumber": line["lineNumber"], "quantity": line["quantity"]}
                            ],
                        }
                    ],
                }
            )
            o = orders[4]
            self.ship(
                {
                    "dscoOrderId": o["dscoOrderId"],
                    "shipments": [
                        {
                            "trackingNumber": f"1Z{rng.randrange(16**16):016X}",
                            "shipCarrier": "UPS",
                            "shipMethod": "Ground",
                            "shippingServiceLevelCode": "UPCG",
                            "lineItems": [
                                {"lineNumber": li["lineNumber"], "quantity": li["quantity"]}
                                for li in o["lineItems"]
                            ],
                        }
                    ],
                }
            )
            o = orders[5]
            self.cancel(
                {
                    "id": o["dscoOrderId"],
                    "type": "DSCO_ORDER_ID",
                    "lineItems": [
                        {
                            "lineNumber": li["lineNumber"],
                            "cancelledQuantity": li["quantity"],
                            "cancelCode": "CXSS",
                            "cancelledReason": "Sold elsewhere",
                        }
                        for li in o["lineItems"]
                    ],
                }
            )
            self.conn.execute("INSERT INTO meta VALUES('seeded', '1')")

    # ----------------------------------------------------------------- items

    def all_skus(self) -> list[str]:
        with self.lock:
            rows = self.conn.execute(
                "SELECT sku FROM items WHERE json_extract(catalog, '$.productStatus') = 'active' "
                "ORDER BY sku"
            ).fetchall()
        return [r[0] for r in rows]

    def _item_row(self, key: str, value: str) -> sqlite3.Row | None:
        column = {
            "dscoItemId": "dsco_item_id",
            "sku": "sku",
            "upc": "upc",
            "ean": "ean",
            "mpn": "mpn",
            "isbn": "isbn",
            "gtin": "gtin",
            "partnerSku": "partner_sku",
        }[key]
        cur = self.conn.execute(
            f"SELECT sku, dsco_item_id, catalog, inventory FROM items WHERE {column}=?",
            (value,),
        )
        return cur.fetchone()

    def find_items(self, key: str, value: str, part: str) -> list[Json]:
        """Catalog or inventory documents for an itemKey/value lookup."""
        if key not in ITEM_KEYS:
            raise Invalid(f"itemKey must be one of {', '.join(ITEM_KEYS)}")
        column = {"dscoItemId": "dsco_item_id", "partnerSku": "partner_sku"}.get(key, key)
        with self.lock:
            rows = self.conn.execute(
                f"SELECT {part} FROM items WHERE {column}=? AND {part} IS NOT NULL",
                (value,),
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def _resolve_item(self, ref: Json) -> tuple[str, Json] | None:
        """(sku, catalog) for the first identifier in DSCO's resolution order that matches."""
        for key in ("dscoItemId", "sku", "partnerSku", "upc", "ean"):
            value = ref.get(key)
            if isinstance(value, str) and value:
                row = self._item_row(key, value)
                if row is not None:
                    return row[0], json.loads(row[2])
        return None

    def _validate_catalog(self, rec: Json) -> list[str]:
        errors: list[str] = []
        sku = rec.get("sku")
        if not isinstance(sku, str) or not sku.strip():
            errors.append("sku is required")
        elif len(sku) > 90:
            errors.append("sku must be at most 90 characters")
        title = rec.get("title")
        if not isinstance(title, str) or not title.strip():
            errors.append("title is required")
        status = rec.get("productStatus")
        allowed = ("pending", "active", "discontinued_sell_through", "discontinued")
        if status not in allowed:
            errors.append(f"productStatus is required and must be one of {', '.join(allowed)}")
        patterns = {"upc": (6, 12), "ean": (8, 13), "isbn": (10, 13), "gtin": (8, 12, 13, 14)}
        for key, lengths in patterns.items():
            value = rec.get(key)
            if value is None:
                continue
            if not isinstance(value, str) or not value.isdigit() or len(value) not in lengths:
                errors.append(f"{key} must be {' or '.join(map(str, lengths))} digits")
            elif len(value) >= 8 and key != "isbn" and not seed.gtin_check_digit_ok(value):
                errors.append(f"{key} {value} has an invalid check digit")
        for key in ("cost", "msrp", "map", "handlingCost", "manufactureCost"):
            value = rec.get(key)
            if value is not None and (not _is_number(value) or value < 0):
                errors.append(f"{key} must be a number of at least 0")
        enums = {
            "weightUnits": ("oz", "g", "lb", "kg"),
            "packageWeightUnits": ("oz", "g", "lb", "kg"),
            "dimensionUnits": ("in", "ft", "m", "cm", "mm"),
            "packageDimensionUnits": ("in", "ft", "m", "cm", "mm"),
            "condition": ("new", "refurbished", "used"),
            "listingStatus": ("listed", "unlisted"),
        }
        for key, values in enums.items():
            value = rec.get(key)
            if value is not None and value not in values:
                errors.append(f"{key} must be one of {', '.join(values)}")
        images = rec.get("images")
        if images is not None:
            if not isinstance(images, list):
                errors.append("images must be an array")
            else:
                names: set[str] = set()
                for image in images:
                    if not isinstance(image, dict) or not image.get("name"):
                        errors.append("every image needs a name")
                        continue
                    ref = image.get("reference")
                    if not isinstance(ref, str) or not ref.startswith(("https://", "http://")):
                        errors.append(f"image {image['name']} needs a reference URL")
                    if image["name"] in names:
                        errors.append(f"image name {image['name']} is not unique")
                    names.add(image["name"])
        return errors

    def apply_catalog(self, rec: Json, *, emit: bool = True) -> list[Json]:
        """Create or update one catalog item; raises Invalid with every problem found."""
        if not isinstance(rec, dict):
            raise Invalid("Each catalog record must be a JSON object")
        errors = self._validate_catalog(rec)
        if errors:
            raise Invalid(*errors)
        ms = self._stamp()
        sku = rec["sku"]
        row = self._item_row("sku", sku)
        if row is None:
            item_id = str(self._next_id("next_item_id", 1296620000))
            doc: Json = {
                "dscoItemId": item_id,
                "dscoSupplierId": SUPPLIER_ID,
                "dscoSupplierName": SUPPLIER_NAME,
                "dscoCreateDate": iso(ms),
            }
            reason = "catalog_object_created"
        else:
            doc = json.loads(row[2])
            reason = "catalog_attribute_changed"
        before = dict(doc)
        for key, value in rec.items():
            if key.startswith("dsco"):
                continue  # read-only on DSCO's side
            if value is None:
                doc.pop(key, None)  # JSON null deletes the attribute
            else:
                doc[key] = value
        missing = [a for a in self._catalog_required() if doc.get(a) in (None, "", [], {})]
        if missing:
            raise Invalid(
                *(f"{a} is required by {TRADING_PARTNER_NAME} on every item" for a in missing),
                code="RETAILER_REQUIREMENT",
            )
        changed = doc != before
        if changed:
            doc["dscoLastUpdateDate"] = iso(ms)
            if before.get("productStatus") != doc.get("productStatus"):
                doc["dscoLastProductStatusUpdateDate"] = iso(ms)
        inventory_text = None if row is None else row[3]
        if inventory_text is None:
            inventory: Json = {
                "sku": sku,
                "dscoItemId": doc["dscoItemId"],
                "warehouses": [{"code": code, "quantity": 0} for code in self.warehouse_codes()],
                "quantityAvailable": 0,
                "dscoCreateDate": iso(ms),
            }
        else:
            inventory = json.loads(inventory_text)
        for key in ("upc", "ean", "mpn", "title", "brand"):
            if key in doc:
                inventory[key] = doc[key]
        inventory["status"] = self._inventory_status(inventory, doc)
        self.conn.execute(
            "INSERT INTO items(sku, dsco_item_id, upc, ean, mpn, isbn, gtin, partner_sku, "
            "catalog, inventory) VALUES(?,?,?,?,?,?,?,?,?,?) ON CONFLICT(sku) DO UPDATE SET "
            "upc=excluded.upc, ean=excluded.ean, mpn=excluded.mpn, isbn=excluded.isbn, "
            "gtin=excluded.gtin, catalog=excluded.catalog, inventory=excluded.inventory",
            (
                sku,
                doc["dscoItemId"],
                doc.get("upc"),
                doc.get("ean"),
                doc.get("mpn"),
                doc.get("isbn"),
                doc.get("gtin"),
                doc.get("partnerSku"),
                dumps(doc),
                dumps(inventory),
            ),
        )
        if emit and changed:
            self.emit("catalog", sku, doc, [reason])
        if emit and inventory_text is None:
            # DSCO creates the item's inventory object along with the catalog item.
            self.emit("inventory", sku, inventory, ["inventory_object_created"])
        return []

    @staticmethod
    def _inventory_status(inventory: Json, catalog: Json) -> str:
        if catalog.get("productStatus") == "discontinued":
            return "discontinued"
        return "in-stock" if inventory.get("quantityAvailable", 0) > 0 else "out-of-stock"

    def warehouse_codes(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT code FROM warehouses ORDER BY code")]

    def apply_inventory(
        self, rec: Json, *, skip_missing: bool = False, emit: bool = True
    ) -> list[Json]:
        """Update one item's per-warehouse quantities; returns info/warn results."""
        if not isinstance(rec, dict):
            raise Invalid("Each inventory record must be a JSON object")
        sku = rec.get("sku")
        if not isinstance(sku, str) or not sku.strip():
            raise Invalid("sku is required")
        if len(sku) > 90:
            raise Invalid("sku must be at most 90 characters")
        row = self._item_row("sku", sku)
        if row is None:
            if skip_missing:
                return [
                    message(
                        f"Item {sku} does not exist; skipped",
                        code="ITEM_SKIPPED",
                        severity="info",
                    )
                ]
            raise Invalid(f"Item {sku} does not exist; send its catalog record first")
        warehouses = rec.get("warehouses")
        errors: list[str] = []
        if not isinstance(warehouses, list) or not warehouses:
            errors.append("At least one warehouse is required")
            warehouses = []
        known = set(self.warehouse_codes())
        for wh in warehouses:
            if not isinstance(wh, dict) or not isinstance(wh.get("code"), str):
                errors.append("Every warehouse needs a code")
                continue
            if wh["code"] not in known:
                errors.append(f"Unknown warehouse code {wh['code']}")
            qty = wh.get("quantity")
            if qty is not None and (not _is_int(qty) or qty < 0):
                errors.append(f"Warehouse {wh['code']}: quantity must be a whole number >= 0")
        cost = rec.get("cost")
        if cost is not None and (not _is_number(cost) or cost < 0):
            errors.append("cost must be a number of at least 0")
        if errors:
            raise Invalid(*errors)
        catalog = json.loads(row[2])
        inventory: Json = json.loads(row[3])
        before = dumps(inventory)
        ms = self._stamp()
        by_code = {w["code"]: w for w in inventory.get("warehouses", [])}
        old_total = inventory.get("quantityAvailable", 0)
        for wh in warehouses:
            target = by_code.setdefault(wh["code"], {"code": wh["code"], "quantity": 0})
            for key, value in wh.items():
                if key in ("dscoId", "retailerCode", "retailerCodes"):
                    continue
                target[key] = value
        inventory["warehouses"] = [by_code[c] for c in sorted(by_code)]
        total = sum(int(w.get("quantity") or 0) for w in inventory["warehouses"])
        inventory["quantityAvailable"] = total
        for key in (
            "cost",
            "currencyCode",
            "listingPrices",
            "msrp",
            "estimatedAvailabilityDate",
            "quantityOnOrder",
        ):
            if key in rec:
                if rec[key] is None:
                    inventory.pop(key, None)
                else:
                    inventory[key] = rec[key]
        inventory["status"] = self._inventory_status(inventory, catalog)
        results: list[Json] = []
        sent = rec.get("quantityAvailable")
        if sent is not None and sent != total:
            results.append(
                message(
                    f"quantityAvailable {sent} is not the sum of the warehouse quantities "
                    f"({total}); {total} was used",
                    code="QUANTITY_MISMATCH",
                    severity="warn",
                )
            )
        if dumps(inventory) == before:
            return results
        if total != old_total:
            inventory["dscoLastQuantityUpdateDate"] = iso(ms)
        if "cost" in rec:
            inventory["dscoLastCostUpdateDate"] = iso(ms)
        inventory["dscoLastUpdateDate"] = iso(ms)
        self.conn.execute("UPDATE items SET inventory=? WHERE sku=?", (dumps(inventory), sku))
        if emit:
            self.emit(
                "inventory",
                sku,
                inventory,
                ["inventory_attribute_changed"],
                quantity_changed=total != old_total,
            )
        return results

    # ----------------------------------------------------------------- orders

    def _order_by(self, key: str, value: str) -> Json | None:
        column = {
            "dscoOrderId": "dsco_order_id",
            "poNumber": "po_number",
            "supplierOrderNumber": "supplier_order_number",
        }[key]
        row = self.conn.execute(
            f"SELECT doc FROM orders WHERE {column}=? ORDER BY created_ms LIMIT 1",
            (value,),
        ).fetchone()
        return None if row is None else json.loads(row[0])

    def get_orders(self, key: str, value: str) -> list[Json]:
        """GET /order/: all orders whose dscoOrderId, poNumber or supplierOrderNumber match."""
        column = {
            "dscoOrderId": "dsco_order_id",
            "poNumber": "po_number",
            "supplierOrderNumber": "supplier_order_number",
        }.get(key)
        if column is None:
            raise Invalid("orderKey must be one of dscoOrderId, poNumber, supplierOrderNumber")
        with self.lock:
            rows = self.conn.execute(
                f"SELECT doc FROM orders WHERE {column}=? ORDER BY created_ms",
                (value,),
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def _save_order(self, order: Json) -> None:
        self.conn.execute(
            "INSERT INTO orders(dsco_order_id, po_number, supplier_order_number, "
            "consumer_order_number, status, test, created_ms, updated_ms, doc) "
            "VALUES(?,?,?,?,?,?,?,?,?) ON CONFLICT(dsco_order_id) DO UPDATE SET "
            "supplier_order_number=excluded.supplier_order_number, status=excluded.status, "
            "updated_ms=excluded.updated_ms, doc=excluded.doc",
            (
                order["dscoOrderId"],
                order["poNumber"],
                order.get("supplierOrderNumber"),
                order.get("consumerOrderNumber"),
                order["dscoStatus"],
                1 if order.get("testFlag") else 0,
                parse_iso(order["dscoCreateDate"]),
                parse_iso(order["dscoLastUpdate"]),
                dumps(order),
            ),
        )

    def create_order(self, rec: Json) -> tuple[bool, Json]:
        """Retailer-side order creation: (created, order); an existing poNumber is kept."""
        if not isinstance(rec, dict):
            raise Invalid("Each order must be a JSON object")
        errors: list[str] = []
        po = rec.get("poNumber")
        if not isinstance(po, str) or not po.strip():
            errors.append("poNumber is required")
        shipping = rec.get("shipping")
        if not isinstance(shipping, dict):
            errors.append("shipping is required")
        else:
            for key in ("city", "region", "postal"):
                if not shipping.get(key):
                    errors.append(f"shipping.{key} is required")
        lines = rec.get("lineItems")
        resolved: list[tuple[Json, str, Json]] = []
        if not isinstance(lines, list) or not lines:
            errors.append("lineItems must contain at least one line item")
            lines = []
        for n, line in enumerate(lines, start=1):
            if not isinstance(line, dict):
                errors.append(f"lineItems[{n}] must be an object")
                continue
            qty = line.get("quantity")
            if not _is_int(qty) or qty < 1:
                errors.append(f"lineItems[{n}].quantity must be a whole number >= 1")
            found = self._resolve_item(line)
            if found is None:
                errors.append(f"lineItems[{n}]: no catalog item matches {self._describe(line)}")
            else:
                resolved.append((line, *found))
        if errors:
            raise Invalid(*errors)
        existing = self._order_by("poNumber", po)  # type: ignore[arg-type]
        if existing is not None:
            return False, existing
        ms = self._stamp()
        day = 86_400_000
        order: Json = {k: v for k, v in rec.items() if not k.startswith("dsco") and v is not None}
        order_id = str(self._next_id("next_order_id", 1022178000))
        ship = dict(shipping)  # type: ignore[arg-type]
        if "address" not in ship and ship.get("address1"):
            ship["address"] = [a for a in (ship.get("address1"), ship.get("address2")) if a]
        if ship.get("address") and "address1" not in ship:
            ship["address1"] = ship["address"][0]
        ship.setdefault("state", ship.get("region"))
        ship.setdefault("country", "US")
        order_lines: list[Json] = []
        total = 0.0
        for n, (line, sku, cat) in enumerate(resolved, start=1):
            qty = line["quantity"]
            price = float((cat.get("listingPrices") or {}).get("USD") or cat.get("msrp") or 0)
            total += price * qty
            item = {k: v for k, v in line.items() if v is not None}
            item.update(
                {
                    "lineNumber": line.get("lineNumber") or n,
                    "dscoItemId": cat["dscoItemId"],
                    "sku": sku,
                    "title": line.get("title") or cat.get("title"),
                    "expectedCost": line.get("expectedCost", cat.get("cost")),
                    "consumerPrice": line.get("consumerPrice", price),
                    "status": "accepted",
                    "acceptedQuantity": qty,
                    "cancelledQuantity": 0,
                    "shippedQuantity": 0,
                    "remainingQuantity": qty,
                    "dscoLifecycle": "created",
                    "activity": [
                        {
                            "action": "add",
                            "quantity": qty,
                            "reason": "Order created",
                            "uuid": uuid.uuid4().hex,
                            "activityDate": iso(ms),
                        }
                    ],
                }
            )
            for key in ("upc", "ean", "partnerSku"):
                if cat.get(key) and key not in item:
                    item[key] = cat[key]
            order_lines.append(item)
        order.update(
            {
                "dscoOrderId": order_id,
                "poNumber": po,
                "shipping": ship,
                "lineItems": order_lines,
                "numberOfLineItems": len(order_lines),
                "packages": [],
                "dscoLifecycle": "created",
                "dscoStatus": "created",
                "dscoRetailerId": RETAILER_ID,
                "dscoSupplierId": SUPPLIER_ID,
                "dscoSupplierName": SUPPLIER_NAME,
                "dscoTradingPartnerId": TRADING_PARTNER_ID,
                "dscoTradingPartnerName": TRADING_PARTNER_NAME,
                "dscoCreateDate": iso(ms),
                "dscoLastUpdate": iso(ms),
                "orderType": rec.get("orderType") or "Dropship",
                "currencyCode": rec.get("currencyCode") or "USD",
                "testFlag": bool(rec.get("testFlag", False)),
                "orderTotalAmount": rec.get("orderTotalAmount", round(total, 2)),
            }
        )
        order.setdefault("retailerCreateDate", iso(ms))
        order.setdefault("consumerOrderDate", iso(ms))
        order.setdefault("acknowledgeByDate", iso(ms + day))
        order.setdefault("shipByDate", iso(ms + 3 * day))
        order.setdefault("cancelAfterDate", iso(ms + 10 * day))
        order.setdefault("invoiceByDate", iso(ms + 14 * day))
        self._save_order(order)
        self.emit("order", order_id, order, ["create"])
        return True, order

    @staticmethod
    def _describe(ref: Json) -> str:
        for key in ("lineNumber", *ITEM_KEYS):
            if ref.get(key) not in (None, ""):
                return f"{key}={ref[key]}"
        return "(no item identifier)"

    def _find_order_for(self, rec: Json) -> Json:
        """The order named by a shipment/invoice/return record's dscoOrderId, poNumber or SON."""
        for key in ("dscoOrderId", "poNumber", "supplierOrderNumber"):
            value = rec.get(key)
            if value not in (None, ""):
                order = self._order_by(key, str(value))
                if order is None:
                    raise Invalid(f"Order not found: {key}={value}", code="ORDER_NOT_FOUND")
                return order
        raise Invalid("One of dscoOrderId, poNumber or supplierOrderNumber is required")

    def _find_order_by_type(self, rec: Json) -> Json:
        key = ORDER_KEY_TYPES.get(str(rec.get("type")))
        if key is None:
            raise Invalid("type must be one of DSCO_ORDER_ID, PO_NUMBER, SUPPLIER_ORDER_NUMBER")
        value = rec.get("id")
        if value in (None, ""):
            raise Invalid("id is required")
        order = self._order_by(key, str(value))
        if order is None:
            raise Invalid(f"Order not found: {key}={value}", code="ORDER_NOT_FOUND")
        return order

    @staticmethod
    def _match_line(order: Json, ref: Json, remaining: dict[int, int]) -> Json | None:
        lines: list[Json] = order["lineItems"]
        if ref.get("lineNumber") is not None:
            return next((li for li in lines if li.get("lineNumber") == ref["lineNumber"]), None)
        for key in ("dscoItemId", "sku", "partnerSku", "upc", "ean"):
            value = ref.get(key)
            if value in (None, ""):
                continue
            matches = [li for li in lines if li.get(key) == value]
            if matches:
                open_ = [li for li in matches if remaining[id(li)] > 0]
                return (open_ or matches)[0]
        return None

    def _touch(self, order: Json, reasons: list[str], ms: int) -> None:
        """Derive lifecycle and status after a change, save, and emit the order's events."""
        old_lifecycle = order["dscoLifecycle"]
        lines = order["lineItems"]
        remaining = sum(li.get("remainingQuantity", 0) for li in lines)
        shipped = sum(li.get("shippedQuantity", 0) for li in lines)
        if remaining == 0:
            order["dscoLifecycle"] = "completed"
            order["dscoStatus"] = "shipped" if shipped else "cancelled"
        else:
            if old_lifecycle == "created" and (
                "acknowledge" in reasons or shipped or any(li["cancelledQuantity"] for li in lines)
            ):
                order["dscoLifecycle"] = "acknowledged"
            order["dscoStatus"] = "shipment_pending" if shipped else order["dscoStatus"]
        for li in lines:
            li["dscoLifecycle"] = order["dscoLifecycle"]
        reasons = [r for r in reasons if r != "acknowledge"]
        if order["dscoLifecycle"] != old_lifecycle:
            reasons.append("update_status_lifecycle")
        if not reasons:
            reasons = ["update_order_info"]
        order["dscoLastUpdate"] = iso(ms)
        self._save_order(order)
        self.emit("order", order["dscoOrderId"], order, reasons)

    def acknowledge(self, rec: Json) -> list[Json]:
        if not isinstance(rec, dict):
            raise Invalid("Each acknowledgement must be a JSON object")
        order = self._find_order_by_type(rec)
        son = rec.get("supplierOrderNumber")
        reasons: list[str] = []
        if son and son != order.get("supplierOrderNumber"):
            order["supplierOrderNumber"] = son
            reasons.append("update_supplier_order_number")
        if order["dscoLifecycle"] != "created" and not reasons:
            return [
                message(
                    f"Order {order['dscoOrderId']} was already {order['dscoLifecycle']}",
                    code="ALREADY_ACKNOWLEDGED",
                    severity="info",
                )
            ]
        if order["dscoLifecycle"] == "created":
            reasons.append("acknowledge")
        self._touch(order, reasons, self._stamp())
        return []

    def cancel(self, rec: Json) -> list[Json]:
        """Cancel quantities on one order's lines (OrderForCancel)."""
        if not isinstance(rec, dict):
            raise Invalid("Each cancellation must be a JSON object")
        order = self._find_order_by_type(rec)
        lines = rec.get("lineItems")
        if not isinstance(lines, list) or not lines:
            raise Invalid("lineItems must contain at least one line item")
        remaining = {id(li): li["remainingQuantity"] for li in order["lineItems"]}
        errors: list[str] = []
        plan: list[tuple[Json, Json]] = []
        for n, ref in enumerate(lines, start=1):
            if not isinstance(ref, dict):
                errors.append(f"lineItems[{n}] must be an object")
                continue
            qty = ref.get("cancelledQuantity")
            code = ref.get("cancelCode")
            if not _is_int(qty) or qty < 1:
                errors.append(f"lineItems[{n}].cancelledQuantity must be a whole number >= 1")
            if code not in CANCEL_CODES:
                errors.append(
                    f"lineItems[{n}].cancelCode {code!r} is not a valid cancel code "
                    f"({', '.join(SUPPLIER_CANCEL_CODES)})"
                )
            line = self._match_line(order, ref, remaining)
            if line is None:
                errors.append(f"Line item not found on order: {self._describe(ref)}")
                continue
            if _is_int(qty) and qty > remaining[id(line)]:
                errors.append(
                    f"Cancelled quantity {qty} for line {line['lineNumber']} "
                    f"(sku {line.get('sku')}) exceeds the {remaining[id(line)]} remaining"
                )
                continue
            if _is_int(qty):
                remaining[id(line)] -= qty
            plan.append((line, ref))
        if errors:
            raise Invalid(*errors)
        ms = self._stamp()
        for line, ref in plan:
            qty = ref["cancelledQuantity"]
            line["cancelledQuantity"] = line.get("cancelledQuantity", 0) + qty
            line["remainingQuantity"] -= qty
            line["cancelCode"] = ref["cancelCode"]
            if ref.get("cancelledReason"):
                line["cancelledReason"] = ref["cancelledReason"]
            if line["remainingQuantity"] == 0 and line.get("shippedQuantity", 0) == 0:
                line["status"] = "cancelled"
            line["activity"].append(
                {
                    "action": "cancel",
                    "quantity": qty,
                    "reason": ref.get("cancelledReason") or CANCEL_CODES[ref["cancelCode"]],
                    "uuid": uuid.uuid4().hex,
                    "activityDate": iso(ms),
                }
            )
        self._touch(order, ["update_order_info"], ms)
        self.emit(
            "orderitemchange",
            order["dscoOrderId"],
            {
                "eventUuid": str(uuid.uuid4()),
                "status": "cancelled",
                "order": order,
                "lineItems": [line for line, _ in plan],
                "cancelCode": plan[0][1]["cancelCode"],
            },
            [],
        )
        return []

    def ship(self, rec: Json) -> list[Json]:
        """Add shipments (ShipmentsForUpdate) to one order, all or nothing."""
        if not isinstance(rec, dict):
            raise Invalid("Each shipment record must be a JSON object")
        order = self._find_order_for(rec)
        shipments = rec.get("shipments")
        if not isinstance(shipments, list) or not shipments:
            raise Invalid("shipments must contain at least one shipment")
        remaining = {id(li): li["remainingQuantity"] for li in order["lineItems"]}
        errors: list[str] = []
        plans: list[tuple[Json, list[tuple[Json, int]]]] = []
        for s_no, shipment in enumerate(shipments, start=1):
            where = f"shipments[{s_no}]"
            if not isinstance(shipment, dict):
                errors.append(f"{where} must be an object")
                continue
            if not shipment.get("trackingNumber"):
                errors.append(f"{where}: Tracking number is required")
            if not shipment.get("shipCarrier"):
                errors.append(f"{where}: Ship carrier is required")
            code = shipment.get("shippingServiceLevelCode")
            if not code:
                errors.append(f"{where}: Shipping service level code is required")
            elif str(code).upper() in GENERIC_SERVICE_LEVELS:
                errors.append(
                    f"{where}: {code} is a generic service level code; "
                    "use a carrier-specific code such as USGA or UPCG"
                )
            lines = shipment.get("lineItems")
            if not isinstance(lines, list) or not lines:
                errors.append(f"{where}: lineItems must contain at least one line item")
                continue
            plan: list[tuple[Json, int]] = []
            for n, ref in enumerate(lines, start=1):
                if not isinstance(ref, dict):
                    errors.append(f"{where}.lineItems[{n}] must be an object")
                    continue
                qty = ref.get("quantity")
                if not _is_int(qty) or qty < 1:
                    errors.append(f"{where}.lineItems[{n}].quantity must be a whole number >= 1")
                    continue
                line = self._match_line(order, ref, remaining)
                if line is None:
                    errors.append(f"Line item not found on order: {self._describe(ref)}")
                    continue
                if qty > remaining[id(line)]:
                    errors.append(
                        f"Quantity {qty} for line {line['lineNumber']} (sku {line.get('sku')}) "
                        f"exceeds the {remaining[id(line)]} remaining to ship"
                    )
                    continue
                remaining[id(line)] -= qty
                plan.append((line, qty))
            plans.append((shipment, plan))
        if errors:
            raise Invalid(*errors)
        ms = self._stamp()
        for shipment, plan in plans:
            package_id = self._next_id("next_package_id", 50000001)
            package: Json = {
                k: v for k, v in shipment.items() if k not in ("lineItems",) and v is not None
            }
            package.update(
                {
                    "dscoPackageId": package_id,
                    "shipDate": shipment.get("shipDate") or iso(ms),
                    "currencyCode": shipment.get("currencyCode") or "USD",
                    "numberOfLineItems": len(plan),
                    "items": [
                        {
                            "quantity": qty,
                            "lineNumber": line["lineNumber"],
                            "dscoItemId": line["dscoItemId"],
                            "sku": line.get("sku"),
                            "originalLineNumber": line["lineNumber"],
                            "originalOrderQuantity": line["quantity"],
                        }
                        for line, qty in plan
                    ],
                }
            )
            for key in ("shipFrom", "shipTo"):
                package.pop(key, None)
            if shipment.get("shipFrom"):
                package["packageShipFrom"] = shipment["shipFrom"]
            if shipment.get("shipTo"):
                package["packageShipTo"] = shipment["shipTo"]
            order.setdefault("packages", []).append(package)
            for line, qty in plan:
                line["shippedQuantity"] = line.get("shippedQuantity", 0) + qty
                line["remainingQuantity"] -= qty
                line["activity"].append(
                    {
                        "action": "ship",
                        "quantity": qty,
                        "reason": f"Tracking # {shipment['trackingNumber']} added",
                        "uuid": uuid.uuid4().hex,
                        "activityDate": iso(ms),
                    }
                )
        self._touch(order, ["add_shipment"], ms)
        for shipment, plan in plans:
            self.emit(
                "orderitemchange",
                order["dscoOrderId"],
                {
                    "eventUuid": str(uuid.uuid4()),
                    "status": "shipped",
                    "order": order,
                    "lineItems": [line for line, _ in plan],
                    "trackingNumber": shipment["trackingNumber"],
                },
                [],
            )
        return []

    def order_page_keys(self, filters: Json) -> list[str]:
        """dscoOrderIds matching /order/page's filters, oldest update first."""
        sql = "SELECT dsco_order_id FROM orders WHERE 1=1"
        args: list[Any] = []
        if filters.get("consumerOrderNumber"):
            sql += " AND consumer_order_number=?"
            args.append(filters["consumerOrderNumber"])
        if filters.get("ordersCreatedSince") is not None:
            sql += " AND created_ms>=?"
            args.append(filters["ordersCreatedSince"])
        if filters.get("ordersUpdatedSince") is not None:
            sql += " AND updated_ms>?"
            args.append(filters["ordersUpdatedSince"])
        if filters.get("until") is not None:
            sql += " AND updated_ms<=?"
            args.append(filters["until"])
        statuses = filters.get("status") or []
        if statuses:
            sql += f" AND status IN ({','.join('?' * len(statuses))})"
            args.extend(statuses)
        if not filters.get("includeTestOrders"):
            sql += " AND test=0"
        if filters.get("returnedOnly"):
            sql += " AND dsco_order_id IN (SELECT json_extract(doc, '$.dscoOrderId') FROM returns)"
        sql += " ORDER BY updated_ms, dsco_order_id"
        with self.lock:
            return [r[0] for r in self.conn.execute(sql, args)]

    def orders_by_ids(self, ids: list[str]) -> list[Json]:
        if not ids:
            return []
        with self.lock:
            rows = self.conn.execute(
                f"SELECT dsco_order_id, doc FROM orders WHERE dsco_order_id IN "
                f"({','.join('?' * len(ids))})",
                ids,
            ).fetchall()
        docs = {r[0]: json.loads(r[1]) for r in rows}
        return [docs[i] for i in ids if i in docs]

    # ----------------------------------------------------------------- invoices, returns

    def create_invoice(self, rec: Json) -> list[Json]:
        if not isinstance(rec, dict):
            raise Invalid("Each invoice must be a JSON object")
        errors: list[str] = []
        invoice_id = rec.get("invoiceId")
        if not isinstance(invoice_id, str) or not invoice_id.strip():
            errors.append("invoiceId is required")
        if not _is_number(rec.get("totalAmount")):
            errors.append("totalAmount is required and must be a number")
        lines = rec.get("lineItems") or []
        if not isinstance(lines, list):
            errors.append("lineItems must be an array")
            lines = []
        for n, line in enumerate(lines, start=1):
            if not isinstance(line, dict):
                errors.append(f"lineItems[{n}] must be an object")
                continue
            if not _is_int(line.get("quantity")) or line["quantity"] < 1:
                errors.append(f"lineItems[{n}].quantity must be a whole number >= 1")
            if not _is_number(line.get("unitPrice")):
                errors.append(f"lineItems[{n}].unitPrice is required")
        order: Json | None = None
        try:
            order = self._find_order_for(rec)
        except Invalid as exc:
            errors.extend(m["description"] for m in exc.messages)
        if errors:
            raise Invalid(*errors)
        assert order is not None
        exists = self.conn.execute(
            "SELECT 1 FROM invoices WHERE invoice_id=?", (invoice_id,)
        ).fetchone()
        if exists:
            raise Invalid(f"Invoice {invoice_id} already exists", code="DUPLICATE_INVOICE")
        ms = self._stamp()
        doc = {k: v for k, v in rec.items() if v is not None and not k.startswith("dsco")}
        doc.update(
            {
                "dscoInvoiceId": str(self._next_id("next_invoice_id", 700000001)),
                "dscoOrderId": order["dscoOrderId"],
                "poNumber": order["poNumber"],
                "dscoSupplierId": SUPPLIER_ID,
                "dscoRetailerId": RETAILER_ID,
                "dscoTradingPartnerId": TRADING_PARTNER_ID,
                "dscoTradingPartnerName": TRADING_PARTNER_NAME,
                "dscoExpectedOrderTotalAmount": order.get("orderTotalAmount"),
                "createDate": iso(ms),
                "lastUpdate": iso(ms),
            }
        )
        doc.setdefault("invoiceDate", iso(ms))
        doc.setdefault("currencyCode", "USD")
        if order.get("consumerOrderNumber"):
            doc.setdefault("consumerOrderNumber", order["consumerOrderNumber"])
        self.conn.execute(
            "INSERT INTO invoices VALUES(?, ?, ?)", (doc["dscoInvoiceId"], invoice_id, dumps(doc))
        )
        self.emit("invoice", doc["dscoInvoiceId"], doc, [])
        return []

    def find_invoices(self, key: str, value: str) -> list[Json]:
        allowed = (
            "dscoInvoiceId",
            "invoiceId",
            "poNumber",
            "supplierOrderNumber",
            "consumerOrderNumber",
            "trackingNumber",
        )
        if key not in allowed:
            raise Invalid(f"key must be one of {', '.join(allowed)}")
        with self.lock:
            docs = [json.loads(r[0]) for r in self.conn.execute("SELECT doc FROM invoices")]
        if key == "trackingNumber":
            return [
                d
                for d in docs
                if (d.get("ship") or {}).get("trackingNumber") == value
                or any(li.get("trackingNumber") == value for li in d.get("lineItems") or [])
            ]
        return [d for d in docs if str(d.get(key)) == value]

    def create_return(self, rec: Json) -> Json:
        if not isinstance(rec, dict):
            raise Invalid("Each return must be a JSON object")
        errors: list[str] = []
        number = rec.get("returnNumber")
        if not isinstance(number, str) or not number.strip():
            errors.append("returnNumber is required")
        lines = rec.get("lineItems")
        if not isinstance(lines, list) or not lines:
            errors.append("lineItems must contain at least one line item")
            lines = []
        order: Json | None = None
        try:
            order = self._find_order_for({k: rec.get(k) for k in ("dscoOrderId", "poNumber")})
        except Invalid as exc:
            errors.extend(m["description"] for m in exc.messages)
        remaining: dict[int, int] = {}
        if order is not None:
            remaining = {id(li): li.get("shippedQuantity", 0) for li in order["lineItems"]}
        for n, line in enumerate(lines, start=1):
            if not isinstance(line, dict):
                errors.append(f"lineItems[{n}] must be an object")
                continue
            if not _is_int(line.get("quantity")) or line["quantity"] < 1:
                errors.append(f"lineItems[{n}].quantity must be a whole number >= 1")
            if not line.get("reasonCode"):
                errors.append(f"lineItems[{n}].reasonCode is required")
            if order is not None:
                ref = dict(line)
                if ref.get("itemId"):
                    ref["dscoItemId"] = ref["itemId"]
                if self._match_line(order, ref, remaining) is None:
                    errors.append(f"Line item not found on order: {self._describe(ref)}")
        if errors:
            raise Invalid(*errors)
        assert order is not None
        ms = self._stamp()
        doc = {k: v for k, v in rec.items() if v is not None and not k.startswith("dsco")}
        doc.update(
            {
                "dscoReturnId": str(self._next_id("next_return_id", 300000001)),
                "dscoOrderId": order["dscoOrderId"],
                "poNumber": order["poNumber"],
                "dscoRetailerId": RETAILER_ID,
                "dscoSupplierId": SUPPLIER_ID,
                "dscoAccountId": SUPPLIER_ID,
                "dscoTradingPartnerId": TRADING_PARTNER_ID,
                "initiatedBy": "supplier",
                "initiatorCreateDate": iso(ms),
                "status": "created",
                "createDate": iso(ms),
                "lastUpdate": iso(ms),
            }
        )
        doc.setdefault("returnDate", iso(ms))
        self._save_return(doc)
        return doc

    def _save_return(self, doc: Json) -> None:
        self.conn.execute(
            "INSERT INTO returns VALUES(?,?,?,?,?,?) ON CONFLICT(dsco_return_id) DO UPDATE SET "
            "status=excluded.status, updated_ms=excluded.updated_ms, doc=excluded.doc",
            (
                doc["dscoReturnId"],
                doc["returnNumber"],
                doc["status"],
                parse_iso(doc["createDate"]),
                parse_iso(doc["lastUpdate"]),
                dumps(doc),
            ),
        )
        self.emit("returns", doc["dscoReturnId"], doc, [])

    def _find_return(self, rec: Json) -> Json:
        if rec.get("dscoReturnId"):
            row = self.conn.execute(
                "SELECT doc FROM returns WHERE dsco_return_id=?", (str(rec["dscoReturnId"]),)
            ).fetchone()
        elif rec.get("partnerReturnNumber") or rec.get("returnNumber"):
            number = rec.get("partnerReturnNumber") or rec.get("returnNumber")
            if not isinstance(number, str | int):
                raise Invalid("partnerReturnNumber must be a string")
            row = self.conn.execute(
                "SELECT doc FROM returns WHERE return_number=? OR "
                "json_extract(doc, '$.partnerReturnNumber')=?",
                (number, number),
            ).fetchone()
        else:
            raise Invalid("dscoReturnId or partnerReturnNumber is required")
        if row is None:
            raise Invalid("Return not found", code="RETURN_NOT_FOUND")
        return json.loads(row[0])

    def complete_return(self, rec: Json) -> Json:
        if not isinstance(rec, dict):
            raise Invalid("Each return must be a JSON object")
        doc = self._find_return(rec)
        lines = rec.get("lineItems")
        if not isinstance(lines, list) or not lines:
            raise Invalid("lineItems must contain at least one line item")
        errors: list[str] = []
        for n, line in enumerate(lines, start=1):
            if not isinstance(line, dict) or line.get("response") not in ("accepted", "rejected"):
                errors.append(f"lineItems[{n}].response must be accepted or rejected")
                continue
            target = next(
                (
                    li
                    for li in doc["lineItems"]
                    if any(
                        line.get(k) is not None and li.get(k) == line.get(k)
                        for k in ("lineNumber", "sku", "itemId", "upc", "partnerSku")
                    )
                ),
                None,
            )
            if target is None:
                errors.append(f"Line item not found on return: {self._describe(line)}")
            else:
                target["response"] = line["response"]
        if errors:
            raise Invalid(*errors)
        ms = self._stamp()
        for key in ("responseReason", "restockingCharge", "returnTrackingNumber"):
            if rec.get(key) is not None:
                doc[key] = rec[key]
        doc["status"] = "completed"
        doc["lastUpdate"] = iso(ms)
        self._save_return(doc)
        return doc

    def update_return(self, rec: Json) -> Json:
        if not isinstance(rec, dict):
            raise Invalid("Each return must be a JSON object")
        doc = self._find_return(rec)
        for key in ("trackingNumbers", "returnTrackingNumber", "returnTrackingNumbers", "packages"):
            if rec.get(key) is not None:
                doc[key] = rec[key]
        if doc["status"] == "created":
            doc["status"] = "acknowledged"
        doc["lastUpdate"] = iso(self._stamp())
        self._save_return(doc)
        return doc

    def return_page_keys(self, filters: Json) -> list[str]:
        with self.lock:
            rows = self.conn.execute(
                "SELECT dsco_return_id, created_ms, updated_ms, doc FROM returns "
                "ORDER BY updated_ms, dsco_return_id"
            ).fetchall()
        keys: list[str] = []
        for rid, created, updated, text in rows:
            doc = json.loads(text)
            if filters.get("returnIdType") and str(doc.get(filters["returnIdType"])) != str(
                filters.get("returnIdValue")
            ):
                continue
            if filters.get("orderIdType") and str(doc.get(filters["orderIdType"])) != str(
                filters.get("orderIdValue")
            ):
                continue
            if filters.get("status") and doc["status"] not in filters["status"]:
                continue
            if (
                filters.get("returnsCreatedSince") is not None
                and created < filters["returnsCreatedSince"]
            ):
                continue
            if (
                filters.get("returnsUpdatedSince") is not None
                and updated <= filters["returnsUpdatedSince"]
            ):
                continue
            if filters.get("until") is not None and updated > filters["until"]:
                continue
            keys.append(rid)
        return keys

    def returns_by_ids(self, ids: list[str]) -> list[Json]:
        with self.lock:
            out = []
            for rid in ids:
                row = self.conn.execute(
                    "SELECT doc FROM returns WHERE dsco_return_id=?", (rid,)
                ).fetchone()
                if row:
                    out.append(json.loads(row[0]))
        return out

    def warehouses(self) -> list[Json]:
        with self.lock:
            return [json.loads(r[0]) for r in self.conn.execute("SELECT doc FROM warehouses")]

    # ----------------------------------------------------------------- async requests

    def submit(
        self,
        kind: str,
        operation: str,
        detail: str,
        records: list[Any] | None,
        params: Json | None = None,
    ) -> tuple[str, int]:
        """Queue an async request; its change-log rows read `pending` until it is applied.

        `records=None` is a large batch waiting for its dataUrl upload.
        """
        request_id = str(uuid.uuid4())
        ms = now_ms()
        with self.tx() as c:
            due = None if records is None else ms + int(self._async_delay_s() * 1000)
            c.execute(
                "INSERT INTO requests VALUES(?,?,?,?,?,?,?,?,0)",
                (
                    request_id,
                    kind,
                    operation,
                    detail,
                    dumps(params or {}),
                    None if records is None else dumps(records),
                    ms,
                    due,
                ),
            )
            if records is not None:
                self._pending_logs(
                    c, kind=kind, request_id=request_id, detail=detail, records=records, ms=ms
                )
        self.work_ready.set()
        return request_id, ms

    @staticmethod
    def _pending_logs(
        c: sqlite3.Connection,
        *,
        kind: str,
        request_id: str,
        detail: str,
        records: list[Any],
        ms: int,
    ) -> None:
        c.executemany(
            "INSERT INTO changelog(kind, request_id, created_ms, status, doc) VALUES(?,?,?,?,?)",
            [
                (
                    kind,
                    request_id,
                    ms,
                    "pending",
                    dumps(
                        {
                            # The spec wraps catalog log payloads as {"message": ItemCatalog}.
                            "payload": {"message": rec} if kind == "catalog" else rec,
                            "dateProcessed": iso(ms),
                            "status": "pending",
                            "requestMethod": "api",
                            "requestMethodDetail": detail,
                            "requestId": request_id,
                            "processId": request_id,
                            "results": [],
                        }
                    ),
                )
                for rec in records
            ],
        )

    def upload(self, request_id: str, records: list[Any]) -> bool:
        """Attach a large batch's JSON Lines to its request; False if unknown or already sent."""
        ms = now_ms()
        with self.tx() as c:
            row = c.execute(
                "SELECT kind, detail FROM requests WHERE request_id=? AND body IS NULL",
                (request_id,),
            ).fetchone()
            if row is None:
                return False
            c.execute(
                "UPDATE requests SET body=?, due_ms=? WHERE request_id=?",
                (dumps(records), ms + int(self._async_delay_s() * 1000), request_id),
            )
            self._pending_logs(
                c, kind=row[0], request_id=request_id, detail=row[1], records=records, ms=ms
            )
        self.work_ready.set()
        return True

    def next_due(self) -> float | None:
        """Seconds until the next queued request is due (0 if one is due), None if idle."""
        with self.lock:
            row = self.conn.execute(
                "SELECT min(due_ms) FROM requests WHERE done=0 AND due_ms IS NOT NULL"
            ).fetchone()
        if row[0] is None:
            return None
        return max(0.0, (row[0] - now_ms()) / 1000)

    def process_due(self) -> int:
        """Apply every due async request, record by record; returns how many were applied."""
        with self._process_lock:
            return self._process_due()

    def _process_due(self) -> int:
        with self.lock:
            rows = self.conn.execute(
                "SELECT request_id, kind, operation, params, body FROM requests "
                "WHERE done=0 AND due_ms IS NOT NULL AND due_ms<=? ORDER BY due_ms",
                (now_ms(),),
            ).fetchall()
        for request_id, kind, operation, params, body in rows:
            self._apply_request(request_id, kind, operation, json.loads(params), json.loads(body))
        return len(rows)

    def _apply_request(
        self, request_id: str, kind: str, operation: str, params: Json, records: list[Any]
    ) -> None:
        handler = self._handler(kind, operation, params)
        with self.lock:
            log_rows = self.conn.execute(
                "SELECT id, doc FROM changelog WHERE kind=? AND request_id=? ORDER BY id",
                (kind, request_id),
            ).fetchall()
        for (log_id, log_text), rec in zip(log_rows, records, strict=False):
            entry = json.loads(log_text)
            with self.tx() as c:
                c.execute("SAVEPOINT rec")
                try:
                    results = handler(rec)
                    status = "success"
                    c.execute("RELEASE rec")
                except Invalid as exc:
                    c.execute("ROLLBACK TO rec")
                    c.execute("RELEASE rec")
                    results, status = exc.messages, "failure"
                entry.update(status=status, results=results, dateProcessed=iso(now_ms()))
                c.execute(
                    "UPDATE changelog SET status=?, doc=? WHERE id=?",
                    (status, dumps(entry), log_id),
                )
        with self.tx() as c:
            c.execute("UPDATE requests SET done=1 WHERE request_id=?", (request_id,))

    def _handler(self, kind: str, operation: str, params: Json) -> Callable[[Any], list[Json]]:
        skip = bool(params.get("skipItemsThatDontExist"))
        if kind == "inventory":
            return lambda rec: self.apply_inventory(rec, skip_missing=skip)
        if kind == "catalog":
            return self.apply_catalog
        if kind == "invoice":
            return self.create_invoice
        if kind == "return":
            operations: dict[str, Callable[[Any], Json]] = {
                "create": self.create_return,
                "complete": self.complete_return,
                "update": self.update_return,
            }
            fn = operations[operation]
            return lambda rec: (fn(rec), [])[1]
        if operation == "create":
            return lambda rec: (self.create_order(rec), [])[1]
        return {"acknowledge": self.acknowledge, "cancel": self.cancel, "shipment": self.ship}[
            operation
        ]

    def record_sync(self, kind: str, detail: str, rec: Any, results: list[Json], ok: bool) -> str:
        """Log a synchronous call's outcome in the change log too, as DSCO does."""
        request_id = str(uuid.uuid4())
        ms = now_ms()
        status = "success" if ok else "failure"
        entry = {
            "payload": rec,
            "dateProcessed": iso(ms),
            "status": status,
            "requestMethod": "api",
            "requestMethodDetail": detail,
            "requestId": request_id,
            "processId": request_id,
            "results": results,
        }
        with self.tx() as c:
            c.execute(
                "INSERT INTO changelog(kind, request_id, created_ms, status, doc) "
                "VALUES(?,?,?,?,?)",
                (kind, request_id, ms, status, dumps(entry)),
            )
            c.execute(
                "INSERT INTO requests VALUES(?,?,?,?,?,?,?,?,1)",
                (request_id, kind, detail, detail, "{}", "[]", ms, ms),
            )
        return request_id

    def log_by_request(self, kind: str, request_id: str, status: str | None) -> tuple[str, list]:
        """(PROCESSING|COMPLETED, log entries) for one requestId."""
        with self.lock:
            req = self.conn.execute(
                "SELECT done FROM requests WHERE request_id=? AND kind=?", (request_id, kind)
            ).fetchone()
            rows = self.conn.execute(
                "SELECT status, doc FROM changelog WHERE kind=? AND request_id=? ORDER BY id",
                (kind, request_id),
            ).fetchall()
        done = "COMPLETED" if req is not None and req[0] else "PROCESSING"
        return done, [json.loads(d) for s, d in rows if _status_matches(s, status)]

    def log_ids_in_range(self, kind: str, start: int, end: int, status: str | None) -> list[int]:
        with self.lock:
            rows = self.conn.execute(
                "SELECT id, status FROM changelog WHERE kind=? AND created_ms>=? AND created_ms<? "
                "ORDER BY id",
                (kind, start, end),
            ).fetchall()
        return [r[0] for r in rows if _status_matches(r[1], status)]

    def logs_by_ids(self, ids: list[int]) -> list[Json]:
        if not ids:
            return []
        with self.lock:
            rows = self.conn.execute(
                f"SELECT doc FROM changelog WHERE id IN ({','.join('?' * len(ids))}) ORDER BY id",
                ids,
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    # ----------------------------------------------------------------- scrolls

    def open_scroll(self, kind: str, keys: list[Any], page_size: int, **extra: Any) -> str:
        scroll_id = uuid.uuid4().hex
        with self.lock:
            self._expire_scrolls()
            self._scrolls[scroll_id] = Scroll(
                kind, keys, 0, page_size, time.monotonic() + self._scroll_ttl_s(), extra
            )
        return scroll_id

    def _expire_scrolls(self) -> None:
        now = time.monotonic()
        for key in [k for k, s in self._scrolls.items() if s.expires_at < now]:
            del self._scrolls[key]

    def next_page(self, scroll_id: str, kind: str) -> tuple[list[Any], Scroll]:
        """The next slice of keys behind a scrollId; NotFound once it expired (DSCO: 404)."""
        with self.lock:
            self._expire_scrolls()
            scroll = self._scrolls.get(scroll_id)
            if scroll is None or scroll.kind != kind:
                raise NotFound("The scrollId is unknown or has expired")
            page = scroll.keys[scroll.offset : scroll.offset + scroll.page_size]
            scroll.offset += len(page)
            scroll.expires_at = time.monotonic() + self._scroll_ttl_s()
            if scroll.offset >= len(scroll.keys):
                del self._scrolls[scroll_id]
        return page, scroll

    # ----------------------------------------------------------------- streams

    def create_stream(self, body: Json) -> Json:
        if not isinstance(body, dict):
            raise Invalid("The stream must be a JSON object")
        object_type = body.get("objectType")
        if object_type not in STREAM_OBJECT_TYPES:
            raise Invalid(f"objectType must be one of {', '.join(STREAM_OBJECT_TYPES)}")
        query = self._check_query(object_type, body.get("query"))
        num = self._check_partitions(body.get("numPartitions", 1))
        max_events = self._check_max_events(body.get("maxEvents"))
        stream_id = body.get("id") or str(uuid.uuid4())
        if not isinstance(stream_id, str) or "/" in stream_id:
            raise Invalid("id must be a string without '/'")
        ms = self._stamp()
        doc = {
            "id": stream_id,
            "description": body.get("description") or "",
            "objectType": object_type,
            "query": query,
            "numPartitions": num,
            "maxEvents": max_events,
            "streamVersion": 1,
        }
        with self.tx() as c:
            if c.execute("SELECT 1 FROM streams WHERE id=?", (stream_id,)).fetchone():
                raise Invalid(f"A stream with id {stream_id} already exists")
            c.execute("INSERT INTO streams VALUES(?,?,?)", (stream_id, ms, dumps(doc)))
            for pid in range(num):
                self._add_partition(c, stream_id, pid, ms)
        return self.get_stream(stream_id)

    @staticmethod
    def _add_partition(c: sqlite3.Connection, stream_id: str, pid: int, ms: int) -> None:
        part = {
            "partitionId": pid,
            "status": "active",
            "position": partition_position(ms),
            "lastUpdate": iso(ms),
            "lastActivatedDate": iso(ms),
        }
        c.execute("INSERT INTO partitions VALUES(?,?,?)", (stream_id, pid, dumps(part)))

    @staticmethod
    def _check_query(object_type: str, query: Any) -> Json:
        if not isinstance(query, dict):
            raise Invalid("query is required")
        expected = object_type
        if query.get("queryType") != expected:
            raise Invalid(f"query.queryType must be {expected!r} for objectType {object_type!r}")
        return query

    @staticmethod
    def _check_partitions(num: Any) -> int:
        if not _is_int(num) or not 1 <= num <= MAX_PARTITIONS:
            raise Invalid(f"numPartitions must be between 1 and {MAX_PARTITIONS}")
        return int(num)

    @staticmethod
    def _check_max_events(value: Any) -> Json:
        merged = dict(DEFAULT_MAX_EVENTS)
        if value is None:
            return merged
        if not isinstance(value, dict):
            raise Invalid("maxEvents must be an object")
        for key, (low, high) in MAX_EVENT_LIMITS.items():
            if key in value:
                if not _is_int(value[key]) or not low <= value[key] <= high:
                    raise Invalid(f"maxEvents.{key} must be between {low} and {high}")
                merged[key] = value[key]
        return merged

    def _stream_doc(self, stream_id: str) -> Json:
        row = self.conn.execute("SELECT doc FROM streams WHERE id=?", (stream_id,)).fetchone()
        if row is None:
            raise NotFound(f"Stream {stream_id} not found")
        return json.loads(row[0])

    def get_stream(self, stream_id: str, partition_id: int | None = None) -> Json:
        with self.lock:
            doc = self._stream_doc(stream_id)
            parts = []
            for pid, text in self.conn.execute(
                "SELECT partition_id, doc FROM partitions WHERE stream_id=? ORDER BY partition_id",
                (stream_id,),
            ):
                if partition_id is not None and pid != partition_id:
                    continue
                part = json.loads(text)
                last = self.conn.execute(
                    "SELECT event_id FROM events WHERE stream_id=? AND partition_id=? "
                    "ORDER BY seq DESC LIMIT 1",
                    (stream_id, pid),
                ).fetchone()
                part["maxPosition"] = last[0] if last else part["position"]
                parts.append(part)
        doc["partitions"] = parts
        return doc

    def list_streams(self, partition_id: int | None = None) -> list[Json]:
        with self.lock:
            ids = [r[0] for r in self.conn.execute("SELECT id FROM streams ORDER BY created_ms")]
        return [self.get_stream(i, partition_id) for i in ids]

    def update_stream(self, stream_id: str, body: Json, increment: bool) -> Json:
        if not isinstance(body, dict):
            raise Invalid("The stream must be a JSON object")
        with self.tx() as c:
            doc = self._stream_doc(stream_id)
            if body.get("objectType") not in (None, doc["objectType"]):
                raise Invalid("objectType cannot be changed")
            if "query" in body:
                doc["query"] = self._check_query(doc["objectType"], body["query"])
            if "maxEvents" in body:
                doc["maxEvents"] = self._check_max_events(body["maxEvents"])
            if "description" in body:
                doc["description"] = body["description"] or ""
            if "numPartitions" in body:
                self._set_partitions(c, stream_id, self._check_partitions(body["numPartitions"]))
                doc["numPartitions"] = body["numPartitions"]
            if increment:
                doc["streamVersion"] += 1
            c.execute("UPDATE streams SET doc=? WHERE id=?", (dumps(doc), stream_id))
        return self.get_stream(stream_id)

    def _set_partitions(self, c: sqlite3.Connection, stream_id: str, num: int) -> None:
        ms = self._stamp()
        rows = c.execute(
            "SELECT partition_id, doc FROM partitions WHERE stream_id=?", (stream_id,)
        ).fetchall()
        existing = {pid: json.loads(text) for pid, text in rows}
        for pid in range(max(num, len(existing))):
            part = existing.get(pid)
            if part is None:
                self._add_partition(c, stream_id, pid, ms)
                continue
            want = "active" if pid < num else "inactive"
            if part["status"] != want:
                part["status"] = want
                key = "lastActivatedDate" if want == "active" else "lastDeactivatedDate"
                part[key] = iso(ms)
                part["lastUpdate"] = iso(ms)
                c.execute(
                    "UPDATE partitions SET doc=? WHERE stream_id=? AND partition_id=?",
                    (dumps(part), stream_id, pid),
                )

    def delete_stream(self, stream_id: str) -> Json:
        doc = self.get_stream(stream_id)
        with self.tx() as c:
            c.execute("DELETE FROM events WHERE stream_id=?", (stream_id,))
            c.execute("DELETE FROM partitions WHERE stream_id=?", (stream_id,))
            c.execute("DELETE FROM streams WHERE id=?", (stream_id,))
        return doc

    def stream_operation(self, stream_id: str, body: Json) -> Json:
        if not isinstance(body, dict):
            raise Invalid("The operation must be a JSON object")
        op = body.get("operationType")
        with self.tx() as c:
            doc = self._stream_doc(stream_id)
            if op == "sync":
                self._sync_stream(doc, body)
            elif op == "setpartitionowner":
                pid = body.get("partitionId")
                row = c.execute(
                    "SELECT doc FROM partitions WHERE stream_id=? AND partition_id=?",
                    (stream_id, pid),
                ).fetchone()
                if not _is_int(pid) or row is None:
                    raise Invalid(f"Unknown partitionId {pid}")
                part = json.loads(row[0])
                if body.get("ownerId") is None:
                    part.pop("ownerId", None)
                else:
                    part["ownerId"] = str(body["ownerId"])
                part["lastUpdate"] = iso(now_ms())
                c.execute(
                    "UPDATE partitions SET doc=? WHERE stream_id=? AND partition_id=?",
                    (dumps(part), stream_id, pid),
                )
            elif op == "repartition":
                doc["streamVersion"] += 1
                c.execute("UPDATE streams SET doc=? WHERE id=?", (dumps(doc), stream_id))
            else:
                raise Invalid("operationType must be one of sync, setpartitionowner, repartition")
        return {"operationType": op, "operationUuid": str(uuid.uuid4())}

    def _sync_stream(self, doc: Json, body: Json) -> None:
        """Dump every current object of the stream's type into it, marked source=sync."""
        skus = body.get("sku")
        object_type = doc["objectType"]
        if object_type in ("inventory", "catalog"):
            column = "inventory" if object_type == "inventory" else "catalog"
            rows = self.conn.execute(
                f"SELECT sku, {column} FROM items WHERE {column} IS NOT NULL ORDER BY sku"
            ).fetchall()
            for sku, text in rows:
                if skus and sku not in skus:
                    continue
                self._emit_to(doc, sku, json.loads(text), [], "sync")
        elif object_type == "order":
            for oid, text in self.conn.execute("SELECT dsco_order_id, doc FROM orders").fetchall():
                self._emit_to(doc, oid, json.loads(text), [], "sync")
        else:
            raise Invalid(f"sync is not supported for {object_type} streams")

    def set_position(self, stream_id: str, partition_id: int, position: str) -> None:
        parse_position(position)
        with self.tx() as c:
            self._stream_doc(stream_id)
            row = c.execute(
                "SELECT doc FROM partitions WHERE stream_id=? AND partition_id=?",
                (stream_id, partition_id),
            ).fetchone()
            if row is None:
                raise NotFound(f"Partition {partition_id} of stream {stream_id} not found")
            part = json.loads(row[0])
            part["position"] = position
            part["lastUpdate"] = iso(now_ms())
            c.execute(
                "UPDATE partitions SET doc=? WHERE stream_id=? AND partition_id=?",
                (dumps(part), stream_id, partition_id),
            )

    def read_events(
        self,
        stream_id: str,
        partition_id: int,
        start: str,
        end: str | None = None,
        *,
        limit: int | None = None,
    ) -> tuple[list[str], str | None]:
        """Serialized events after `start` (or in [start, end)), capped by maxEvents."""
        after = parse_position(start)
        until = None if end is None else parse_position(end)
        with self.lock:
            doc = self._stream_doc(stream_id)
            part = self.conn.execute(
                "SELECT doc FROM partitions WHERE stream_id=? AND partition_id=?",
                (stream_id, partition_id),
            ).fetchone()
            if part is None:
                raise NotFound(f"Partition {partition_id} of stream {stream_id} not found")
            owner = json.loads(part[0]).get("ownerId")
            max_events = doc["maxEvents"]
            count = limit or max_events["objectCount"]
            sql = "SELECT body FROM events WHERE stream_id=? AND partition_id=?"
            args: list[Any] = [stream_id, partition_id]
            if after.seq is not None:
                # From a position: strictly after it; a range start is inclusive.
                sql += " AND seq>?" if end is None else " AND seq>=?"
                args.append(after.seq)
            else:
                sql += " AND ms>=?"
                args.append(after.ms)
            if until is not None:
                sql += " AND seq<?" if until.seq is not None else " AND ms<?"
                args.append(until.seq if until.seq is not None else until.ms)
            sql += " ORDER BY seq LIMIT ?"
            args.append(count)
            bodies = [r[0] for r in self.conn.execute(sql, args)]
        budget = max_events["numBytes"]
        out: list[str] = []
        for body in bodies:
            budget -= len(body) + 1
            if budget < 0 and out:
                break
            out.append(body)
        return out, owner

    def emit(
        self,
        object_type: str,
        key: str,
        payload: Json,
        reasons: list[str],
        *,
        quantity_changed: bool = True,
    ) -> None:
        """Append an event for this object to every stream whose query matches it."""
        with self.lock:
            rows = self.conn.execute("SELECT doc FROM streams").fetchall()
            for (text,) in rows:
                doc = json.loads(text)
                if doc["objectType"] == object_type and self._matches(
                    doc["query"], object_type, payload, quantity_changed
                ):
                    self._emit_to(doc, key, payload, reasons, "stream")

    @staticmethod
    def _matches(query: Json, object_type: str, payload: Json, quantity_changed: bool) -> bool:
        if object_type == "order":
            types = [t.lower() for t in query.get("orderTypes") or ["dropship"]]
            if str(payload.get("orderType") or "dropship").lower() not in types:
                return False
            if query.get("statuses") and payload.get("dscoStatus") not in query["statuses"]:
                return False
            lifecycles = query.get("dscoLifecycle")
            return not lifecycles or payload.get("dscoLifecycle") in lifecycles
        if object_type == "inventory":
            if query.get("quantityChangeOnly") and not quantity_changed:
                return False
            statuses = query.get("itemStatus")
            return not statuses or payload.get("status") in statuses
        if object_type == "catalog":
            statuses = query.get("productStatuses")
            return not statuses or payload.get("productStatus") in statuses
        if object_type in ("returns", "orderitemchange"):
            statuses = query.get("statuses")
            return not statuses or payload.get("status") in statuses
        return True

    def _emit_to(
        self, stream: Json, key: str, payload: Json, reasons: list[str], source: str
    ) -> None:
        num = stream["numPartitions"]
        pid = zlib.crc32(key.encode()) % num
        ms = self._stamp()
        self._seq += 1
        eid = event_id(ms, self._seq)
        event: Json = {"id": eid, "source": source}
        if reasons:
            event["eventReasons"] = reasons
        event.update(
            partitionId=pid, streamVersion=stream["streamVersion"], payload=_strip_none(payload)
        )
        self.conn.execute(
            "INSERT INTO events VALUES(?,?,?,?,?,?)",
            (stream["id"], pid, self._seq, ms, eid, dumps(event)),
        )


def _status_matches(status: str, wanted: str | None) -> bool:
    if wanted in (None, ""):
        return True
    if wanted == "success_or_failure":
        return status in ("success", "failure")
    return status == wanted


def days_ago_ms(days: float) -> int:
    return int((datetime.now(UTC) - timedelta(days=days)).timestamp() * 1000)
