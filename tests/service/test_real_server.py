"""The real ``bentoml serve`` in a subprocess, called with BentoML's client and plain HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import bentoml
import httpx
import pytest

from tests.service.conftest import Deployed, auth, submission

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(deployed: Deployed) -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bentoml",
            "serve",
            "serving.service:TipScoring",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--working-dir",
            str(ROOT),
        ],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise RuntimeError(process.stderr.read().decode()[-3000:])  # type: ignore[union-attr]
        time.sleep(0.5)
    else:
        os.killpg(process.pid, signal.SIGKILL)
        raise RuntimeError("bentoml serve did not become ready in 90 s")
    yield url
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def test_bentoml_client_scores(server: str, deployed: Deployed) -> None:
    with bentoml.SyncHTTPClient(server, token=deployed.keys["intake"]) as client:
        result = client.score(report=submission("real-1"))
    body = result if isinstance(result, dict) else result.model_dump()
    assert body["report_id"] == "real-1"
    assert body["suggested_priority"] in (1, 2, 3)


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
