"""The order repository: DSCO orders with their lines and packages, idempotent by dscoOrderId.

Streams deliver at least once and out of order, so an upsert keeps, per order, the version with
the newest `dscoLastUpdate`: an older or equal version (a replay) changes nothing. The stream
poller passes its own transaction (`conn`) so the orders and the new stream position commit
together.
"""

from __future__ import annotations

import builtins
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dsco_desktop.store._util import (
    as_dict,
    dumps,
    float_or_none,
    int_or_none,
    loads,
    normalize_timestamp,
    now_iso,
    text_or_none,
)
from dsco_desktop.store.db import Database

# SQLite's default limit on host parameters is 999 on old builds; stay well below it.
_CHUNK = 500


@dataclass(frozen=True)
class OrderLineRecord:
    """One line of an order as DSCO last described it."""

    line_index: int
    line_number: int | None
    sku: str | None
    dsco_item_id: str | None
    partner_sku: str | None
    upc: str | None
    title: str | None
    quantity: int
    accepted_quantity: int | None
    cancelled_quantity: int | None
    shipped_quantity: int | None
    status: str | None
    raw: dict[str, Any]


@dataclass(frozen=True)
class PackageRecord:
    """One shipped package of an order."""

    tracking_number: str | None
    ship_carrier: str | None
    ship_method: str | None
    shipping_service_level_code: str | None
    ship_date: str | None
    tracking_url: str | None
    raw: dict[str, Any]


@dataclass(frozen=True)
class OrderRecord:
    """An order as stored locally: DSCO's facts plus the app's own state."""

    dsco_order_id: str
    po_number: str | None
    channel: str | None
    trading_partner_id: str | None
    trading_partner_name: str | None
    lifecycle: str | None
    order_type: str | None
    dsco_last_update: str | None
    ship_by_date: str | None
    retailer_create_date: str | None
    ship_carrier: str | None
    ship_method: str | None
    shipping_service_level_code: str | None
    ship_to: dict[str, Any]
    raw: dict[str, Any]
    local_state: str
    received_at: str
    updated_at: str
    lines: tuple[OrderLineRecord, ...] = ()
    packages: tuple[PackageRecord, ...] = ()


@dataclass(frozen=True)
class OrderUpsertResult:
    """Which orders an upsert created, changed, or left alone (older or replayed versions)."""

    inserted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def changed(self) -> list[str]:
        """Orders whose stored version is new after this upsert."""
        return self.inserted + self.updated


_ORDER_COLUMNS = (
    "po_number",
    "consumer_order_number",
    "supplier_order_number",
    "channel",
    "retailer_id",
    "trading_partner_id",
    "trading_partner_name",
    "order_type",
    "lifecycle",
    "dsco_status",
    "test_flag",
    "retailer_create_date",
    "dsco_create_date",
    "ship_by_date",
    "acknowledge_by_date",
    "cancel_after_date",
    "dsco_last_update",
    "ship_carrier",
    "ship_method",
    "shipping_service_level_code",
    "ship_to",
    "raw",
)

_INSERT = (
    "INSERT INTO orders (dsco_order_id, "
    + ", ".join(_ORDER_COLUMNS)
    + ", received_at, updated_at) VALUES ("
    + ", ".join("?" * (len(_ORDER_COLUMNS) + 3))
    + ")"
)
# Only DSCO's columns: local_state, local_note and received_at belong to the app.
_UPDATE = (
    "UPDATE orders SET "
    + ", ".join(f"{c} = ?" for c in _ORDER_COLUMNS)
    + ", updated_at = ? WHERE dsco_order_id = ?"
)
_INSERT_LINE = """
INSERT INTO order_lines (dsco_order_id, line_index, line_number, dsco_item_id, sku, partner_sku,
    upc, title, quantity, accepted_quantity, cancelled_quantity, shipped_quantity, status,
    expected_cost, consumer_price, raw)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
_INSERT_PACKAGE = """
INSERT INTO packages (dsco_order_id, dsco_package_id, tracking_number, ship_carrier, ship_method,
    shipping_service_level_code, ship_date, tracking_url, raw)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
