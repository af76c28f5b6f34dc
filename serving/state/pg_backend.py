"""The PostgreSQL engine of the state store (issue 22), chosen by ``TIPSCORE_DATABASE_URL``.

Several service replicas share one database. What SQLite gets from being one file with
one writer, this backend gets from a transaction-level advisory lock taken at the start
of every write transaction (``write_lock``): writes from every replica are serialised,
exactly as ``BEGIN IMMEDIATE`` serialises them in one SQLite file, so

- a scored batch's linkage reads and case placement (the service holds the lock from its
  linkage read to its commit: ``StateStore.exclusive``) see every report any replica
  committed before, and two replicas never build two cases for linked reports;
- two decisions on one report from two replicas are ordered: the later one reads the
  earlier as the report's latest and supersedes it; both rows are kept.

The lock is released by COMMIT or ROLLBACK, and by the server when a replica's connection
dies (a SIGKILLed replica holds nothing). Reads take no lock. The schema is Alembic's
(``tipscore db upgrade``): the service checks the revision and never creates tables, so
its role needs no more than ``pg_schema.grants``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

HEAD = "0002"
"""The schema revision this code reads and writes (``serving/state/alembic/versions``)."""
LOCK_KEY = 0x7469_7073_636F_7265 & 0x7FFF_FFFF_FFFF_FFFF
"""The advisory lock every write transaction takes (the bytes of ``tipscore``)."""
SCHEMES = ("postgresql://", "postgres://")
LOCK_TIMEOUT_MS = 10_000
"""How long a write waits for the replicas' write lock before failing (``lock_timeout``)."""
CONNECT_DEFAULTS: dict[str, Any] = {
    "connect_timeout": 10,
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
}
"""libpq connection parameters the service sets unless its URL gives them."""

CHECK_SCHEMA = f"""DO $check$
BEGIN
    IF to_regclass('alembic_version') IS NULL THEN
        RAISE EXCEPTION 'the state database has no schema: run `tipscore db upgrade`';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM alembic_version WHERE version_num = '{HEAD}') THEN
        RAISE EXCEPTION 'the state database is not at schema revision {HEAD}: '
            'run `tipscore db upgrade`';
    END IF;
END
$check$"""

LOGS = ("requests", "scored", "decisions", "access", "shadow", "case_events")
"""The append-only logs (``pg_schema.APPEND_ONLY``), which the service must not own."""
CHECK_SERVICE_ROLE = f"""DO $check$
DECLARE
    found text;
BEGIN
    SELECT string_agg(c.relname, ', ' ORDER BY c.relname) INTO found
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind = 'r'
        AND c.relname IN ({", ".join(f"'{t}'" for t in LOGS)})
        AND (pg_has_role(current_user, c.relowner, 'USAGE')
             OR has_table_privilege(c.oid, 'UPDATE')
             OR has_table_privilege(c.oid, 'DELETE')
             OR has_table_privilege(c.oid, 'TRUNCATE'));
    IF found IS NOT NULL THEN
        RAISE EXCEPTION 'the service''s database role "%" owns or may change the '
            'append-only logs (%): give TIPSCORE_DATABASE_URL the service''s own role, '
            'granted by `tipscore db upgrade --grant-to ROLE` (docs/deployment.md)',
            current_user, found;
    END IF;
END
$check$"""
"""Refuses, at service start, a role that owns a log or may UPDATE, DELETE or TRUNCATE it:
as the owner, the service could drop the append-only triggers and rewrite history."""


def is_postgres(url: str | None) -> bool:
    """Whether a database URL names PostgreSQL."""
    return bool(url) and str(url).startswith(SCHEMES)


def sqlalchemy_url(url: str) -> str:
    """The URL as SQLAlchemy (Alembic) names the psycopg 3 driver."""
    for scheme in SCHEMES:
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


@dataclass(frozen=True)
class PgBackend:
    """PostgreSQL through psycopg 3: autocommit connections, rows as dicts."""

    url: str
    name: str = "postgresql"
    placeholder: str = "%s"
    begin_write: str = "BEGIN ISOLATION LEVEL READ COMMITTED"
    lock_timeout_ms: int = LOCK_TIMEOUT_MS
    # plain BEGIN reads each statement's own snapshot: linkage needs one for the batch
    begin_snapshot: str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
    kinds_agg: str = "string_agg(DISTINCT o.kind, ',')"
    shares_one_connection: bool = False

    @property
    def write_lock(self) -> tuple[str, ...]:
        """The replicas' one write lock, waited for ``lock_timeout_ms`` at most.

        A replica stuck holding it (a hung transaction) makes the others' writes fail
        after the wait with ``lock_timeout``'s error instead of queueing forever.
        """
        return (
            f"SET LOCAL lock_timeout = {int(self.lock_timeout_ms)}",
            f"SELECT pg_advisory_xact_lock({LOCK_KEY})",
        )

    def connect(self) -> Any:
        """A connection in autocommit mode (the store sends BEGIN/COMMIT itself).

        With a connect timeout and TCP keepalives (``CONNECT_DEFAULTS``) unless the URL
        sets them: a database host that vanished (failover, a cut network) is noticed in
        about a minute instead of the operating system's two hours.
        """
        import psycopg
        from psycopg.conninfo import conninfo_to_dict
        from psycopg.rows import dict_row

        given = conninfo_to_dict(self.url)
        extra = {k: v for k, v in CONNECT_DEFAULTS.items() if k not in given}
        return psycopg.connect(
            self.url,
            autocommit=True,
            row_factory=dict_row,
            application_name="tipscore",
            **extra,
        )

    def ddl(self) -> Sequence[str]:
        """No DDL: the schema is the migrations'; only a check that it is there."""
        return (CHECK_SCHEMA,)
