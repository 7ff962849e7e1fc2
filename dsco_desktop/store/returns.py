"""The return repository: returns from DSCO and those the app starts, with the answers given.

DSCO's returns are upserted by dscoReturnId (newest `lastUpdate` wins, a replay changes
nothing). The app's own state lives apart from DSCO's `status` (created, acknowledged,
completed): `state` says what the app is doing with the return (open, creating, completing,
rejected, failed), and each line keeps the supplier's answer (`response`), its reason and
whether its units go back into stock. A pull from DSCO never wipes an answer not yet sent.
`return_restocks` holds the accepted units to put back, one row per return, SKU and warehouse,
so asking twice never restocks twice.
"""

from __future__ import annotations

import builtins
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from dsco_desktop.domain.invoicing import line_key
from dsco_desktop.store._util import (
    as_dict,
    dumps,
    from_row,
    int_or_none,
    loads,
    loads_messages,
    normalize_timestamp,
    now_iso,
    text_or_none,
)
from dsco_desktop.store.db import Database


class ReturnState(StrEnum):
    """What the app is doing with a return."""

    OPEN = "open"  # in step with DSCO; nothing queued
    CREATING = "creating"  # the app started it; the create call is queued
    COMPLETING = "completing"  # the answers are queued
    REJECTED = "rejected"  # DSCO refused the last call (its messages are kept)
    FAILED = "failed"  # the last call could not be delivered

    @property
    def label(self) -> str:
        return {
            "open": "",
            "creating": "Sending to DSCO",
            "completing": "Sending answers",
            "rejected": "Rejected by DSCO",
            "failed": "Could not send",
        }[self.value]


class RestockState(StrEnum):
    REQUESTED = "requested"  # recorded; not yet handed to the inventory editor
    STAGED = "staged"  # a pending inventory change holds the units
    FAILED = "failed"


@dataclass(frozen=True)
class ReturnLineRecord:
    """One line of a stored return, with the supplier's answer."""

    line_index: int
    line_number: int | None
    sku: str | None
    dsco_item_id: str | None
    title: str | None
    quantity: int
    reason_code: str | None
    response: str | None
    decision_reason: str | None
    restock: bool
    warehouse_code: str | None
    raw: dict[str, Any]


@dataclass(frozen=True)
class ReturnRecord:
    """A return as stored."""

    return_number: str
    dsco_return_id: str | None
    dsco_order_id: str | None
    po_number: str | None
    status: str | None  # DSCO's: created, acknowledged, completed
    state: ReturnState
    source: str  # dsco (pulled) or app (started here)
    reason: str | None
    return_date: str | None
    dsco_create_date: str | None
    dsco_last_update: str | None
    initiated_by: str | None
    response_reason: str | None
    dsco_message: str | None
    messages: tuple[str, ...]
    outbox_id: int | None
    complete_outbox_id: int | None
    created_at: str
    updated_at: str
    raw: dict[str, Any]
    lines: tuple[ReturnLineRecord, ...] = ()

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def completed(self) -> bool:
        return (self.status or "").lower() == "completed"


@dataclass(frozen=True)
class RestockRecord:
    id: int
    return_number: str
    sku: str
    warehouse_code: str
    quantity: int
    state: RestockState
    message: str | None


@dataclass(frozen=True)
class ReturnSummary:
    """One row of the returns list (lines summed in SQL)."""

    return_number: str
    dsco_return_id: str | None
    dsco_order_id: str | None
    po_number: str | None
    status: str | None
    state: ReturnState
    source: str
    reason: str | None
    return_date: str | None
    dsco_last_update: str | None
    line_count: int
    units: int
    skus: str
    dsco_message: str | None


