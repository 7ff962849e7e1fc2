"""The shipment repository: shipments made in the app, with their packages and DSCO state.

One shipment is one submission to DSCO (one `singleShipment` call through one outbox row) for
one order, with one or more packages. It is written in the same transaction as its outbox row
(`conn`), so a shipment is never queued without being recorded, nor recorded without being
queued. Quantities of shipments DSCO has not confirmed yet count as "pending" for their order
lines, so the same units cannot be shipped twice while DSCO is being asked.
"""

from __future__ import annotations

import builtins
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from dsco_desktop.store._util import dumps, from_row, loads, loads_messages, now_iso
from dsco_desktop.store.db import Database


class ShipmentState(StrEnum):
    """Where a shipment is with DSCO."""

    PENDING = "pending"  # queued in the outbox
    SENT = "sent"  # DSCO answered success; not yet seen on the order
    CONFIRMED = "confirmed"  # the re-read order shows the packages
    ACCEPTED_NOT_APPLIED = "accepted_not_applied"  # DSCO said yes; the order does not show it
    REJECTED = "rejected"  # DSCO refused it, with its messages
    FAILED = "failed"  # could not be sent (gave up after retries, or an error)

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS: dict[ShipmentState, str] = {
    ShipmentState.PENDING: "Pending",
    ShipmentState.SENT: "Sent, confirming",
    ShipmentState.CONFIRMED: "Confirmed",
    ShipmentState.ACCEPTED_NOT_APPLIED: "Accepted but not applied",
    ShipmentState.REJECTED: "Rejected",
    ShipmentState.FAILED: "Not sent",
}

# States whose quantities DSCO may still apply: they block the same units from shipping twice.
OPEN_STATES = (ShipmentState.PENDING, ShipmentState.SENT, ShipmentState.ACCEPTED_NOT_APPLIED)


@dataclass(frozen=True)
class PackageLine:
    """How many units of one order line are in a package."""

    line_key: str
    line_number: int | None
    sku: str | None
    quantity: int


@dataclass(frozen=True)
class ShipmentPackage:
    """One package of a shipment."""

    index: int
    tracking_number: str
    ship_carrier: str | None
    shipping_service_level_code: str | None
    ship_date: str | None
    weight: float | None
    weight_unit: str | None
    warehouse_code: str | None
    lines: tuple[PackageLine, ...] = ()


@dataclass(frozen=True)
class ShipmentRecord:
    """A shipment as stored: what was sent, and what DSCO made of it."""

    id: int
    dsco_order_id: str | None
    po_number: str | None
    state: ShipmentState
    source: str
    outbox_id: int | None
    idempotency_key: str
    payload: dict[str, Any]
    dsco_message: str | None
    messages: tuple[str, ...]
    confirm_attempts: int
    created_at: str
    updated_at: str
    sent_at: str | None
    confirmed_at: str | None
    packages: tuple[ShipmentPackage, ...] = ()

    @property
    def tracking_numbers(self) -> list[str]:
        return [p.tracking_number for p in self.packages]

    @property
    def units(self) -> int:
        return sum(line.quantity for p in self.packages for line in p.lines)


@dataclass(frozen=True)
class NewPackage:
    """A package to record (from a checked plan)."""

    tracking_number: str
    ship_carrier: str | None
    shipping_service_level_code: str | None
    ship_date: str | None
    weight: float | None
    weight_unit: str | None
    warehouse_code: str | None
    lines: Sequence[PackageLine]


