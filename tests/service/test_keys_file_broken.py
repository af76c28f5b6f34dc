"""An unparseable keys file: every keyed request gets one plain 503, the details go to the log.

Issue 18, item 7: the 503 showed the file's absolute path and the JSON parser's message.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from serving.auth import KEYS_UNAVAILABLE_MESSAGE, AuthMiddleware, Scope
from serving.keys import KeyStore, Role
from serving.settings import ServingSettings
from tests.service.conftest import Deployed, auth, submission

pytestmark = pytest.mark.reliability  # an issue-18 regression: `make test-reliability`


async def _ok(scope: Scope, receive: object, send: object) -> None:  # pragma: no cover
    raise AssertionError("a request with an unreadable keys file went through")


def _broken_keys(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "state" / "api_keys.json"
    key = KeyStore(path).add(Role.INTAKE, "t")[0]
    path.write_text('{"keys": [ {"sha256": "abc", ')  # cut off mid-object
    return path, key


def test_a_broken_keys_file_answers_without_path_and_logs_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path, key = _broken_keys(tmp_path)
    settings = ServingSettings(state_dir=tmp_path / "state", keys_file=path)
    client = TestClient(AuthMiddleware(_ok, settings))  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR, logger="serving.keys"):
        answers = [
            client.post("/score", json={"report": submission("k")}, headers=auth(key))
            for _ in range(5)
        ]
    for r in answers:
        assert r.status_code == 503
        assert r.json() == {
            "error": "keys_unavailable",
            "message": KEYS_UNAVAILABLE_MESSAGE,
        }
        assert str(tmp_path) not in r.text and "api_keys" not in r.text
        assert "Expecting" not in r.text and "line 1" not in r.text  # no parser message
    logged = [rec for rec in caplog.records if rec.name == "serving.keys"]
    assert len(logged) == 1 and str(path) in logged[0].getMessage()
    path.write_text(path.read_text() + " ")  # a new version of the file: logged again
    with caplog.at_level(logging.ERROR, logger="serving.keys"):
        client.post("/score", json={}, headers=auth(key))
    assert len([r for r in caplog.records if r.name == "serving.keys"]) == 2


def test_a_fixed_keys_file_is_used_again(tmp_path: Path) -> None:
    path, _ = _broken_keys(tmp_path)
    settings = ServingSettings(state_dir=tmp_path / "state", keys_file=path)
    client = TestClient(AuthMiddleware(_ok, settings))  # type: ignore[arg-type]
    assert client.post("/score", json={}, headers=auth("tsk_x")).status_code == 503
    path.unlink()
    fresh = KeyStore(path).add(Role.ANALYST, "t")[0]
    r = client.post("/score", json={}, headers=auth(fresh))
    assert r.status_code == 403  # read again: the key is known, its role is not intake


def test_the_analyst_routes_answer_the_same_503(
    client: TestClient, deployed: Deployed
) -> None:
    path = deployed.state / "api_keys.json"
    original = path.read_text()
    try:
        path.write_text("not json at all")
        r = client.get("/model_card", headers=auth(deployed.keys["analyst"]))
        assert r.status_code == 503, r.text
        assert r.json()["error"] == "keys_unavailable"
        assert str(deployed.state) not in r.text
        r = client.post(
            "/score",
            json={"report": submission("keys-broken")},
            headers=auth(deployed.keys["intake"]),
        )
        assert r.status_code == 503 and r.json()["error"] == "keys_unavailable"
    finally:
        path.write_text(original)
    r = client.get("/model_card", headers=auth(deployed.keys["analyst"]))
    assert r.status_code == 200
