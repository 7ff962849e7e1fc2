"""The invoice repository: invoices made in the app, their lines, numbers and DSCO outcomes.

An invoice is written together with its outbox row (one transaction, `conn`), before any call
to DSCO. Its number is the primary key, so the same number can never be stored twice: `add`
raises `DuplicateInvoiceError` instead. Each line keeps the package (tracking number) and the
order line it bills, so `invoiced_units` knows, per package and line, what is already billed
(rejected and failed invoices do not count). `uninvoiced_orders` finds orders with shipped
units not billed yet, in SQL, without opening orders that are fully invoiced.
"""

from __future__ import annotations

import builtins
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from dsco_desktop.errors import UserFacingError
from dsco_desktop.store._util import dumps, from_row, loads, loads_messages, now_iso
from dsco_desktop.store.db import Database

SEQUENCE_KEY = "invoicing.next_sequence"


class InvoiceState(StrEnum):
    """Where an invoice made in the app stands with DSCO."""

    PENDING = "pending"  # queued in the outbox
    SENT = "sent"  # DSCO took the call; waiting for the change log / the invoice to show
    ACCEPTED = "accepted"  # DSCO has the invoice
    REJECTED = "rejected"  # DSCO refused it (its messages are kept)
    FAILED = "failed"  # could not be delivered

    @property
    def label(self) -> str:
        return {
            "pending": "Waiting to send",
            "sent": "Sent, checking",
            "accepted": "Accepted by DSCO",
            "rejected": "Rejected by DSCO",
            "failed": "Could not send",
        }[self.value]


# Invoices that bill their units (or may still): rejected and failed ones do not.
BILLING_STATES = (InvoiceState.PENDING, InvoiceState.SENT, InvoiceState.ACCEPTED)


class DuplicateInvoiceError(UserFacingError):
    """The invoice number is already used on this computer."""


@dataclass(frozen=True)
class InvoiceLineRecord:
    """One stored invoice line."""

    line_index: int
    line_number: int | None
    line_key: str | None
    sku: str | None
    quantity: int
    unit_price: float | None
    tracking_number: str | None
    raw: dict[str, Any]


@dataclass(frozen=True)
class InvoiceRecord:
    """An invoice as stored: its amounts, its DSCO state and (when loaded) its lines."""

    invoice_id: str
    dsco_invoice_id: str | None
    dsco_order_id: str | None
    po_number: str | None
    consumer_order_number: str | None
    invoice_date: str | None
    ship_date: str | None
    subtotal: float
    freight_amount: float
    handling_amount: float
    sales_tax_amount: float
    total_amount: float
    currency_code: str | None
    units: int
    state: InvoiceState
    source: str
    outbox_id: int | None
    request_id: str | None
    dsco_message: str | None
    messages: tuple[str, ...]
    created_at: str
    updated_at: str
    sent_at: str | None
    accepted_at: str | None
    raw: dict[str, Any]
    lines: tuple[InvoiceLineRecord, ...] = ()


@dataclass(frozen=True)
class UninvoicedOrder:
    """An order with shipped units that no invoice bills yet."""

    dsco_order_id: str
    po_number: str | None
    channel: str | None
    customer_name: str | None
    last_ship_date: str | None
    tracking_numbers: tuple[str, ...]
    shipped_units: int
    invoiced_units: int
    lifecycle: str | None

    @property
    def open_units(self) -> int:
        return max(0, self.shipped_units - self.invoiced_units)


_BILLING = ", ".join(f"'{s.value}'" for s in BILLING_STATES)


