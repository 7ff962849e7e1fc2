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

from dsco_desktop.domain.orders import line_quantities, order_totals
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
    # Derived at upsert time (schema 2) so the inbox never opens lines to list or filter.
    "order_date",
    "customer_name",
    "order_total",
    "currency_code",
    "cancel_requested",
    "cancel_requested_code",
    "line_count",
    "qty_ordered",
    "qty_shipped",
    "qty_cancelled",
    "qty_remaining",
    "search_text",
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
        *_derived_values(order),
    )


def _objects(value: Any) -> list[Any]:
    """A list field as stored: DSCO's array, or nothing when the field holds something else
    (a stray string or number must not stop a whole page of orders)."""
    return list(value) if isinstance(value, list | tuple) else []


def _derived_values(order: Mapping[str, Any]) -> tuple[Any, ...]:
    """The inbox's per-order columns: date, customer, total, cancel request, sums, search text."""
    shipping = order.get("shipping")
    customer = text_or_none(shipping.get("name")) if isinstance(shipping, Mapping) else None
    lines = [ln for ln in _objects(order.get("lineItems")) if isinstance(ln, Mapping)]
    totals = order_totals(line_quantities(ln) for ln in lines)
    requested_code = text_or_none(order.get("cancelRequestedCode"))
    requested = bool(order.get("cancelRequested"))
    for line in lines:
        if line.get("cancelRequested"):
            requested = True
            requested_code = requested_code or text_or_none(line.get("cancelRequestedCode"))
    words = [
        order.get("poNumber"),
        order.get("dscoOrderId"),
        order.get("consumerOrderNumber"),
        order.get("supplierOrderNumber"),
        customer,
        *(ln.get("sku") for ln in lines),
        *(ln.get("partnerSku") for ln in lines),
    ]
    return (
        normalize_timestamp(
            order.get("consumerOrderDate")
            or order.get("retailerCreateDate")
            or order.get("dscoCreateDate")
        ),
        customer,
        float_or_none(order.get("orderTotalAmount")),
        text_or_none(order.get("currencyCode")),
        1 if requested else 0,
        requested_code,
        len(lines),
        totals.ordered,
        totals.shipped,
        totals.cancelled,
        totals.remaining,
        " ".join(str(w) for w in words if w not in (None, "")).lower(),
    )


