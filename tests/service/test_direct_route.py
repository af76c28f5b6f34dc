"""``POST /score`` answered by ``serving.direct`` says what BentoML's route says.

The direct route skips BentoML's per-API machinery for speed (issue 15); these tests hold
it to the same answers: a valid report scored there equals the same report scored by a
BentoML route, and an invalid one still gets BentoML's documented refusal.
"""

from __future__ import annotations

import contextlib
import sqlite3
from typing import Any

import pytest
from starlette.testclient import TestClient

from serving import direct
from serving.schemas import ScoreResponse
from tests.service.conftest import Deployed, auth, submission


@pytest.fixture
def direct_answers(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The bodies the direct route sent during a test."""
    sent: list[bytes] = []
    real = direct._send_json

    async def spy(send: Any, body: bytes) -> None:
        sent.append(body)
        await real(send, body)

    monkeypatch.setattr(direct, "_send_json", spy)
    return sent


def test_score_is_answered_directly_and_equals_bentomls_batch_answer(
    client: TestClient,
    deployed: Deployed,
    direct_answers: list[bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    serialised: list[str] = []
    real_dump = ScoreResponse.model_dump_json

    def counted(self: ScoreResponse, **kwargs: Any) -> str:
        serialised.append(self.report_id)
        return real_dump(self, **kwargs)

    monkeypatch.setattr(ScoreResponse, "model_dump_json", counted)
    # no identifiers: scoring one report twice must not link it to itself
    report = submission("direct-1", identifiers={})
    headers = auth(deployed.keys["intake"])
    one = client.post("/score", json={"report": report}, headers=headers)
    assert one.status_code == 200, one.text
    assert direct_answers == [one.content]  # the direct route answered
    # serialised once (serving.service.Answer), and the state keeps that same text
    assert serialised == ["direct-1"]
    uri = f"file:{deployed.state / 'reports.db'}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
        kept = db.execute(
            "SELECT response FROM scored WHERE report_id = ?", ("direct-1",)
        ).fetchall()
    assert kept == [(one.content.decode(),)]
    assert one.headers["content-type"] == "application/json"
    assert one.headers["server"] == "BentoML Service/tipscore"
    batch = client.post("/score_batch", json={"reports": [report]}, headers=headers)
    assert batch.status_code == 200, batch.text
    assert len(direct_answers) == 1  # /score_batch is BentoML's own route
    assert batch.json()["results"] == [one.json()]


@pytest.mark.parametrize(
    "report",
    [
        {"report_id": "direct-2"},  # required fields missing
        {**submission("direct-3"), "esp": 5},
        {**submission("direct-4"), "received_at": "not a time"},
    ],
)
def test_an_invalid_report_gets_bentomls_documented_400(
    client: TestClient,
    deployed: Deployed,
    direct_answers: list[bytes],
    report: dict[str, Any],
) -> None:
    response = client.post(
        "/score", json={"report": report}, headers=auth(deployed.keys["intake"])
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert "validation error" in body["error"] and body["detail"]
    assert direct_answers == []
