"""``tipscore db copy``: move a SQLite state file into an empty PostgreSQL database (issue 22).

For a service that grows from one replica on SQLite to several on PostgreSQL. Every row
of every table is copied with its keys as they were (``seq``, ``case_id``, the queue's
``rowid``), so decisions still name their suggestions and the queue keeps its order; the
identity sequences then continue after the largest key. All in one transaction holding the
replicas' write lock: a failure leaves the database empty, and no replica writes meanwhile.
The target must be migrated (``tipscore db upgrade``) and hold no rows: copying into a
database already in use would interleave two histories. Run it as the owner (it sets the
sequences); the SQLite file is only read.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from serving.state.pg_backend import LOCK_KEY
from serving.state.pg_schema import ALL_TABLES

COPIED = tuple(t for t in ALL_TABLES if t != "queue_tally")
"""The tables copied row by row; ``queue_tally`` is kept by its trigger as the queue's
rows arrive (copying it too would count every row twice)."""

KEYS = {
    "requests": "seq",
    "scored": "seq",
    "decisions": "seq",
    "access": "seq",
    "shadow": "seq",
    "cases": "case_id",
    "case_events": "seq",
    "queue": "rowid",
}
"""Each table's identity column, whose sequence continues after the copied keys."""


def _columns(old: sqlite3.Connection, table: str) -> list[str] | None:
    """The table's columns in the SQLite file (None: it has no such table)."""
    rows = old.execute(f"PRAGMA table_info({table})").fetchall()
    if not rows:
        return None
    names = [str(r[1]) for r in rows]
    return ["rowid", *names] if table == "queue" else names  # its implicit order


def copy_sqlite(
    source: Path, url: str, fingerprint: str | None = None
) -> dict[str, int]:
    """Copy every table of ``source`` into the PostgreSQL database; rows per table.

    ``fingerprint``: of the HMAC secret the file's identifiers were hashed with
    (``serving.state.key_check``), kept with the rows, so a replica started with another
    secret refuses to start instead of splitting linkage silently (an outside operator
    test, session 9: the first replica recorded its own, whatever it was).
    """
    import psycopg

    if not Path(source).is_file():
        raise FileNotFoundError(f"{source}: no SQLite state file")
    old = sqlite3.connect(f"{Path(source).resolve().as_uri()}?mode=ro", uri=True)
    copied: dict[str, int] = {}
    try:
        _refuse_if_unsettled(old)
        with psycopg.connect(url) as db:  # one transaction, committed at the end
            db.execute(f"SELECT pg_advisory_xact_lock({LOCK_KEY})".encode())
            _refuse_if_used(db)
            for table in COPIED:
                columns = _columns(old, table)
                if columns is not None:
                    copied[table] = _copy_table(old, db, table, columns)
            if fingerprint is not None:
                _keep_fingerprint(db, fingerprint)
            for table, key in KEYS.items():
                db.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', '{key}'), "
                    f"COALESCE(MAX({key}), 0) + 1, false) FROM {table}".encode()
                )
    finally:
        old.close()
    return copied


def _keep_fingerprint(db: Any, fingerprint: str) -> None:
    """The secret's fingerprint, unless the copied rows carried one (it must match)."""
    from serving.state.key_check import SOURCE

    row = db.execute(
        "SELECT source_table FROM migrated WHERE source = %s", (SOURCE,)
    ).fetchone()
    if row is None:
        db.execute(
            "INSERT INTO migrated (source, source_table, rows, at) VALUES (%s, %s, 0, %s)",
            (SOURCE, fingerprint, datetime.now(UTC).isoformat(timespec="milliseconds")),
        )
    elif row[0] != fingerprint:
        raise ValueError(
            "the HMAC secret given is not the one the copied reports were hashed with"
        )


def _refuse_if_unsettled(old: sqlite3.Connection) -> None:
    """Refuse a file whose kept ESP names were never closed (``serving.state.esp_names``).

    That one-off rewrite runs when the service opens its state; on PostgreSQL it could not
    (the service's role may not lift the append-only trigger it needs lifted).
    """
    if _columns(old, "scored") is None or _columns(old, "migrated") is None:
        return
    scored = old.execute("SELECT EXISTS (SELECT 1 FROM scored)").fetchone()
    closed = old.execute(
        "SELECT 1 FROM migrated WHERE source = 'esp_vocabulary'"
    ).fetchone()
    if scored and scored[0] and closed is None:
        raise ValueError(
            "start this version's service once on the SQLite state first: it rewrites "
            "ESP names kept before the vocabulary, which cannot be done on PostgreSQL"
        )


def _refuse_if_used(db: object) -> None:
    import psycopg

    assert isinstance(db, psycopg.Connection)
    for table in ALL_TABLES:
        row = db.execute(f"SELECT EXISTS (SELECT 1 FROM {table}) ".encode()).fetchone()
        if row and row[0]:
            raise ValueError(
                f"the PostgreSQL database already holds rows ({table}): copy only into "
                "a new database, before any replica writes to it"
            )


def _copy_table(
    old: sqlite3.Connection, db: object, table: str, columns: list[str]
) -> int:
    import psycopg

    assert isinstance(db, psycopg.Connection)
    names = ", ".join(columns)
    rows = old.execute(f"SELECT {names} FROM {table}")
    count = 0
    with (
        db.cursor() as cursor,
        cursor.copy(f"COPY {table} ({names}) FROM STDIN".encode()) as copy,
    ):
        for row in rows:
            copy.write_row(row)
            count += 1
    return count
