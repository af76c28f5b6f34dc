"""The state database's tables, per engine (SQLite today).

Seven tables in one database, so one transaction covers a whole scored batch:

- ``requests``: the audit log, every accepted request and its response (append-only);
- ``scored``: every suggestion made, with the report's flattened metadata (hashed
  identifiers only) that ``export-decisions`` turns into training rows (append-only);
- ``decisions``: every analyst decision (append-only; a later one supersedes, never erases);
- ``queue``: one row per report pointing at its latest suggestion and decision, an index
  kept in step with the two logs so the queue pages fast with 100,000 reports;
- ``link``: each report's hashed identifiers with its receipt time and escalation mark,
  for the point-in-time linkage features (``features.linkage`` defines them);
- ``access``: refused requests (401, 403, 413, 503 by the key, role and size checks) and reads
  of analysts' data (queue, report, model card): when, the key id if any, method, route
  template, status and reason; never a body, a key or a raw path (append-only,
  ``serving.access``);

- ``shadow``: the challenger's answer beside each suggestion (``serving.shadow``): which
  ``scored`` row it shadows, both models' versions, the challenger's probability and
  priority; never returned to a caller, written in the scored batch's transaction
  (append-only; read by ``tipscore compare`` and promotion's ``shadow`` gate);

and ``migrated``, which older state files were copied in (``serving.state.migrate``).
Triggers refuse UPDATE and DELETE on the five logs. Table and column names are those of
the separate files older versions kept, so their rows copy over unchanged.
"""

from __future__ import annotations

from serving.state.case_schema import CASE_DDL

_APPEND_ONLY = (
    "CREATE TRIGGER IF NOT EXISTS {table}_no_{verb} BEFORE {VERB} ON {table} "
    "BEGIN SELECT RAISE(ABORT, '{what} append-only'); END"
)


def _append_only(table: str, what: str) -> tuple[str, ...]:
    return tuple(
        _APPEND_ONLY.format(table=table, verb=verb, VERB=verb.upper(), what=what)
        for verb in ("update", "delete")
    )


SQLITE_DDL: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS requests (
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
)""",
    *_append_only("requests", "the audit log is"),
    """CREATE TABLE IF NOT EXISTS scored (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id TEXT NOT NULL,
    request_id TEXT NOT NULL,
    scored_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    esp TEXT,
    incident_type TEXT NOT NULL,
    priority INTEGER NOT NULL,
    probability REAL NOT NULL,
    model_version TEXT NOT NULL,
    deadline TEXT,
    codes TEXT NOT NULL,
    response TEXT NOT NULL,
    flat TEXT NOT NULL
)""",
    *_append_only("scored", "scored reports are"),
    # /metrics counts suggestions by priority and platform on each scrape (live_metrics):
    # a covering index keeps that off the wide rows (0.45 s -> 15 ms per 100,000 suggestions)
    "CREATE INDEX IF NOT EXISTS scored_by_priority ON scored (priority, esp)",
    """CREATE TABLE IF NOT EXISTS decisions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    decision_id TEXT NOT NULL UNIQUE,
    report_id TEXT NOT NULL,
    scored_seq INTEGER NOT NULL REFERENCES scored (seq),
    decided_at TEXT NOT NULL,
    key_id TEXT NOT NULL,
    analyst TEXT NOT NULL,
    action TEXT NOT NULL,
    priority INTEGER NOT NULL,
    designation TEXT NOT NULL,
    reason TEXT NOT NULL,
    note TEXT NOT NULL,
    suggested_priority INTEGER NOT NULL,
    model_version TEXT NOT NULL,
    supersedes TEXT
)""",
    *_append_only("decisions", "decisions are"),
    "CREATE INDEX IF NOT EXISTS decisions_by_report ON decisions (report_id, seq)",
    """CREATE TABLE IF NOT EXISTS queue (
    report_id TEXT PRIMARY KEY,
    scored_seq INTEGER NOT NULL,
    decision_seq INTEGER,
    priority INTEGER NOT NULL,
    probability REAL NOT NULL,
    esp TEXT,
    decided INTEGER NOT NULL DEFAULT 0
)""",
    "CREATE INDEX IF NOT EXISTS queue_order "
    "ON queue (priority, probability DESC, report_id)",
    "CREATE INDEX IF NOT EXISTS queue_esp "
    "ON queue (esp, priority, probability DESC, report_id)",
    "CREATE INDEX IF NOT EXISTS queue_decided "
    "ON queue (decided, priority, probability DESC, report_id)",
    """CREATE TABLE IF NOT EXISTS link (
    kind TEXT NOT NULL,
    hash TEXT NOT NULL,
    received_us INTEGER NOT NULL,
    report_id TEXT NOT NULL,
    escalated INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, hash, report_id)
) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS link_by_time ON link (kind, hash, received_us)",
    "CREATE INDEX IF NOT EXISTS link_by_report ON link (report_id)",
    """CREATE TABLE IF NOT EXISTS access (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    key_id TEXT,
    method TEXT NOT NULL,
    route TEXT NOT NULL,
    status INTEGER NOT NULL,
    reason TEXT NOT NULL
)""",
    *_append_only("access", "the access log is"),
    """CREATE TABLE IF NOT EXISTS shadow (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id TEXT NOT NULL,
    request_id TEXT NOT NULL,
    scored_seq INTEGER NOT NULL REFERENCES scored (seq),
    scored_at TEXT NOT NULL,
    champion_version TEXT NOT NULL,
    challenger_version TEXT NOT NULL,
    challenger_run_id TEXT,
    probability REAL NOT NULL,
    priority INTEGER NOT NULL
)""",
    *_append_only("shadow", "shadow answers are"),
    "CREATE INDEX IF NOT EXISTS shadow_by_challenger "
    "ON shadow (challenger_version, report_id, seq)",
    "CREATE INDEX IF NOT EXISTS shadow_by_run ON shadow (challenger_run_id, report_id)",
    """CREATE TABLE IF NOT EXISTS migrated (
    source TEXT PRIMARY KEY,
    source_table TEXT NOT NULL,
    rows INTEGER NOT NULL,
    at TEXT NOT NULL
)""",
    *CASE_DDL,  # cases, bursts, ageing, blind review (issue 21)
)
"""Every statement, idempotent (``IF NOT EXISTS``): applied each time the store opens."""