def _line_rows(order_id: str, order: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    rows = []
    for index, line in enumerate(_objects(order.get("lineItems"))):
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
    for package in _objects(order.get("packages")):
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
        with self._db.joining(conn) as tx:
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
        if result.updated:
            _settle_local_actions(conn, result.updated, now)
        if result.inserted:
            # Orders already finished when they first arrive (a resync of old history) have
            # nothing for the shop to do: they are not highlighted as new.
            conn.executemany(
                "UPDATE orders SET seen_at = ? WHERE dsco_order_id = ? AND qty_remaining = 0",
                [(now, order_id) for order_id in result.inserted],
            )
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

    # -- the inbox ------------------------------------------------------------------------------

    def list_ids(
        self,
        *,
        status: str | None = None,
        text: str | None = None,
        cancel_requested: bool = False,
        unseen: bool = False,
        sort: str = "order_date",
        descending: bool = True,
        now: str | None = None,
    ) -> builtins.list[str]:
        """The ids of the orders matching the inbox's filters, in display order.

        `status` is an `OrderStatus` value (evaluated at `now`, since "late" depends on it);
        `text` matches PO, DSCO order id, consumer order number, customer name and SKUs.
        """
        where, params = _inbox_filter(status, text, cancel_requested, unseen, now or now_iso())
        column = SORT_COLUMNS.get(sort, "order_date")
        direction = "DESC" if descending else "ASC"
        if column == "status":
            order_by = f"({STATUS_SQL.replace(':now', '?')}) {direction}"
            params = [*params, now or now_iso(), now or now_iso()]
        else:
            # NULLs last either way: an order without a ship-by date is not the most urgent.
            order_by = f"{column} IS NULL, {column} {direction}"
        sql = (
            f"SELECT dsco_order_id FROM orders {where} "
            f"ORDER BY {order_by}, dsco_order_id {direction}"
        )
        return [row[0] for row in self._db.connection().execute(sql, params)]

    def summaries(self, ids: Sequence[str], *, now: str | None = None) -> dict[str, OrderSummary]:
        """The inbox rows of `ids` (missing ids are left out), with status at `now`."""
        conn = self._db.connection()
        moment = now or now_iso()
        found: dict[str, OrderSummary] = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = builtins.list(ids[start : start + _CHUNK])
            marks = ", ".join("?" * len(chunk))
            rows = conn.execute(
                f"SELECT {_SUMMARY_SELECT} FROM orders o "
                "LEFT JOIN outbox ack ON ack.id = o.ack_outbox_id "
                f"WHERE o.dsco_order_id IN ({marks})",
                [moment, *chunk],
            )
            for row in rows:
                found[row["dsco_order_id"]] = _summary(row)
        return found

    def status_counts(self, *, now: str | None = None) -> InboxCounts:
        """How many orders per status, how many unseen and with a cancel request."""
        conn = self._db.connection()
        by_status = {
            str(status): int(n)
            for status, n in conn.execute(
                f"SELECT {STATUS_SQL} AS s, COUNT(*) FROM orders GROUP BY s",
                {"now": now or now_iso()},
            )
        }
        unseen, requested = conn.execute(
            "SELECT (SELECT COUNT(*) FROM orders WHERE seen_at IS NULL), "
            "(SELECT COUNT(*) FROM orders WHERE cancel_requested = 1 AND qty_remaining > 0)"
        ).fetchone()
        return InboxCounts(
            total=sum(by_status.values()),
            by_status=by_status,
            unseen=int(unseen),
            cancel_requested=int(requested),
        )

    def unseen_count(self) -> int:
        """Orders that arrived and were not opened yet (the tab's "new" count)."""
        row = self._db.connection().execute("SELECT COUNT(*) FROM orders WHERE seen_at IS NULL")
        return int(row.fetchone()[0])

    def mark_seen(self, ids: Iterable[str]) -> int:
        """The user opened these orders: they stop being highlighted."""
        now = now_iso()
        wanted = [(now, order_id) for order_id in ids]
        with self._db.transaction() as tx:
            before = tx.total_changes
            tx.executemany(
                "UPDATE orders SET seen_at = ? WHERE dsco_order_id = ? AND seen_at IS NULL", wanted
            )
            return tx.total_changes - before

    def mark_all_seen(self) -> int:
        """Every order counts as opened."""
        with self._db.transaction() as tx:
            cursor = tx.execute("UPDATE orders SET seen_at = ? WHERE seen_at IS NULL", (now_iso(),))
            return cursor.rowcount

    def existing_ids(self, ids: Iterable[str]) -> set[str]:
        """Which of `ids` are stored."""
        wanted = builtins.list(dict.fromkeys(ids))
        found: set[str] = set()
        conn = self._db.connection()
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            marks = ", ".join("?" * len(chunk))
            found.update(
                row[0]
                for row in conn.execute(
                    f"SELECT dsco_order_id FROM orders WHERE dsco_order_id IN ({marks})", chunk
                )
            )
        return found

    def all_ids(self) -> set[str]:
        """Every stored dscoOrderId."""
        return {row[0] for row in self._db.connection().execute("SELECT dsco_order_id FROM orders")}

    # -- event history ----------------------------------------------------------------------

    def record_events(
        self, events: Iterable[OrderEventRecord], *, conn: sqlite3.Connection | None = None
    ) -> None:
        """Remember which stream events touched which order (a replayed event is kept once)."""
        received = now_iso()
        rows = [
            (
                e.dsco_order_id,
                e.event_id,
                e.at,
                dumps(builtins.list(e.reasons)),
                e.source,
                e.lifecycle,
                received,
            )
            for e in events
        ]
        if not rows:
            return
        sql = (
            "INSERT OR IGNORE INTO order_events (dsco_order_id, event_id, at, reasons, source, "
            "lifecycle, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
        )
        with self._db.joining(conn) as tx:
            tx.executemany(sql, rows)

    def events(self, dsco_order_id: str) -> builtins.list[OrderEventRecord]:
        """The order's event history, oldest first."""
        rows = self._db.connection().execute(
            "SELECT * FROM order_events WHERE dsco_order_id = ? ORDER BY at, event_id",
            (dsco_order_id,),
        )
        return [
            OrderEventRecord(
                dsco_order_id=row["dsco_order_id"],
                event_id=row["event_id"],
                at=row["at"],
                reasons=tuple(loads(row["reasons"], [])),
                source=row["source"],
                lifecycle=row["lifecycle"],
            )
            for row in rows
        ]

    # -- local actions (acknowledge, cancel) ------------------------------------------------

    def set_ack_outbox(
        self, ids: Iterable[str], outbox_id: int, *, conn: sqlite3.Connection
    ) -> None:
        """These orders' acknowledgement is queued as outbox row `outbox_id`."""
        conn.executemany(
            "UPDATE orders SET ack_outbox_id = ? WHERE dsco_order_id = ?",
            [(outbox_id, order_id) for order_id in ids],
        )

    def add_cancels(
        self,
        dsco_order_id: str,
        cancels: Iterable[tuple[int | None, str | None, int, str, str, int]],
        outbox_id: int,
        *,
        conn: sqlite3.Connection,
    ) -> None:
        """Record queued cancellations: (line number, sku, quantity, code, reason, baseline)."""
        now = now_iso()
        conn.executemany(
            "INSERT INTO cancels (dsco_order_id, line_number, sku, quantity, cancel_code, reason,"
            " state, outbox_id, created_at, updated_at, baseline_cancelled)"
            " VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)",
            [
                (dsco_order_id, line, sku, qty, code, reason, outbox_id, now, now, baseline)
                for line, sku, qty, code, reason, baseline in cancels
            ],
        )

    def cancels(self, dsco_order_id: str) -> builtins.list[CancelRecord]:
        """The order's cancellations made in this app, newest first, with the outbox's view."""
        rows = self._db.connection().execute(
            "SELECT c.*, o.state AS outbox_state, o.last_error AS outbox_error "
            "FROM cancels c LEFT JOIN outbox o ON o.id = c.outbox_id "
            "WHERE c.dsco_order_id = ? ORDER BY c.id DESC",
            (dsco_order_id,),
        )
        return [
            CancelRecord(
                line_number=row["line_number"],
                sku=row["sku"],
                quantity=row["quantity"],
                cancel_code=row["cancel_code"],
                reason=row["reason"],
                state=_action_state(row["state"] == "confirmed", row["outbox_state"]),
                error=row["outbox_error"],
                created_at=row["created_at"],
            )
            for row in rows
        ]

    def allocated_by_sku(self) -> dict[str, int]:
        """Units still to ship on open orders, per SKU (inventory's "allocated" quantity)."""
        rows = self._db.connection().execute(
            "SELECT l.sku, SUM(MAX(0, l.quantity - COALESCE(l.shipped_quantity, 0)"
            " - COALESCE(l.cancelled_quantity, 0))) FROM order_lines l"
            " JOIN orders o ON o.dsco_order_id = l.dsco_order_id"
            " WHERE o.qty_remaining > 0 AND COALESCE(o.lifecycle, '') != 'completed'"
            " AND l.sku IS NOT NULL GROUP BY l.sku"
        )
        return {str(sku): int(units) for sku, units in rows if units}

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


# -- the inbox ----------------------------------------------------------------------------------

# The same rules as `domain.orders.derive_status`, in SQL so filters and counts run in the
# database; one parameter: now (store timestamp format). tests/store/test_orders_inbox.py keeps
# the two in step.
STATUS_SQL = """CASE
    WHEN qty_remaining = 0 OR lifecycle = 'completed' THEN
        CASE WHEN qty_shipped > 0 THEN 'shipped' ELSE 'cancelled' END
    WHEN ship_by_date < :now
        OR (COALESCE(lifecycle, '') IN ('created', 'received') AND acknowledge_by_date < :now)
        THEN 'late'
    WHEN qty_shipped > 0 THEN 'partly_shipped'
    WHEN COALESCE(lifecycle, '') IN ('created', 'received') THEN 'new'
    ELSE 'acknowledged'
END"""

# What the inbox can sort by, mapped to columns (never user text in SQL).
SORT_COLUMNS: dict[str, str] = {
    "po_number": "po_number",
    "retailer": "trading_partner_name",
    "order_date": "order_date",
    "acknowledge_by": "acknowledge_by_date",
    "ship_by": "ship_by_date",
    "lines": "line_count",
    "total": "order_total",
    "status": "status",
    "cancel_requested": "cancel_requested",
    "customer": "customer_name",
}

_SUMMARY_SELECT = (
    "o.dsco_order_id, o.po_number, o.channel, o.trading_partner_name, o.customer_name,"
    " o.order_date, o.acknowledge_by_date, o.ship_by_date, o.lifecycle, o.line_count,"
    " o.qty_ordered, o.qty_shipped, o.qty_cancelled, o.qty_remaining, o.order_total,"
    " o.currency_code, o.cancel_requested, o.cancel_requested_code, o.seen_at,"
    " o.dsco_last_update, ack.state AS ack_state,"
    # Named parameters and ? cannot be mixed: the status uses ?1 (now) through a rewrite.
    " " + STATUS_SQL.replace(":now", "?1") + " AS status,"
    " (SELECT COUNT(*) FROM cancels c LEFT JOIN outbox x ON x.id = c.outbox_id"
    "  WHERE c.dsco_order_id = o.dsco_order_id AND c.state = 'pending'"
    "  AND COALESCE(x.state, 'pending') IN ('pending', 'sending', 'sent')) AS cancels_pending"
)


class ActionState:
    """Where a local action (acknowledge, cancel) is on its way to DSCO."""

    QUEUED = "queued"  # in the outbox, not yet accepted by DSCO
    SENT = "sent"  # DSCO accepted it; waiting for the order to show it
    CONFIRMED = "confirmed"  # the order, as DSCO now describes it, shows it
    FAILED = "failed"  # DSCO refused it or the app gave up: the user must look


def _action_state(confirmed: bool, outbox_state: str | None) -> str:
    if confirmed:
        return ActionState.CONFIRMED
    if outbox_state in ("failed", "rejected"):
        return ActionState.FAILED
    if outbox_state == "sent":
        return ActionState.SENT
    return ActionState.QUEUED


@dataclass(frozen=True)
class OrderSummary:
    """One row of the inbox: what the table shows, without lines or raw JSON."""

    dsco_order_id: str
    po_number: str | None
    channel: str | None
    retailer: str | None
    customer_name: str | None
    order_date: str | None
    acknowledge_by: str | None
    ship_by: str | None
    lifecycle: str | None
    status: str
    line_count: int
    qty_ordered: int
    qty_shipped: int
    qty_cancelled: int
    qty_remaining: int
    total: float | None
    currency_code: str | None
    cancel_requested: bool
    cancel_requested_code: str | None
    seen: bool
    dsco_last_update: str | None
    acknowledgement: str | None  # an ActionState while an acknowledgement is on its way
    cancels_pending: int


@dataclass(frozen=True)
class InboxCounts:
    """Orders per status (OrderStatus values), unseen, and with an open cancel request."""

    total: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    unseen: int = 0
    cancel_requested: int = 0


@dataclass(frozen=True)
class OrderEventRecord:
    """One stream event (or resync finding) that touched an order."""

    dsco_order_id: str
    event_id: str
    at: str | None
    reasons: tuple[str, ...]
    source: str | None
    lifecycle: str | None


@dataclass(frozen=True)
class CancelRecord:
    """A cancellation asked in this app and where it is (an `ActionState`)."""

    line_number: int | None
    sku: str | None
    quantity: int
    cancel_code: str
    reason: str | None
    state: str
    error: str | None
    created_at: str


def _summary(row: sqlite3.Row) -> OrderSummary:
    ack_state = row["ack_state"]
    acknowledgement = None
    if row["lifecycle"] in ("created", "received") and ack_state is not None:
        acknowledgement = _action_state(False, ack_state)
    return OrderSummary(
        dsco_order_id=row["dsco_order_id"],
        po_number=row["po_number"],
        channel=row["channel"],
        retailer=row["trading_partner_name"],
        customer_name=row["customer_name"],
        order_date=row["order_date"],
        acknowledge_by=row["acknowledge_by_date"],
        ship_by=row["ship_by_date"],
        lifecycle=row["lifecycle"],
        status=row["status"],
        line_count=row["line_count"],
        qty_ordered=row["qty_ordered"],
        qty_shipped=row["qty_shipped"],
        qty_cancelled=row["qty_cancelled"],
        qty_remaining=row["qty_remaining"],
        total=row["order_total"],
        currency_code=row["currency_code"],
        cancel_requested=bool(row["cancel_requested"]),
        cancel_requested_code=row["cancel_requested_code"],
        seen=row["seen_at"] is not None,
        dsco_last_update=row["dsco_last_update"],
        acknowledgement=acknowledgement,
        cancels_pending=int(row["cancels_pending"] or 0),
    )


def _inbox_filter(
    status: str | None, text: str | None, cancel_requested: bool, unseen: bool, now: str
) -> tuple[str, builtins.list[Any]]:
    clauses: builtins.list[str] = []
    params: builtins.list[Any] = []
    if status:
        clauses.append(f"({STATUS_SQL.replace(':now', '?')}) = ?")
        # STATUS_SQL names now twice (ship-by and acknowledge-by).
        params.extend([now, now, status])
    if text and text.strip():
        for word in text.lower().split():
            clauses.append("search_text LIKE ? ESCAPE '\\'")
            escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params.append(f"%{escaped}%")
    if cancel_requested:
        clauses.append("cancel_requested = 1 AND qty_remaining > 0")
    if unseen:
        clauses.append("seen_at IS NULL")
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def _settle_local_actions(conn: sqlite3.Connection, ids: builtins.list[str], now: str) -> None:
    """After DSCO's newer version of these orders: confirm what it now shows.

    A cancel is confirmed once its line's cancelled quantity reached the quantity before the
    cancel plus the cancelled units; an acknowledgement once the order left "created".
    """
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        conn.execute(
            "UPDATE cancels SET state = 'confirmed', updated_at = ? "
            f"WHERE state = 'pending' AND dsco_order_id IN ({marks}) AND EXISTS ("
            " SELECT 1 FROM order_lines l WHERE l.dsco_order_id = cancels.dsco_order_id"
            " AND (l.line_number = cancels.line_number"
            "      OR (cancels.line_number IS NULL AND l.sku = cancels.sku))"
            " AND COALESCE(l.cancelled_quantity, 0)"
            "     >= cancels.baseline_cancelled + cancels.quantity)",
            [now, *chunk],
        )
        conn.execute(
            "UPDATE orders SET ack_outbox_id = NULL "
            f"WHERE dsco_order_id IN ({marks}) AND ack_outbox_id IS NOT NULL"
            " AND COALESCE(lifecycle, '') NOT IN ('created', 'received')",
            chunk,
        )
