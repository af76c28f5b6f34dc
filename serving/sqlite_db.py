"""Opening the service's SQLite stores the same durable way."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def open_durable(path: Path | str, schema: str) -> sqlite3.Connection:
    """A connection in WAL mode with ``synchronous=FULL`` and ``schema`` applied.

    FULL makes each commit survive a crash of the machine, not only of the process: the
    audit log and the decisions must not lose what was acknowledged. Autocommit mode
    (``isolation_level=None``): callers open their own ``BEGIN IMMEDIATE`` transactions.
    """
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.executescript(schema)
    return db