class InvoiceRepository:
    """Invoices by number; the only code that writes the invoices tables."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- numbers ----------------------------------------------------------------------------

    def taken(self, invoice_ids: Iterable[str]) -> set[str]:
        """Which of these numbers are already stored."""
        wanted = [i for i in {str(i).strip() for i in invoice_ids} if i]
        if not wanted:
            return set()
        found: set[str] = set()
        conn = self._db.connection()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            rows = conn.execute(
                f"SELECT invoice_id FROM invoices WHERE invoice_id IN ({marks})", chunk
            )
            found.update(r[0] for r in rows)
        return found

    def reserve_sequences(self, count: int = 1) -> list[int]:
        """Take `count` sequence numbers for new invoice numbers; never handed out twice."""
        with self._db.transaction() as tx:
            row = tx.execute("SELECT value FROM settings WHERE key = ?", (SEQUENCE_KEY,)).fetchone()
            first = int(loads(row[0], 1)) if row is not None else 1
            tx.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (SEQUENCE_KEY, dumps(first + count)),
            )
        return list(range(first, first + count))

    # -- writing ------------------------------------------------------------------------------

    def add(
        self,
        body: Mapping[str, Any],
        *,
        lines: Sequence[Mapping[str, Any]],
        ship_date: str | None,
        outbox_id: int | None,
        conn: sqlite3.Connection,
    ) -> None:
        """Store a new invoice (its DSCO body) and its lines; DuplicateInvoiceError if taken.

        `lines` are the body's lineItems with two more keys: `lineKey` and `trackingNumber`.
        """
        invoice_id = str(body["invoiceId"])
        now = now_iso()
        try:
            conn.execute(
                "INSERT INTO invoices (invoice_id, dsco_order_id, po_number, consumer_order_number,"
                " invoice_date, ship_date, subtotal, freight_amount, handling_amount,"
                " sales_tax_amount, total_amount, currency_code, units, state, source, outbox_id,"
                " raw, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 'app', ?, ?, ?, ?)",
                (
                    invoice_id,
                    body.get("dscoOrderId"),
                    body.get("poNumber"),
                    body.get("consumerOrderNumber"),
                    str(body.get("invoiceDate") or "")[:10] or None,
                    ship_date,
                    body.get("lineItemsSubtotal"),
                    body.get("freightAmount"),
                    body.get("handlingAmount"),
                    body.get("salesTaxAmount"),
                    body.get("totalAmount"),
                    body.get("currencyCode"),
                    sum(int(line.get("quantity") or 0) for line in lines),
                    outbox_id,
                    dumps(dict(body)),
                    now,
                    now,
                ),
            )
        except sqlite3.IntegrityError:
            raise DuplicateInvoiceError(
                f"Invoice number {invoice_id} is already used; DSCO never accepts a number twice."
            ) from None
        conn.executemany(
            "INSERT INTO invoice_lines (invoice_id, line_index, line_number, sku, quantity,"
            " unit_price, raw, line_key, tracking_number) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    invoice_id,
                    index,
                    line.get("lineNumber"),
                    line.get("sku"),
                    int(line.get("quantity") or 0),
                    line.get("unitPrice"),
                    dumps({k: v for k, v in line.items() if k != "lineKey"}),
                    line.get("lineKey"),
                    line.get("trackingNumber"),
                )
                for index, line in enumerate(lines)
            ],
        )

    def set_outbox(self, invoice_id: str, outbox_id: int, conn: sqlite3.Connection) -> None:
        conn.execute(
            "UPDATE invoices SET outbox_id = ?, updated_at = ? WHERE invoice_id = ?",
            (outbox_id, now_iso(), invoice_id),
        )

    def set_state(
        self,
        invoice_id: str,
        state: InvoiceState,
        *,
        message: str | None = None,
        messages: Sequence[str] = (),
        request_id: str | None = None,
        dsco_invoice_id: str | None = None,
    ) -> bool:
        """Move an invoice to `state`, keeping DSCO's message(s) and ids when given."""
        now = now_iso()
        with self._db.transaction() as tx:
            cursor = tx.execute(
                "UPDATE invoices SET state = ?, dsco_message = ?, messages = ?,"
                " request_id = COALESCE(?, request_id),"
                " dsco_invoice_id = COALESCE(?, dsco_invoice_id),"
                " sent_at = CASE WHEN ? IN ('sent', 'accepted') THEN COALESCE(sent_at, ?)"
                " ELSE sent_at END,"
                " accepted_at = CASE WHEN ? = 'accepted' THEN ? ELSE accepted_at END,"
                " updated_at = ? WHERE invoice_id = ?",
                (
                    state.value,
                    message,
                    dumps(list(messages)),
                    request_id,
                    dsco_invoice_id,
                    state.value,
                    now,
                    state.value,
                    now,
                    now,
                    invoice_id,
                ),
            )
            return cursor.rowcount == 1

    # -- reading ------------------------------------------------------------------------------

    def get(self, invoice_id: str) -> InvoiceRecord | None:
        """One invoice with its lines, or None."""
        conn = self._db.connection()
        row = conn.execute("SELECT * FROM invoices WHERE invoice_id = ?", (invoice_id,)).fetchone()
        if row is None:
            return None
        lines = tuple(
            from_row(InvoiceLineRecord, r, raw=loads(r["raw"], {}))
            for r in conn.execute(
                "SELECT * FROM invoice_lines WHERE invoice_id = ? ORDER BY line_index",
                (invoice_id,),
            )
        )
        return _record(row, lines)

    def list(
        self,
        *,
        states: Sequence[InvoiceState] | None = None,
        text: str | None = None,
        outbox_ids: Sequence[int] | None = None,
        limit: int = 2000,
    ) -> builtins.list[InvoiceRecord]:
        """Invoices, newest first, filtered by state and a number / PO / order search."""
        clauses: builtins.list[str] = []
        params: builtins.list[Any] = []
        if states:
            clauses.append(f"state IN ({', '.join('?' * len(states))})")
            params.extend(s.value for s in states)
        if text and text.strip():
            pattern = f"%{text.strip()}%"
            clauses.append(
                "(invoice_id LIKE ? OR po_number LIKE ? OR dsco_order_id LIKE ?"
                " OR consumer_order_number LIKE ?)"
            )
            params.extend([pattern] * 4)
        if outbox_ids is not None:
            if not outbox_ids:
                return []
            clauses.append(f"outbox_id IN ({', '.join('?' * len(outbox_ids))})")
            params.extend(outbox_ids)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._db.connection().execute(
            f"SELECT * FROM invoices {where} ORDER BY created_at DESC, invoice_id DESC LIMIT ?",
            [*params, limit],
        )
        return [_record(r, ()) for r in rows]

    def for_order(self, dsco_order_id: str) -> builtins.list[InvoiceRecord]:
        """Every invoice of one order, oldest first, with lines."""
        ids = [
            r[0]
            for r in self._db.connection().execute(
                "SELECT invoice_id FROM invoices WHERE dsco_order_id = ? ORDER BY created_at",
                (dsco_order_id,),
            )
        ]
        found = [self.get(i) for i in ids]
        return [r for r in found if r is not None]

    def invoiced_units(self, dsco_order_id: str) -> dict[tuple[str, str], int]:
        """Units billed per (tracking number, line key) by the order's live invoices."""
        rows = self._db.connection().execute(
            "SELECT COALESCE(l.tracking_number, ''), COALESCE(l.line_key, ''), SUM(l.quantity)"
            " FROM invoice_lines l JOIN invoices i ON i.invoice_id = l.invoice_id"
            f" WHERE i.dsco_order_id = ? AND i.state IN ({_BILLING})"
            " GROUP BY 1, 2",
            (dsco_order_id,),
        )
        return {(r[0], r[1]): int(r[2]) for r in rows}

    def uninvoiced_orders(
        self,
        *,
        text: str | None = None,
        shipped_on: str | None = None,
        limit: int = 2000,
    ) -> builtins.list[UninvoicedOrder]:
        """Orders with shipped units not billed yet, newest shipment first.

        `shipped_on` (YYYY-MM-DD) keeps the orders with a package shipped that day (UTC).
        """
        clauses = ["o.qty_shipped > COALESCE(b.billed, 0)"]
        params: builtins.list[Any] = []
        if text and text.strip():
            clauses.append("o.search_text LIKE ?")
            params.append(f"%{text.strip().lower()}%")
        if shipped_on:
            clauses.append(
                "EXISTS (SELECT 1 FROM packages p WHERE p.dsco_order_id = o.dsco_order_id"
                " AND substr(p.ship_date, 1, 10) = ?)"
            )
            params.append(shipped_on)
        rows = self._db.connection().execute(
            "SELECT o.dsco_order_id, o.po_number, o.channel, o.customer_name, o.lifecycle,"
            " o.qty_shipped, COALESCE(b.billed, 0) AS billed,"
            " (SELECT MAX(p.ship_date) FROM packages p WHERE p.dsco_order_id = o.dsco_order_id)"
            "   AS last_ship,"
            " (SELECT group_concat(p.tracking_number, ' ') FROM packages p"
            "   WHERE p.dsco_order_id = o.dsco_order_id) AS tracking"
            " FROM orders o LEFT JOIN ("
            "   SELECT i.dsco_order_id AS order_id, SUM(l.quantity) AS billed"
            "   FROM invoices i JOIN invoice_lines l ON l.invoice_id = i.invoice_id"
            f"  WHERE i.state IN ({_BILLING}) GROUP BY i.dsco_order_id"
            " ) b ON b.order_id = o.dsco_order_id"
            f" WHERE {' AND '.join(clauses)}"
            " ORDER BY last_ship DESC, o.dsco_order_id LIMIT ?",
            [*params, limit],
        )
        return [
            UninvoicedOrder(
                dsco_order_id=r["dsco_order_id"],
                po_number=r["po_number"],
                channel=r["channel"],
                customer_name=r["customer_name"],
                last_ship_date=r["last_ship"],
                tracking_numbers=tuple((r["tracking"] or "").split()),
                shipped_units=int(r["qty_shipped"] or 0),
                invoiced_units=int(r["billed"] or 0),
                lifecycle=r["lifecycle"],
            )
            for r in rows
        ]

    def counts(self) -> dict[InvoiceState, int]:
        rows = self._db.connection().execute("SELECT state, COUNT(*) FROM invoices GROUP BY state")
        found = {str(state): int(n) for state, n in rows}
        return {s: found.get(s.value, 0) for s in InvoiceState}


def _record(row: sqlite3.Row, lines: tuple[InvoiceLineRecord, ...]) -> InvoiceRecord:
    return from_row(
        InvoiceRecord,
        row,
        subtotal=float(row["subtotal"] or 0),
        freight_amount=float(row["freight_amount"] or 0),
        handling_amount=float(row["handling_amount"] or 0),
        sales_tax_amount=float(row["sales_tax_amount"] or 0),
        total_amount=float(row["total_amount"] or 0),
        units=int(row["units"] or 0),
        state=InvoiceState(row["state"]),
        messages=loads_messages(row["messages"]),
        raw=loads(row["raw"], {}),
        lines=lines,
    )
