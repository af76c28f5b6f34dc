"""``tipscore db upgrade``: bring the state database to the code's schema (Alembic).

Both engines share one line of revisions (``serving/state/migrations``). On SQLite the
service still creates its tables when it opens the file (the first revision is exactly
those statements, idempotent), so an existing state folder keeps working with or without
an upgrade; the upgrade records the revision. On PostgreSQL the service never creates
tables: an operator runs the upgrade with the owner's URL, and ``grant_to`` names the
service's role, which gets SELECT and INSERT on the logs and no more (``pg_schema.grants``).
"""

from __future__ import annotations

from pathlib import Path

from serving.private import DIR_MODE
from serving.state.pg_backend import HEAD, is_postgres, sqlalchemy_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def upgrade(url: str | None, path: Path, grant_to: str | None = None) -> str:
    """Upgrade the database (``url``, else the SQLite file ``path``) to the head revision.

    Returns the revision it is at. ``grant_to`` (PostgreSQL only): the service's role.
    """
    from alembic import command
    from alembic.config import Config

    if url and is_postgres(url):
        target = sqlalchemy_url(url)
    elif url:
        raise ValueError("only postgresql://... database URLs are supported")
    else:
        if grant_to:
            raise ValueError("--grant-to is for PostgreSQL (SQLite has no roles)")
        _create_sqlite(path)
        target = f"sqlite:///{path}"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = target
    command.upgrade(config, "head")
    if url and grant_to:
        grant(url, grant_to)
    return HEAD


def _create_sqlite(path: Path) -> None:
    """The SQLite file as the service makes it: owner-only, in WAL mode, its tables."""
    from serving.state.store import StateStore

    Path(path).parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    StateStore.open(path).close()


def grant(url: str, role: str) -> None:
    """Give the service's role what it needs and nothing more (idempotent)."""
    import psycopg
    from psycopg import sql

    from serving.state.pg_schema import grants

    with psycopg.connect(url, autocommit=True) as db:
        quoted = sql.Identifier(role).as_string(db)
        for statement in grants(quoted):
            db.execute(statement.encode())