class ReturnRepository:
    """Returns by number; the only code that writes the returns tables."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- from DSCO ----------------------------------------------------------------------------

    def upsert_from_dsco(
        self, returns: Iterable[Mapping[str, Any] | Any], *, conn: sqlite3.Connection | None = None
    ) -> builtins.list[str]:
        """Store DSCO's returns; returns the numbers whose stored version changed."""
        docs = [as_dict(r) for r in returns]
        with self._db.joining(conn) as tx:
            return self._upsert(tx, docs)

    def _upsert(
        self, conn: sqlite3.Connection, docs: builtins.list[dict[str, Any]]
    ) -> builtins.list[str]:
        changed: builtins.list[str] = []
        now = now_iso()
        for doc in docs:
            dsco_id = text_or_none(doc.get("dscoReturnId"))
            number = text_or_none(doc.get("returnNumber")) or dsco_id
            if number is None:
                continue
            incoming = normalize_timestamp(doc.get("lastUpdate"))
            row = None
            if dsco_id is not None:
                row = conn.execute(
                    "SELECT return_number, dsco_last_update, state FROM returns"
                    " WHERE dsco_return_id = ?",
                    (dsco_id,),
                ).fetchone()
            if row is None:
                row = conn.execute(
                    "SELECT return_number, dsco_last_update, state, dsco_return_id FROM returns"
                    " WHERE return_number = ?",
                    (number,),
                ).fetchone()
                if row is not None and row["dsco_return_id"] not in (None, dsco_id):
                    # Two retailers may use the same number: keep both, told apart by id.
                    number = f"{number} ({dsco_id})"
                    row = conn.execute(
                        "SELECT return_number, dsco_last_update, state FROM returns"
                        " WHERE return_number = ?",
                        (number,),
                    ).fetchone()
            if row is not None:
                stored = row["dsco_last_update"]
                if stored is not None and (incoming is None or incoming <= stored):
                    continue
                number = row["return_number"]
            status = text_or_none(doc.get("status"))
            state = ReturnState(row["state"]) if row is not None else ReturnState.OPEN
            if state is ReturnState.CREATING:
                state = ReturnState.OPEN
            if state is ReturnState.COMPLETING and (status or "").lower() == "completed":
                state = ReturnState.OPEN
            values = (
                dsco_id,
                text_or_none(doc.get("dscoOrderId")),
                text_or_none(doc.get("poNumber")),
                status,
                state.value,
                dumps(doc),
                text_or_none(doc.get("reason")),
                normalize_timestamp(doc.get("returnDate")),
                normalize_timestamp(doc.get("createDate")),
                incoming,
                text_or_none(doc.get("initiatedBy")),
                text_or_none(doc.get("responseReason")),
                now,
            )
            if row is None:
                conn.execute(
                    "INSERT INTO returns (dsco_return_id, dsco_order_id, po_number, status, state,"
                    " raw, reason, return_date, dsco_create_date, dsco_last_update, initiated_by,"
                    " response_reason, updated_at, return_number, created_at, source)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'dsco')",
                    (*values, number, now),
                )
            else:
                conn.execute(
                    "UPDATE returns SET dsco_return_id = ?, dsco_order_id = ?, po_number = ?,"
                    " status = ?, state = ?, raw = ?, reason = ?, return_date = ?,"
                    " dsco_create_date = ?, dsco_last_update = ?, initiated_by = ?,"
                    " response_reason = ?, updated_at = ? WHERE return_number = ?",
                    (*values, number),
                )
            self._replace_lines(conn, number, doc, keep_answers=state is not ReturnState.OPEN)
            changed.append(number)
        return changed

    def _replace_lines(
        self, conn: sqlite3.Connection, number: str, doc: Mapping[str, Any], *, keep_answers: bool
    ) -> None:
        before = {
            r["line_index"]: r
            for r in conn.execute("SELECT * FROM return_lines WHERE return_number = ?", (number,))
        }
        conn.execute("DELETE FROM return_lines WHERE return_number = ?", (number,))
        rows = []
        for index, line in enumerate(doc.get("lineItems") or []):
            if not isinstance(line, Mapping):
                continue
            old = before.get(index)
            response = text_or_none(line.get("response"))
            if response is None and old is not None and keep_answers:
                response = old["response"]
            rows.append(
                (
                    number,
                    index,
                    int_or_none(line.get("lineNumber")),
                    text_or_none(line.get("sku")),
                    int_or_none(line.get("quantity")) or 0,
                    text_or_none(line.get("reasonCode")),
                    response,
                    dumps(dict(line)),
                    text_or_none(line.get("itemId") or line.get("dscoItemId")),
                    text_or_none(line.get("title")),
                    old["decision_reason"] if old is not None else None,
                    old["restock"] if old is not None else 0,
                    old["warehouse_code"] if old is not None else None,
                )
            )
        conn.executemany(
            "INSERT INTO return_lines (return_number, line_index, line_number, sku, quantity,"
            " reason_code, response, raw, dsco_item_id, title, decision_reason, restock,"
            " warehouse_code) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    # -- from the app -------------------------------------------------------------------------

    def add_local(
        self, body: Mapping[str, Any], *, outbox_id: int, conn: sqlite3.Connection
    ) -> str:
        """A return the supplier starts: stored as CREATING with its lines, before sending."""
        number = str(body["returnNumber"])
        now = now_iso()
        conn.execute(
            "INSERT INTO returns (return_number, dsco_order_id, po_number, status, state, raw,"
            " reason, return_date, source, outbox_id, initiated_by, created_at, updated_at)"
            " VALUES (?, ?, ?, NULL, 'creating', ?, ?, ?, 'app', ?, 'supplier', ?, ?)",
            (
                number,
                body.get("dscoOrderId"),
                body.get("poNumber"),
                dumps(dict(body)),
                body.get("reason"),
                normalize_timestamp(body.get("returnDate")),
                outbox_id,
                now,
                now,
            ),
        )
        self._replace_lines(conn, number, body, keep_answers=False)
        return number

    def record_answers(
        self,
        number: str,
        answers: Sequence[tuple[int, str, str, bool, str | None]],
        *,
        outbox_id: int,
        conn: sqlite3.Connection,
    ) -> None:
        """Keep the answers being sent: (line index, response, reason, restock, warehouse)."""
        conn.executemany(
            "UPDATE return_lines SET response = ?, decision_reason = ?, restock = ?,"
            " warehouse_code = ? WHERE return_number = ? AND line_index = ?",
            [
                (response, reason or None, 1 if restock else 0, warehouse, number, index)
                for index, response, reason, restock, warehouse in answers
            ],
        )
        conn.execute(
            "UPDATE returns SET state = 'completing', complete_outbox_id = ?, dsco_message = NULL,"
            " messages = '[]', updated_at = ? WHERE return_number = ?",
            (outbox_id, now_iso(), number),
        )

    def set_state(
        self,
        number: str,
        state: ReturnState,
        *,
        message: str | None = None,
        messages: Sequence[str] = (),
    ) -> bool:
        with self._db.transaction() as tx:
            cursor = tx.execute(
                "UPDATE returns SET state = ?, dsco_message = ?, messages = ?, updated_at = ?"
                " WHERE return_number = ?",
                (state.value, message, dumps(list(messages)), now_iso(), number),
            )
            return cursor.rowcount == 1

    # -- reading ------------------------------------------------------------------------------

    def get(self, number: str) -> ReturnRecord | None:
        conn = self._db.connection()
        row = conn.execute("SELECT * FROM returns WHERE return_number = ?", (number,)).fetchone()
        if row is None:
            return None
        lines = tuple(
            from_row(ReturnLineRecord, r, restock=bool(r["restock"]), raw=loads(r["raw"], {}))
            for r in conn.execute(
                "SELECT * FROM return_lines WHERE return_number = ? ORDER BY line_index",
                (number,),
            )
        )
        return _record(row, lines)

    def number_for_dsco_id(self, dsco_return_id: str) -> str | None:
        row = (
            self._db.connection()
            .execute(
                "SELECT return_number FROM returns WHERE dsco_return_id = ?", (dsco_return_id,)
            )
            .fetchone()
        )
        return None if row is None else str(row[0])

    def taken(self, numbers: Iterable[str]) -> set[str]:
        wanted = [n for n in {str(n).strip() for n in numbers} if n]
        if not wanted:
            return set()
        marks = ", ".join("?" * len(wanted))
        rows = self._db.connection().execute(
            f"SELECT return_number FROM returns WHERE return_number IN ({marks})", wanted
        )
        return {r[0] for r in rows}

    def in_states(self, states: Sequence[ReturnState]) -> builtins.list[ReturnRecord]:
        """Returns in these local states, with lines (what the follow-up settles)."""
        marks = ", ".join("?" * len(states))
        numbers = [
            r[0]
            for r in self._db.connection().execute(
                f"SELECT return_number FROM returns WHERE state IN ({marks})",
                [s.value for s in states],
            )
        ]
        found = [self.get(n) for n in numbers]
        return [r for r in found if r is not None]

    def list(
        self,
        *,
        text: str | None = None,
        statuses: Sequence[str] | None = None,
        limit: int = 2000,
    ) -> builtins.list[ReturnSummary]:
        """Returns for the list, newest first, filtered by DSCO status and a search text."""
        clauses: builtins.list[str] = []
        params: builtins.list[Any] = []
        if statuses:
            clauses.append(f"COALESCE(r.status, '') IN ({', '.join('?' * len(statuses))})")
            params.extend(statuses)
        if text and text.strip():
            pattern = f"%{text.strip()}%"
            clauses.append(
                "(r.return_number LIKE ? OR r.po_number LIKE ? OR r.dsco_order_id LIKE ?"
                " OR r.dsco_return_id LIKE ? OR EXISTS (SELECT 1 FROM return_lines l"
                " WHERE l.return_number = r.return_number AND l.sku LIKE ?))"
            )
            params.extend([pattern] * 5)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._db.connection().execute(
            "SELECT r.*, (SELECT COUNT(*) FROM return_lines l"
            "   WHERE l.return_number = r.return_number) AS line_count,"
            " (SELECT COALESCE(SUM(quantity), 0) FROM return_lines l"
            "   WHERE l.return_number = r.return_number) AS units,"
            " (SELECT group_concat(sku, ', ') FROM return_lines l"
            "   WHERE l.return_number = r.return_number) AS skus"
            f" FROM returns r {where}"
            " ORDER BY COALESCE(r.dsco_last_update, r.created_at) DESC, r.return_number LIMIT ?",
            [*params, limit],
        )
        return [
            from_row(
                ReturnSummary,
                r,
                state=ReturnState(r["state"]),
                line_count=int(r["line_count"] or 0),
                units=int(r["units"] or 0),
                skus=r["skus"] or "",
            )
            for r in rows
        ]

    def returned_units(self, dsco_order_id: str) -> dict[str, int]:
        """Units already on returns of this order, per order line key (failed ones excluded)."""
        result: dict[str, int] = {}
        rows = self._db.connection().execute(
            "SELECT l.raw, l.quantity FROM return_lines l JOIN returns r"
            " ON r.return_number = l.return_number"
            " WHERE r.dsco_order_id = ? AND r.state NOT IN ('failed')"
            " AND NOT (r.state = 'rejected' AND r.dsco_return_id IS NULL)",
            (dsco_order_id,),
        )
        for raw, quantity in rows:
            line = loads(raw, {})
            if line.get("itemId") and not line.get("dscoItemId"):
                line["dscoItemId"] = line["itemId"]
            key = line_key(line)
            result[key] = result.get(key, 0) + int(quantity or 0)
        return result

    # -- restocking ---------------------------------------------------------------------------

    def add_restocks(
        self,
        number: str,
        units: Sequence[tuple[str, str, int]],
        *,
        conn: sqlite3.Connection | None = None,
    ) -> int:
        """Record (sku, warehouse, units) to put back; a second request for the same is ignored."""
        now = now_iso()
        params = [(number, sku, wh, qty, now, now) for sku, wh, qty in units if qty > 0]
        sql = (
            "INSERT INTO return_restocks (return_number, sku, warehouse_code, quantity,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(return_number, sku, warehouse_code) DO NOTHING"
        )
        with self._db.joining(conn) as tx:
            return tx.executemany(sql, params).rowcount

    def restocks(
        self, *, number: str | None = None, states: Sequence[RestockState] | None = None
    ) -> builtins.list[RestockRecord]:
        clauses: builtins.list[str] = []
        params: builtins.list[Any] = []
        if number is not None:
            clauses.append("return_number = ?")
            params.append(number)
        if states:
            clauses.append(f"state IN ({', '.join('?' * len(states))})")
            params.extend(s.value for s in states)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._db.connection().execute(
            f"SELECT * FROM return_restocks {where} ORDER BY id", params
        )
        return [from_row(RestockRecord, r, state=RestockState(r["state"])) for r in rows]

    def set_restock_state(
        self,
        restock_id: int,
        state: RestockState,
        message: str | None = None,
        *,
        conn: sqlite3.Connection | None = None,
    ) -> None:
        params = (state.value, message, now_iso(), restock_id)
        sql = "UPDATE return_restocks SET state = ?, message = ?, updated_at = ? WHERE id = ?"
        with self._db.joining(conn) as tx:
            tx.execute(sql, params)


def _record(row: sqlite3.Row, lines: tuple[ReturnLineRecord, ...]) -> ReturnRecord:
    return from_row(
        ReturnRecord,
        row,
        state=ReturnState(row["state"]),
        messages=loads_messages(row["messages"]),
        raw=loads(row["raw"], {}),
        lines=lines,
    )
