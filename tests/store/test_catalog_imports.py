"""Import rows: the lookups the wizard and the push make go through an index, not the whole
import (a 100,000-row import must answer an inline fix or a change-log verdict at once)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import pytest

from dsco_desktop.store.catalog_imports import CatalogImportRepository, row_values
from dsco_desktop.store.db import Database


def plans(db: Database, action: Callable[[], object]) -> list[str]:
    """The query plan of every SELECT `action` runs on this thread's connection."""
    conn = db.connection()
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        action()
    finally:
        conn.set_trace_callback(None)
    found = []
    for sql in statements:
        if sql.lstrip().upper().startswith("SELECT"):
            rows = conn.execute("EXPLAIN QUERY PLAN " + sql).fetchall()
            found.append(" / ".join(str(r[-1]) for r in rows))
    return found


@pytest.fixture
def imports(db: Database) -> tuple[CatalogImportRepository, int]:
    repo = CatalogImportRepository(db)
    import_id = repo.create(
        file_name="big.xlsx", file_path="/tmp/big.xlsx", sheet="Items", header_row=0,
        headers=["sku", "upc"], mapping=["sku", "upc"],
    )  # fmt: skip
    rows = [
        row_values(import_id, n, f"SKU{n}", f"{n:012d}", [f"SKU{n}"], {}, [], 0, 0, "new", [])
        for n in range(2, 2002)
    ]
    with db.transaction() as tx:
        repo.add_rows(rows, conn=tx)
        tx.execute(
            "UPDATE catalog_import_rows SET outbox_id = 7, request_id = 'r-1', push_state = 'sent'"
            " WHERE row_number < 100"
        )
    return repo, import_id


@pytest.mark.parametrize(
    ("lookup", "index"),
    [
        (lambda repo, i: repo.rows_sharing(i, "sku", "sku5"), "catalog_import_rows_sku"),
        (lambda repo, i: repo.rows_sharing(i, "upc", "000000000005"), "catalog_import_rows_upc"),
        (lambda repo, i: repo.rows_in_outbox(i, 7), "catalog_import_rows_outbox"),
        (lambda repo, i: repo.queued_outbox_ids(i), "catalog_import_rows_outbox"),
        (lambda repo, i: repo.open_requests(i), "catalog_import_rows_request"),
        (lambda repo, i: repo.rows_of_request(i, "r-1"), "catalog_import_rows_request"),
    ],
)
def test_row_lookups_use_their_index(
    db: Database,
    imports: tuple[CatalogImportRepository, int],
    lookup: Callable[[CatalogImportRepository, int], object],
    index: str,
) -> None:
    repo, import_id = imports
    found = plans(db, lambda: lookup(repo, import_id))
    assert found and all(f"USING INDEX {index}" in plan for plan in found), found


def test_sku_lookup_ignores_case_and_returns_rows_in_order(
    imports: tuple[CatalogImportRepository, int],
) -> None:
    repo, import_id = imports
    with repo._db.transaction() as tx:  # a duplicate in other case, further down
        tx.execute(
            "UPDATE catalog_import_rows SET sku = 'sku5' WHERE import_id = ? AND row_number = 9",
            (import_id,),
        )
    assert repo.rows_sharing(import_id, "sku", "SKU5") == [5, 9]
    assert repo.rows_in_outbox(import_id, 7)[:2] == [(2, "SKU2"), (3, "SKU3")]


def test_a_partial_index_leaves_rows_not_yet_pushed_out(db: Database) -> None:
    sql = "SELECT sql FROM sqlite_master WHERE name = ?"
    for name in ("catalog_import_rows_outbox", "catalog_import_rows_request"):
        definition = db.connection().execute(sql, (name,)).fetchone()[0]
        assert "IS NOT NULL" in definition, definition
    with pytest.raises(sqlite3.OperationalError):
        db.connection().execute(
            "SELECT * FROM catalog_import_rows INDEXED BY catalog_import_rows_push"
        )
