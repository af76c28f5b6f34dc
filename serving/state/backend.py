"""What differs between database engines, behind one small seam.

The store writes its SQL once (``serving.state.sql``, ``?`` placeholders, portable SQL) and
asks the backend for the rest: how to connect (rows read by column name), the placeholder
style, how to start a write transaction, the DDL, and the few expressions engines spell
differently. SQLite (here) is the default engine; PostgreSQL (``serving.state.pg_backend``,
issue 22) is a class with the same attributes and its own schema (``pg_schema``).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from serving.private import create_private, private_files, sqlite_files
from serving.state.schema import SQLITE_DDL

WRITER_CACHE = "PRAGMA cache_size=-65536"
"""The writing connection's page cache, in KiB (negative: a size, not a page count)."""
Row = Mapping[str, Any]
"""A result row, read by column name (``sqlite3.Row``; ``dict_row`` on PostgreSQL)."""


class Backend(Protocol):
    """One database engine: connections, placeholder style, DDL, engine-specific SQL."""

    @property
    def name(self) -> str:
        """The engine's name (``sqlite``)."""
        ...

    @property
    def placeholder(self) -> str:
        """How a parameter is written in SQL (``?`` or ``%s``)."""
        ...

    @property
    def begin_write(self) -> str:
        """The statement that starts a write transaction holding the write lock."""
        ...

    @property
    def write_lock(self) -> Sequence[str]:
        """Statements run after ``begin_write`` to hold the database's one write lock.

        None on SQLite, whose ``BEGIN IMMEDIATE`` holds it; PostgreSQL takes an advisory
        lock, so replicas' writes are serialised as one file's are.
        """
        ...

    @property
    def begin_snapshot(self) -> str:
        """The statement that starts a read transaction seeing one snapshot throughout.

        ``BEGIN`` on SQLite in WAL; ``BEGIN ISOLATION LEVEL REPEATABLE READ`` on
        PostgreSQL, whose plain ``BEGIN`` reads each statement's own snapshot.
        """
        ...

    @property
    def kinds_agg(self) -> str:
        """The expression joining the identifier kinds ``o.kind`` of a group with commas."""
        ...

    @property
    def shares_one_connection(self) -> bool:
        """Whether reads must use the writer's connection."""
        ...

    def connect(self) -> Any:
        """A DB-API connection in autocommit mode whose rows are read by name."""
        ...

    def ddl(self) -> Sequence[str]:
        """Statements that create every table, index and trigger (idempotent)."""
        ...


@dataclass(frozen=True)
class SqliteBackend:
    """SQLite in WAL mode with ``synchronous=FULL``: a commit survives a machine crash.

    ``:memory:`` is one database per connection, so then reads share the writer's
    connection (and its lock); a file gets a reading connection per thread, which WAL lets
    run beside a write and which never sees a transaction that is not committed.
    """

    path: Path | str
    name: str = "sqlite"
    placeholder: str = "?"
    begin_write: str = "BEGIN IMMEDIATE"
    write_lock: tuple[str, ...] = ()
    begin_snapshot: str = "BEGIN"  # a WAL read transaction sees one snapshot throughout
    kinds_agg: str = "group_concat(DISTINCT o.kind)"

    @property
    def shares_one_connection(self) -> bool:
        """Whether readers must use the writer's connection (in-memory databases)."""
        return str(self.path) == ":memory:"

    def connect(self) -> sqlite3.Connection:
        """A durable connection (the caller creates the folder beforehand).

        The database and its ``-wal``/``-shm`` files are owner-only (``serving.private``).
        """
        on_disk = not self.shares_one_connection
        if on_disk:
            create_private(Path(self.path))
        # SQLite gives its -wal and -shm files the database file's mode
        db = sqlite3.connect(
            str(self.path), check_same_thread=False, isolation_level=None
        )
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        if on_disk:
            private_files(sqlite_files(Path(self.path)))
        return db

    def ddl(self) -> Sequence[str]:
        """The SQLite tables, indexes and append-only triggers, and the writer's cache.

        The store runs these on its one writing connection only, so the larger page
        cache (64 MiB instead of 2) is the writer's alone: a batch inserting tens of
        thousands of linkage rows at random places in the indexes took half as long
        with it, and held the write lock half as long (issue 18).
        """
        return (*SQLITE_DDL, WRITER_CACHE)


