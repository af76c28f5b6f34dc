"""Issue 18, points 5 and 12, through the service: what reaches the state database.

Refused requests and reads of analysts' data leave an ``access`` row (key id, route,
status, reason; never the body); intake keys get the model card without analysts'
override rates; an unknown ESP name is kept as ``other``; a report id that is an IP
address or a phone number is refused by name.
"""

from __future__ import annotations

import re
import sqlite3
import time
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.service.conftest import Deployed, auth, submission

pytestmark = pytest.mark.reliability  # an issue-18 regression: `make test-reliability`

BODY_MARK = "zq-refused-body-77813"


def _db(deployed: Deployed) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{deployed.state / 'reports.db'}?mode=ro", uri=True)


def _access_rows(deployed: Deployed, after: int, wanted: int) -> list[dict[str, Any]]:
    """Access rows after ``after``, waiting (the log is written every 0.2 s) for some."""
    deadline = time.monotonic() + 10
    while True:
        db = _db(deployed)
        db.row_factory = sqlite3.Row
        try:
            rows = [
                dict(r)
                for r in db.execute("SELECT * FROM access WHERE seq > ?", (after,))
            ]
        finally:
            db.close()
        if len(rows) >= wanted or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


def _last_seq(deployed: Deployed) -> int:
    db = _db(deployed)
    try:
        return int(db.execute("SELECT COALESCE(MAX(seq), 0) FROM access").fetchone()[0])
    finally:
        db.close()


def test_intake_keys_get_the_card_without_analysts_decisions(
    client: TestClient, deployed: Deployed
) -> None:
    intake = client.get("/model_card", headers=auth(deployed.keys["intake"]))
    assert intake.status_code == 200
    assert intake.json()["analyst_decisions"] == {}
    posted = client.post("/model_card", json={}, headers=auth(deployed.keys["intake"]))
    assert posted.status_code == 200 and posted.json()["analyst_decisions"] == {}
    for role in ("analyst", "admin"):
        card = client.get("/model_card", headers=auth(deployed.keys[role])).json()
        assert {"this_model", "all_models"} <= set(card["analyst_decisions"])
        assert "by_esp" in card["analyst_decisions"]["all_models"]


def test_refusals_and_reads_leave_access_rows_without_bodies(
    client: TestClient, deployed: Deployed
) -> None:
    start = _last_seq(deployed)
    body = {"report": submission("refused-1", esp=BODY_MARK)}
    assert client.post("/score", json=body).status_code == 401
    assert client.post("/score", json=body, headers=auth("nope")).status_code == 401
    forbidden = client.post(
        "/queue", json={"query": {}}, headers=auth(deployed.keys["intake"])
    )
    assert forbidden.status_code == 403
    assert client.get("/zq-198.51.100.9/" + BODY_MARK).status_code == 401
    read = client.post(
        "/queue", json={"query": {}}, headers=auth(deployed.keys["analyst"])
    )
    assert read.status_code == 200
    card = client.get("/model_card", headers=auth(deployed.keys["intake"]))
    assert card.status_code == 200

    rows = _access_rows(deployed, start, 5)
    deadline = (
        time.monotonic() + 10
    )  # a row of the test before may be among the first 5
    while time.monotonic() < deadline and not any(  # this test's own GET, the last
        r["method"] == "GET" and r["reason"].startswith("read model card (no analyst")
        for r in rows
    ):
        time.sleep(0.1)
        rows = _access_rows(deployed, start, 5)
    rows = [  # identical refusals of one interval are one row: "unauthorized (x2)"
        {**r, "reason": re.sub(r" \(x\d+\)$", "", r["reason"])} for r in rows
    ]
    seen = {(r["method"], r["route"], r["status"], r["reason"]) for r in rows}
    assert ("POST", "/score", 401, "unauthorized") in seen
    assert ("POST", "/queue", 403, "forbidden") in seen
    assert ("GET", "(unmatched)", 401, "unauthorized") in seen
    assert ("POST", "/queue", 200, "read queue") in seen
    assert ("GET", "/model_card", 200, "read model card (no analyst decisions)") in seen
    by_reason = {r["reason"]: r for r in rows}
    assert by_reason["forbidden"]["key_id"]  # the recognised key is named
    assert by_reason["read queue"]["key_id"]
    assert by_reason["unauthorized"]["key_id"] is None
    text = repr(rows)
    assert BODY_MARK not in text and "198.51.100.9" not in text and "nope" not in text


