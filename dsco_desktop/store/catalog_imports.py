"""Catalog imports as stored: the import itself and one row per sheet row, with DSCO's verdicts.

An import keeps its file, sheet, header row and column mapping, a state (validated -> pushing ->
following -> done, or cancelled / failed) and a message. Each row keeps its original cells, the
fields it validated to, every problem (with the column it belongs to), how it compares with the
stored catalog, and its push state:

    not_sent -> queued (in an outbox row) -> sent (DSCO answered with a requestId)
             -> accepted | rejected (the change log's verdict) | pending (not applied yet)
    not_sent -> cancelled (the user stopped the push first);  queued -> failed (never delivered)

Rows are written in bulk (`executemany`, one transaction) and read a page at a time, errors
first, for the preview grid.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from dsco_desktop.store._util import dumps, from_row, loads, now_iso
from dsco_desktop.store.db import Database

PUSH_STATES = (
    "not_sent",
    "queued",
    "sent",
    "accepted",
    "rejected",
    "pending",
    "cancelled",
    "failed",
)
# Rows whose outcome at DSCO is not known yet.
OPEN_PUSH_STATES = ("queued", "sent", "pending")


@dataclass(frozen=True)
class ImportRecord:
    """One import of one sheet."""

    id: int
    file_name: str
    file_path: str
    sheet: str | None
    header_row: int
    headers: list[str]
    mapping: list[str]
    mode: str
    state: str
    message: str | None
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class ImportRowRecord:
    """One sheet row of an import, as validated and (maybe) pushed."""

    import_id: int
    row_number: int
    sku: str | None
    upc: str | None
    cells: list[Any]
    item: dict[str, Any]
    issues: list[dict[str, Any]]
    errors: int
    warnings: int
    diff: str
    changed_fields: list[str]
    push_state: str
    outbox_id: int | None
    request_id: str | None
    dsco_message: str | None


@dataclass(frozen=True)
class ImportCounts:
    """How many rows of an import are in each diff and push state."""

    total: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    invalid: int = 0
    skipped: int = 0  # not in the catalog, and the sheet cannot add them
    with_warnings: int = 0
    push: dict[str, int] | None = None

    def pushed(self, state: str) -> int:
        return (self.push or {}).get(state, 0)


ROW_COLUMNS = (
    "import_id, row_number, sku, upc, cells, item, issues, errors, warnings, diff, changed_fields"
)
_INSERT_ROW = (
    f"INSERT OR REPLACE INTO catalog_import_rows ({ROW_COLUMNS}) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def row_values(  # noqa: PLR0917 - one positional per column, in column order
    import_id: int,
    row_number: int,
    sku: str | None,
    upc: str | None,
    cells: Sequence[Any],
    item: dict[str, Any],
    issues: Sequence[dict[str, Any]],
    errors: int,
    warnings: int,
    diff: str,
    changed_fields: Sequence[str],
) -> tuple[Any, ...]:
    """The parameters of one row for `add_rows`, JSON columns encoded."""
    return (
        import_id,
        row_number,
        sku,
        upc,
        dumps(list(cells)),
        dumps(item),
        dumps(list(issues)) if issues else "[]",
        errors,
        warnings,
        diff,
        dumps(list(changed_fields)) if changed_fields else "[]",
    )


class CatalogImportRepository:
    """Imports and their rows."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- imports ---------------------------------------------------------------------------

    def create(
        self,
        *,
        file_name: str,
        file_path: str,
        sheet: str | None,
        header_row: int,
        headers: Sequence[str],
        mapping: Sequence[str],
        conn: sqlite3.Connection | None = None,
    ) -> int:
        now = now_iso()
        params = (
            file_name,
            file_path,
            sheet,
            header_row,
            dumps(list(headers)),
            dumps(list(mapping)),
            now,
            now,
        )
        sql = (
            "INSERT INTO catalog_imports (file_name, file_path, sheet, header_row, headers, "
            "mapping, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'reading', ?, ?)"
        )
        with self._db.joining(conn) as tx:
            return int(tx.execute(sql, params).lastrowid or 0)

    def get(self, import_id: int) -> ImportRecord | None:
        row = (
            self._db.connection()
            .execute("SELECT * FROM catalog_imports WHERE id = ?", (import_id,))
            .fetchone()
        )
        return None if row is None else _import(row)

    def recent(self, limit: int = 20) -> list[ImportRecord]:
        rows = self._db.connection().execute(
            "SELECT * FROM catalog_imports WHERE state != 'reading' ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [_import(r) for r in rows]

    def unfinished(self) -> list[ImportRecord]:
        """Imports whose push was under way when the app stopped (or is still running)."""
        rows = self._db.connection().execute(
            "SELECT * FROM catalog_imports WHERE state IN ('pushing', 'following') ORDER BY id"
        )
        return [_import(r) for r in rows]

    def set_state(
        self,
        import_id: int,
        state: str,
        *,
        message: str | None = None,
        mode: str | None = None,
        conn: sqlite3.Connection | None = None,
    ) -> None:
        sql = (
            "UPDATE catalog_imports SET state = ?, message = ?, mode = COALESCE(?, mode), "
            "updated_at = ? WHERE id = ?"
        )
        params = (state, message, mode, now_iso(), import_id)
        with self._db.joining(conn) as tx:
            tx.execute(sql, params)

    def delete(self, import_id: int) -> None:
        with self._db.transaction() as tx:
            tx.execute("DELETE FROM catalog_imports WHERE id = ?", (import_id,))

    def delete_reading(self, created_before: str) -> int:
        """Delete the imports still being read that were started before a moment (a run that
        was killed mid-validation), with their rows; returns how many."""
        with self._db.transaction() as tx:
            return tx.execute(
                "DELETE FROM catalog_imports WHERE state = 'reading' AND created_at < ?",
                (created_before,),
            ).rowcount

    # -- rows ------------------------------------------------------------------------------

    def add_rows(self, rows: Iterable[tuple[Any, ...]], *, conn: sqlite3.Connection) -> None:
        """Insert rows built with `row_values` (inside the caller's transaction)."""
        conn.executemany(_INSERT_ROW, rows)

    def row(self, import_id: int, row_number: int) -> ImportRowRecord | None:
        found = (
            self._db.connection()
            .execute(
                "SELECT * FROM catalog_import_rows WHERE import_id = ? AND row_number = ?",
                (import_id, row_number),
            )
            .fetchone()
        )
        return None if found is None else _row(found)

    def rows(
        self,
        import_id: int,
        *,
        problems_only: bool = False,
        problems_first: bool = True,
        failures_first: bool = False,
        diffs: Sequence[str] | None = None,
        push_states: Sequence[str] | None = None,
        row_numbers: Sequence[int] | None = None,
        limit: int = -1,
        offset: int = 0,
    ) -> list[ImportRowRecord]:
        """Rows of an import; with `problems_first`, errors, then warnings, then the rest; with
        `failures_first`, rows DSCO rejected or never got, then the rest."""
        where, params, order = _selection(
            import_id, problems_only, problems_first, failures_first, diffs, push_states,
            row_numbers,
        )  # fmt: skip
        sql = f"SELECT * FROM catalog_import_rows WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?"
        return [_row(r) for r in self._db.connection().execute(sql, [*params, limit, offset])]

    def count_unsent(self, import_id: int, diffs: Sequence[str]) -> int:
        """How many valid rows of these diffs have not been sent (nor cancelled)."""
        where, params, _order = _selection(
            import_id, False, False, False, diffs, ("not_sent",), None
        )
        sql = (
            f"SELECT COUNT(*) FROM catalog_import_rows WHERE {where} "
            "AND errors = 0 AND sku IS NOT NULL"
        )
        return int(self._db.connection().execute(sql, params).fetchone()[0])

    def row_numbers(
        self,
        import_id: int,
        *,
        problems_only: bool = False,
        problems_first: bool = True,
        failures_first: bool = False,
        push_states: Sequence[str] | None = None,
    ) -> list[int]:
        """The row numbers `rows` would return, in its order (a grid's order, read once)."""
        where, params, order = _selection(
            import_id, problems_only, problems_first, failures_first, None, push_states, None
        )
        sql = f"SELECT row_number FROM catalog_import_rows WHERE {where} ORDER BY {order}"
        return [int(r[0]) for r in self._db.connection().execute(sql, params)]

    def rows_sharing(self, import_id: int, column: str, value: str) -> list[int]:
        """Row numbers whose sku (case-insensitively) or upc equals `value`, in order."""
        # Sorted here: an ORDER BY row_number would lead SQLite to the primary key (no sort)
        # and a scan of the whole import instead of the sku/upc index.
        if column == "sku":
            sql = (
                "SELECT row_number FROM catalog_import_rows WHERE import_id = ? "
                "AND sku = ? COLLATE NOCASE"
            )
        elif column == "upc":
            sql = "SELECT row_number FROM catalog_import_rows WHERE import_id = ? AND upc = ?"
        else:
            raise ValueError(column)
        return sorted(int(r[0]) for r in self._db.connection().execute(sql, (import_id, value)))

    def counts(self, import_id: int) -> ImportCounts:
        conn = self._db.connection()
        diffs = {
            str(d): int(n)
            for d, n in conn.execute(
                "SELECT diff, COUNT(*) FROM catalog_import_rows WHERE import_id = ? GROUP BY diff",
                (import_id,),
            )
        }
        warned = conn.execute(
            "SELECT COUNT(*) FROM catalog_import_rows WHERE import_id = ? AND warnings > 0 "
            "AND errors = 0",
            (import_id,),
        ).fetchone()[0]
        push = {
            str(s): int(n)
            for s, n in conn.execute(
                "SELECT push_state, COUNT(*) FROM catalog_import_rows WHERE import_id = ? "
                "GROUP BY push_state",
                (import_id,),
            )
        }
        return ImportCounts(
            total=sum(diffs.values()),
            new=diffs.get("new", 0),
            changed=diffs.get("changed", 0),
            unchanged=diffs.get("unchanged", 0),
            invalid=diffs.get("invalid", 0),
            skipped=diffs.get("skipped", 0),
            with_warnings=int(warned),
            push=push,
        )

    def set_push_states(
        self,
        import_id: int,
        updates: Iterable[tuple[int, str, str | None, str | None]],
        *,
        conn: sqlite3.Connection | None = None,
    ) -> None:
        """(row_number, push_state, DSCO message, request_id) per row; None keeps a value."""
        rows = [
            (state, message, request_id, import_id, number)
            for number, state, message, request_id in updates
        ]
        sql = (
            "UPDATE catalog_import_rows SET push_state = ?, dsco_message = ?, "
            "request_id = COALESCE(?, request_id) WHERE import_id = ? AND row_number = ?"
        )
        with self._db.joining(conn) as tx:
            tx.executemany(sql, rows)

    def mark_queued(
        self,
        import_id: int,
        row_numbers: Sequence[int],
        outbox_id: int,
        *,
        conn: sqlite3.Connection,
    ) -> None:
        conn.executemany(
            "UPDATE catalog_import_rows SET push_state = 'queued', outbox_id = ?, "
            "dsco_message = NULL WHERE import_id = ? AND row_number = ?",
            [(outbox_id, import_id, n) for n in row_numbers],
        )

    def cancel_unsent(self, import_id: int) -> int:
        """Rows not handed to the outbox yet become 'cancelled'; returns how many."""
        with self._db.transaction() as tx:
            cursor = tx.execute(
                "UPDATE catalog_import_rows SET push_state = 'cancelled' "
                "WHERE import_id = ? AND push_state = 'not_sent' AND outbox_id IS NULL "
                "AND row_number IN (SELECT row_number FROM catalog_import_rows "
                "WHERE import_id = ? AND push_state = 'not_sent' AND errors = 0 "
                "AND diff IN ('new', 'changed'))",
                (import_id, import_id),
            )
            return cursor.rowcount

    def queued_outbox_ids(self, import_id: int) -> list[int]:
        rows = self._db.connection().execute(
            "SELECT DISTINCT outbox_id FROM catalog_import_rows WHERE import_id = ? "
            "AND push_state = 'queued' AND outbox_id IS NOT NULL ORDER BY outbox_id",
            (import_id,),
        )
        return [int(r[0]) for r in rows]

    def rows_in_outbox(self, import_id: int, outbox_id: int) -> list[tuple[int, str | None]]:
        """(row_number, sku) of the rows an outbox row carries, in order (sorted here, so SQLite
        uses the outbox index rather than the primary key)."""
        rows = self._db.connection().execute(
            "SELECT row_number, sku FROM catalog_import_rows WHERE import_id = ? AND outbox_id = ?",
            (import_id, outbox_id),
        )
        return sorted((int(r[0]), r[1]) for r in rows)

    def open_requests(self, import_id: int) -> list[str]:
        """requestIds whose rows are still waiting for DSCO's verdict."""
        rows = self._db.connection().execute(
            "SELECT DISTINCT request_id FROM catalog_import_rows WHERE import_id = ? "
            "AND push_state IN ('sent', 'pending') AND request_id IS NOT NULL",
            (import_id,),
        )
        return [str(r[0]) for r in rows]

    def rows_of_request(self, import_id: int, request_id: str) -> list[tuple[int, str | None]]:
        rows = self._db.connection().execute(
            "SELECT row_number, sku FROM catalog_import_rows WHERE import_id = ? "
            "AND request_id = ? AND push_state IN ('sent', 'pending')",
            (import_id, request_id),
        )
        return [(int(r[0]), r[1]) for r in rows]

    def update_row(
        self,
        import_id: int,
        row_number: int,
        values: tuple[Any, ...],
        *,
        conn: sqlite3.Connection,
    ) -> None:
        """Replace a row's validation (values built with `row_values`), keeping its push state."""
        (_, _, sku, upc, cells, item, issues, errors, warnings, diff, changed) = values
        conn.execute(
            "UPDATE catalog_import_rows SET sku = ?, upc = ?, cells = ?, item = ?, issues = ?, "
            "errors = ?, warnings = ?, diff = ?, changed_fields = ? "
            "WHERE import_id = ? AND row_number = ?",
            (sku, upc, cells, item, issues, errors, warnings, diff, changed, import_id, row_number),
        )


def _import(row: sqlite3.Row) -> ImportRecord:
    return from_row(
        ImportRecord, row, headers=loads(row["headers"], []), mapping=loads(row["mapping"], [])
    )


def _selection(  # noqa: PLR0917 - the filters of `rows`, in its order
    import_id: int,
    problems_only: bool,
    problems_first: bool,
    failures_first: bool,
    diffs: Sequence[str] | None,
    push_states: Sequence[str] | None,
    row_numbers: Sequence[int] | None,
) -> tuple[str, list[Any], str]:
    """(WHERE, its parameters, ORDER BY) of a selection of an import's rows."""
    where = ["import_id = ?"]
    params: list[Any] = [import_id]
    if problems_only:
        where.append("(errors > 0 OR warnings > 0)")
    for column, values in (
        ("diff", diffs),
        ("push_state", push_states),
        ("row_number", row_numbers),
    ):
        if values is not None:
            where.append(f"{column} IN ({', '.join('?' * len(values))})")
            params.extend(values)
    if failures_first:
        order = "push_state IN ('rejected', 'failed') DESC, row_number"
    elif problems_first:
        order = "errors > 0 DESC, warnings > 0 DESC, row_number"
    else:
        order = "row_number"
    return " AND ".join(where), params, order


def _row(row: sqlite3.Row) -> ImportRowRecord:
    return ImportRowRecord(
        import_id=row["import_id"],
        row_number=row["row_number"],
        sku=row["sku"],
        upc=row["upc"],
        cells=loads(row["cells"], []),
        item=loads(row["item"], {}),
        issues=loads(row["issues"], []),
        errors=row["errors"],
        warnings=row["warnings"],
        diff=row["diff"],
        changed_fields=loads(row["changed_fields"], []),
        push_state=row["push_state"],
        outbox_id=row["outbox_id"],
        request_id=row["request_id"],
        dsco_message=row["dsco_message"],
    )
