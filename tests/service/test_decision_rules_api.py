"""``POST /decide`` refuses what the training-data rules refuse, naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.service.conftest import Deployed, auth, submission


@pytest.fixture(scope="module")
def suggested(client: TestClient, deployed: Deployed) -> dict[str, Any]:
    body = submission("rules-1", esp="RulesESP")
    r = client.post(
        "/score", json={"report": body}, headers=auth(deployed.keys["intake"])
    )
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def test_priority_1_informational_is_a_400_naming_the_designation(
    client: TestClient, deployed: Deployed, suggested: dict[str, Any]
) -> None:
    key = auth(deployed.keys["analyst"])
    decision = {
        "report_id": suggested["report_id"],
        "designation": "informational",
        "reason": "imminent_risk_in_report",
    }
    if suggested["suggested_priority"] == 1:
        decision["action"] = "accept"
    else:
        decision |= {"action": "override", "priority": 1}
    r = client.post("/decide", json={"decision": decision}, headers=key)
    assert r.status_code == 400, r.text
    assert r.json() == {
        "error": "designation: a priority-1 decision must be 'referral' "
        "(an escalation is always actionable)"
    }
    view = client.post(
        "/report", json={"report": {"report_id": suggested["report_id"]}}, headers=key
    ).json()
    assert view["decisions"] == []  # nothing recorded
    assert view["designations"] == {
        "1": ["referral"],
        "2": ["referral", "informational"],
        "3": ["referral", "informational"],
    }
    ok = client.post(
        "/decide",
        json={"decision": {**decision, "designation": "referral"}},
        headers=key,
    )
    assert ok.status_code == 200, ok.text
    assert (ok.json()["priority"], ok.json()["designation"]) == (1, "referral")
