"""The schemathesis run, extended with the crafted shapes of issue 18's outside test.

Generated cases (``test_api_fuzz.py``) rarely hit a year near 9999, a cursor holding 2^63,
an XML declaration naming UTF-7 or a key given twice; these cases are built by hand on the
live service's OpenAPI operations and sent with the same checks as the generated ones: no
5xx, every status, header and body as the document says (``positive_data_acceptance`` left
out, as there). Each shape made a 500, or a 200 for what must be refused, before the fix.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis import checks

from tests.service.conftest import auth, submission
from tests.serving_fixtures import Deployed

TIMES = [
    "9999-12-31T23:59:59-23:59",
    "9999-12-31T23:59:59+00:00",
    "0001-01-01T00:00:00+23:59",
    "1900-01-01T00:00:00Z",
]
ENCODINGS = ["UTF-7", "UTF-32", "Shift_JIS", "x-unknown", "punycode"]


def _cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


def _xml(encoding: str) -> str:
    return (
        f'<?xml version="1.0" encoding="{encoding}"?><report><incidentSummary>'
        "<incidentType>Child Sex Trafficking</incidentType>"
        "<incidentDateTime>2024-06-01T10:00:00Z</incidentDateTime>"
        "</incidentSummary></report>"
    )


def crafted() -> list[tuple[str, Any, str]]:
    """``(path, body, why)`` of each crafted case; all must be refused with a 4xx."""
    cases: list[tuple[str, Any, str]] = []
    for when in TIMES:
        for field in ("received_at", "incident_at"):
            report = submission("crafted-time", **{field: when})
            cases.append(("/score", {"report": report}, f"{field}={when}"))
        cases.append(("/score_batch", {"reports": [report]}, f"batch {when}"))
        xml = {"report_xml": _xml("UTF-8"), "received_at": when}
        cases.append(("/score_xml", {"submission": xml}, f"xml received_at={when}"))
    for values in (
        [2**63, 0.5, "r"],
        [1, 2**64, "r"],
        [1, 1e400, "r"],
        [-(2**63) - 1, 0, ""],
    ):
        query = {"query": {"cursor": _cursor(values)}}
        cases.append(("/queue", query, f"cursor {values}"))
    for encoding in ENCODINGS:
        body = {"submission": {"report_xml": _xml(encoding)}}
        cases.append(("/score_xml", body, f"declares {encoding}"))
    cases.append(
        ("/score", {"report": submission("crafted-x"), "debug": True}, "extra")
    )
    cases.append(("/queue", {"query": {}, "debug": True}, "extra key"))
    cases.append(("/score_batch", {"reports": [{}] * 30_000}, "30,000 items"))
    return cases


@pytest.fixture(scope="module")
def schema(server: str) -> Any:
    return schemathesis.openapi.from_url(f"{server}/docs.json")


@pytest.mark.parametrize(("path", "body", "why"), crafted(), ids=lambda v: str(v)[:40])
def test_crafted_shapes_answer_a_documented_4xx(
    schema: Any, deployed: Deployed, path: str, body: Any, why: str
) -> None:
    operation = schema[path]["POST"]
    case = operation.Case(body=body, media_type="application/json")
    role = "analyst" if path == "/queue" else "intake"
    response = case.call_and_validate(
        headers=auth(deployed.keys[role]),
        timeout=60,
        excluded_checks=[checks.positive_data_acceptance],
    )
    assert 400 <= response.status_code < 500, (why, response.status_code, response.text)


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b'{"report": {"report_id": "a", "report_id": "b"}}', "application/json"),
        (b'{"report": {}}', "text/plain"),
        (
            b"--x\r\nContent-Disposition: form-data\r\n\r\n",
            "multipart/form-data; boundary=x",
        ),
    ],
)
def test_loose_bodies_are_refused_on_the_live_server(
    server: str, deployed: Deployed, raw: bytes, content_type: str
) -> None:
    """Duplicate keys and non-JSON Content-Types, as the outside test sent them."""
    r = httpx.post(
        f"{server}/score",
        content=raw,
        headers={**auth(deployed.keys["intake"]), "content-type": content_type},
        timeout=60,
    )
    assert r.status_code in (400, 415), r.text
    assert r.json()["error"] in ("duplicate_key", "unsupported_media_type")
