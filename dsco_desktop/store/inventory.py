"""The inventory repository: quantity on hand per SKU and warehouse, and what DSCO confirmed.

`quantity` and `buffer` are the shop's own numbers; `dsco_status`, `dsco_quantity` and
`last_confirmed_at` record what DSCO last reported, so the UI can show what is not yet in sync.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dsco_desktop.store._util import as_dict, int_or_none, normalize_timestamp, now_iso
from dsco_desktop.store.db import Database


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
        if conn is not None:
            conn.executemany(sql, rows)
        else:
            with self._db.transaction() as tx:
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
