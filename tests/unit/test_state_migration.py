"""Older state folders keep working: their separate files are copied in once, losslessly."""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from serving.settings import ServingSettings
from serving.state.migrate import open_state
from serving.state.store import Transaction

DUMPS = Path(__file__).parent / "data" / "legacy_state"


def legacy_folder(state: Path) -> Path:
    """The three files the earlier code wrote (WAL mode, as it opened them)."""
    state.mkdir(parents=True)
    for name in ("audit", "reports", "linkage"):
        db = sqlite3.connect(state / f"{name}.db")
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript((DUMPS / f"{name}.sql").read_text())
        db.close()
    return state


def rows(path: Path, query: str) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return db.execute(query).fetchall()
    finally:
        db.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


AUDIT = "SELECT * FROM requests ORDER BY seq"
LINKS = "SELECT * FROM link ORDER BY kind, hash, report_id"
REPORTS = (
    "SELECT * FROM scored ORDER BY seq",
    "SELECT * FROM decisions ORDER BY seq",
    "SELECT * FROM queue ORDER BY report_id",
)


def test_an_older_state_folder_is_copied_in_once_and_left_as_it_was(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = legacy_folder(tmp_path / "state")
    audit, linkage, target = (
        state / "audit.db",
        state / "linkage.db",
        state / "reports.db",
    )
    before = {
        "audit": rows(audit, AUDIT),
        "link": rows(linkage, LINKS),
        "reports": [rows(target, q) for q in REPORTS],
        "files": (digest(audit), digest(linkage)),
    }
    assert len(before["audit"]) == 4 and len(before["link"]) == 9
    settings = ServingSettings(state_dir=state)
    with caplog.at_level(logging.WARNING, logger="serving.state.migrate"):
        store = open_state(settings)
    assert rows(target, AUDIT) == before["audit"]  # every column, seq and order kept
    assert rows(target, LINKS) == before["link"]  # escalation marks included
    assert [rows(target, q) for q in REPORTS] == before["reports"]
    assert (digest(audit), digest(linkage)) == before["files"]  # untouched
    assert caplog.text.count("no longer used") == 2
    # what the service and export-decisions read works on the copied rows
    assert [d["report_id"] for d in store.decided()] == ["old-0"]
    assert store.latest("old-2")["response"].suggested_priority == 2
    assert {x["report_id"] for x in store.linked_to("old-2")} == {"old-0", "old-1"}
    assert [x["escalated"] for x in store.linked_to("old-1")] == [True]
    with store.transaction() as tx:  # new rows follow the old ones
        tx.append_audit([{**_audit_row(), "report_id": "new-1"}])
    store.close()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="serving.state.migrate"):
        again = open_state(settings)  # a restart copies nothing twice
    again.close()
    assert "no longer used" not in caplog.text
    after = rows(target, AUDIT)
    assert after[:4] == before["audit"] and [r[0] for r in after] == [1, 2, 3, 4, 5]
    assert rows(target, LINKS) == before["link"]
    assert [r[0] for r in rows(target, "SELECT source_table FROM migrated")] == [
        "requests",
        "link",
    ]


def test_a_state_folder_moved_elsewhere_is_not_copied_again(tmp_path: Path) -> None:
    first = legacy_folder(tmp_path / "state")
    open_state(ServingSettings(state_dir=first)).close()
    copied = rows(first / "reports.db", AUDIT)
    assert len(copied) == 4
    moved = first.rename(tmp_path / "restored")  # a backup restored at another path
    open_state(ServingSettings(state_dir=moved)).close()
    assert rows(moved / "reports.db", AUDIT) == copied
    assert len(rows(moved / "reports.db", LINKS)) == 9


def test_a_copy_that_fails_midway_keeps_nothing_and_is_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = legacy_folder(tmp_path / "state")
    (state / "reports.db").unlink()  # an older folder from before the report store
    settings = ServingSettings(state_dir=state)

    def broken(self: Transaction, source: str, table: str, copied: int) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    with monkeypatch.context() as patch:
        patch.setattr(Transaction, "mark_migrated", broken)
        with pytest.raises(sqlite3.OperationalError):
            open_state(settings)
    assert rows(state / "reports.db", AUDIT) == []
    open_state(settings).close()
    assert rows(state / "reports.db", AUDIT) == rows(state / "audit.db", AUDIT)
    assert rows(state / "reports.db", LINKS) == rows(state / "linkage.db", LINKS)


def _audit_row() -> dict[str, Any]:
    return {
        "request_id": "r",
        "at": "2026-01-01T00:00:00+00:00",
        "key_id": "k",
        "endpoint": "/score",
        "report_id": None,
        "model_version": "tip-escalation/7",
        "probability": 0.5,
        "priority": 1,
        "reasons": [],
        "warnings": [],
    }
