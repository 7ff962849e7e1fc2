"""The database file: migrations at open, refusing newer files, pragmas, per-thread connections."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path

import pytest

from dsco_desktop.store.db import Database, SchemaTooNewError, StoreError
from dsco_desktop.store.migrations import MIGRATIONS, Migration, latest_version


def _tables(db: Database) -> set[str]:
    rows = db.connection().execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {r[0] for r in rows}


def test_fresh_database_gets_every_table_and_the_latest_version(tmp_path: Path) -> None:
    db = Database(tmp_path / "nested" / "dir" / "dsco.sqlite3")
    assert db.path.exists()
    assert db.schema_version == latest_version() == MIGRATIONS[-1].version
    assert {
        "items",
        "inventory",
        "orders",
        "order_lines",
        "packages",
        "cancels",
        "invoices",
        "invoice_lines",
        "returns",
        "return_lines",
        "stream_checkpoints",
        "outbox",
        "activity_log",
        "settings",
    } <= _tables(db)
    db.close_all()


def test_reopening_an_up_to_date_database_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "dsco.sqlite3"
    db = Database(path)
    with db.transaction() as tx:
        tx.execute("INSERT INTO settings (key, value) VALUES ('k', '1')")
    db.close_all()
    again = Database(path)
    assert again.connection().execute("SELECT value FROM settings").fetchone()[0] == "1"
    assert again.schema_version == latest_version()
    again.close_all()


def _step(version: int, table: str) -> Migration:
    return Migration(version, f"add {table}", (f"CREATE TABLE {table} (id INTEGER PRIMARY KEY)",))


def test_older_database_is_upgraded_in_order_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "dsco.sqlite3"
    old = Database(path, migrations=[_step(1, "a")])
    with old.transaction() as tx:
        tx.execute("INSERT INTO a (id) VALUES (7)")
    old.close_all()

    # v3 depends on v2's table: applying out of order would fail.
    steps = [
        Migration(3, "copy", ("INSERT INTO b (id) SELECT id FROM a",)),
        _step(1, "a"),
        _step(2, "b"),
    ]
    new = Database(path, migrations=steps)
    assert new.schema_version == 3
    assert new.connection().execute("SELECT id FROM b").fetchall()[0][0] == 7
    new.close_all()


def test_a_failing_migration_leaves_the_last_complete_version(tmp_path: Path) -> None:
    path = tmp_path / "dsco.sqlite3"
    broken = [
        _step(1, "a"),
        Migration(2, "half done", ("CREATE TABLE b (id INTEGER)", "THIS IS NOT SQL")),
    ]
    with pytest.raises(StoreError):
        Database(path, migrations=broken)
    probe = sqlite3.connect(path)
    assert probe.execute("PRAGMA user_version").fetchone()[0] == 1
    names = {r[0] for r in probe.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    probe.close()
    assert "a" in names
    assert "b" not in names  # the failed step's first statement was rolled back too


def test_database_newer_than_the_app_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "dsco.sqlite3"
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE future (x TEXT)")
    raw.execute("INSERT INTO future VALUES ('from a newer app')")
    raw.execute(f"PRAGMA user_version = {latest_version() + 5}")
    raw.commit()
    raw.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    siblings_before = sorted(p.name for p in tmp_path.iterdir())

    with pytest.raises(SchemaTooNewError) as caught:
        Database(path)

    message = str(caught.value)
    assert "newer version of DSCO Desktop" in message
    assert "Update DSCO Desktop" in message
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == siblings_before


def test_a_file_that_is_not_a_database_gives_a_plain_message(tmp_path: Path) -> None:
    path = tmp_path / "dsco.sqlite3"
    path.write_bytes(b"this is a spreadsheet, not a database" * 200)
    with pytest.raises(StoreError) as caught:
        Database(path)
    assert "damaged" in str(caught.value)


def test_connections_use_wal_foreign_keys_and_rows_by_name(tmp_path: Path) -> None:
    db = Database(tmp_path / "dsco.sqlite3")
    conn = db.connection()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] > 0
    row = conn.execute("SELECT 5 AS five").fetchone()
    assert row["five"] == 5
    # Foreign keys are enforced: a line for an order that does not exist is refused.
    with pytest.raises(sqlite3.IntegrityError), db.transaction() as tx:
        tx.execute("INSERT INTO order_lines (dsco_order_id, line_index) VALUES ('nope', 0)")
    db.close_all()


def test_each_thread_gets_its_own_connection(tmp_path: Path) -> None:
    db = Database(tmp_path / "dsco.sqlite3")
    main = db.connection()
    assert db.connection() is main
    seen: list[sqlite3.Connection] = []
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            conn = db.connection()
            seen.append(conn)
            assert db.connection() is conn
            with db.transaction() as tx:
                tx.execute("INSERT INTO settings (key, value) VALUES (?, ?)", (f"t{n}", str(n)))
            db.close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len({id(c) for c in seen}) == 4
    assert all(c is not main for c in seen)
    assert main.execute("SELECT COUNT(*) FROM settings").fetchone()[0] == 4
    db.close_all()


def test_transaction_rolls_back_everything_on_error(tmp_path: Path) -> None:
    db = Database(tmp_path / "dsco.sqlite3")
    with pytest.raises(RuntimeError), db.transaction() as tx:
        tx.execute("INSERT INTO settings (key, value) VALUES ('a', '1')")
        raise RuntimeError("boom")
    assert db.connection().execute("SELECT COUNT(*) FROM settings").fetchone()[0] == 0


def test_nested_transaction_failure_undoes_only_the_inner_part(tmp_path: Path) -> None:
    db = Database(tmp_path / "dsco.sqlite3")
    with db.transaction() as outer:
        outer.execute("INSERT INTO settings (key, value) VALUES ('outer', '1')")
        with pytest.raises(RuntimeError), db.transaction() as inner:
            inner.execute("INSERT INTO settings (key, value) VALUES ('inner', '1')")
            raise RuntimeError("inner failed")
    keys = [r[0] for r in db.connection().execute("SELECT key FROM settings")]
    assert keys == ["outer"]


def test_a_write_joining_the_callers_transaction_is_undone_with_it(tmp_path: Path) -> None:
    db = Database(tmp_path / "dsco.sqlite3")
    with pytest.raises(RuntimeError), db.transaction() as outer:
        with db.joining(outer) as tx:
            tx.execute("INSERT INTO settings (key, value) VALUES ('joined', '1')")
        raise RuntimeError("the caller's unit of work failed")
    with db.joining(None) as tx:
        tx.execute("INSERT INTO settings (key, value) VALUES ('alone', '1')")
    # A write on its own commits at once: another connection sees it.
    other = sqlite3.connect(tmp_path / "dsco.sqlite3")
    assert [r[0] for r in other.execute("SELECT key FROM settings")] == ["alone"]
    other.close()
    db.close_all()


def test_close_all_then_use_again_reopens(tmp_path: Path) -> None:
    db = Database(tmp_path / "dsco.sqlite3")
    first = db.connection()
    db.close_all()
    second = db.connection()
    assert second is not first
    assert second.execute("SELECT 1").fetchone()[0] == 1


def test_a_locked_database_gives_a_plain_message(tmp_path: Path) -> None:
    path = tmp_path / "dsco.sqlite3"
    db = Database(path)
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    other.execute("BEGIN EXCLUSIVE")
    try:
        conn = db.connection()
        conn.execute("PRAGMA busy_timeout = 50")
        with pytest.raises(StoreError) as caught, db.transaction() as tx:
            tx.execute("INSERT INTO settings (key, value) VALUES ('a', '1')")
        assert "another program" in str(caught.value)
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_a_full_disk_gives_a_plain_message_and_keeps_earlier_data(tmp_path: Path) -> None:
    db = Database(tmp_path / "dsco.sqlite3")
    with db.transaction() as tx:
        tx.execute("INSERT INTO settings (key, value) VALUES ('kept', '1')")
    conn = db.connection()
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")  # the file cannot grow: as if the disk is full
    with pytest.raises(StoreError) as caught, db.transaction() as tx:
        tx.executemany(
            "INSERT INTO settings (key, value) VALUES (?, ?)",
            [(f"k{n}", "x" * 1000) for n in range(1000)],
        )
    assert "full" in str(caught.value)
    assert "was not saved" in str(caught.value)
    assert [r[0] for r in conn.execute("SELECT key FROM settings")] == ["kept"]
