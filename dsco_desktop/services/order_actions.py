"""Order actions: acknowledge orders and cancel lines (always through the outbox); export.

Each action is committed locally first (an outbox row plus the order's own record of it, in one
transaction) and sent by the outbox thread. It stays visible ("queued", then "sent") until the
order as DSCO next describes it (through the stream or a resync) shows the change; then the
store marks it confirmed (`store/orders.py`). If DSCO refuses it, the outbox row's messages say
why. The idempotency keys make a double click, or a retry of the same command, queue nothing
twice.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from dsco_desktop.domain.orders import (
    UNACKNOWLEDGED_LIFECYCLES,
    CancelLine,
    CancelRequestError,
    OrderStatus,
    cancel_code_label,
    check_cancel_lines,
    remaining_quantity,
)
from dsco_desktop.errors import UserFacingError
from dsco_desktop.spreadsheets.export import write_table
from dsco_desktop.store.db import Database
from dsco_desktop.store.orders import OrderRepository
from dsco_desktop.store.outbox import OutboxRepository

ACKNOWLEDGE_KIND = "order.acknowledge"
CANCEL_KIND = "order.cancel"
# One acknowledgement row carries at most this many orders (well under DSCO's 5 MB body).
ACK_CHUNK = 500


@dataclass(frozen=True)
class AcknowledgeResult:
    """Orders queued for acknowledgement, and those left out (with why)."""

    queued: tuple[str, ...]
    already: tuple[str, ...] = ()  # acknowledged at DSCO, or an acknowledgement on its way
    unknown: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        """One sentence for the status bar."""
        parts = []
        if self.queued:
            parts.append(f"{len(self.queued)} order(s) will be acknowledged")
        if self.already:
            parts.append(f"{len(self.already)} already acknowledged or on the way")
        if self.unknown:
            parts.append(f"{len(self.unknown)} not found")
        return ("; ".join(parts) or "Nothing to acknowledge") + "."


def _ack_key(order_id: str) -> str:
    return f"{ACKNOWLEDGE_KIND}:{order_id}"


def enqueue_acknowledgements(
    db: Database, conn: sqlite3.Connection, order_ids: Sequence[str], *, auto: bool = False
) -> list[int]:
    """Queue acknowledgements inside the caller's transaction `conn`; returns the outbox rows.

    Used by `OrderActions.acknowledge` and by the stream poller's auto-acknowledge, so both
    share the same keys: the same orders acknowledged twice make one row.
    """
    outbox = OutboxRepository(db)
    orders = OrderRepository(db)
    rows: list[int] = []
    for start in range(0, len(order_ids), ACK_CHUNK):
        chunk = list(order_ids[start : start + ACK_CHUNK])
        payload = {
            "orders": [{"id": order_id, "type": "DSCO_ORDER_ID"} for order_id in chunk],
            "auto": auto,
        }
        digest = hashlib.sha256("\n".join(sorted(chunk)).encode()).hexdigest()[:24]
        key = _ack_key(chunk[0]) if len(chunk) == 1 else f"{ACKNOWLEDGE_KIND}:many:{digest}"
        row_id = outbox.enqueue(ACKNOWLEDGE_KIND, payload, key, conn=conn)
        orders.set_ack_outbox(chunk, row_id, conn=conn)
        rows.append(row_id)
    return rows


class OrderActions:
    """Acknowledge and cancel, queued locally for the outbox thread to send."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._orders = OrderRepository(db)
        self._outbox = OutboxRepository(db)

    def acknowledge(self, order_ids: Iterable[str]) -> AcknowledgeResult:
        """Queue acknowledgements for the orders that still need one."""
        wanted = list(dict.fromkeys(order_ids))
        queued: list[str] = []
        already: list[str] = []
        unknown: list[str] = []
        with self._db.transaction() as tx:
            state: dict[str, tuple[str | None, str | None]] = {}
            for start in range(0, len(wanted), ACK_CHUNK):
                chunk = wanted[start : start + ACK_CHUNK]
                marks = ", ".join("?" * len(chunk))
                for row in tx.execute(
                    "SELECT o.dsco_order_id, o.lifecycle, x.state FROM orders o "
                    "LEFT JOIN outbox x ON x.id = o.ack_outbox_id "
                    f"WHERE o.dsco_order_id IN ({marks})",
                    chunk,
                ):
                    state[row[0]] = (row[1], row[2])
            for order_id in wanted:
                if order_id not in state:
                    unknown.append(order_id)
                    continue
                lifecycle, ack_state = state[order_id]
                on_its_way = ack_state in ("pending", "sending", "sent")
                if (lifecycle or "") not in UNACKNOWLEDGED_LIFECYCLES or on_its_way:
                    already.append(order_id)
                else:
                    queued.append(order_id)
            if queued:
                enqueue_acknowledgements(self._db, tx, queued)
        return AcknowledgeResult(tuple(queued), tuple(already), tuple(unknown))

    def cancel_lines(self, dsco_order_id: str, lines: Sequence[CancelLine]) -> int:
        """Queue the cancellation of some units of an order's lines; returns the outbox row id.

        Raises `UserFacingError` naming the line when a quantity is more than is left.
        """
        order = self._orders.get(dsco_order_id)
        if order is None:
            raise UserFacingError(f"Order {dsco_order_id} is not in the local store.")
        label = f"PO {order.po_number}" if order.po_number else f"order {dsco_order_id}"
        remaining = {
            (ln.line_number, ln.sku): remaining_quantity(
                ln.quantity, ln.shipped_quantity, ln.cancelled_quantity
            )
            for ln in order.lines
        }
        baseline = {(ln.line_number, ln.sku): ln.cancelled_quantity or 0 for ln in order.lines}
        # Units already queued for cancellation here but not yet confirmed are not open either.
        for pending in self._orders.cancels(dsco_order_id):
            if pending.state in ("queued", "sent"):
                line_key = (pending.line_number, pending.sku)
                if line_key in remaining:
                    remaining[line_key] = max(0, remaining[line_key] - pending.quantity)
        try:
            chosen = check_cancel_lines(lines, remaining)
        except CancelRequestError as exc:
            raise UserFacingError(f"Cannot cancel on {label}: {exc}") from exc
        payload = {
            "id": dsco_order_id,
            "type": "DSCO_ORDER_ID",
            "lineItems": [
                {
                    k: v
                    for k, v in {
                        "lineNumber": line.line_number,
                        "sku": line.sku if line.line_number is None else None,
                        "cancelledQuantity": line.quantity,
                        "cancelCode": line.cancel_code,
                        "cancelledReason": line.reason or None,
                    }.items()
                    if v is not None
                }
                for line in chosen
            ],
        }
        # Same order version and same lines: the same change (a double click), queued once.
        fingerprint = repr(
            (
                order.dsco_last_update,
                [(c.line_number, c.sku, c.quantity, c.cancel_code) for c in chosen],
            )
        )
        digest = hashlib.sha256(fingerprint.encode()).hexdigest()[:24]
        key = f"{CANCEL_KIND}:{dsco_order_id}:{digest}"
        with self._db.transaction() as tx:
            existing = self._outbox.get_by_key(key)
            row_id = self._outbox.enqueue(CANCEL_KIND, payload, key, conn=tx)
            if existing is None:
                self._orders.add_cancels(
                    dsco_order_id,
                    [
                        (
                            c.line_number,
                            c.sku,
                            c.quantity,
                            c.cancel_code,
                            c.reason,
                            baseline.get((c.line_number, c.sku), 0),
                        )
                        for c in chosen
                    ],
                    row_id,
                    conn=tx,
                )
        return row_id


