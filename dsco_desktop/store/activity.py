"""The activity log: every DSCO call (method, path, status, time, requestId, error).

It is capped: every `prune_every` records the oldest rows beyond `max_rows` are deleted, so a
busy shop's log never grows without bound.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

from dsco_desktop.domain.activity import CallRecord
from dsco_desktop.store._util import from_row
from dsco_desktop.store.db import Database

DEFAULT_MAX_ROWS = 50_000


class ActivityRepository:
    """Append-only call records, newest first when read."""

    def __init__(
        self, db: Database, *, max_rows: int = DEFAULT_MAX_ROWS, prune_every: int = 500
    ) -> None:
        self._db = db
        self.max_rows = max_rows
        self._prune_every = prune_every
        self._since_prune = 0
        self._lock = threading.Lock()

    def record(self, call: CallRecord) -> None:
        """Append one call (from any thread)."""
        with self._db.transaction() as tx:
            tx.execute(
                "INSERT INTO activity_log (at, method, path, status, duration_ms, request_id,"
                " error) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    call.at,
                    call.method,
                    call.path,
                    call.status,
                    call.duration_ms,
                    call.request_id,
                    call.error,
                ),
            )
        with self._lock:
            self._since_prune += 1
            due = self._since_prune >= self._prune_every
            if due:
                self._since_prune = 0
        if due:
            self.prune()

    def recent(
        self, limit: int = 500, text: str | None = None, errors_only: bool = False
    ) -> list[CallRecord]:
        """The newest calls first; `text` matches path, method, requestId or error."""
        clauses: list[str] = []
        params: list[Any] = []
        if errors_only:
            clauses.append("(error IS NOT NULL OR status IS NULL OR status >= 400)")
        if text:
            pattern = f"%{text}%"
            clauses.append(
                "(path LIKE ? OR method LIKE ? OR request_id LIKE ? OR error LIKE ?"
                " OR CAST(status AS TEXT) = ?)"
            )
            params.extend([pattern, pattern, pattern, pattern, text.strip()])
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._db.connection().execute(
            f"SELECT * FROM activity_log {where} ORDER BY id DESC LIMIT ?", [*params, limit]
        )
        return [_call(row) for row in rows]

    def prune(self, max_rows: int | None = None) -> int:
        """Delete all but the newest `max_rows` records; returns how many were deleted."""
        keep = self.max_rows if max_rows is None else max_rows
        with self._db.transaction() as tx:
            cursor = tx.execute(
                "DELETE FROM activity_log WHERE id <= "
                "(SELECT id FROM activity_log ORDER BY id DESC LIMIT 1 OFFSET ?)",
                (keep,),
            )
            return cursor.rowcount

    def count(self) -> int:
        """How many records the log holds."""
        return int(self._db.connection().execute("SELECT COUNT(*) FROM activity_log").fetchone()[0])


def _call(row: sqlite3.Row) -> CallRecord:
    return from_row(CallRecord, row)
