"""Settings as JSON values by key (the typed model that reads them lives in domain/)."""

from __future__ import annotations

import json
from typing import Any

from dsco_desktop.store._util import dumps
from dsco_desktop.store.db import Database


class SettingsRepository:
    """A small key -> JSON value table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, key: str, default: Any = None) -> Any:
        """The stored value for `key`, or `default` when it was never set."""
        row = (
            self._db.connection()
            .execute("SELECT value FROM settings WHERE key = ?", (key,))
            .fetchone()
        )
        return default if row is None else json.loads(row[0])

    def set(self, key: str, value: Any) -> None:
        """Store a JSON-serialisable value under `key`, replacing any previous one."""
        with self._db.transaction() as tx:
            tx.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, dumps(value)),
            )

    def delete(self, key: str) -> None:
        """Forget `key` (get() returns the default again)."""
        with self._db.transaction() as tx:
            tx.execute("DELETE FROM settings WHERE key = ?", (key,))
