"""Stream checkpoints: the last position processed per DSCO stream partition.

The poller saves the position in the same transaction as the orders it read (pass `conn`), so
the position never runs ahead of the data.
"""

from __future__ import annotations

import sqlite3

from dsco_desktop.store._util import now_iso
from dsco_desktop.store.db import Database


class StreamCheckpointRepository:
    """Positions by (stream_id, partition_id)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, stream_id: str, partition_id: int = 0) -> str | None:
        """The saved position, or None when this partition was never read."""
        row = (
            self._db.connection()
            .execute(
                "SELECT position FROM stream_checkpoints WHERE stream_id = ? AND partition_id = ?",
                (stream_id, partition_id),
            )
            .fetchone()
        )
        return None if row is None else str(row[0])

    def updated_at(self, stream_id: str, partition_id: int = 0) -> str | None:
        """When the position last moved (UTC ISO), for "time since the last event"."""
        row = (
            self._db.connection()
            .execute(
                "SELECT updated_at FROM stream_checkpoints "
                "WHERE stream_id = ? AND partition_id = ?",
                (stream_id, partition_id),
            )
            .fetchone()
        )
        return None if row is None else str(row[0])

    def set(
        self,
        stream_id: str,
        partition_id: int,
        position: str,
        *,
        conn: sqlite3.Connection | None = None,
    ) -> None:
        """Save the position (inside the caller's transaction when `conn` is given)."""
        sql = """
            INSERT INTO stream_checkpoints (stream_id, partition_id, position, updated_at)
            VALUES (?, ?, ?, ?)
            ON CONFLICT(stream_id, partition_id) DO UPDATE SET
                position = excluded.position, updated_at = excluded.updated_at
        """
        params = (stream_id, partition_id, position, now_iso())
        with self._db.joining(conn) as tx:
            tx.execute(sql, params)
