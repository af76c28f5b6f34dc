"""One audit row per call, even when a store fails after the audit log was written."""

from __future__ import annotations

import sqlite3
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from starlette.testclient import TestClient

from serving.report_store import ReportStore
from tests.service.conftest import Deployed, auth, submission


def test_a_batch_that_fails_after_the_audit_log_is_not_logged_twice(
    client: TestClient, deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batcher retried a failed batch item by item, appending its rows again."""

    def broken(self: ReportStore, entries: Any) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(ReportStore, "add", broken)
    ids = [f"once-{i}" for i in range(24)]

    def one(report_id: str) -> int:
        body = {"report": submission(report_id)}
        r = client.post("/score", json=body, headers=auth(deployed.keys["intake"]))
        return r.status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(one, ids))
    assert set(statuses) == {500}  # not kept for the analysts: not acknowledged
    db = sqlite3.connect(f"file:{deployed.state / 'audit.db'}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT report_id FROM requests WHERE report_id LIKE 'once-%'"
        ).fetchall()
    finally:
        db.close()
    assert Counter(r[0] for r in rows) == Counter(ids)  # each exactly once
