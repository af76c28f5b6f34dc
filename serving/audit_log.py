"""The append-only audit log: every accepted request and its response, before it is sent.

SQLite in WAL mode with ``synchronous=FULL``: a row committed here survives a crash of the
process. The table has no UPDATE or DELETE path in the code, and triggers refuse both, so
the log is append-only for anyone using this database through SQLite.
Rows hold ids, times, the model version, the score and the reasons' feature names — never a
raw identifier or free text.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from serving.sqlite_db import open_durable

SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL,
    at TEXT NOT NULL,
    key_id TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    report_id TEXT,
    model_version TEXT,
    probability REAL,
    priority INTEGER,
    reasons TEXT,
    warnings TEXT
);
CREATE TRIGGER IF NOT EXISTS requests_no_update BEFORE UPDATE ON requests
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS requests_no_delete BEFORE DELETE ON requests
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""

COLUMNS = (
    "request_id",
    "at",
    "key_id",
    "endpoint",
    "report_id",
    "model_version",
    "probability",
    "priority",
    "reasons",
    "warnings",
)


class AuditLog:
    """Append rows; read them back (for tests, exports and the analyst page)."""

    def __init__(self, path: Path | str) -> None:
        self._db = open_durable(path, SCHEMA)
        self._lock = threading.Lock()

    def append(self, rows: list[dict[str, Any]]) -> None:
        """Write rows in one transaction (all or none)."""
        values = [
            tuple(
                json.dumps(r[c]) if c in ("reasons", "warnings") else r.get(c)
                for c in COLUMNS
            )
            for r in rows
        ]
        placeholders = ", ".join("?" for _ in COLUMNS)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    f"INSERT INTO requests ({', '.join(COLUMNS)}) VALUES ({placeholders})",
                    values,
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def rows(self, limit: int = 1000) -> list[dict[str, Any]]:
        """The latest rows, newest first."""
        cursor = self._db.execute(
            f"SELECT seq, {', '.join(COLUMNS)} FROM requests ORDER BY seq DESC LIMIT ?",
            (limit,),
        )
        names = [d[0] for d in cursor.description]
        out = []
        for values in cursor.fetchall():
            row = dict(zip(names, values, strict=True))
            row["reasons"] = json.loads(row["reasons"] or "[]")
            row["warnings"] = json.loads(row["warnings"] or "[]")
            out.append(row)
        return out

    def close(self) -> None:
        """Close the database."""
        self._db.close()
