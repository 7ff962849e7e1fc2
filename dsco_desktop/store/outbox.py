"""The outbox: every outbound DSCO mutation, stored before it is sent.

A row moves PENDING -> SENDING (claimed, in a committed transaction, before the call) -> SENT,
or back to PENDING with a later `next_attempt_at` after a transient failure, or to FAILED
(gave up, or a non-transient error) or REJECTED (DSCO refused the content; never retried).
A row left in SENDING by a process that died mid-call is "in doubt"; the sender
(`services/outbox.py`) checks with DSCO before sending it again.

The idempotency key is unique: enqueueing the same key twice returns the first row's id, so a
double click or a replayed event never queues the same change twice. Times are epoch seconds.
"""

from __future__ import annotations

import builtins
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from dsco_desktop.store._util import dumps, from_row, loads
from dsco_desktop.store.db import Database


class OutboxState(StrEnum):
    """Where a row is in its life."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    REJECTED = "rejected"


@dataclass(frozen=True)
class OutboxMessage:
    """One reason DSCO gave for refusing a row, kept per record (sku, PO, line) when known."""

    description: str
    code: str | None = None
    severity: str | None = None
    record: str | None = None


@dataclass(frozen=True)
class OutboxRow:
    """One queued mutation."""

    id: int
    kind: str
    payload: dict[str, Any]
    idempotency_key: str
    state: OutboxState
    attempts: int
    next_attempt_at: float
    created_at: float
    last_error: str | None
    result: dict[str, Any] | None
    messages: tuple[OutboxMessage, ...] = ()
    updated_at: float = 0.0
    window_started_at: float = 0.0
    context: dict[str, Any] | None = None


@dataclass(frozen=True)
class OutboxCounts:
    """How many rows are in each state (the status bar shows pending and failed)."""

    pending: int = 0
    sending: int = 0
    sent: int = 0
    failed: int = 0
    rejected: int = 0

    @property
    def waiting(self) -> int:
        """Rows not yet delivered and still being worked on."""
        return self.pending + self.sending

    @property
    def needs_attention(self) -> int:
        """Rows the user must look at."""
        return self.failed + self.rejected


class OutboxRepository:
    """The outbox table; the only code that changes a row's state."""

    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock

    # -- what the app does -------------------------------------------------------------------

    def enqueue(
        self,
        kind: str,
        payload: Mapping[str, Any],
        idempotency_key: str,
        *,
        conn: sqlite3.Connection | None = None,
    ) -> int:
        """Queue a mutation; the same idempotency key again returns the existing row's id."""
        if not idempotency_key:
            raise ValueError("an outbox row needs an idempotency key")
        now = self._clock()
        params = (kind, dumps(dict(payload)), idempotency_key, now, now, now, now)
        with self._db.joining(conn) as tx:
            return self._enqueue(tx, params)

    @staticmethod
    def _enqueue(conn: sqlite3.Connection, params: tuple[Any, ...]) -> int:
        conn.execute(
            "INSERT INTO outbox (kind, payload, idempotency_key, state, attempts, "
            "next_attempt_at, created_at, window_started_at, updated_at) "
            "VALUES (?, ?, ?, 'pending', 0, ?, ?, ?, ?) "
            "ON CONFLICT(idempotency_key) DO NOTHING",
            params,
        )
        row = conn.execute(
            "SELECT id FROM outbox WHERE idempotency_key = ?", (params[2],)
        ).fetchone()
        return int(row[0])

    def get(self, row_id: int) -> OutboxRow | None:
        """One row by id, or None."""
        row = self._db.connection().execute("SELECT * FROM outbox WHERE id = ?", (row_id,))
        found = row.fetchone()
        return None if found is None else _row(found)

    def get_by_key(self, idempotency_key: str) -> OutboxRow | None:
        """One row by idempotency key, or None."""
        found = (
            self._db.connection()
            .execute("SELECT * FROM outbox WHERE idempotency_key = ?", (idempotency_key,))
            .fetchone()
        )
        return None if found is None else _row(found)

    def counts(self) -> OutboxCounts:
        """Rows per state."""
        rows = self._db.connection().execute("SELECT state, COUNT(*) FROM outbox GROUP BY state")
        by_state = {str(state): int(n) for state, n in rows}
        return OutboxCounts(**{s.value: by_state.get(s.value, 0) for s in OutboxState})

    def list(
        self, states: Iterable[OutboxState | str] | None = None, limit: int = 500
    ) -> builtins.list[OutboxRow]:
        """Rows in the given states (all when None), newest first."""
        params: builtins.list[Any] = []
        where = ""
        if states is not None:
            wanted = [OutboxState(s).value for s in states]
            if not wanted:
                return []
            where = f"WHERE state IN ({', '.join('?' * len(wanted))})"
            params.extend(wanted)
        rows = self._db.connection().execute(
            f"SELECT * FROM outbox {where} ORDER BY id DESC LIMIT ?", [*params, limit]
        )
        return [_row(r) for r in rows]

    def retry(self, row_id: int) -> bool:
        """Send a FAILED row again now, with a fresh two-hour window. False if not failed."""
        now = self._clock()
        with self._db.transaction() as tx:
            cursor = tx.execute(
                "UPDATE outbox SET state = 'pending', next_attempt_at = ?, window_started_at = ?,"
                " updated_at = ?, claimed_by = NULL WHERE id = ? AND state = 'failed'",
                (now, now, now, row_id),
            )
            return cursor.rowcount == 1

    def discard(self, row_id: int) -> bool:
        """Drop a FAILED or REJECTED row the user gave up on. False if it is in another state."""
        with self._db.transaction() as tx:
            cursor = tx.execute(
                "DELETE FROM outbox WHERE id = ? AND state IN ('failed', 'rejected')", (row_id,)
            )
            return cursor.rowcount == 1

    def prune_sent(self, older_than: float) -> int:
        """Delete SENT rows last touched before `older_than` (epoch seconds)."""
        with self._db.transaction() as tx:
            cursor = tx.execute(
                "DELETE FROM outbox WHERE state = 'sent' AND updated_at < ?", (older_than,)
            )
            return cursor.rowcount

    # -- what the sender does ----------------------------------------------------------------

    def claim_next(
        self, claimed_by: str, now: float, kinds: Sequence[str] | None = None
    ) -> OutboxRow | None:
        """Take the oldest due PENDING row: SENDING, attempts+1, committed before returning."""
        kind_filter = ""
        params: builtins.list[Any] = [now]
        if kinds is not None:
            kind_filter = f"AND kind IN ({', '.join('?' * len(kinds))})"
            params.extend(kinds)
        with self._db.transaction() as tx:
            found = tx.execute(
                "SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? "
                f"{kind_filter} ORDER BY next_attempt_at, id LIMIT 1",
                params,
            ).fetchone()
            if found is None:
                return None
            tx.execute(
                # The give-up window runs from the first attempt, not from the enqueue: a
                # change queued while the app was closed overnight still gets its two hours.
                "UPDATE outbox SET state = 'sending', attempts = attempts + 1, claimed_by = ?,"
                " updated_at = ?, window_started_at = CASE WHEN attempts = 0 THEN ?"
                " ELSE window_started_at END WHERE id = ?",
                (claimed_by, now, now, found[0]),
            )
            row = tx.execute("SELECT * FROM outbox WHERE id = ?", (found[0],)).fetchone()
        return _row(row)

    def in_doubt(self, exclude_claimed_by: str | None = None) -> builtins.list[OutboxRow]:
        """SENDING rows: claimed by a sender that died mid-call (or whose bookkeeping failed).

        Only meaningful between sends: a sender settles every row it claims before it returns,
        so any SENDING row it sees at the start of a round is one nobody is working on.
        """
        rows = self._db.connection().execute(
            "SELECT * FROM outbox WHERE state = 'sending' AND claimed_by IS NOT ? ORDER BY id",
            (exclude_claimed_by,),
        )
        return [_row(r) for r in rows]

    def reclaim(self, row: OutboxRow, claimed_by: str, now: float) -> OutboxRow | None:
        """Take over an in-doubt row (attempts+1); None if someone else took it meanwhile."""
        with self._db.transaction() as tx:
            # attempts acts as a version: of two senders reclaiming the same row, one wins.
            cursor = tx.execute(
                "UPDATE outbox SET attempts = attempts + 1, claimed_by = ?, updated_at = ? "
                "WHERE id = ? AND state = 'sending' AND attempts = ?",
                (claimed_by, now, row.id, row.attempts),
            )
            if cursor.rowcount != 1:
                return None
            found = tx.execute("SELECT * FROM outbox WHERE id = ?", (row.id,)).fetchone()
        return _row(found)

    def set_context(self, row_id: int, context: Mapping[str, Any], now: float) -> bool:
        """Save what was read from DSCO before the call (committed before the call is made)."""
        with self._db.transaction() as tx:
            cursor = tx.execute(
                "UPDATE outbox SET context = ?, updated_at = ? WHERE id = ? AND state = 'sending'",
                (dumps(dict(context)), now, row_id),
            )
            return cursor.rowcount == 1

    def mark_sent(self, row_id: int, result: Mapping[str, Any] | None, now: float) -> bool:
        """The call succeeded (or DSCO already had it): keep its response."""
        return self._finish(
            row_id,
            "state = 'sent', result = ?, last_error = NULL, messages = '[]', updated_at = ?",
            (dumps(dict(result or {})), now),
        )

    def mark_retry(self, row_id: int, next_attempt_at: float, error: str, now: float) -> bool:
        """A transient failure: back to PENDING until `next_attempt_at`."""
        return self._finish(
            row_id,
            "state = 'pending', next_attempt_at = ?, last_error = ?, updated_at = ?",
            (next_attempt_at, error, now),
        )

    def mark_failed(
        self,
        row_id: int,
        error: str,
        now: float,
        messages: Sequence[OutboxMessage] = (),
    ) -> bool:
        """Given up (too long transient, or a non-transient error): the user must decide."""
        return self._finish(
            row_id,
            "state = 'failed', last_error = ?, messages = ?, updated_at = ?",
            (error, _dump_messages(messages), now),
        )

    def mark_rejected(
        self, row_id: int, error: str, messages: Sequence[OutboxMessage], now: float
    ) -> bool:
        """DSCO refused the content: keep its messages per record; never retried."""
        return self._finish(
            row_id,
            "state = 'rejected', last_error = ?, messages = ?, updated_at = ?",
            (error, _dump_messages(messages), now),
        )

    def _finish(self, row_id: int, assignments: str, params: tuple[Any, ...]) -> bool:
        with self._db.transaction() as tx:
            cursor = tx.execute(
                f"UPDATE outbox SET {assignments}, claimed_by = NULL "
                "WHERE id = ? AND state = 'sending'",
                (*params, row_id),
            )
            return cursor.rowcount == 1

    def next_due_at(self) -> float | None:
        """When the earliest PENDING row is due (epoch seconds), or None when none waits."""
        row = (
            self._db.connection()
            .execute("SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'pending'")
            .fetchone()
        )
        return None if row[0] is None else float(row[0])


def _dump_messages(messages: Sequence[OutboxMessage]) -> str:
    return dumps(
        [
            {
                "description": m.description,
                "code": m.code,
                "severity": m.severity,
                "record": m.record,
            }
            for m in messages
        ]
    )


def _row(row: sqlite3.Row) -> OutboxRow:
    messages = tuple(
        OutboxMessage(
            description=str(m.get("description") or ""),
            code=m.get("code"),
            severity=m.get("severity"),
            record=m.get("record"),
        )
        for m in loads(row["messages"], [])
    )
    return from_row(
        OutboxRow,
        row,
        payload=loads(row["payload"], {}),
        state=OutboxState(row["state"]),
        result=loads(row["result"]),
        messages=messages,
        context=loads(row["context"]),
    )
