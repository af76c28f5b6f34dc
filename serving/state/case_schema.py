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
- ``case_events``: every merge and every move into a burst (append-only);
- ``queue_tally``: queue rows per (priority, platform, decided), kept by triggers on
  ``queue`` in the writing transaction, so the queue page's ``total`` is a sum of a few
  rows, not a count of a million (ESP ``''`` stands for none: a filter is never empty).

Only ``case_events`` is a log; the others are indexes over the append-only logs.
"""

from __future__ import annotations

_CASES: tuple[str, ...] = (
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
_TALLY_KEY = (
    "priority = {r}.priority AND esp = COALESCE({r}.esp, '') AND decided = {r}.decided"
)
_TALLY_ADD = (  # not INSERT OR IGNORE: an outer statement's conflict policy overrides it
    "INSERT INTO queue_tally (priority, esp, decided, n) "
    "SELECT NEW.priority, COALESCE(NEW.esp, ''), NEW.decided, 0 WHERE NOT EXISTS "
    "(SELECT 1 FROM queue_tally WHERE " + _TALLY_KEY.format(r="NEW") + "); "
    "UPDATE queue_tally SET n = n + 1 WHERE " + _TALLY_KEY.format(r="NEW") + ";"
)
_TALLY_TAKE = (  # an emptied row goes: a renamed platform's old name is kept nowhere
    "UPDATE queue_tally SET n = n - 1 WHERE " + _TALLY_KEY.format(r="OLD") + "; "
    "DELETE FROM queue_tally WHERE n <= 0 AND " + _TALLY_KEY.format(r="OLD") + ";"
)
TALLY_DDL: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS queue_tally (
    priority INTEGER NOT NULL,
    esp TEXT NOT NULL,
    decided INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (priority, esp, decided)
) WITHOUT ROWID""",
    # a store kept before the tally is counted once, before its triggers exist; after
    # that the tally is never empty while the queue is not
    "INSERT INTO queue_tally (priority, esp, decided, n) "
    "SELECT priority, COALESCE(esp, ''), decided, COUNT(*) FROM queue "
    "WHERE NOT EXISTS (SELECT 1 FROM queue_tally) "
    "GROUP BY priority, COALESCE(esp, ''), decided",
    "CREATE TRIGGER IF NOT EXISTS queue_tally_in AFTER INSERT ON queue "
    f"BEGIN {_TALLY_ADD} END",
    "CREATE TRIGGER IF NOT EXISTS queue_tally_change "
    f"AFTER UPDATE OF priority, esp, decided ON queue BEGIN {_TALLY_TAKE} {_TALLY_ADD} END",
    "CREATE TRIGGER IF NOT EXISTS queue_tally_out AFTER DELETE ON queue "
    f"BEGIN {_TALLY_TAKE} END",
)
CASE_DDL: tuple[str, ...] = (*_CASES, *TALLY_DDL)
"""Idempotent (``IF NOT EXISTS``), appended to ``SQLITE_DDL``."""
