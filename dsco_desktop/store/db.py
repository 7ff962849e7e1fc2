"""The SQLite database: one file, one connection per thread, schema migrated at first open.

Every thread that touches the store gets its own connection (sqlite3 connections must not be
shared across threads mid-transaction), all configured the same way: WAL so readers never block
the writer, foreign keys on, synchronous=NORMAL (durable across an application crash, which is
what WAL plus NORMAL guarantees), a busy timeout so short write contention waits instead of
failing, and rows that can be read by column name.

SQLite failures a user can act on (a corrupt file, a database locked by another program, a full
disk) are translated into `StoreError` with a plain message; a database written by a newer
version of the app is refused with `SchemaTooNewError` before anything is written to it.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from dsco_desktop.errors import UserFacingError
from dsco_desktop.store.migrations import MIGRATIONS, Migration, apply_migrations, latest_version

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000


class SchemaTooNewError(UserFacingError):
    """The database was written by a newer DSCO Desktop; opening it could damage it."""


class StoreError(UserFacingError):
    """The database cannot be used right now (corrupt, locked, disk full, unreadable)."""


def translate_error(exc: sqlite3.Error, path: Path) -> StoreError:
    """Turn a low-level SQLite error into a message a shop owner can act on."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        message = (
            f"The database {path} is busy: another program is using it. "
            "Close other copies of DSCO Desktop (or tools that have the file open) and try again."
        )
    elif "disk is full" in text or "disk full" in text:
        message = (
            f"The disk holding {path} is full, so the change was not saved. "
            "Free some space and try again."
        )
    elif "not a database" in text or "malformed" in text or "corrupt" in text:
        message = (
            f"The database {path} is damaged and cannot be read. "
            "Restore it from a backup, or move it away to start with an empty one."
        )
    elif "readonly" in text or "read-only" in text or "unable to open" in text:
        message = (
            f"The database {path} cannot be written. "
            "Check that the folder exists and that you may write to it."
        )
    else:
        message = f"The local database {path} reported an error: {exc}"
    return StoreError(message, detail=f"{type(exc).__name__}: {exc}")


class Database:
    """The app's SQLite file; hands each thread its own configured connection."""

    def __init__(self, path: Path, *, migrations: Sequence[Migration] = MIGRATIONS) -> None:
        self.path = Path(path)
        self._migrations = tuple(migrations)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        # Bumped by close_all so threads holding a closed connection open a fresh one.
        self._generation = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"Cannot create the folder for the database {self.path}: {exc.strerror}.",
                detail=str(exc),
            ) from exc
        self._refuse_if_too_new()
        try:
            apply_migrations(self.connection(), self._migrations)
        except sqlite3.Error as exc:
            self.close()
            raise translate_error(exc, self.path) from exc

    def _refuse_if_too_new(self) -> None:
        """Read user_version without writing anything, so a newer app's file stays untouched."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        try:
            probe = sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True)
            try:
                version = int(probe.execute("PRAGMA user_version").fetchone()[0])
            finally:
                probe.close()
        except sqlite3.Error as exc:
            raise translate_error(exc, self.path) from exc
        supported = latest_version(self._migrations)
        if version > supported:
            raise SchemaTooNewError(
                f"The database {self.path} was created by a newer version of DSCO Desktop "
                f"(schema {version}; this version understands up to {supported}). "
                "Update DSCO Desktop to open it. The file was left unchanged.",
                detail=f"user_version={version} > {supported}",
            )

    @property
    def schema_version(self) -> int:
        """The schema version of the open file (PRAGMA user_version)."""
        return int(self.connection().execute("PRAGMA user_version").fetchone()[0])

    def connection(self) -> sqlite3.Connection:
        """This thread's own connection, opened and configured on first use."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "generation", -1) == self._generation:
            return conn
        try:
            # isolation_level=None: transactions are begun explicitly (BEGIN IMMEDIATE) so the
            # write lock is taken up front and never upgraded mid-transaction (no SQLITE_BUSY
            # deadlocks between two writers).
            conn = sqlite3.connect(
                self.path,
                isolation_level=None,
                timeout=BUSY_TIMEOUT_MS / 1000,
                check_same_thread=False,
            )
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        except sqlite3.Error as exc:
            raise translate_error(exc, self.path) from exc
        with self._lock:
            self._connections.append(conn)
            self._local.conn = conn
            self._local.generation = self._generation
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction on this thread's connection: all of it commits, or none of it.

        Nested use (a repository joining a transaction already open on this thread) becomes a
        savepoint, so an inner failure rolls back only the inner part.
        """
        conn = self.connection()
        if conn.in_transaction:
            depth = getattr(self._local, "savepoints", 0) + 1
            self._local.savepoints = depth
            name = f"sp_{depth}"
            conn.execute(f"SAVEPOINT {name}")
            try:
                yield conn
            except BaseException:
                conn.execute(f"ROLLBACK TO {name}")
                conn.execute(f"RELEASE {name}")
                raise
            else:
                conn.execute(f"RELEASE {name}")
            finally:
                self._local.savepoints = depth - 1
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise translate_error(exc, self.path) from exc
        try:
            yield conn
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            # Integrity and programming errors are the caller's to handle; the rest is the
            # file's condition (locked, full, corrupt), which the user must hear about.
            if isinstance(exc, sqlite3.Error) and not isinstance(
                exc, sqlite3.IntegrityError | sqlite3.ProgrammingError
            ):
                raise translate_error(exc, self.path) from exc
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise translate_error(exc, self.path) from exc

    @contextmanager
    def joining(self, conn: sqlite3.Connection | None) -> Iterator[sqlite3.Connection]:
        """The caller's open transaction when it passes one (a repository write that is part of
        a larger unit of work), else a transaction of its own."""
        if conn is not None:
            yield conn
            return
        with self.transaction() as tx:
            yield tx

    def close(self) -> None:
        """Close the calling thread's connection (a thread's last act before it ends)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is None:
            return
        with self._lock:
            if conn in self._connections:
                self._connections.remove(conn)
        conn.close()

    def close_all(self) -> None:
        """Close every thread's connection (at shutdown, after the workers have stopped)."""
        with self._lock:
            connections, self._connections = self._connections, []
            self._generation += 1
        for conn in connections:
            try:
                conn.close()
            except sqlite3.Error:  # pragma: no cover - closing is best effort at shutdown
                log.warning("closing a database connection failed", exc_info=True)
        self._local.conn = None
