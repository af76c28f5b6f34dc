"""The tables behind cases, viral bursts, ageing and blind review (issue 21).

- ``cases``: one row per case, a summary kept in step with its members so the case list
  pages fast (members, undecided, highest suggested priority, receipt span, the
  identifier kinds that link it; a burst's file hash and distinct accounts). A merged
  case keeps its row with ``merged_into`` set, so its id still resolves;
- ``case_member``: each report's case, when it first entered the queue, whether it was
  chosen for blind review (chosen once, at its first scoring; never changed) and its
  newest suggestion (priority, probability: the case view's order);
- ``case_hash``: per identifier and case, the receipt span of the case's reports
  carrying it, so a new report finds the cases it links to in one indexed read;
- ``file_account``: per file hash and account, the latest receipt, for the bursts'
  and the common files' distinct-account counts;
- ``case_events``: every merge and every move into a burst (append-only).

Only ``case_events`` is a log; the others are indexes over the append-only logs.
"""

from __future__ import annotations

CASE_DDL: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS cases (
    case_id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    kind TEXT NOT NULL,
    burst_hash TEXT,
    members INTEGER NOT NULL,
    undecided INTEGER NOT NULL,
    top_priority INTEGER NOT NULL,
    top_probability REAL NOT NULL,
    oldest_us INTEGER NOT NULL,
    newest_us INTEGER NOT NULL,
    queued_at TEXT NOT NULL,
    kinds TEXT NOT NULL,
    accounts INTEGER NOT NULL DEFAULT 0,
    merged_into INTEGER
)""",
    "CREATE INDEX IF NOT EXISTS cases_order ON cases "
    "(top_priority, top_probability DESC, case_id) WHERE merged_into IS NULL",
    "CREATE INDEX IF NOT EXISTS cases_open ON cases "
    "(top_priority, top_probability DESC, case_id) "
    "WHERE merged_into IS NULL AND undecided > 0",
    "CREATE INDEX IF NOT EXISTS cases_age ON cases "
    "(top_priority, queued_at, case_id) WHERE merged_into IS NULL",
    "CREATE INDEX IF NOT EXISTS cases_burst ON cases (burst_hash) "
    "WHERE burst_hash IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS queue_age ON queue (priority)",  # then rowid
    "CREATE INDEX IF NOT EXISTS queue_age_decided ON queue (decided, priority)",
    "CREATE INDEX IF NOT EXISTS queue_age_esp ON queue (esp, priority)",
    """CREATE TABLE IF NOT EXISTS case_member (
    report_id TEXT PRIMARY KEY,
    case_id INTEGER NOT NULL,
    received_us INTEGER NOT NULL,
    queued_at TEXT NOT NULL,
    blind INTEGER NOT NULL DEFAULT 0,
    priority INTEGER NOT NULL,
    probability REAL NOT NULL
) WITHOUT ROWID""",
    # a case's members in queue order, read a page at a time however large the case
    "CREATE INDEX IF NOT EXISTS case_member_order ON case_member "
    "(case_id, priority, probability DESC, report_id)",
    """CREATE TABLE IF NOT EXISTS case_hash (
    kind TEXT NOT NULL,
    hash TEXT NOT NULL,
    case_id INTEGER NOT NULL,
    min_us INTEGER NOT NULL,
    max_us INTEGER NOT NULL,
    PRIMARY KEY (kind, hash, case_id)
) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS case_hash_by_case ON case_hash (case_id)",
    """CREATE TABLE IF NOT EXISTS file_account (
    hash TEXT NOT NULL,
    account TEXT NOT NULL,
    last_us INTEGER NOT NULL,
    PRIMARY KEY (hash, account)
) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS file_account_recent ON file_account (hash, last_us)",
    """CREATE TABLE IF NOT EXISTS case_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    event TEXT NOT NULL,
    case_id INTEGER NOT NULL,
    other_id INTEGER,
    report_id TEXT
)""",
    # a case's merges in order (the case view), however many events there are
    "CREATE INDEX IF NOT EXISTS case_events_by_case ON case_events (case_id, event, seq)",
    # the case list's counts from this index alone (no table row read per case); led
    # by case_id so no page query prefers it to the ordered indexes above
    "CREATE INDEX IF NOT EXISTS cases_live ON cases "
    "(case_id, top_priority, undecided, kind, merged_into) WHERE merged_into IS NULL",
    "CREATE TRIGGER IF NOT EXISTS case_events_no_update BEFORE UPDATE ON case_events "
    "BEGIN SELECT RAISE(ABORT, 'case events are append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS case_events_no_delete BEFORE DELETE ON case_events "
    "BEGIN SELECT RAISE(ABORT, 'case events are append-only'); END",
)
"""Idempotent (``IF NOT EXISTS``), appended to ``SQLITE_DDL``."""