EXPORT_HEADERS = (
    "PO number",
    "DSCO order id",
    "Retailer",
    "Channel",
    "Customer",
    "Order date (UTC)",
    "Acknowledge by (UTC)",
    "Ship by (UTC)",
    "Status",
    "Lines",
    "Units ordered",
    "Units shipped",
    "Units cancelled",
    "Units remaining",
    "Total",
    "Currency",
    "Cancel requested",
)


def export_orders(
    db: Database,
    order_ids: Sequence[str],
    path: str | Path,
    *,
    now: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write these orders (in this order) to a .xlsx or .csv file; returns the rows written."""
    repo = OrderRepository(db)
    total = len(order_ids)

    def rows() -> Iterator[tuple[object, ...]]:
        for start in range(0, total, 1000):
            chunk = order_ids[start : start + 1000]
            found = repo.summaries(chunk, now=now)
            for order_id in chunk:
                row = found.get(order_id)
                if row is None:
                    continue
                yield (
                    row.po_number,
                    row.dsco_order_id,
                    row.retailer,
                    row.channel,
                    row.customer_name,
                    row.order_date,
                    row.acknowledge_by,
                    row.ship_by,
                    OrderStatus(row.status).label,
                    row.line_count,
                    row.qty_ordered,
                    row.qty_shipped,
                    row.qty_cancelled,
                    row.qty_remaining,
                    row.total,
                    row.currency_code,
                    cancel_code_label(row.cancel_requested_code) or "yes"
                    if row.cancel_requested
                    else "",
                )
            if progress is not None:
                progress(min(total, start + 1000), total)

    return write_table(path, EXPORT_HEADERS, rows())
