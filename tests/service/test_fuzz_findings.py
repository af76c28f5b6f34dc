"""Regressions for what the API fuzzer found (tests/reliability/test_api_fuzz.py).

Older findings sit beside the code they changed (``test_analyst_api.py``:
``test_numbers_and_flags_are_not_coerced``, the error shape, the OpenAPI document).
"""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import SAMPLES
from tests.service.conftest import Deployed, auth, submission

XML = SAMPLES / "nachtalb_doc_section6_1_example_report.xml"


def _locs(answer: Any) -> list[list[Any]]:
    return [item["loc"] for item in answer.json().get("detail", [])]


@pytest.mark.parametrize("when", [1717236000, 1717236000.5, "1717236000", " 1e9 "])
def test_a_number_is_not_a_time(
    client: TestClient, deployed: Deployed, when: object
) -> None:
    """The document says ISO 8601 text; pydantic alone would read a number as Unix time
    (and guess seconds or milliseconds from its size)."""
    r = client.post(
        "/score",
        json={"report": submission("num-time", incident_at=when)},
        headers=auth(deployed.keys["intake"]),
    )
    assert r.status_code == 400, r.text
    assert ["report", "incident_at"] in _locs(r) and "ISO 8601" in r.text


def _xml(client: TestClient, deployed: Deployed, **fields: Any) -> Any:
    body = {"report_xml": XML.read_text(), "esp": "Discord", **fields}
    return client.post(
        "/score_xml", json={"submission": body}, headers=auth(deployed.keys["intake"])
    )


@pytest.mark.parametrize(
    ("fields", "loc"),
    [
        ({"received_at": "2024-06-01T00:00:00"}, ["submission", "received_at"]),
        ({"received_at": 1717236000}, ["submission", "received_at"]),
        ({"received_at": "yesterday"}, ["submission", "received_at"]),
        ({"hash_matches": {"F1": "maybe"}}, ["submission", "hash_matches", "F1"]),
        ({"report_id": ""}, ["submission", "report_id"]),
        ({"report_id": "has space"}, ["submission", "report_id"]),
    ],
)
def test_xml_submission_fields_are_checked_by_name(
    client: TestClient, deployed: Deployed, fields: dict[str, Any], loc: list[str]
) -> None:
    """It answered "received_at or hash_matches: ..." and the document allowed any text."""
    r = _xml(client, deployed, **fields)
    assert r.status_code == 400, r.text
    assert _locs(r) == [loc], r.text


def test_xml_submission_with_typed_fields_is_scored(
    client: TestClient, deployed: Deployed
) -> None:
    r = _xml(
        client,
        deployed,
        received_at="2024-06-01T00:00:00+02:00",
        hash_matches={"FILE789": "known"},
        report_id="xml-typed-1",
    )
    assert r.status_code == 200, r.text
    assert r.json()["report_id"] == "xml-typed-1"


def test_the_document_types_the_xml_submission(client: TestClient) -> None:
    spec = client.get("/docs.json").json()
    fields = spec["components"]["schemas"]["XmlSubmission"]["properties"]

    def given(name: str) -> dict[str, Any]:
        """The schema of an optional field when it is not null."""
        return next(s for s in fields[name]["anyOf"] if s.get("type") != "null")

    assert given("received_at")["format"] == "date-time"
    assert given("report_id")["minLength"] == 1 and "pattern" in given("report_id")
    matches = fields["hash_matches"]["additionalProperties"]
    assert matches == {"$ref": "#/components/schemas/HashMatch"}
    enum = spec["components"]["schemas"]["HashMatch"]["enum"]
    assert set(enum) == {"known", "novel", "unknown"}


def test_the_document_lists_get_model_card(
    client: TestClient, deployed: Deployed
) -> None:
    """The service answered ``GET /model_card`` but the document did not list it."""
    spec = client.get("/docs.json").json()
    get = spec["paths"]["/model_card"]["get"]
    assert "requestBody" not in get and {"200", "401"} <= set(get["responses"])
    ids = [
        op.get("operationId") for ops in spec["paths"].values() for op in ops.values()
    ]
    named = [i for i in ids if i]
    assert len(named) == len(set(named))
    r = client.get("/model_card", headers=auth(deployed.keys["analyst"]))
    assert r.status_code == 200 and r.json()["model_version"]
