"""Alembic's environment for the state database (run by ``serving.state.upgrade`` only).

Online only, on the URL the caller hands over in ``config.attributes["url"]`` (never
through the ini text, where a ``%`` in a password would be read as interpolation). One
transaction for the whole upgrade on PostgreSQL, whose DDL is transactional.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool


def run() -> None:
    """Upgrade the database the caller named."""
    url = context.config.attributes["url"]
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, transactional_ddl=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
