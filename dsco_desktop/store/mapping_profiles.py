"""Saved column-mapping profiles, for any spreadsheet import (catalog, inventory, ...).

A profile remembers, per normalised header, what the user mapped it to, under a name and the
layout fingerprint of the sheet it was made from. The importer looks the layout up first, so a
supplier's weekly file maps itself the way it was mapped last time.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass

from dsco_desktop.store._util import dumps, from_row, loads, now_iso
from dsco_desktop.store.db import Database

AUTO_PROFILE_PREFIX = "Last used: "


@dataclass(frozen=True)
class MappingProfile:
    """One saved mapping."""

    id: int
    kind: str
    name: str
    layout_key: str
    choices: dict[str, str]
    updated_at: str


class MappingProfileRepository:
    """Mapping profiles by kind (which import) and name."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def save(self, kind: str, name: str, layout_key: str, choices: Mapping[str, str]) -> int:
        """Create or replace the profile `name` of this kind."""
        with self._db.transaction() as tx:
            tx.execute(
                "INSERT INTO mapping_profiles (kind, name, layout_key, choices, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(kind, name) DO UPDATE SET "
                "layout_key = excluded.layout_key, choices = excluded.choices, "
                "updated_at = excluded.updated_at",
                (kind, name, layout_key, dumps(dict(choices)), now_iso()),
            )
            row = tx.execute(
                "SELECT id FROM mapping_profiles WHERE kind = ? AND name = ?", (kind, name)
            ).fetchone()
        return int(row[0])

    def for_layout(self, kind: str, layout_key: str) -> MappingProfile | None:
        """The most recently saved profile made from this layout, if any."""
        row = (
            self._db.connection()
            .execute(
                "SELECT * FROM mapping_profiles WHERE kind = ? AND layout_key = ? "
                "ORDER BY updated_at DESC, id DESC LIMIT 1",
                (kind, layout_key),
            )
            .fetchone()
        )
        return None if row is None else _profile(row)

    def list(self, kind: str) -> list[MappingProfile]:
        rows = self._db.connection().execute(
            "SELECT * FROM mapping_profiles WHERE kind = ? ORDER BY name COLLATE NOCASE", (kind,)
        )
        return [_profile(r) for r in rows]

    def get(self, kind: str, name: str) -> MappingProfile | None:
        row = (
            self._db.connection()
            .execute("SELECT * FROM mapping_profiles WHERE kind = ? AND name = ?", (kind, name))
            .fetchone()
        )
        return None if row is None else _profile(row)

    def delete(self, kind: str, name: str) -> bool:
        with self._db.transaction() as tx:
            cursor = tx.execute(
                "DELETE FROM mapping_profiles WHERE kind = ? AND name = ?", (kind, name)
            )
            return cursor.rowcount == 1


def _profile(row: sqlite3.Row) -> MappingProfile:
    return from_row(MappingProfile, row, choices=loads(row["choices"], {}))
