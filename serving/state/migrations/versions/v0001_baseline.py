"""The state database as issue 21 left it: every table, index and append-only trigger.

SQLite: ``schema.SQLITE_DDL``, idempotent, so a state folder the service made before
Alembic (the service creates these on open) upgrades in place, rows untouched.
PostgreSQL: ``pg_schema.PG_DDL`` (the same tables spelled for it).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from alembic import op

from serving.state.pg_schema import PG_DDL
from serving.state.schema import SQLITE_DDL

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the schema (on SQLite: whatever part of it is missing)."""
    bind = op.get_bind()
    statements = PG_DDL if bind.dialect.name == "postgresql" else SQLITE_DDL
    for statement in statements:
        bind.exec_driver_sql(statement)


def downgrade() -> None:
    """No way down: the logs are append-only and their rows are evidence."""
    raise NotImplementedError("the state database is never downgraded")
