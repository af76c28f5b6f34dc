"""``/score_xml`` in its raw and multipart forms, in-process: answers, facts, refusals.

The three forms must give one answer for one report (the real-server comparison over every
shared sample is in ``test_xml_forms_real.py``); here each refusal, each charset rule and
each new warning is checked once.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import SAMPLES
from tests.service.conftest import Deployed, auth

RECEIVED = "2024-06-02T10:00:00Z"
PLATFORM_REPORT = """<?xml version="1.0" encoding="{encoding}"?>
<report>
  <incidentSummary>
    <incidentType>Child Sex Trafficking</incidentType>
    <platform>Caf\u00e9 Chat</platform>
    <incidentDateTime>2024-06-01T10:00:00Z</incidentDateTime>
  </incidentSummary>
  <reporter><reportingPerson><firstName>Jos\u00e9</firstName></reportingPerson></reporter>
</report>"""


def _xml(client: TestClient, key: str, body: bytes, content_type: str, **query: Any):
    return client.post(
        "/score_xml",
        content=body,
        params=query,
        headers={**auth(key), "content-type": content_type},
    )


def _codes(body: dict[str, Any]) -> set[str]:
    return {w["code"] for w in body["warnings"]}


def _without_time(body: dict[str, Any]) -> dict[str, Any]:
    """The answer without the received_at_defaulted warning (its text names a time)."""
    warnings = [w for w in body["warnings"] if w["code"] != "received_at_defaulted"]
    return {**body, "warnings": warnings}


def test_raw_and_multipart_answer_as_json(
    client: TestClient, deployed: Deployed
) -> None:
    key = deployed.keys["intake"]
    report = (SAMPLES / "jatools_report_all_fields.xml").read_bytes()
    details = (SAMPLES / "jatools_fileDetails_all_fields.xml").read_bytes()
    facts = {"esp": "Discord", "received_at": RECEIVED}
    json_form = {
        "report_xml": report.decode(),
        "file_details_xml": [details.decode()],
        "hash_matches": {"FILE789": "known"},
        **facts,
    }
    expected = client.post(
        "/score_xml", json={"submission": json_form}, headers=auth(key)
    )
    assert expected.status_code == 200, expected.text
    raw = client.post(
        "/score_xml",
        content=report,
        params={"received_at": RECEIVED},
        headers={
            **auth(key),
            "content-type": "text/xml",
            "X-Tipscore-Esp": "Discord",
            "X-Tipscore-Hash-Matches": "FILE789=known",
        },
    )
    assert raw.status_code == 200, raw.text
    multipart = client.post(
        "/score_xml",
        files=[
            ("report", ("report.xml", report, "application/xml")),
            ("fileDetails", ("file.xml", details, "application/xml")),
        ],
        data={**facts, "hash_matches": "FILE789=known"},
        headers=auth(key),
    )
    assert multipart.status_code == 200, multipart.text
    assert multipart.json() == expected.json()
    # the raw form sent no fileDetails: its one difference is the unmatched file id
    assert "xml_hash_match_no_file" in _codes(raw.json())
    assert "xml_hash_match_no_file" not in _codes(expected.json())


@pytest.mark.parametrize(
    ("encoding", "content_type"),
    [
        ("ISO-8859-1", "application/xml; charset=ISO-8859-1"),
        ("ISO-8859-1", "application/xml"),  # the declaration decides
        ("UTF-8", "text/xml; charset=ISO-8859-1"),  # the charset wins over it
        ("UTF-16", "application/xml"),  # a byte-order mark
        ("windows-1252", "text/xml"),
    ],
)
def test_the_charset_or_the_declaration_decides(
    client: TestClient, deployed: Deployed, encoding: str, content_type: str
) -> None:
    key = deployed.keys["intake"]
    text = PLATFORM_REPORT.format(encoding=encoding)
    wire = "ISO-8859-1" if "charset=ISO-8859-1" in content_type else encoding
    expected = client.post(
        "/score_xml",
        json={"submission": {"report_xml": text, "received_at": RECEIVED}},
        headers=auth(key),
    )
    raw = _xml(client, key, text.encode(wire), content_type, received_at=RECEIVED)
    assert raw.status_code == 200, raw.text
    assert raw.json() == expected.json()
    texts = {w["code"]: w["text"] for w in raw.json()["warnings"]}
    assert "'Caf\u00e9 Chat'" in texts["xml_esp_from_platform"]


def test_bytes_that_do_not_fit_their_charset_are_refused(
    client: TestClient, deployed: Deployed
) -> None:
    key = deployed.keys["intake"]
    latin = PLATFORM_REPORT.format(encoding="UTF-8").encode("latin-1")
    r = _xml(client, key, latin, "application/xml")
    assert r.status_code == 400
    assert r.json()["error"] == "undecodable" and "utf-8" in r.json()["message"]
    r = _xml(client, key, latin, "application/xml; charset=no-such-charset")
    assert r.status_code == 415 and r.json()["error"] == "unsupported_charset"


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/octet-stream"],
)
def test_a_wrong_content_type_is_a_415(
    client: TestClient, deployed: Deployed, content_type: str
) -> None:
    report = (SAMPLES / "ncmec_doc_6_1_report_example.xml").read_bytes()
    r = _xml(client, deployed.keys["intake"], report, content_type)
    assert r.status_code == 415
    assert r.json()["error"] == "unsupported_media_type"
    assert "application/xml" in r.json()["message"]


def test_the_forms_are_guarded_like_json(
    client: TestClient, deployed: Deployed
) -> None:
    report = (SAMPLES / "ncmec_doc_6_1_report_example.xml").read_bytes()
    xml = {"content-type": "application/xml"}
    r = client.post("/score_xml", content=report, headers=xml)
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    analyst = {**auth(deployed.keys["analyst"]), **xml}
    r = client.post("/score_xml", content=report, headers=analyst)
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    intake = {**auth(deployed.keys["intake"]), **xml}
    huge = b"<report>" + b" " * (9 * 1024 * 1024) + b"</report>"
    r = client.post("/score_xml", content=huge, headers=intake)
    assert r.status_code == 413 and r.json()["error"] == "body_too_large"

    def chunks():  # no Content-Length: the cap holds while the form is read
        for _ in range(9):
            yield b" " * (1024 * 1024)

    r = client.post("/score_xml", content=chunks(), headers=intake)
    assert r.status_code == 413 and r.json()["error"] == "body_too_large"


def test_fact_errors_are_precise(client: TestClient, deployed: Deployed) -> None:
    key = deployed.keys["intake"]
    report = (SAMPLES / "ncmec_doc_6_1_report_example.xml").read_bytes()
    cases: list[tuple[dict[str, Any], dict[str, str], int, str]] = [
        ({"espp": "X"}, {}, 400, "unknown_parameter"),
        ({"esp": "X"}, {"X-Tipscore-Esp": "Y"}, 400, "conflicting_facts"),
        ({"hash_matches": "FILE789"}, {}, 400, "invalid_parameter"),
    ]
    for query, headers, status, code in cases:
        r = client.post(
            "/score_xml",
            content=report,
            params=query,
            headers={**auth(key), "content-type": "application/xml", **headers},
        )
        assert r.status_code == status and r.json()["error"] == code, r.text
        assert r.json()["message"]
    naive = _xml(client, key, report, "application/xml", received_at="2024-06-01")
    assert naive.status_code == 400 and "received_at" in naive.text
    empty = _xml(client, key, b"  ", "application/xml")
    assert empty.status_code == 400 and empty.json()["error"] == "empty_body"
    broken = _xml(client, key, b"<report><incidentSummary>", "application/xml")
    assert broken.status_code == 400 and "not_well_formed at /" in broken.text


def test_multipart_errors_are_precise(client: TestClient, deployed: Deployed) -> None:
    headers = auth(deployed.keys["intake"])
    report = (SAMPLES / "ncmec_doc_6_1_report_example.xml").read_bytes()
    part = ("r.xml", report, "application/xml")
    cases: list[tuple[list[Any], dict[str, str], str]] = [
        ([("fileDetails", part)], {}, "report_count"),
        ([("report", part), ("report", part)], {}, "report_count"),
        ([("report", part)], {"report_xml": "x"}, "unknown_parameter"),
        ([("report", ("a.jpg", b"\xff\xd8\xff", "image/jpeg"))], {}, "metadata_only"),
    ]
    for files, data, code in cases:
        r = client.post("/score_xml", files=files, data=data, headers=headers)
        assert r.status_code == 400 and r.json()["error"] == code, r.text
    truncated = client.post(
        "/score_xml",
        content=b"--b\r\nContent-Disposition: form-data; name=report\r\n\r\n<r/>",
        headers={**headers, "content-type": "multipart/form-data; boundary=b"},
    )
    assert truncated.status_code == 400
    assert truncated.json()["error"] == "invalid_multipart"


def test_intake_facts_are_warned_about(client: TestClient, deployed: Deployed) -> None:
    key = deployed.keys["intake"]
    text = PLATFORM_REPORT.format(encoding="UTF-8").encode()
    defaulted = _xml(client, key, text, "application/xml")
    assert defaulted.status_code == 200, defaulted.text
    by_code = {w["code"]: w["text"] for w in defaulted.json()["warnings"]}
    assert "xml_esp_from_platform" in by_code and "xml_esp_not_given" not in by_code
    assert "/report/incidentSummary/platform" in by_code["xml_esp_from_platform"]
    assert "received_at_defaulted" in by_code
    assert "T" in by_code["received_at_defaulted"]  # names the time it used
    public = _xml(
        client,
        key,
        text,
        "application/xml",
        reporter_type="public",
        received_at=RECEIVED,
    )
    assert public.status_code == 200, public.text
    assert not {
        "xml_esp_from_platform",
        "xml_esp_not_given",
        "received_at_defaulted",
    } & (_codes(public.json()))
    given = _xml(
        client, key, text, "application/xml", esp="Discord", received_at=RECEIVED
    )
    assert "xml_esp_from_platform" not in _codes(given.json())
    assert _without_time(defaulted.json())["report_id"] == given.json()["report_id"]


def test_the_documented_examples_score(client: TestClient, deployed: Deployed) -> None:
    """Each form is in /docs.json with an example body, and each example is accepted."""
    operation = client.get("/docs.json").json()["paths"]["/score_xml"]["post"]
    content = operation["requestBody"]["content"]
    forms = {"application/json", "application/xml", "text/xml", "multipart/form-data"}
    assert forms <= set(content)
    headers = auth(deployed.keys["intake"])
    r = client.post(
        "/score_xml", json=content["application/json"]["example"], headers=headers
    )
    assert r.status_code == 200, r.text
    for media_type in ("application/xml", "text/xml"):
        example = content[media_type]["example"].encode()
        r = _xml(client, deployed.keys["intake"], example, media_type)
        assert r.status_code == 200, r.text
    fields = dict(content["multipart/form-data"]["example"])
    report = fields.pop("report").encode()
    r = client.post(
        "/score_xml",
        files=[("report", ("report.xml", report, "application/xml"))],
        data=fields,
        headers=headers,
    )
    assert r.status_code == 200, r.text
    assert "415" in operation["responses"]
    assert {p["name"] for p in operation["parameters"]} >= {"esp", "X-Tipscore-Esp"}


def test_facts_beside_a_json_body_are_refused_not_ignored(
    client: TestClient, deployed: Deployed
) -> None:
    body = {"submission": {"report_xml": PLATFORM_REPORT.format(encoding="UTF-8")}}
    headers = auth(deployed.keys["intake"])
    for params, extra in [
        ({"received_at": RECEIVED}, {}),
        ({}, {"X-Tipscore-Esp": "Kik"}),
    ]:
        r = client.post(
            "/score_xml", json=body, params=params, headers={**headers, **extra}
        )
        assert r.status_code == 400 and r.json()["error"] == "facts_outside_json"
    other = client.post("/score_xml", json=body, params={"trace": "1"}, headers=headers)
    assert other.status_code == 200, other.text  # unknown parameters stay ignored


def test_raw_and_multipart_requests_are_audit_logged_without_raw_identifiers(
    client: TestClient, deployed: Deployed
) -> None:
    key = deployed.keys["intake"]
    text = PLATFORM_REPORT.replace(
        "<firstName>", "<email>raw.xml.person@example.org</email><firstName>"
    )
    for form, report_id in (("raw", "audit-xml-raw"), ("multipart", "audit-xml-multi")):
        data = text.format(encoding="UTF-8").encode()
        facts = {"report_id": report_id, "received_at": RECEIVED}
        if form == "raw":
            r = _xml(client, key, data, "application/xml", **facts)
        else:
            r = client.post(
                "/score_xml",
                files=[("report", ("r.xml", data, "application/xml"))],
                data=facts,
                headers=auth(key),
            )
        assert r.status_code == 200, r.text
        db = sqlite3.connect(deployed.state / "reports.db")
        rows = db.execute(
            "SELECT key_id, endpoint FROM requests WHERE report_id = ?", (report_id,)
        ).fetchall()
        db.close()
        assert len(rows) == 1 and rows[0][1] == "/score_xml" and rows[0][0] != "unknown"
    for path in deployed.state.iterdir():
        if path.is_file():
            assert b"raw.xml.person@example.org" not in path.read_bytes(), path.name