class RolledBack(RuntimeError):
    """A COMMIT the database answered by rolling back (nothing was kept)."""


@dataclass
class Connection:
    """One connection with its lock: SQL with ``?`` in, rows by name out."""

    raw: Any
    backend: Backend
    lock: threading.RLock = field(default_factory=threading.RLock)

    def _sql(self, text: str) -> str:
        if self.backend.placeholder == "?":
            return text
        # psycopg's ``%s``: a literal ``%`` is written ``%%``
        return text.replace("%", "%%").replace("?", self.backend.placeholder)

    @property
    def broken(self) -> bool:
        """Whether the connection is closed or lost (a database restart, a failover).

        SQLite's never is; psycopg marks a connection broken once a statement found it
        lost.
        """
        return bool(
            getattr(self.raw, "closed", False) or getattr(self.raw, "broken", False)
        )

    def _idle(self) -> bool:
        """Whether no transaction is open on the connection (nothing would be lost)."""
        info = getattr(self.raw, "info", None)
        if info is None:  # sqlite3
            return not bool(getattr(self.raw, "in_transaction", False))
        from psycopg.pq import TransactionStatus

        return bool(info.transaction_status == TransactionStatus.IDLE)

    def reopen_if_broken(self) -> None:
        """A new connection in place of a lost one; only between transactions."""
        if self.broken:
            with contextlib.suppress(Exception):
                self.raw.close()
            self.raw = self.backend.connect()

    def _execute(self, text: str, params: Sequence[Any]) -> Any:
        """Execute; a read or BEGIN that found the connection lost runs again on a new one.

        Only when no transaction was open (a lost transaction's writes are never
        replayed) and only a statement that changes nothing (``SELECT``, ``BEGIN``): the
        first request after a database restart succeeds instead of failing. A connection
        lost inside a transaction is not replaced here: the transaction fails, and the
        store replaces it before the next one (``reopen_if_broken``).
        """
        idle = not self.broken and self._idle()
        try:
            return self.raw.execute(self._sql(text), tuple(params))
        except Exception:
            retry = text.lstrip().upper().startswith(("SELECT", "BEGIN"))
            if not (idle and retry and self.broken):
                raise
        self.reopen_if_broken()
        return self.raw.execute(self._sql(text), tuple(params))

    def rows(self, text: str, params: Sequence[Any] = ()) -> list[Row]:
        """Every row of a query."""
        return list(self._execute(text, params).fetchall())

    def one(self, text: str, params: Sequence[Any] = ()) -> Row | None:
        """The first row of a query, or None."""
        row: Row | None = self._execute(text, params).fetchone()
        return row

    def run(self, text: str, params: Sequence[Any] = ()) -> None:
        """A statement whose result is not needed."""
        self._execute(text, params)

    def commit(self) -> None:
        """COMMIT, raising ``RolledBack`` if the database rolled the transaction back.

        PostgreSQL answers COMMIT of a transaction in which a statement failed (an error
        the caller caught and went on) with ``ROLLBACK`` and no error: nothing was kept,
        which must not pass for success.
        """
        cursor = self._execute("COMMIT", ())
        if getattr(cursor, "statusmessage", None) == "ROLLBACK":
            raise RolledBack(
                "the transaction was rolled back by the database (a statement in it "
                "failed): nothing of it was kept"
            )

    def many(self, text: str, params: Iterable[Sequence[Any]]) -> None:
        """One statement for many parameter rows."""
        cursor = self.raw.cursor()  # psycopg's connections have no executemany
        try:
            cursor.executemany(self._sql(text), [tuple(p) for p in params])
        finally:
            cursor.close()

    def close(self) -> None:
        """Close the connection."""
        self.raw.close()
