"""The real ``bentoml serve`` in a subprocess, called with BentoML's client and plain HTTP."""

from __future__ import annotations

from pathlib import Path

import bentoml
import httpx

from tests.service.conftest import Deployed, auth, implied_priority, submission

ROOT = Path(__file__).resolve().parents[2]


def test_bentoml_client_scores(server: str, deployed: Deployed) -> None:
    with bentoml.SyncHTTPClient(server, token=deployed.keys["intake"]) as client:
        result = client.score(report=submission("real-1"))
    body = result if isinstance(result, dict) else result.model_dump()
    assert body["report_id"] == "real-1"
    assert body["suggested_priority"] == implied_priority(body)


def test_plain_http_scores_and_refuses(server: str, deployed: Deployed) -> None:
    key = auth(deployed.keys["intake"])
    ok = httpx.post(
        f"{server}/score", json={"report": submission("real-2")}, headers=key
    )
    assert ok.status_code == 200 and ok.json()["report_id"] == "real-2"
    assert httpx.post(f"{server}/score", json={}).status_code == 401
    card = httpx.get(f"{server}/model_card", headers=auth(deployed.keys["analyst"]))
    assert card.status_code == 200 and card.json()["model_name"] == "tip-escalation"
    spec = httpx.get(f"{server}/docs.json").json()
    assert {"/score", "/score_batch", "/score_xml", "/model_card"} <= set(spec["paths"])
