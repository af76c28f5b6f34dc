"""The state-store tests on both engines (issue 22): SQLite and a real PostgreSQL.

``store_opener`` is parametrised over the two: each call opens a store on the same
database (a fresh one per test), as a service, a command or a second replica would.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from serving.state.backend import Connection
from serving.state.store import StateStore
from tests.pg_fixtures import OWNER, PASSWORDS, SERVICE

ENGINES = ("sqlite", "postgresql")
DatabaseError = (sqlite3.DatabaseError, psycopg.DatabaseError)
"""What a refused statement raises, on either engine."""
IntegrityError = (sqlite3.IntegrityError, psycopg.errors.IntegrityError)


@pytest.fixture(params=ENGINES)
def store_opener(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[], StateStore]]:
    """Opens stores on one fresh database of the test's engine; closes them after."""
    opened: list[StateStore] = []
    if request.param == "postgresql":
        server = request.getfixturevalue("pg_server")
        url = server.url(SERVICE, server.new_database())

        def make() -> StateStore:
            return StateStore.connect(url, "unused")
    else:
        path = tmp_path / "state" / "reports.db"

        def make() -> StateStore:
            return StateStore.open(path)

    def tracked() -> StateStore:
        opened.append(make())
        return opened[-1]

    yield tracked
    for store in opened:
        store.close()


def counts(store: StateStore, tables: tuple[str, ...]) -> dict[str, int]:
    """Rows per table, read on a connection of its own (committed rows only)."""
    db = Connection(store.backend.connect(), store.backend)
    try:
        return {
            t: int(db.rows(f"SELECT COUNT(*) AS n FROM {t}")[0]["n"]) for t in tables
        }
    finally:
        db.close()


def owner_run(store: StateStore, statement: str) -> None:
    """A statement as the database's owner (the service's role may not create tables)."""
    url = getattr(store.backend, "url", None)
    if url is None:
        store._writer.run(statement)
        return
    owner = url.replace(
        f"{SERVICE}:{PASSWORDS[SERVICE]}", f"{OWNER}:{PASSWORDS[OWNER]}"
    )
    with psycopg.connect(owner, autocommit=True) as db:
        db.execute(statement.encode())
