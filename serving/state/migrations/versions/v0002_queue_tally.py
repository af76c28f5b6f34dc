"""Issue 21's reads at 1,000,000 reports: the queue tally and two case indexes.

- ``queue_tally``: queue rows per (priority, platform, decided), kept by a trigger on
  ``queue`` in the writing transaction, so the queue page's ``total`` sums a few rows
  instead of counting a million; counted once here from the queue as it is.
- ``case_events_by_case``: a case's merges in order, however many events there are.
- ``cases_live``: the case list's counts from the index alone.

SQLite: the statements of ``case_schema.TALLY_DDL`` and the two indexes, idempotent (the
service also creates them when it opens the file). PostgreSQL: the same table and indexes,
the tally kept by one row trigger (writes are serialised by the replicas' write lock, so
two replicas never update one tally row at once). The statements are frozen as literals.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_KEY = (
    "priority = {r}.priority AND esp = COALESCE({r}.esp, '') AND decided = {r}.decided"
)

LOCK = "SELECT pg_advisory_xact_lock(8388359421846057573)"
"""The replicas' write lock (``pg_backend.LOCK_KEY``, frozen here): no replica writes
between the tally's first count and its trigger (a row committed in between would never
be counted)."""

PG_DDL: tuple[str, ...] = (
    LOCK,
    'CREATE TABLE queue_tally (priority INTEGER NOT NULL, esp TEXT COLLATE "C" NOT NULL, '
    "decided INTEGER NOT NULL, n BIGINT NOT NULL, PRIMARY KEY (priority, esp, decided))",
    # SECURITY DEFINER: the trigger writes the tally with its owner's rights, so the
    # service's role only reads it and cannot forge the queue's totals
    """CREATE OR REPLACE FUNCTION tipscore_queue_tally() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE queue_tally SET n = n - 1 WHERE """
    + _KEY.format(r="OLD")
    + """;
        DELETE FROM queue_tally WHERE n <= 0 AND """
    + _KEY.format(r="OLD")
    + """;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO queue_tally (priority, esp, decided, n)
        VALUES (NEW.priority, COALESCE(NEW.esp, ''), NEW.decided, 1)
        ON CONFLICT (priority, esp, decided) DO UPDATE SET n = queue_tally.n + 1;
    END IF;
    RETURN NULL;
END
$$""",
    "CREATE TRIGGER queue_tally_keep AFTER INSERT OR DELETE OR UPDATE OF priority, esp, "
    "decided ON queue FOR EACH ROW EXECUTE FUNCTION tipscore_queue_tally()",
    # counted after the trigger exists, under the lock: every row exactly once
    "INSERT INTO queue_tally (priority, esp, decided, n) "
    "SELECT priority, COALESCE(esp, ''), decided, COUNT(*) FROM queue "
    "GROUP BY priority, COALESCE(esp, ''), decided",
    "CREATE INDEX case_events_by_case ON case_events (case_id, event, seq)",
    "CREATE INDEX cases_live ON cases (case_id, top_priority, undecided, kind, merged_into) "
    "WHERE merged_into IS NULL",
)

_ADD = (
    "INSERT INTO queue_tally (priority, esp, decided, n) "
    "SELECT NEW.priority, COALESCE(NEW.esp, ''), NEW.decided, 0 WHERE NOT EXISTS "
    "(SELECT 1 FROM queue_tally WHERE " + _KEY.format(r="NEW") + "); "
    "UPDATE queue_tally SET n = n + 1 WHERE " + _KEY.format(r="NEW") + ";"
)
_TAKE = (
    "UPDATE queue_tally SET n = n - 1 WHERE " + _KEY.format(r="OLD") + "; "
    "DELETE FROM queue_tally WHERE n <= 0 AND " + _KEY.format(r="OLD") + ";"
)
SQLITE_DDL: tuple[str, ...] = (
    "CREATE INDEX IF NOT EXISTS case_events_by_case ON case_events (case_id, event, seq)",
    "CREATE INDEX IF NOT EXISTS cases_live ON cases "
    "(case_id, top_priority, undecided, kind, merged_into) WHERE merged_into IS NULL",
    "CREATE TABLE IF NOT EXISTS queue_tally (\n    priority INTEGER NOT NULL,\n"
    "    esp TEXT NOT NULL,\n    decided INTEGER NOT NULL,\n    n INTEGER NOT NULL,\n"
    "    PRIMARY KEY (priority, esp, decided)\n) WITHOUT ROWID",
    "INSERT INTO queue_tally (priority, esp, decided, n) "
    "SELECT priority, COALESCE(esp, ''), decided, COUNT(*) FROM queue "
    "WHERE NOT EXISTS (SELECT 1 FROM queue_tally) "
    "GROUP BY priority, COALESCE(esp, ''), decided",
    f"CREATE TRIGGER IF NOT EXISTS queue_tally_in AFTER INSERT ON queue BEGIN {_ADD} END",
    "CREATE TRIGGER IF NOT EXISTS queue_tally_change "
    f"AFTER UPDATE OF priority, esp, decided ON queue BEGIN {_TAKE} {_ADD} END",
    f"CREATE TRIGGER IF NOT EXISTS queue_tally_out AFTER DELETE ON queue BEGIN {_TAKE} END",
)


def upgrade() -> None:
    """The tally and the indexes, spelled for the connection's engine."""
    statements = PG_DDL if op.get_bind().dialect.name == "postgresql" else SQLITE_DDL
    for statement in statements:
        op.get_bind().exec_driver_sql(statement)


def downgrade() -> None:
    """Not supported: the state database only moves forward."""
    raise NotImplementedError("the state database is only ever upgraded")
