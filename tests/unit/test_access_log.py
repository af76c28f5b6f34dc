"""The access log: refusals and analyst reads become rows; paths and floods are bounded."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from serving.access import UNMATCHED, AccessLog, _folded
from serving.state.store import StateStore

ROUTES = frozenset({"/queue", "/score"})


def _rows(path: Path) -> list[tuple[object, ...]]:
    db = sqlite3.connect(path)
    try:
        return db.execute(
            "SELECT key_id, method, route, status, reason FROM access ORDER BY seq"
        ).fetchall()
    finally:
        db.close()


def test_events_are_written_with_route_templates_only(tmp_path: Path) -> None:
    store = StateStore.open(tmp_path / "reports.db")
    log = AccessLog(store, ROUTES, interval=0.01)
    log.record(None, "POST", "/score", 401, "unauthorized")
    log.record("k1", "POST", "/queue", 403, "forbidden")
    log.record(None, "GET", "/198.51.100.9/" + "x" * 10_000, 401, "unauthorized")
    log.record(None, "BREW\x00" * 50, "/queue", 401, "unauthorized")
    log.close()
    store.close()
    assert _rows(tmp_path / "reports.db") == [
        (None, "POST", "/score", 401, "unauthorized"),
        ("k1", "POST", "/queue", 403, "forbidden"),
        (None, "GET", UNMATCHED, 401, "unauthorized"),
        (None, "OTHER", "/queue", 401, "unauthorized"),
    ]


def test_a_flood_is_counted_not_queued_without_bound(tmp_path: Path) -> None:
    store = StateStore.open(tmp_path / "reports.db")
    log = AccessLog(store, ROUTES, capacity=5, interval=0.01)
    for _ in range(500):
        log.record(None, "POST", "/score", 401, "unauthorized")
    log.close()
    store.close()
    rows = _rows(tmp_path / "reports.db")
    dropped = [
        int(str(r[4]).split()[1]) for r in rows if str(r[4]).startswith("dropped")
    ]
    events = [_count(str(r[4])) for r in rows if str(r[4]).startswith("unauthorized")]
    assert dropped and sum(events) + sum(dropped) == 500
    assert len(rows) < 10  # a flood costs a row per interval and kind, and one count


def _count(reason: str) -> int:
    """How many refusals a row stands for: ``reason (xN)`` or one."""
    return int(reason.rsplit("(x", 1)[1].rstrip(")")) if "(x" in reason else 1


def test_identical_refusals_of_an_interval_are_one_row() -> None:
    at = "2026-11-27T18:00:00.000+00:00"
    flood = [(at, None, "POST", "/score", 401, "unauthorized")] * 100
    read = (at, "k2", "POST", "/queue", 200, "read")
    rows = [*flood, ("k1", "POST", "/queue", 403, "forbidden"), read, read]
    rows = [r if len(r) == 6 else (at, *r) for r in rows]
    assert _folded(rows) == [
        (at, None, "POST", "/score", 401, "unauthorized (x100)"),
        (at, "k1", "POST", "/queue", 403, "forbidden"),
        read,  # reads stay one row each
        read,
    ]


def test_the_access_log_is_append_only(tmp_path: Path) -> None:
    store = StateStore.open(tmp_path / "reports.db")
    log = AccessLog(store, ROUTES, interval=0.01)
    log.record(None, "POST", "/score", 401, "unauthorized")
    log.close()
    store.close()
    db = sqlite3.connect(tmp_path / "reports.db")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM access")
    db.close()


def test_events_a_failed_write_lost_are_counted_on_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that fails (a busy or full disk) leaves a ``dropped N`` row, not nothing."""
    store = StateStore.open(tmp_path / "reports.db")
    monkeypatch.setattr(AccessLog, "_run", lambda self: None)  # only explicit flushes
    log = AccessLog(store, ROUTES)
    log.record(None, "POST", "/score", 401, "unauthorized")
    log.record("k1", "POST", "/queue", 403, "forbidden")
    real = store.transaction

    def failing() -> None:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(store, "transaction", failing)
    assert log.flush() == 0
    monkeypatch.setattr(store, "transaction", real)
    log.close()
    store.close()
    assert _rows(tmp_path / "reports.db") == [
        (None, "OTHER", UNMATCHED, 0, "dropped 2")
    ]
