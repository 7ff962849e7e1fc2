"""The inventory repository: quantity on hand per SKU and warehouse, and what DSCO confirmed.

`quantity` and `buffer` are the shop's own numbers; `dsco_status`, `dsco_quantity` and
`last_confirmed_at` record what DSCO last reported, so the UI can show what is not yet in sync.

The inventory editor adds (schema 5): `allocated` (units of open orders, refreshed from the
order lines), `local_status` ("" or "discontinued"), what was last sent (`sent_available`,
`push_state`, `push_message`, `request_id`, `outbox_id`); staged edits in `inventory_pending`
(one row per level holding the complete staged values, dropped when they equal the committed
ones); and `inventory_history`, every edit and every DSCO answer with before/after values.

The editor's table reads ids (rowids) filtered and sorted in SQL, then the rows it shows by id,
so 100,000 SKUs x warehouses never become 200,000 Python objects at once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dsco_desktop.domain.inventory import DISCONTINUED, LevelValues
from dsco_desktop.store._util import as_dict, int_or_none, normalize_timestamp, now_iso
from dsco_desktop.store.db import Database

Key = tuple[str, str]  # (sku, warehouse_code)


@dataclass(frozen=True)
class InventoryLevel:
    """Stock of one SKU in one warehouse."""

    sku: str
    warehouse_code: str
    quantity: int
    buffer: int = 0
    dsco_status: str | None = None
    dsco_quantity: int | None = None
    last_confirmed_at: str | None = None


_UPSERT = """
INSERT INTO inventory (sku, warehouse_code, quantity, buffer, dsco_status, dsco_quantity,
                       last_confirmed_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(sku, warehouse_code) DO UPDATE SET
    quantity = excluded.quantity,
    buffer = excluded.buffer,
    dsco_status = COALESCE(excluded.dsco_status, inventory.dsco_status),
    dsco_quantity = COALESCE(excluded.dsco_quantity, inventory.dsco_quantity),
    last_confirmed_at = COALESCE(excluded.last_confirmed_at, inventory.last_confirmed_at),
    updated_at = excluded.updated_at
"""

_CONFIRM = """
INSERT INTO inventory (sku, warehouse_code, quantity, dsco_status, dsco_quantity,
                       last_confirmed_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(sku, warehouse_code) DO UPDATE SET
    dsco_status = excluded.dsco_status,
    dsco_quantity = excluded.dsco_quantity,
    last_confirmed_at = excluded.last_confirmed_at
"""


def levels_from_dsco(item: Mapping[str, Any] | Any) -> list[InventoryLevel]:
    """Split a DSCO ItemInventory object into one level per warehouse it lists.

    DSCO occasionally sends an item without warehouses (despite the spec); it yields nothing.
    """
    data = as_dict(item)
    sku = str(data.get("sku") or "")
    if not sku:
        raise ValueError("an inventory item needs a sku")
    confirmed = normalize_timestamp(
        data.get("dscoLastQuantityUpdateDate") or data.get("dscoLastUpdateDate")
    )
    item_status = data.get("status")
    levels = []
    for warehouse in data.get("warehouses") or []:
        code = warehouse.get("code") if isinstance(warehouse, Mapping) else None
        if not code:
            continue
        quantity = int_or_none(warehouse.get("quantity")) or 0
        levels.append(
            InventoryLevel(
                sku=sku,
                warehouse_code=str(code),
                quantity=quantity,
                dsco_status=warehouse.get("status") or item_status,
                dsco_quantity=quantity,
                last_confirmed_at=confirmed,
            )
        )
    return levels


class InventoryRepository:
    """Inventory levels by (sku, warehouse_code)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def upsert_many(
        self, levels: Iterable[InventoryLevel], *, conn: sqlite3.Connection | None = None
    ) -> int:
        """Write the shop's quantities (and any DSCO facts given) in one transaction."""
        now = now_iso()
        rows = [
            (
                lv.sku,
                lv.warehouse_code,
                lv.quantity,
                lv.buffer,
                lv.dsco_status,
                lv.dsco_quantity,
                lv.last_confirmed_at,
                now,
            )
            for lv in levels
        ]
        self._run(_UPSERT, rows, conn)
        return len(rows)

    def confirm_from_dsco(
        self, items: Iterable[Mapping[str, Any] | Any], *, conn: sqlite3.Connection | None = None
    ) -> int:
        """Record what DSCO reports (ItemInventory objects) without touching local quantities.

        A SKU/warehouse not known locally is created with DSCO's quantity as its starting point.
        """
        now = now_iso()
        rows = [
            (
                lv.sku,
                lv.warehouse_code,
                lv.quantity,
                lv.dsco_status,
                lv.dsco_quantity,
                lv.last_confirmed_at or now,
                now,
            )
            for item in items
            for lv in levels_from_dsco(item)
        ]
        self._run(_CONFIRM, rows, conn)
        return len(rows)

    def _run(self, sql: str, rows: list[tuple[Any, ...]], conn: sqlite3.Connection | None) -> None:
        if not rows:
            return
        with self._db.joining(conn) as tx:
            tx.executemany(sql, rows)

    def get(self, sku: str) -> list[InventoryLevel]:
        """Every warehouse's level for one SKU, by warehouse code."""
        rows = self._db.connection().execute(
            "SELECT * FROM inventory WHERE sku = ? ORDER BY warehouse_code", (sku,)
        )
        return [_level(row) for row in rows]

    def get_level(self, sku: str, warehouse_code: str) -> InventoryLevel | None:
        """One SKU's level in one warehouse, or None."""
        row = (
            self._db.connection()
            .execute(
                "SELECT * FROM inventory WHERE sku = ? AND warehouse_code = ?",
                (sku, warehouse_code),
            )
            .fetchone()
        )
        return None if row is None else _level(row)

    def count(self) -> int:
        """How many (sku, warehouse) levels are stored."""
        return int(self._db.connection().execute("SELECT COUNT(*) FROM inventory").fetchone()[0])


def _level(row: sqlite3.Row) -> InventoryLevel:
    return InventoryLevel(
        sku=row["sku"],
        warehouse_code=row["warehouse_code"],
        quantity=row["quantity"],
        buffer=row["buffer"],
        dsco_status=row["dsco_status"],
        dsco_quantity=row["dsco_quantity"],
        last_confirmed_at=row["last_confirmed_at"],
    )


# -- the inventory editor ---------------------------------------------------------------------

# The staged value wins over the committed one; available follows domain/inventory.available.
_QTY = "COALESCE(p.quantity, v.quantity)"
_BUF = "COALESCE(p.buffer, v.buffer)"
_STATUS = "COALESCE(p.status, v.local_status)"
AVAILABLE_SQL = (
    f"(CASE WHEN {_STATUS} = '{DISCONTINUED}' THEN 0 "
    f"ELSE MAX(0, {_QTY} - v.allocated - {_BUF}) END)"
)
_FROM = (
    "FROM inventory v LEFT JOIN inventory_pending p "
    "ON p.sku = v.sku AND p.warehouse_code = v.warehouse_code"
)
_ROW_SELECT = (
    f"SELECT v.rowid AS id, v.sku, v.warehouse_code, {_QTY} AS quantity, {_BUF} AS buffer, "
    f"{_STATUS} AS status, v.allocated, {AVAILABLE_SQL} AS available, "
    "v.quantity AS base_quantity, v.buffer AS base_buffer, v.local_status AS base_status, "
    "p.sku IS NOT NULL AS pending, p.source AS pending_source, v.dsco_status, v.dsco_quantity, "
    "v.last_confirmed_at, v.sent_available, v.push_state, v.push_message, v.request_id, "
    f"v.outbox_id {_FROM}"
)

# Sortable columns of the editor, by the name the UI uses.
SORT_COLUMNS: dict[str, str] = {
    "sku": "v.sku",
    "warehouse_code": "v.warehouse_code",
    "quantity": _QTY,
    "allocated": "v.allocated",
    "buffer": _BUF,
    "available": AVAILABLE_SQL,
    "dsco_status": "v.dsco_status",
    "last_confirmed_at": "v.last_confirmed_at",
    "push_state": "v.push_state",
}

ERROR_STATES = ("rejected", "failed")


@dataclass(frozen=True)
class InventoryRow:
    """One line of the editor: staged values where there are any, and DSCO's side."""

    id: int
    sku: str
    warehouse_code: str
    quantity: int
    buffer: int
    status: str
    allocated: int
    available: int
    base_quantity: int
    base_buffer: int
    base_status: str
    pending: bool
    dsco_status: str | None
    dsco_quantity: int | None
    last_confirmed_at: str | None
    sent_available: int | None
    push_state: str
    push_message: str | None
    request_id: str | None = None
    pending_source: str | None = None

    @property
    def key(self) -> Key:
        return (self.sku, self.warehouse_code)

    @property
    def values(self) -> LevelValues:
        return LevelValues(self.quantity, self.buffer, self.status)

    @property
    def base_values(self) -> LevelValues:
        return LevelValues(self.base_quantity, self.base_buffer, self.base_status)

    @property
    def has_error(self) -> bool:
        return self.push_state in ERROR_STATES


@dataclass(frozen=True)
class InventoryFilter:
    """What the editor shows: `text` matches SKU (or warehouse code); the flags combine (AND)."""

    text: str = ""
    low_stock_at: int | None = None  # available <= this (and not discontinued)
    out_of_stock: bool = False
    pending: bool = False
    errors: bool = False
    warehouse: str | None = None


@dataclass(frozen=True)
class InventoryCounts:
    """The editor's summary line."""

    levels: int = 0
    skus: int = 0
    pending: int = 0
    errors: int = 0
    out_of_stock: int = 0
    low_stock: int = 0


@dataclass(frozen=True)
class HistoryEntry:
    """One change of one level: a local edit, a push, or what DSCO said."""

    id: int
    sku: str
    warehouse_code: str
    at: str
    source: str
    field: str
    before: str | None
    after: str | None
    note: str | None = None


HistoryRecord = tuple[str, str, str, str, object, object, str | None]
"""(sku, warehouse, source, field, before, after, note) for `add_history`."""


def _inventory_row(row: sqlite3.Row) -> InventoryRow:
    return InventoryRow(
        id=int(row["id"]),
        sku=row["sku"],
        warehouse_code=row["warehouse_code"],
        quantity=int(row["quantity"]),
        buffer=int(row["buffer"]),
        status=row["status"] or "",
        allocated=int(row["allocated"]),
        available=int(row["available"]),
        base_quantity=int(row["base_quantity"]),
        base_buffer=int(row["base_buffer"]),
        base_status=row["base_status"] or "",
        pending=bool(row["pending"]),
        dsco_status=row["dsco_status"],
        dsco_quantity=row["dsco_quantity"],
        last_confirmed_at=row["last_confirmed_at"],
        sent_available=row["sent_available"],
        push_state=row["push_state"] or "",
        push_message=row["push_message"],
        request_id=row["request_id"],
        pending_source=row["pending_source"],
    )


def _where(flt: InventoryFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    text = flt.text.strip()
    if text:
        # Escape LIKE's wildcards so "A_1" matches only itself.
        like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        clauses.append("(v.sku LIKE ? ESCAPE '\\' OR v.warehouse_code LIKE ? ESCAPE '\\')")
        params += [like, like]
    if flt.warehouse:
        clauses.append("v.warehouse_code = ?")
        params.append(flt.warehouse)
    if flt.low_stock_at is not None:
        clauses.append(f"{AVAILABLE_SQL} <= ? AND {_STATUS} != '{DISCONTINUED}'")
        params.append(flt.low_stock_at)
    if flt.out_of_stock:
        clauses.append(f"{AVAILABLE_SQL} = 0")
    if flt.pending:
        clauses.append("p.sku IS NOT NULL")
    if flt.errors:
        clauses.append("v.push_state IN ('rejected', 'failed')")
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _chunks(items: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class InventoryEditorRepository:
    """The editor's reads and writes over inventory, inventory_pending and inventory_history."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- reading -----------------------------------------------------------------------------

    def ids(
        self,
        flt: InventoryFilter = InventoryFilter(),
        *,
        sort: str = "sku",
        descending: bool = False,
    ) -> list[int]:
        """Row ids matching `flt`, sorted in SQL (ties by SKU, then warehouse)."""
        where, params = _where(flt)
        column = SORT_COLUMNS.get(sort, "v.sku")
        direction = "DESC" if descending else "ASC"
        sql = (
            f"SELECT v.rowid {_FROM}{where} "
            f"ORDER BY {column} {direction}, v.sku {direction}, v.warehouse_code {direction}"
        )
        return [r[0] for r in self._db.connection().execute(sql, params)]

    def rows_by_id(self, ids: Sequence[int]) -> dict[int, InventoryRow]:
        """The rows with these ids (missing ids are left out)."""
        found: dict[int, InventoryRow] = {}
        conn = self._db.connection()
        for chunk in _chunks(list(ids)):
            marks = ", ".join("?" * len(chunk))
            for row in conn.execute(f"{_ROW_SELECT} WHERE v.rowid IN ({marks})", list(chunk)):
                found[int(row["id"])] = _inventory_row(row)
        return found

    def rows(
        self,
        flt: InventoryFilter = InventoryFilter(),
        *,
        keys: Iterable[Key] | None = None,
        skus: Iterable[str] | None = None,
    ) -> list[InventoryRow]:
        """Rows by filter, or by keys / SKUs (all of each SKU's warehouses)."""
        conn = self._db.connection()
        if keys is not None:
            wanted = list(dict.fromkeys(keys))
            out: list[InventoryRow] = []
            for chunk in _chunks(wanted, 400):
                pairs = " OR ".join("(v.sku = ? AND v.warehouse_code = ?)" for _ in chunk)
                params = [x for key in chunk for x in key]
                out.extend(
                    _inventory_row(r) for r in conn.execute(f"{_ROW_SELECT} WHERE {pairs}", params)
                )
            return out
        if skus is not None:
            names = list(dict.fromkeys(skus))
            result: list[InventoryRow] = []
            for chunk in _chunks(names):
                marks = ", ".join("?" * len(chunk))
                result.extend(
                    _inventory_row(r)
                    for r in conn.execute(
                        f"{_ROW_SELECT} WHERE v.sku IN ({marks}) ORDER BY v.sku, v.warehouse_code",
                        list(chunk),
                    )
                )
            return result
        where, params = _where(flt)
        return [
            _inventory_row(r)
            for r in conn.execute(f"{_ROW_SELECT}{where} ORDER BY v.sku, v.warehouse_code", params)
        ]

    def counts(self, low_stock_at: int) -> InventoryCounts:
        """Levels, SKUs, staged, errors, out of stock and low stock, in one pass."""
        row = (
            self._db.connection()
            .execute(
                "SELECT COUNT(*), COUNT(DISTINCT v.sku), SUM(p.sku IS NOT NULL), "
                "SUM(v.push_state IN ('rejected', 'failed')), "
                f"SUM({AVAILABLE_SQL} = 0), "
                f"SUM({AVAILABLE_SQL} <= ? AND {_STATUS} != '{DISCONTINUED}') {_FROM}",
                (low_stock_at,),
            )
            .fetchone()
        )
        return InventoryCounts(*(int(x or 0) for x in row))

    def warehouse_codes(self) -> list[str]:
        """Warehouse codes with stock records, in order."""
        rows = self._db.connection().execute(
            "SELECT DISTINCT warehouse_code FROM inventory ORDER BY warehouse_code"
        )
        return [r[0] for r in rows]

    def all_skus(self) -> list[str]:
        """Every SKU with stock records or in the catalog, in order."""
        rows = self._db.connection().execute(
            "SELECT sku FROM inventory UNION SELECT sku FROM items ORDER BY 1"
        )
        return [r[0] for r in rows]

    def pending_count(self) -> int:
        return int(
            self._db.connection().execute("SELECT COUNT(*) FROM inventory_pending").fetchone()[0]
        )

    # -- staging -----------------------------------------------------------------------------

    def ensure_levels(self, keys: Iterable[Key], *, conn: sqlite3.Connection) -> list[Key]:
        """Create 0-quantity levels for keys not stored yet (a new SKU or warehouse from an
        import); returns those created."""
        created: list[Key] = []
        now = now_iso()
        for sku, code in dict.fromkeys(keys):
            cursor = conn.execute(
                "INSERT INTO inventory (sku, warehouse_code, quantity, updated_at) "
                "VALUES (?, ?, 0, ?) ON CONFLICT(sku, warehouse_code) DO NOTHING",
                (sku, code, now),
            )
            if cursor.rowcount:
                created.append((sku, code))
        return created

    def remove_unused(self, keys: Iterable[Key], *, conn: sqlite3.Connection) -> int:
        """Drop levels that exist only because of an undone edit: nothing staged, nothing sent,
        nothing heard from DSCO, nothing on hand."""
        removed = 0
        for sku, code in keys:
            cursor = conn.execute(
                "DELETE FROM inventory WHERE sku = ? AND warehouse_code = ? AND quantity = 0 "
                "AND dsco_quantity IS NULL AND last_confirmed_at IS NULL "
                "AND sent_available IS NULL AND push_state = '' AND NOT EXISTS ("
                "SELECT 1 FROM inventory_pending p WHERE p.sku = inventory.sku "
                "AND p.warehouse_code = inventory.warehouse_code)",
                (sku, code),
            )
            removed += cursor.rowcount
        return removed

    def set_pending(
        self,
        states: Mapping[Key, LevelValues | None],
        *,
        source: str,
        conn: sqlite3.Connection,
    ) -> None:
        """Stage these values (None = drop the staged change). A staged value equal to the
        committed one is dropped too: nothing is left to send."""
        now = now_iso()
        upserts = [
            (sku, code, v.quantity, v.buffer, v.status, source, now)
            for (sku, code), v in states.items()
            if v is not None
        ]
        drops = [key for key, v in states.items() if v is None]
        if upserts:
            conn.executemany(
                "INSERT INTO inventory_pending (sku, warehouse_code, quantity, buffer, status, "
                "source, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(sku, warehouse_code) DO UPDATE SET quantity = excluded.quantity, "
                "buffer = excluded.buffer, status = excluded.status, source = excluded.source, "
                "updated_at = excluded.updated_at",
                upserts,
            )
            conn.executemany(
                "DELETE FROM inventory_pending WHERE sku = ? AND warehouse_code = ? AND EXISTS ("
                "SELECT 1 FROM inventory v WHERE v.sku = inventory_pending.sku "
                "AND v.warehouse_code = inventory_pending.warehouse_code "
                "AND v.quantity = inventory_pending.quantity "
                "AND v.buffer = inventory_pending.buffer "
                "AND v.local_status = inventory_pending.status)",
                [(u[0], u[1]) for u in upserts],
            )
        if drops:
            conn.executemany(
                "DELETE FROM inventory_pending WHERE sku = ? AND warehouse_code = ?", drops
            )

    def pending_values(self, keys: Iterable[Key]) -> dict[Key, LevelValues]:
        """The staged values of these keys (keys without a staged change are left out)."""
        return {row.key: row.values for row in self.rows(keys=keys) if row.pending}

    def discard_all_pending(self, *, conn: sqlite3.Connection) -> int:
        return conn.execute("DELETE FROM inventory_pending").rowcount

    # -- allocations -------------------------------------------------------------------------

    def open_order_units(self) -> dict[str, tuple[dict[str, int], int]]:
        """Units still to ship on open orders per SKU: ({warehouse named by the line: units},
        units of lines naming no warehouse). Same open-order rule as the order inbox."""
        rows = self._db.connection().execute(
            "SELECT l.sku, json_extract(l.raw, '$.warehouseCode') AS wh, "
            "SUM(MAX(0, l.quantity - COALESCE(l.shipped_quantity, 0) "
            "- COALESCE(l.cancelled_quantity, 0))) FROM order_lines l "
            "JOIN orders o ON o.dsco_order_id = l.dsco_order_id "
            "WHERE o.qty_remaining > 0 AND COALESCE(o.lifecycle, '') != 'completed' "
            "AND l.sku IS NOT NULL GROUP BY l.sku, wh"
        )
        result: dict[str, tuple[dict[str, int], int]] = {}
        for sku, code, units in rows:
            explicit, unassigned = result.get(str(sku), ({}, 0))
            if code:
                explicit[str(code)] = explicit.get(str(code), 0) + int(units or 0)
            else:
                unassigned += int(units or 0)
            result[str(sku)] = (explicit, unassigned)
        return result

    def levels_for_allocation(self) -> dict[str, dict[str, tuple[int, int, int]]]:
        """{sku: {warehouse: (on hand, buffer, allocated now)}} using staged values."""
        out: dict[str, dict[str, tuple[int, int, int]]] = {}
        rows = self._db.connection().execute(
            f"SELECT v.sku, v.warehouse_code, {_QTY}, {_BUF}, v.allocated {_FROM}"
        )
        for sku, code, qty, buf, allocated in rows:
            out.setdefault(sku, {})[code] = (int(qty), int(buf), int(allocated))
        return out

    def set_allocated(self, values: Mapping[Key, int], *, conn: sqlite3.Connection) -> None:
        conn.executemany(
            "UPDATE inventory SET allocated = ? WHERE sku = ? AND warehouse_code = ?",
            [(units, sku, code) for (sku, code), units in values.items()],
        )

    # -- pushing -----------------------------------------------------------------------------

    def skus_to_push(self, *, all_changed: bool) -> list[str]:
        """SKUs with a staged change; with `all_changed`, also those whose available quantity
        differs from what DSCO was last told (new orders, a changed buffer)."""
        if all_changed:
            sql = (
                f"SELECT DISTINCT v.sku {_FROM} WHERE p.sku IS NOT NULL OR "
                f"{AVAILABLE_SQL} IS NOT COALESCE(v.sent_available, v.dsco_quantity) "
                "ORDER BY v.sku"
            )
        else:
            sql = "SELECT DISTINCT sku FROM inventory_pending ORDER BY sku"
        return [r[0] for r in self._db.connection().execute(sql)]

    def commit_staged(
        self, skus: Sequence[str], *, conn: sqlite3.Connection
    ) -> list[tuple[Key, LevelValues, LevelValues]]:
        """Make the staged values of these SKUs the committed ones (a push begins); returns
        (key, before, after) for each level that changed."""
        changed: list[tuple[Key, LevelValues, LevelValues]] = []
        now = now_iso()
        for chunk in _chunks(list(skus)):
            marks = ", ".join("?" * len(chunk))
            rows = conn.execute(
                "SELECT p.sku, p.warehouse_code, p.quantity, p.buffer, p.status, v.quantity, "
                "v.buffer, v.local_status FROM inventory_pending p JOIN inventory v "
                "ON v.sku = p.sku AND v.warehouse_code = p.warehouse_code "
                f"WHERE p.sku IN ({marks})",
                list(chunk),
            ).fetchall()
            for sku, code, qty, buf, status, bqty, bbuf, bstatus in rows:
                changed.append(
                    ((sku, code), LevelValues(bqty, bbuf, bstatus), LevelValues(qty, buf, status))
                )
            conn.execute(
                "UPDATE inventory SET (quantity, buffer, local_status, updated_at) = ("
                "SELECT p.quantity, p.buffer, p.status, ? FROM inventory_pending p "
                "WHERE p.sku = inventory.sku AND p.warehouse_code = inventory.warehouse_code) "
                f"WHERE sku IN ({marks}) AND EXISTS (SELECT 1 FROM inventory_pending p "
                "WHERE p.sku = inventory.sku AND p.warehouse_code = inventory.warehouse_code)",
                [now, *chunk],
            )
            conn.execute(f"DELETE FROM inventory_pending WHERE sku IN ({marks})", list(chunk))
        return changed

    def mark_queued(
        self, sent: Mapping[Key, int], outbox_id: int, *, conn: sqlite3.Connection
    ) -> None:
        """The levels of one batch: their available quantity as sent, and the outbox row."""
        now = now_iso()
        conn.executemany(
            "UPDATE inventory SET sent_available = ?, push_state = 'queued', push_message = NULL,"
            " request_id = NULL, outbox_id = ?, pushed_at = ? WHERE sku = ? AND warehouse_code = ?",
            [(qty, outbox_id, now, sku, code) for (sku, code), qty in sent.items()],
        )

    def keys_in_outbox(self, outbox_id: int) -> list[Key]:
        rows = self._db.connection().execute(
            "SELECT sku, warehouse_code FROM inventory WHERE outbox_id = ?", (outbox_id,)
        )
        return [(r[0], r[1]) for r in rows]

    def queued_outbox_ids(self) -> list[int]:
        rows = self._db.connection().execute(
            "SELECT DISTINCT outbox_id FROM inventory WHERE push_state = 'queued' "
            "AND outbox_id IS NOT NULL ORDER BY outbox_id"
        )
        return [int(r[0]) for r in rows]

    def open_requests(self) -> list[str]:
        """Request ids DSCO accepted whose outcome is not known yet."""
        rows = self._db.connection().execute(
            "SELECT DISTINCT request_id FROM inventory WHERE push_state IN ('sent', 'pending') "
            "AND request_id IS NOT NULL ORDER BY request_id"
        )
        return [r[0] for r in rows]

    def keys_of_request(self, request_id: str) -> list[tuple[Key, int | None, int | None]]:
        """(key, available sent, DSCO's quantity before) of every level sent in one request."""
        rows = self._db.connection().execute(
            "SELECT sku, warehouse_code, sent_available, dsco_quantity FROM inventory "
            "WHERE request_id = ?",
            (request_id,),
        )
        return [((r[0], r[1]), r[2], r[3]) for r in rows]

    def outcomes_in_outbox(self, outbox_id: int) -> list[tuple[Key, str, str | None, str | None]]:
        """(key, push state, message, request id) of the levels an outbox row carried."""
        rows = self._db.connection().execute(
            "SELECT sku, warehouse_code, push_state, push_message, request_id FROM inventory "
            "WHERE outbox_id = ?",
            (outbox_id,),
        )
        return [((r[0], r[1]), r[2], r[3], r[4]) for r in rows]

    def set_push_states(
        self,
        updates: Iterable[tuple[Key, str, str | None, str | None]],
        *,
        conn: sqlite3.Connection,
    ) -> None:
        """(key, push_state, message, request_id) per level; request_id None keeps the old."""
        conn.executemany(
            "UPDATE inventory SET push_state = ?, push_message = ?, "
            "request_id = COALESCE(?, request_id) WHERE sku = ? AND warehouse_code = ?",
            [(state, msg, rid, sku, code) for (sku, code), state, msg, rid in updates],
        )

    def confirm_levels(
        self,
        confirmed: Iterable[tuple[Key, int, str, str]],
        *,
        conn: sqlite3.Connection,
    ) -> None:
        """(key, quantity, status, when) DSCO confirmed applying."""
        conn.executemany(
            "UPDATE inventory SET dsco_quantity = ?, dsco_status = ?, last_confirmed_at = ?, "
            "push_state = 'accepted', push_message = NULL WHERE sku = ? AND warehouse_code = ?",
            [(qty, status, at, sku, code) for (sku, code), qty, status, at in confirmed],
        )

    # -- history -----------------------------------------------------------------------------

    def add_history(self, records: Iterable[HistoryRecord], *, conn: sqlite3.Connection) -> None:
        now = now_iso()
        conn.executemany(
            "INSERT INTO inventory_history (sku, warehouse_code, at, source, field, before, "
            "after, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    sku,
                    code,
                    now,
                    source,
                    fld,
                    None if before is None else str(before),
                    None if after is None else str(after),
                    note,
                )
                for sku, code, source, fld, before, after, note in records
            ],
        )

    def history(self, sku: str, limit: int = 1000) -> list[HistoryEntry]:
        """One SKU's history, newest first."""
        rows = self._db.connection().execute(
            "SELECT * FROM inventory_history WHERE sku = ? ORDER BY id DESC LIMIT ?",
            (sku, limit),
        )
        return [
            HistoryEntry(
                id=r["id"],
                sku=r["sku"],
                warehouse_code=r["warehouse_code"],
                at=r["at"],
                source=r["source"],
                field=r["field"],
                before=r["before"],
                after=r["after"],
                note=r["note"],
            )
            for r in rows
        ]