def test_a_scored_report_keeps_its_esp_only_from_the_vocabulary(
    client: TestClient, deployed: Deployed
) -> None:
    sent = "zq-esp-555-701-9999"
    r = client.post(
        "/score",
        json={"report": submission("esp-closed-1", esp=sent)},
        headers=auth(deployed.keys["intake"]),
    )
    assert r.status_code == 200, r.text
    db = _db(deployed)
    try:
        kept = db.execute(
            "SELECT s.esp, q.esp, s.flat, s.response FROM scored AS s JOIN queue AS q "
            "ON q.scored_seq = s.seq WHERE s.report_id = 'esp-closed-1'"
        ).fetchone()
    finally:
        db.close()
    assert kept[:2] == ("other", "other")
    assert all(sent not in str(v) for v in kept)
    named = client.post(
        "/score",
        json={"report": submission("esp-closed-2", esp="twitter")},
        headers=auth(deployed.keys["intake"]),
    )
    assert named.status_code == 200
    page = client.post(
        "/queue",
        json={"query": {"esp": "X"}},  # a spelling of the kept name finds it
        headers=auth(deployed.keys["analyst"]),
    ).json()
    assert "esp-closed-2" in {i["report_id"] for i in page["items"]}


@pytest.mark.parametrize(
    "report_id",
    ["198.51.100.9", "2001:db8::1", "555-701-9999", "0xC0A80164", "198_51_100_9",
     "5557019999", "ip-0xc0a80164",  # a bare 8-hex token passes as a short hash
     "10.0.0.1\n", "555-701-9999\n", "ip10.0.0.1", "555-701-9999x"],
)  # fmt: skip
def test_a_report_id_that_is_an_identifier_is_refused_by_name(
    client: TestClient, deployed: Deployed, report_id: str
) -> None:
    r = client.post(
        "/score",
        json={"report": submission(report_id)},
        headers=auth(deployed.keys["intake"]),
    )
    assert r.status_code == 400, r.text
    assert "report_id" in r.text
    assert "looks like a" in r.text and report_id not in r.text  # says why, no echo
    xml = client.post(
        "/score_xml",
        json={"submission": {"report_xml": "<report/>", "report_id": report_id}},
        headers=auth(deployed.keys["intake"]),
    )
    assert xml.status_code == 400 and "report_id" in xml.text


@pytest.mark.parametrize("report_id", ["20241127-1030-01", "ESP-2024-000123"])
def test_a_date_stamped_report_id_is_scored(
    client: TestClient, deployed: Deployed, report_id: str
) -> None:
    r = client.post(
        "/score",
        json={"report": submission(report_id)},
        headers=auth(deployed.keys["intake"]),
    )
    assert r.status_code == 200, r.text
    assert r.json()["report_id"] == report_id


@pytest.mark.parametrize(
    "note",
    ["(555) 123-4567", "2001:db8::1", "192[.]168[.]1[.]100", "john.doe(at)example.com",
     "john.doe\uff20example.com", "0xC0A80164", "john%40example.com",
     "john&#64;example.com", "john at example dot org", "192,168,1,100"],
)  # fmt: skip
def test_obfuscated_identifiers_in_a_note_are_refused(
    client: TestClient, deployed: Deployed, note: str
) -> None:
    decision = {"report_id": "x-1", "action": "accept", "reason": "other", "note": note}
    r = client.post(
        "/decide", json={"decision": decision}, headers=auth(deployed.keys["analyst"])
    )
    assert r.status_code == 400, r.text
    assert "raw identifiers" in r.text


def test_events_pending_at_shutdown_are_written(tmp_path: Any) -> None:
    """The service's shutdown hook writes the access events still buffered.

    Before: ``AccessLog.close()`` was never called, so what the writer had not yet
    committed (up to one interval's worth, or more in a flood) was lost at shutdown.
    """
    from serving.access import AccessLog
    from serving.service import TipScoring
    from serving.settings import ServingSettings
    from serving.state.migrate import open_state

    hook = TipScoring.inner.write_pending_access
    assert getattr(hook, "__bentoml_shutdown_hook__", False)  # BentoML runs it at stop
    state = open_state(ServingSettings(state_dir=tmp_path / "state"))
    log = AccessLog(state, {"/queue"}, interval=3600)  # writes once, then waits an hour
    log.record("k1", "GET", "/queue", 401, "first")

    def rows() -> int:
        db = sqlite3.connect(
            f"file:{tmp_path / 'state' / 'reports.db'}?mode=ro", uri=True
        )
        try:
            return int(db.execute("SELECT COUNT(*) FROM access").fetchone()[0])
        finally:
            db.close()

    deadline = time.monotonic() + 10
    while rows() < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert rows() == 1  # the first event; the writer now sleeps
    log.record("k1", "GET", "/queue", 403, "second")
    log.record("k2", "GET", "/queue", 401, "third")
    time.sleep(0.3)
    assert rows() == 1  # pending: a shutdown now would have lost them
    hook(type("Service", (), {"access": log})())
    assert rows() == 3
    state.close()
