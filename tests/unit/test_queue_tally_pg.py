"""The queue tally on PostgreSQL (Alembic revision 0002): kept by a trigger the service's
role cannot bypass, counted under the replicas' write lock."""

from __future__ import annotations

import importlib.util
from typing import Any

import psycopg
import pytest

import serving.state.upgrade as upgrade_module
from serving.state.pg_backend import LOCK_KEY
from tests.pg_fixtures import SERVICE


def _revision() -> Any:
    path = upgrade_module.MIGRATIONS / "versions" / "v0002_queue_tally.py"
    spec = importlib.util.spec_from_file_location("v0002_queue_tally", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_service_role_reads_the_tally_but_cannot_forge_it(pg_server: Any) -> None:
    url = pg_server.url(SERVICE, pg_server.new_database())
    with psycopg.connect(url) as db:
        assert db.execute("SELECT COUNT(*) FROM queue_tally").fetchone() == (0,)
        for statement in (
            "UPDATE queue_tally SET n = n + 1",
            "INSERT INTO queue_tally (priority, esp, decided, n) VALUES (1, 'x', 0, 5)",
            "DELETE FROM queue_tally",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                db.execute(statement)
            db.rollback()


def test_revision_0002_counts_under_the_replicas_write_lock() -> None:
    """Its frozen lock key is the replicas' one, taken before the trigger and the count."""
    ddl = _revision().PG_DDL
    assert ddl[0] == f"SELECT pg_advisory_xact_lock({LOCK_KEY})"
    trigger = next(i for i, s in enumerate(ddl) if s.startswith("CREATE TRIGGER"))
    count = next(
        i for i, s in enumerate(ddl) if s.startswith("INSERT INTO queue_tally")
    )
    assert trigger < count  # no row committed between the count and the trigger
