"""One audit row per call at most, even when a store write fails mid-batch.

A scored batch commits its audit rows, suggestions, queue rows and linkage records in one
transaction; when any write fails, none of it is kept, so the batcher's retry item by item
(and the client's own retry) never logs a call twice.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from starlette.testclient import TestClient

from serving.state.store import Transaction
from tests.service.conftest import Deployed, auth, submission


def _kept(deployed: Deployed, table: str) -> Counter[str]:
    db = sqlite3.connect(f"file:{deployed.state / 'reports.db'}?mode=ro", uri=True)
    try:
        rows = db.execute(
            f"SELECT report_id FROM {table} WHERE report_id LIKE 'once-%'"
        ).fetchall()
    finally:
        db.close()
    return Counter(r[0] for r in rows)


def test_a_batch_that_fails_after_the_audit_rows_is_not_logged_twice(
    client: TestClient, deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batcher retries a failed batch item by item; nothing is logged twice."""

    def broken(self: Transaction, entries: Any) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    ids = [f"once-{i}" for i in range(24)]

    def one(report_id: str) -> int:
        body = {"report": submission(report_id)}
        r = client.post("/score", json=body, headers=auth(deployed.keys["intake"]))
        return r.status_code

    with monkeypatch.context() as patch:
        patch.setattr(Transaction, "add_scored", broken)
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(one, ids))
    assert set(statuses) == {500}  # not kept for the analysts: not acknowledged
    assert _kept(deployed, "requests") == Counter()  # rolled back with the rest
    assert _kept(deployed, "link") == Counter()
    with ThreadPoolExecutor(8) as pool:  # the clients retry; now it works
        assert set(pool.map(one, ids)) == {200}
    assert _kept(deployed, "requests") == Counter(ids)  # each exactly once
    assert _kept(deployed, "scored") == Counter(ids)
