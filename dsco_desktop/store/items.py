"""The catalog repository: DSCO ItemCatalog objects stored one row per SKU.

Bulk writes are one `executemany` in one transaction: an import of 100,000 rows is one commit,
not 100,000. A re-upsert updates the catalog fields and the raw object but keeps the app's own
state (local/dsco state columns) unless the caller says otherwise.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dsco_desktop.store._util import (
    as_dict,
    dumps,
    float_or_none,
    loads,
    normalize_timestamp,
    now_iso,
    text_or_none,
)
from dsco_desktop.store.db import Database


@dataclass(frozen=True)
class ItemRecord:
    """One catalog item as stored locally."""

    sku: str
    title: str | None
    upc: str | None
    ean: str | None
    gtin: str | None
    mpn: str | None
    brand: str | None
    description: str | None
    product_status: str | None
    cost: float | None
    msrp: float | None
    map: float | None
    category: str | None
    images: list[Any]
    extended_attributes: dict[str, Any]
    raw: dict[str, Any]
    local_state: str
    dsco_state: str
    dsco_message: str | None
    local_updated_at: str
    dsco_last_update: str | None
    dsco_pushed_at: str | None = None
    dsco_request_id: str | None = None


def _image_list(images: object) -> list[Any]:
    return list(images) if isinstance(images, list) else []


def _json_or(value: object, empty: str) -> str:
    return dumps(value) if value else empty


def _category(item: Mapping[str, Any]) -> str | None:
    category = item.get("category")
    if isinstance(category, str):
        return category or None
    categories = item.get("categories")
    if isinstance(categories, Mapping):
        # DSCO keys categories by partner; any one path is enough to show and filter on.
        for value in categories.values():
            if isinstance(value, Mapping) and value.get("name"):
                return str(value["name"])
            if isinstance(value, list) and value:
                first = value[0]
                if isinstance(first, Mapping) and first.get("name"):
                    return str(first["name"])
    return None


def _row_values(
    item: Mapping[str, Any], now: str, local_state: str | None, dsco_state: str | None
) -> tuple[Any, ...]:
    sku = item.get("sku")
    if not sku:
        raise ValueError("every catalog item needs a sku")
    images = item.get("images")
    if images is None:
        images = item.get("productImages")
    return (
        str(sku),
        text_or_none(item.get("dscoItemId")),
        text_or_none(item.get("title")),
        text_or_none(item.get("upc")),
        text_or_none(item.get("ean")),
        text_or_none(item.get("gtin")),
        text_or_none(item.get("mpn")),
        text_or_none(item.get("isbn")),
        text_or_none(item.get("brand")),
        text_or_none(item.get("description") or item.get("longTextDescription")),
        text_or_none(item.get("productStatus")),
        text_or_none(item.get("productGroup")),
        float_or_none(item.get("cost")),
        float_or_none(item.get("msrp")),
        float_or_none(item.get("map")),
        text_or_none(item.get("currencyCode")),
        text_or_none(item.get("colorPrimaryDescription") or item.get("color")),
        text_or_none(item.get("sizePrimaryDescription") or item.get("size")),
        float_or_none(item.get("weight")),
        text_or_none(item.get("weightUnits")),
        _category(item),
        _json_or(_image_list(images), "[]"),
        _json_or(item.get("categories"), "{}"),
        _json_or(item.get("attributes"), "[]"),
        _json_or(item.get("extendedAttributes"), "{}"),
        dumps(dict(item)),
        normalize_timestamp(item.get("dscoLastUpdateDate") or item.get("dscoLastUpdate")),
        local_state,
        now,
        dsco_state,
    )


_UPSERT = """
INSERT INTO items (
    sku, dsco_item_id, title, upc, ean, gtin, mpn, isbn, brand, description, product_status,
    product_group, cost, msrp, map, currency_code, color, size, weight, weight_units, category,
    images, categories, attributes, extended_attributes, raw, dsco_last_update,
    local_state, local_updated_at, dsco_state
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
          COALESCE(?, 'new'), ?, COALESCE(?, 'unknown'))
ON CONFLICT(sku) DO UPDATE SET
    dsco_item_id = COALESCE(excluded.dsco_item_id, items.dsco_item_id),
    title = excluded.title, upc = excluded.upc, ean = excluded.ean, gtin = excluded.gtin,
    mpn = excluded.mpn, isbn = excluded.isbn, brand = excluded.brand,
    description = excluded.description, product_status = excluded.product_status,
    product_group = excluded.product_group, cost = excluded.cost, msrp = excluded.msrp,
    map = excluded.map, currency_code = excluded.currency_code, color = excluded.color,
    size = excluded.size, weight = excluded.weight, weight_units = excluded.weight_units,
    category = excluded.category, images = excluded.images, categories = excluded.categories,
    attributes = excluded.attributes, extended_attributes = excluded.extended_attributes,
    raw = excluded.raw,
    dsco_last_update = COALESCE(excluded.dsco_last_update, items.dsco_last_update),
    local_state = COALESCE(?, items.local_state),
    local_updated_at = excluded.local_updated_at,
    dsco_state = COALESCE(?, items.dsco_state)