"""


def _order_values(order: Mapping[str, Any]) -> tuple[Any, ...]:
    shipping = order.get("shipping")
    return (
        text_or_none(order.get("poNumber")),
        text_or_none(order.get("consumerOrderNumber")),
        text_or_none(order.get("supplierOrderNumber")),
        text_or_none(order.get("channel")),
        text_or_none(order.get("dscoRetailerId")),
        text_or_none(order.get("dscoTradingPartnerId")),
        text_or_none(order.get("dscoTradingPartnerName")),
        text_or_none(order.get("orderType")),
        text_or_none(order.get("dscoLifecycle")),
        text_or_none(order.get("dscoStatus")),
        1 if order.get("testFlag") else 0,
        normalize_timestamp(order.get("retailerCreateDate")),
        normalize_timestamp(order.get("dscoCreateDate")),
        normalize_timestamp(order.get("shipByDate")),
        normalize_timestamp(order.get("acknowledgeByDate")),
        normalize_timestamp(order.get("cancelAfterDate")),
        normalize_timestamp(order.get("dscoLastUpdate")),
        text_or_none(order.get("shipCarrier")),
        text_or_none(order.get("shipMethod")),
        text_or_none(order.get("shippingServiceLevelCode")),
        dumps(shipping if isinstance(shipping, Mapping) else {}),
        dumps(dict(order)),
    )


def _line_rows(order_id: str, order: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    rows = []
    for index, line in enumerate(order.get("lineItems") or []):
        if not isinstance(line, Mapping):
            continue
        rows.append(
            (
                order_id,
                index,
                int_or_none(line.get("lineNumber")),
                text_or_none(line.get("dscoItemId")),
                text_or_none(line.get("sku")),
                text_or_none(line.get("partnerSku")),
                text_or_none(line.get("upc")),
                text_or_none(line.get("title")),
                int_or_none(line.get("quantity")) or 0,
                int_or_none(line.get("acceptedQuantity")),
                int_or_none(line.get("cancelledQuantity")),
                int_or_none(line.get("shippedQuantity")),
                text_or_none(line.get("status")),
                float_or_none(line.get("expectedCost")),
                float_or_none(line.get("consumerPrice")),
                dumps(dict(line)),
            )
        )
    return rows


def _package_rows(order_id: str, order: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    rows = []
    for package in order.get("packages") or []:
        if not isinstance(package, Mapping):
            continue
        rows.append(
            (
                order_id,
                text_or_none(package.get("dscoPackageId")),
                text_or_none(package.get("trackingNumber")),
                text_or_none(package.get("shipCarrier")),
                text_or_none(package.get("shipMethod")),
                text_or_none(package.get("shippingServiceLevelCode")),
                normalize_timestamp(package.get("shipDate")),
                # The wire sometimes says tracking_url (snake_case) instead of the spec's name.
                text_or_none(package.get("trackingUrl") or package.get("tracking_url")),
                dumps(dict(package)),
            )
        )
    return rows


def _is_newer(incoming: str | None, stored: str | None, stored_exists: bool) -> bool:
    if not stored_exists:
        return True
    if incoming is None:
        # Without a timestamp there is no way to tell a newer version from a replay.
        return False
    return stored is None or incoming > stored


class OrderRepository:
    """Orders by dscoOrderId, with lines and packages replaced as a whole on each new version."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def upsert_many(
        self, orders: Iterable[Mapping[str, Any] | Any], *, conn: sqlite3.Connection | None = None
    ) -> OrderUpsertResult:
        """Store DSCO orders; per order the newest dscoLastUpdate wins, replays change nothing."""
        latest: dict[str, dict[str, Any]] = {}
        seen_order: list[str] = []
        for obj in orders:
            order = as_dict(obj)
            order_id = text_or_none(order.get("dscoOrderId"))
            if order_id is None:
                raise ValueError("every order needs a dscoOrderId")
            if order_id not in latest:
                seen_order.append(order_id)
                latest[order_id] = order
            elif _is_newer(
                normalize_timestamp(order.get("dscoLastUpdate")),
                normalize_timestamp(latest[order_id].get("dscoLastUpdate")),
                True,
            ):
                latest[order_id] = order
        if not latest:
            return OrderUpsertResult()
        if conn is not None:
            return self._upsert(conn, seen_order, latest)
        with self._db.transaction() as tx:
            return self._upsert(tx, seen_order, latest)

    def _upsert(
        self, conn: sqlite3.Connection, ids: list[str], latest: dict[str, dict[str, Any]]
    ) -> OrderUpsertResult:
        stored: dict[str, str | None] = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            marks = ", ".join("?" * len(chunk))
            for row in conn.execute(
                "SELECT dsco_order_id, dsco_last_update FROM orders "
                f"WHERE dsco_order_id IN ({marks})",
                chunk,
            ):
                stored[row[0]] = row[1]
        result = OrderUpsertResult()
        now = now_iso()
        inserts, updates, replaced = [], [], []
        lines: list[tuple[Any, ...]] = []
        packages: list[tuple[Any, ...]] = []
        for order_id in ids:
            order = latest[order_id]
            values = _order_values(order)
            incoming = values[_ORDER_COLUMNS.index("dsco_last_update")]
            exists = order_id in stored
            if not _is_newer(incoming, stored.get(order_id), exists):
                result.unchanged.append(order_id)
                continue
            if exists:
                updates.append((*values, now, order_id))
                replaced.append((order_id,))
                result.updated.append(order_id)
            else:
                inserts.append((order_id, *values, now, now))
                result.inserted.append(order_id)
            lines.extend(_line_rows(order_id, order))
            packages.extend(_package_rows(order_id, order))
        conn.executemany(_INSERT, inserts)
        conn.executemany(_UPDATE, updates)
        conn.executemany("DELETE FROM order_lines WHERE dsco_order_id = ?", replaced)
        conn.executemany("DELETE FROM packages WHERE dsco_order_id = ?", replaced)
        conn.executemany(_INSERT_LINE, lines)
        conn.executemany(_INSERT_PACKAGE, packages)
        return result

    def get(self, dsco_order_id: str) -> OrderRecord | None:
        """One order with its lines and packages, or None."""
        found = self._load(["WHERE dsco_order_id = ?"], [dsco_order_id], limit=1, offset=0)
        return found[0] if found else None

    def list(
        self,
        *,
        lifecycles: Sequence[str] | None = None,
        text: str | None = None,
        limit: int = 500,
        offset: int = 0,
    ) -> builtins.list[OrderRecord]:
        """Orders, newest DSCO update first, filtered by lifecycle and a PO/order-id search."""
        clauses: list[str] = []
        params: list[Any] = []
        if lifecycles:
            clauses.append(f"lifecycle IN ({', '.join('?' * len(lifecycles))})")
            params.extend(lifecycles)
        if text:
            clauses.append("(po_number LIKE ? OR dsco_order_id LIKE ? OR channel LIKE ?)")
            pattern = f"%{text}%"
            params.extend([pattern, pattern, pattern])
        where = ["WHERE " + " AND ".join(clauses)] if clauses else []
        return self._load(where, params, limit=limit, offset=offset)

    def count(self) -> int:
        """How many orders are stored."""
        return int(self._db.connection().execute("SELECT COUNT(*) FROM orders").fetchone()[0])

    def _load(
        self,
        where: builtins.list[str],
        params: builtins.list[Any],
        *,
        limit: int,
        offset: int,
    ) -> builtins.list[OrderRecord]:
        conn = self._db.connection()
        sql = " ".join(
            [
                "SELECT * FROM orders",
                *where,
                "ORDER BY dsco_last_update DESC, dsco_order_id LIMIT ? OFFSET ?",
            ]
        )
        rows = conn.execute(sql, [*params, limit, offset]).fetchall()
        ids = [row["dsco_order_id"] for row in rows]
        lines: dict[str, list[OrderLineRecord]] = {i: [] for i in ids}
        packages: dict[str, list[PackageRecord]] = {i: [] for i in ids}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            marks = ", ".join("?" * len(chunk))
            for row in conn.execute(
                f"SELECT * FROM order_lines WHERE dsco_order_id IN ({marks}) "
                "ORDER BY dsco_order_id, line_index",
                chunk,
            ):
                lines[row["dsco_order_id"]].append(_line(row))
            for row in conn.execute(
                f"SELECT * FROM packages WHERE dsco_order_id IN ({marks}) ORDER BY id", chunk
            ):
                packages[row["dsco_order_id"]].append(_package(row))
        return [
            _order(row, tuple(lines[row["dsco_order_id"]]), tuple(packages[row["dsco_order_id"]]))
            for row in rows
        ]


