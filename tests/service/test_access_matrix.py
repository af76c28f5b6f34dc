"""Every route × every caller (no key, a wrong key, each role): the documented status.

The expected table is written out here by hand from docs/security.md, not derived from
the middleware's own table, so a change to either shows up as a failure.
"""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import SAMPLES
from tests.service.conftest import Deployed, auth, submission

CALLERS = ("none", "wrong", "intake", "analyst", "admin")
OPEN = dict.fromkeys(CALLERS, 200)
SCORING = {"none": 401, "wrong": 401, "intake": 200, "analyst": 403, "admin": 200}
ANALYST = {"none": 401, "wrong": 401, "intake": 403, "analyst": 200, "admin": 200}
ANY_KEY = {"none": 401, "wrong": 401, "intake": 200, "analyst": 200, "admin": 200}
ADMIN = {"none": 401, "wrong": 401, "intake": 403, "analyst": 403, "admin": 200}

MATRIX: list[tuple[str, str, dict[str, int]]] = [
    ("POST", "/score", SCORING),
    ("POST", "/score_batch", SCORING),
    ("POST", "/score_xml", SCORING),
    ("POST", "/model_card", ANY_KEY),
    ("GET", "/model_card", ANY_KEY),
    ("POST", "/queue", ANALYST),
    ("POST", "/report", ANALYST),
    ("POST", "/decide", ANALYST),
    ("POST", "/admin/reload", ADMIN),
    ("GET", "/ui/", OPEN),
    ("GET", "/ui/app.js", OPEN),
    ("GET", "/docs.json", OPEN),
    ("GET", "/", OPEN),
    ("GET", "/readyz", OPEN),
    ("GET", "/livez", OPEN),
]


def _body(path: str, report_id: str) -> dict[str, Any] | None:
    xml = (SAMPLES / "nachtalb_doc_section6_1_example_report.xml").read_text()
    return {
        "/score": {"report": submission(f"{report_id}-s")},
        "/score_batch": {"reports": [submission(f"{report_id}-b")]},
        "/score_xml": {"submission": {"report_xml": xml, "esp": "Discord"}},
        "/model_card": {},
        "/queue": {"query": {"limit": 5}},
        "/report": {"report": {"report_id": "matrix-base"}},
        "/decide": {
            "decision": {
                "report_id": "matrix-base",
                "action": "accept",
                "reason": "agree_with_suggestion",
            }
        },
        "/admin/reload": {},
    }.get(path)


@pytest.fixture(scope="module")
def base(client: TestClient, deployed: Deployed) -> None:
    r = client.post(
        "/score",
        json={"report": submission("matrix-base")},
        headers=auth(deployed.keys["intake"]),
    )
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("method", "path", "expected"), MATRIX)
def test_route_answers_the_documented_status(
    client: TestClient,
    deployed: Deployed,
    base: None,
    method: str,
    path: str,
    expected: dict[str, int],
    caller: str,
) -> None:
    headers = {}
    if caller == "wrong":
        headers = auth("tsk_not-a-key")
    elif caller != "none":
        headers = auth(deployed.keys[caller])
    if method == "GET":
        r = client.get(path, headers=headers)
    else:
        body = _body(path, f"matrix-{caller}")
        r = client.post(path, json=body, headers=headers)
    assert r.status_code == expected[caller], (method, path, caller, r.text[:300])
    if r.status_code in (401, 403):
        assert r.json()["error"] in ("unauthorized", "forbidden")