class ShipmentRepository:
    """The shipments tables; the only code that changes a shipment's state."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(
        self,
        *,
        dsco_order_id: str | None,
        po_number: str | None,
        packages: Sequence[NewPackage],
        payload: Mapping[str, Any],
        idempotency_key: str,
        outbox_id: int | None,
        source: str = "form",
        conn: sqlite3.Connection | None = None,
    ) -> int:
        """Record a shipment; the same idempotency key again returns the first one's id."""
        fields: dict[str, Any] = {
            "dsco_order_id": dsco_order_id,
            "po_number": po_number,
            "packages": packages,
            "payload": payload,
            "idempotency_key": idempotency_key,
            "outbox_id": outbox_id,
            "source": source,
        }
        with self._db.joining(conn) as tx:
            return self._add(tx, **fields)

    @staticmethod
    def _add(
        conn: sqlite3.Connection,
        *,
        dsco_order_id: str | None,
        po_number: str | None,
        packages: Sequence[NewPackage],
        payload: Mapping[str, Any],
        idempotency_key: str,
        outbox_id: int | None,
        source: str,
    ) -> int:
        existing = conn.execute(
            "SELECT id FROM shipments WHERE idempotency_key = ?", (idempotency_key,)
        ).fetchone()
        if existing is not None:
            return int(existing[0])
        now = now_iso()
        cursor = conn.execute(
            "INSERT INTO shipments (dsco_order_id, po_number, state, source, outbox_id, "
            "idempotency_key, payload, created_at, updated_at) "
            "VALUES (?, ?, 'pending', ?, ?, ?, ?, ?, ?)",
            (
                dsco_order_id,
                po_number,
                source,
                outbox_id,
                idempotency_key,
                dumps(dict(payload)),
                now,
                now,
            ),
        )
        shipment_id = int(cursor.lastrowid or 0)
        conn.executemany(
            "INSERT INTO shipment_packages (shipment_id, package_index, tracking_number, "
            "ship_carrier, shipping_service_level_code, ship_date, weight, weight_unit, "
            "warehouse_code) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    shipment_id,
                    index,
                    p.tracking_number,
                    p.ship_carrier,
                    p.shipping_service_level_code,
                    p.ship_date,
                    p.weight,
                    p.weight_unit,
                    p.warehouse_code,
                )
                for index, p in enumerate(packages)
            ],
        )
        conn.executemany(
            "INSERT INTO shipment_lines (shipment_id, package_index, line_key, line_number, "
            "sku, quantity) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (shipment_id, index, line.line_key, line.line_number, line.sku, line.quantity)
                for index, p in enumerate(packages)
                for line in p.lines
                if line.quantity > 0
            ],
        )
        return shipment_id

    def set_outbox_id(
        self, shipment_id: int, outbox_id: int, *, conn: sqlite3.Connection | None = None
    ) -> None:
        """Link a shipment to its outbox row (written in the same transaction)."""
        sql = "UPDATE shipments SET outbox_id = ? WHERE id = ?"
        with self._db.joining(conn) as tx:
            tx.execute(sql, (outbox_id, shipment_id))

    def set_state(
        self,
        shipment_id: int,
        state: ShipmentState,
        *,
        message: str | None = None,
        messages: Sequence[str] = (),
        count_confirm_attempt: bool = False,
    ) -> None:
        """Move a shipment to `state`, keeping DSCO's message(s) when there are any."""
        now = now_iso()
        with self._db.transaction() as tx:
            tx.execute(
                "UPDATE shipments SET state = ?, dsco_message = ?, messages = ?, updated_at = ?,"
                " sent_at = CASE WHEN ? IN ('sent', 'confirmed', 'accepted_not_applied')"
                " THEN COALESCE(sent_at, ?) ELSE sent_at END,"
                " confirmed_at = CASE WHEN ? = 'confirmed' THEN ? ELSE confirmed_at END,"
                " confirm_attempts = confirm_attempts + ? WHERE id = ?",
                (
                    state.value,
                    message,
                    dumps(list(messages)),
                    now,
                    state.value,
                    now,
                    state.value,
                    now,
                    1 if count_confirm_attempt else 0,
                    shipment_id,
                ),
            )

    def get(self, shipment_id: int) -> ShipmentRecord | None:
        rows = self._select("WHERE s.id = ?", (shipment_id,))
        return rows[0] if rows else None

    def get_by_key(self, idempotency_key: str) -> ShipmentRecord | None:
        rows = self._select("WHERE s.idempotency_key = ?", (idempotency_key,))
        return rows[0] if rows else None

    def list(
        self,
        *,
        states: Sequence[ShipmentState] | None = None,
        dsco_order_id: str | None = None,
        text: str | None = None,
        limit: int = 1000,
    ) -> builtins.list[ShipmentRecord]:
        """Shipments, newest first, filtered in SQL."""
        where: builtins.list[str] = []
        params: builtins.list[Any] = []
        if states is not None:
            if not states:
                return []
            where.append(f"s.state IN ({', '.join('?' * len(states))})")
            params.extend(s.value for s in states)
        if dsco_order_id is not None:
            where.append("s.dsco_order_id = ?")
            params.append(dsco_order_id)
        if text:
            like = f"%{text.strip().lower()}%"
            where.append(
                "(lower(COALESCE(s.po_number, '')) LIKE ? OR s.dsco_order_id LIKE ? OR EXISTS "
                "(SELECT 1 FROM shipment_packages p WHERE p.shipment_id = s.id AND "
                "lower(p.tracking_number) LIKE ?))"
            )
            params.extend([like, like, like])
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        return self._select(f"{clause} ORDER BY s.id DESC LIMIT ?", (*params, limit))

    def open_for_outbox(self) -> builtins.list[ShipmentRecord]:
        """Shipments still waiting for their outbox row or for a confirmation."""
        return self.list(states=[ShipmentState.PENDING, ShipmentState.SENT])

    def pending_quantities(self, dsco_order_id: str) -> dict[str, int]:
        """Units per line key in this order's shipments that DSCO has not confirmed."""
        marks = ", ".join("?" * len(OPEN_STATES))
        rows = self._db.connection().execute(
            "SELECT l.line_key, SUM(l.quantity) FROM shipment_lines l "
            "JOIN shipments s ON s.id = l.shipment_id "
            f"WHERE s.dsco_order_id = ? AND s.state IN ({marks}) GROUP BY l.line_key",
            (dsco_order_id, *(s.value for s in OPEN_STATES)),
        )
        return {str(key): int(total) for key, total in rows}

    def tracking_in_use(self, numbers: Sequence[str]) -> dict[str, int]:
        """Which of these tracking numbers an earlier, not rejected shipment already uses."""
        if not numbers:
            return {}
        marks = ", ".join("?" * len(numbers))
        rows = self._db.connection().execute(
            "SELECT p.tracking_number, p.shipment_id FROM shipment_packages p "
            "JOIN shipments s ON s.id = p.shipment_id "
            f"WHERE p.tracking_number IN ({marks}) AND s.state NOT IN ('rejected', 'failed')",
            tuple(numbers),
        )
        return {str(number): int(shipment) for number, shipment in rows}

    def order_ids_for(self, text: str) -> builtins.list[str]:
        """Local orders whose dscoOrderId, PO number or supplier order number is `text`."""
        value = text.strip()
        rows = self._db.connection().execute(
            "SELECT dsco_order_id FROM orders WHERE dsco_order_id = ? OR po_number = ? "
            "OR supplier_order_number = ? OR lower(po_number) = lower(?) ORDER BY dsco_order_id",
            (value, value, value, value),
        )
        return [str(order_id) for (order_id,) in rows]

    def warehouse_codes(self) -> builtins.list[str]:
        """Warehouse codes the shop uses: from its inventory and its earlier shipments."""
        rows = self._db.connection().execute(
            "SELECT warehouse_code FROM inventory WHERE warehouse_code IS NOT NULL "
            "UNION SELECT warehouse_code FROM shipment_packages WHERE warehouse_code IS NOT NULL "
            "ORDER BY 1 LIMIT 100"
        )
        return [str(code) for (code,) in rows if code]

    def counts(self) -> dict[ShipmentState, int]:
        rows = self._db.connection().execute("SELECT state, COUNT(*) FROM shipments GROUP BY state")
        found = {str(state): int(n) for state, n in rows}
        return {s: found.get(s.value, 0) for s in ShipmentState}

    def _select(self, clause: str, params: Sequence[Any]) -> builtins.list[ShipmentRecord]:
        conn = self._db.connection()
        rows = conn.execute(f"SELECT s.* FROM shipments s {clause}", tuple(params)).fetchall()
        if not rows:
            return []
        ids = [int(r["id"]) for r in rows]
        packages: dict[int, builtins.list[sqlite3.Row]] = {i: [] for i in ids}
        lines: dict[tuple[int, int], builtins.list[PackageLine]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            for row in conn.execute(
                f"SELECT * FROM shipment_packages WHERE shipment_id IN ({marks}) "
                "ORDER BY shipment_id, package_index",
                chunk,
            ):
                packages[int(row["shipment_id"])].append(row)
            for row in conn.execute(
                f"SELECT * FROM shipment_lines WHERE shipment_id IN ({marks}) "
                "ORDER BY shipment_id, package_index, line_number, line_key",
                chunk,
            ):
                lines.setdefault((int(row["shipment_id"]), int(row["package_index"])), []).append(
                    PackageLine(
                        row["line_key"], row["line_number"], row["sku"], int(row["quantity"])
                    )
                )
        return [_record(r, packages[int(r["id"])], lines) for r in rows]


def _record(
    row: sqlite3.Row,
    package_rows: Sequence[sqlite3.Row],
    lines: Mapping[tuple[int, int], Sequence[PackageLine]],
) -> ShipmentRecord:
    shipment_id = int(row["id"])
    packages = tuple(
        ShipmentPackage(
            index=int(p["package_index"]),
            tracking_number=p["tracking_number"],
            ship_carrier=p["ship_carrier"],
            shipping_service_level_code=p["shipping_service_level_code"],
            ship_date=p["ship_date"],
            weight=p["weight"],
            weight_unit=p["weight_unit"],
            warehouse_code=p["warehouse_code"],
            lines=tuple(lines.get((shipment_id, int(p["package_index"])), ())),
        )
        for p in package_rows
    )
    return from_row(
        ShipmentRecord,
        row,
        id=shipment_id,
        state=ShipmentState(row["state"]),
        payload=loads(row["payload"], {}),
        messages=loads_messages(row["messages"]),
        confirm_attempts=int(row["confirm_attempts"]),
        packages=packages,
    )