def _line(row: sqlite3.Row) -> OrderLineRecord:
    return OrderLineRecord(
        line_index=row["line_index"],
        line_number=row["line_number"],
        sku=row["sku"],
        dsco_item_id=row["dsco_item_id"],
        partner_sku=row["partner_sku"],
        upc=row["upc"],
        title=row["title"],
        quantity=row["quantity"],
        accepted_quantity=row["accepted_quantity"],
        cancelled_quantity=row["cancelled_quantity"],
        shipped_quantity=row["shipped_quantity"],
        status=row["status"],
        raw=loads(row["raw"], {}),
    )


def _package(row: sqlite3.Row) -> PackageRecord:
    return PackageRecord(
        tracking_number=row["tracking_number"],
        ship_carrier=row["ship_carrier"],
        ship_method=row["ship_method"],
        shipping_service_level_code=row["shipping_service_level_code"],
        ship_date=row["ship_date"],
        tracking_url=row["tracking_url"],
        raw=loads(row["raw"], {}),
    )


def _order(
    row: sqlite3.Row, lines: tuple[OrderLineRecord, ...], packages: tuple[PackageRecord, ...]
) -> OrderRecord:
    return OrderRecord(
        dsco_order_id=row["dsco_order_id"],
        po_number=row["po_number"],
        channel=row["channel"],
        trading_partner_id=row["trading_partner_id"],
        trading_partner_name=row["trading_partner_name"],
        lifecycle=row["lifecycle"],
        order_type=row["order_type"],
        dsco_last_update=row["dsco_last_update"],
        ship_by_date=row["ship_by_date"],
        retailer_create_date=row["retailer_create_date"],
        ship_carrier=row["ship_carrier"],
        ship_method=row["ship_method"],
        shipping_service_level_code=row["shipping_service_level_code"],
        ship_to=loads(row["ship_to"], {}),
        raw=loads(row["raw"], {}),
        local_state=row["local_state"],
        received_at=row["received_at"],
        updated_at=row["updated_at"],
        lines=lines,
        packages=packages,
    )
