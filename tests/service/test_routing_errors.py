"""Every 404 and 405 answers JSON in the documented error shape, on every kind of route."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.service.conftest import Deployed, auth


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/score", "POST"),  # a BentoML API
        ("GET", "/score_xml", "POST"),
        ("PUT", "/score_batch", "POST"),
        ("GET", "/queue", "POST"),  # a route of the mounted analyst app
        ("DELETE", "/decide", "POST"),
        ("POST", "/static_content/swagger-ui.css", "GET, HEAD"),  # the API page's files
    ],
)
def test_a_405_is_json_and_keeps_allow(
    client: TestClient, deployed: Deployed, method: str, path: str, allow: str
) -> None:
    r = client.request(method, path, headers=auth(deployed.keys["admin"]))
    assert r.status_code == 405
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers["allow"] == allow
    assert r.json()["error"] == "method_not_allowed"
    assert f"{method} {path}" in r.json()["message"] and allow in r.json()["message"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/nope"),
        ("POST", "/nope"),
        ("GET", "/score/x"),
        ("GET", "/ui/no-such-file.js"),  # the analyst page's static files
        ("GET", "/static_content/no-such-file.js"),  # the API page's Swagger files
    ],
)
def test_a_404_is_json(
    client: TestClient, deployed: Deployed, method: str, path: str
) -> None:
    r = client.request(method, path, headers=auth(deployed.keys["admin"]))
    assert r.status_code == 404, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == {
        "error": "not_found",
        "message": f"{method} {path}: no such route (see /docs.json for the routes)",
    }


def test_an_unknown_path_without_a_key_still_learns_only_401(
    client: TestClient,
) -> None:
    r = client.get("/nope")
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