"""


class ItemRepository:
    """Catalog items by SKU."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def upsert_many(
        self,
        items: Iterable[Mapping[str, Any] | Any],
        *,
        local_state: str | None = None,
        dsco_state: str | None = None,
        conn: sqlite3.Connection | None = None,
    ) -> int:
        """Insert or update items (DSCO ItemCatalog dicts or models) in one transaction.

        `local_state` / `dsco_state` set those columns on every row written; when None, new
        rows get 'new' / 'unknown' and existing rows keep theirs. Returns the rows written.
        """
        now = now_iso()
        rows = []
        for item in items:
            values = _row_values(as_dict(item), now, local_state, dsco_state)
            rows.append((*values, local_state, dsco_state))
        if not rows:
            return 0
        with self._db.joining(conn) as tx:
            tx.executemany(_UPSERT, rows)
        return len(rows)

    def set_dsco_state(
        self,
        results: Mapping[str, tuple[str, str | None]],
        *,
        request_id: str | None = None,
        conn: sqlite3.Connection | None = None,
    ) -> None:
        """Record DSCO's verdict per SKU: {sku: (dsco_state, message)}."""
        now = now_iso()
        rows = [(state, message, request_id, now, sku) for sku, (state, message) in results.items()]
        sql = (
            "UPDATE items SET dsco_state = ?, dsco_message = ?, "
            "dsco_request_id = COALESCE(?, dsco_request_id), dsco_pushed_at = ? WHERE sku = ?"
        )
        with self._db.joining(conn) as tx:
            tx.executemany(sql, rows)

    def get(self, sku: str) -> ItemRecord | None:
        """One item by SKU, or None."""
        row = self._db.connection().execute("SELECT * FROM items WHERE sku = ?", (sku,)).fetchone()
        return None if row is None else _record(row)

    def count(self) -> int:
        """How many items the local catalog holds."""
        return int(self._db.connection().execute("SELECT COUNT(*) FROM items").fetchone()[0])

    def raw_many(self, skus: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The stored DSCO objects of these SKUs (those the store has), by SKU."""
        wanted = list(dict.fromkeys(skus))
        found: dict[str, dict[str, Any]] = {}
        conn = self._db.connection()
        # SQLite caps the number of parameters per statement.
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = conn.execute(
                f"SELECT sku, raw FROM items WHERE sku IN ({', '.join('?' * len(chunk))})", chunk
            )
            for sku, raw in rows:
                found[str(sku)] = loads(raw, {})
        return found

    def search(
        self,
        *,
        text: str | None = None,
        dsco_states: Sequence[str] | None = None,
        order_by: str = "sku",
        descending: bool = False,
        limit: int = -1,
        offset: int = 0,
    ) -> list[ItemRecord]:
        """Items matching a text (SKU, title, UPC, brand) and DSCO states, sorted in SQL."""
        where, params = _search_filter(text, dsco_states)
        column = order_by if order_by in SORTABLE_COLUMNS else "sku"
        direction = "DESC" if descending else "ASC"
        collate = " COLLATE NOCASE" if column in ("sku", "title", "brand") else ""
        rows = self._db.connection().execute(
            f"SELECT * FROM items {where} ORDER BY {column}{collate} {direction}, sku "
            "LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [_record(r) for r in rows]

    def count_matching(
        self, *, text: str | None = None, dsco_states: Sequence[str] | None = None
    ) -> int:
        where, params = _search_filter(text, dsco_states)
        row = self._db.connection().execute(f"SELECT COUNT(*) FROM items {where}", params)
        return int(row.fetchone()[0])

    def dsco_state_counts(self) -> dict[str, int]:
        """How many items are in each DSCO state."""
        rows = self._db.connection().execute(
            "SELECT dsco_state, COUNT(*) FROM items GROUP BY dsco_state"
        )
        return {str(state): int(n) for state, n in rows}


SORTABLE_COLUMNS = (
    "sku",
    "title",
    "product_status",
    "upc",
    "brand",
    "cost",
    "msrp",
    "dsco_state",
    "dsco_message",
    "local_updated_at",
    "dsco_pushed_at",
)


def _search_filter(text: str | None, dsco_states: Sequence[str] | None) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if text:
        like = f"%{text.strip()}%"
        clauses.append("(sku LIKE ? OR title LIKE ? OR upc LIKE ? OR brand LIKE ?)")
        params.extend([like] * 4)
    if dsco_states is not None:
        clauses.append(f"dsco_state IN ({', '.join('?' * len(dsco_states)) or 'NULL'})")
        params.extend(dsco_states)
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def _record(row: sqlite3.Row) -> ItemRecord:
    return ItemRecord(
        sku=row["sku"],
        title=row["title"],
        upc=row["upc"],
        ean=row["ean"],
        gtin=row["gtin"],
        mpn=row["mpn"],
        brand=row["brand"],
        description=row["description"],
        product_status=row["product_status"],
        cost=row["cost"],
        msrp=row["msrp"],
        map=row["map"],
        category=row["category"],
        images=loads(row["images"], []),
        extended_attributes=loads(row["extended_attributes"], {}),
        raw=loads(row["raw"], {}),
        local_state=row["local_state"],
        dsco_state=row["dsco_state"],
        dsco_message=row["dsco_message"],
        local_updated_at=row["local_updated_at"],
        dsco_last_update=row["dsco_last_update"],
        dsco_pushed_at=row["dsco_pushed_at"],
        dsco_request_id=row["dsco_request_id"],
    )
