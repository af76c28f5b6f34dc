"""Issue 18 through HTTP: crafted input gets a 4xx naming the field, loose bodies are refused.

Each test here failed before the fix: a 500 (times near year 9999, a cursor of 2^63, XML
declaring UTF-7, UTF-32, Shift_JIS or an unknown encoding, malformed multipart), or a 200
for what must be refused (unknown top-level keys, duplicate keys, text/plain or multipart
taken as JSON), or a 30,000-item batch validated item by item before its count was refused.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from features.schema import MAX_FILE_HASHES, MAX_FILES, MAX_IDENTIFIERS
from tests.conftest import SAMPLES
from tests.service.conftest import Deployed, auth, submission

pytestmark = pytest.mark.reliability  # an issue-18 regression: `make test-reliability`

XML = SAMPLES / "ncmec_doc_6_1_report_example.xml"


def _post(client: TestClient, key: str, path: str, body: Any, **headers: str) -> Any:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    given = {"content-type": "application/json", **headers}
    return client.post(path, content=content, headers={**auth(key), **given})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("received_at", "9999-12-31T23:59:59-23:59"),
        ("received_at", "9999-12-31T23:00:00-05:00"),
        ("incident_at", "9999-12-31T23:59:59+00:00"),
        ("incident_at", "0001-01-01T00:00:00+23:59"),
    ],
)
def test_extreme_times_are_a_400_naming_the_field(
    client: TestClient, deployed: Deployed, field: str, value: str
) -> None:
    body = {"report": submission(f"time-{field}", **{field: value})}
    r = _post(client, deployed.keys["intake"], "/score", body)
    assert r.status_code == 400, r.text
    assert ["report", field] in [d["loc"] for d in r.json()["detail"]]


def test_a_receipt_time_ahead_of_the_clock_is_a_400_on_every_route(
    client: TestClient, deployed: Deployed
) -> None:
    """The contract takes up to 2100; the service knows the time (outside security test)."""
    key, future = deployed.keys["intake"], "2100-12-31T23:00:00Z"
    one = _post(
        client, key, "/score", {"report": submission("ahead-1", received_at=future)}
    )
    batch = _post(
        client,
        key,
        "/score_batch",
        {"reports": [submission("ahead-2"), submission("ahead-3", received_at=future)]},
    )
    xml = _post(
        client,
        key,
        "/score_xml",
        {"submission": {"report_xml": XML.read_text(), "received_at": future}},
    )
    for r, where in (
        (one, "received_at"),
        (batch, "reports[1].received_at"),
        (xml, "received_at"),
    ):
        assert r.status_code == 400, r.text
        assert (
            f"{where}: 2100-12-31T23:00:00+00:00 is ahead of this service's clock"
            in r.text
        )
    now = submission("ahead-4", received_at="2024-06-02T00:00:00Z")
    assert _post(client, key, "/score", {"report": now}).status_code == 200


def test_extreme_received_at_on_the_xml_route_is_a_400(
    client: TestClient, deployed: Deployed
) -> None:
    body = {
        "submission": {
            "report_xml": XML.read_text(),
            "received_at": "9999-12-31T23:59:59-23:59",
        }
    }
    r = _post(client, deployed.keys["intake"], "/score_xml", body)
    assert r.status_code == 400, r.text
    assert ["submission", "received_at"] in [d["loc"] for d in r.json()["detail"]]


@pytest.mark.parametrize(
    "values", [[2**63, 0.5, "r"], [1, 2**64, "r"], [-(2**70), 0, ""]]
)
def test_a_crafted_cursor_is_a_400(
    client: TestClient, deployed: Deployed, values: list[Any]
) -> None:
    cursor = base64.urlsafe_b64encode(json.dumps(values).encode()).decode()
    r = _post(client, deployed.keys["analyst"], "/queue", {"query": {"cursor": cursor}})
    assert r.status_code == 400, r.text
    assert r.json()["error"].startswith("cursor:")


DECLARED = '<?xml version="1.0" encoding="{}"?>'


def _declaring(encoding: str) -> str:
    return DECLARED.format(encoding) + XML.read_text().split("?>", 1)[1]


@pytest.mark.parametrize("encoding", ["UTF-7", "UTF-32", "Shift_JIS", "x-unknown-9"])
def test_xml_in_an_encoding_not_accepted_is_a_4xx_in_every_form(
    client: TestClient, deployed: Deployed, encoding: str
) -> None:
    key = deployed.keys["intake"]
    text = _declaring(encoding).replace("jsmith@example.com", "+2D0-@example.com")
    raw = _post(
        client, key, "/score_xml", text.encode(), **{"content-type": "application/xml"}
    )
    form = client.post(
        "/score_xml",
        files=[("report", ("r.xml", text.encode(), "application/xml"))],
        data={"esp": "X"},
        headers=auth(key),
    )
    as_json = _post(client, key, "/score_xml", {"submission": {"report_xml": text}})
    for r in (raw, form, as_json):
        assert 400 <= r.status_code < 500, (encoding, r.status_code, r.text)
        assert r.json()["error"].startswith("unsupported_charset"), r.text
        assert encoding in r.text
    charset = client.post(
        "/score_xml",
        content=_declaring("UTF-8").encode(),
        headers={**auth(key), "content-type": f"application/xml; charset={encoding}"},
    )
    assert charset.status_code == 415, charset.text


@pytest.mark.parametrize(
    "body",
    [
        b'--b\r\nContent-Disposition: form-data; name="report"\r\n\r\n<report/>',
        b"--b\r\nno header end",
        b"--b\r\n: x\r\n\r\nx\r\n--b--\r\n",
        b"\x00\xff" * 64,
        b"",
    ],
)
@pytest.mark.parametrize("boundary", ["b", '"b"', "b" * 300, ""])
def test_malformed_multipart_is_a_400(
    client: TestClient, deployed: Deployed, body: bytes, boundary: str
) -> None:
    r = client.post(
        "/score_xml",
        content=body,
        headers={
            **auth(deployed.keys["intake"]),
            "content-type": f"multipart/form-data; boundary={boundary}",
        },
    )
    assert r.status_code == 400, r.text
    assert r.json()["error"] in {"invalid_multipart", "report_count"}, r.text


PART = (
    b'--b\r\nContent-Disposition: form-data; name="report"; filename="r.xml"\r\n'
    b"Content-Type: application/xml; charset={charset}\r\n\r\n<report/>\r\n--b--\r\n"
)


@pytest.mark.parametrize("charset", [b"utf-8\x00", b"punycode", b"utf-7"])
def test_a_part_charset_that_is_no_accepted_charset_is_a_4xx(
    client: TestClient, deployed: Deployed, charset: bytes
) -> None:
    """Found by mutating multipart bodies: a NUL in a part's charset (``ValueError``
    from ``codecs.lookup``) and ``punycode`` (``UnicodeError``) answered 500."""
    r = client.post(
        "/score_xml",
        content=PART.replace(b"{charset}", charset),
        headers={
            **auth(deployed.keys["intake"]),
            "content-type": "multipart/form-data; boundary=b",
        },
    )
    assert r.status_code == 415, r.text
    assert r.json()["error"] == "unsupported_charset"


@pytest.mark.parametrize(
    ("path", "key", "body"),
    [
        ("/score", "intake", {"report": submission("loose-1"), "debug": True}),
        ("/score_batch", "intake", {"reports": [submission("loose-2")], "debug": True}),
        (
            "/score_xml",
            "intake",
            {"submission": {"report_xml": "<report/>"}, "debug": True},
        ),
        ("/queue", "analyst", {"query": {}, "debug": True}),
        ("/report", "analyst", {"report": {"report_id": "x"}, "debug": True}),
        ("/model_card", "analyst", {"debug": True}),
        ("/admin/reload", "admin", {"debug": True}),
    ],
)
def test_unknown_top_level_keys_are_refused(
    client: TestClient, deployed: Deployed, path: str, key: str, body: Any
) -> None:
    r = _post(client, deployed.keys[key], path, body)
    assert r.status_code == 400, r.text
    [detail] = r.json()["detail"]
    assert (detail["loc"], detail["type"]) == (["debug"], "extra_forbidden")


@pytest.mark.parametrize(
    ("path", "key", "raw"),
    [
        ("/score", "intake", b'{"report": {}, "report": {}}'),
        ("/score", "intake", b'{"report": {"report_id": "a", "report_id": "b"}}'),
        ("/score_batch", "intake", b'{"reports": [{"esp": "a", "esp": "b"}]}'),
        ("/score_xml", "intake", b'{"submission": {"esp": "a", "esp": "b"}}'),
        ("/queue", "analyst", b'{"query": {"limit": 5, "limit": 10}}'),
        ("/decide", "analyst", b'{"decision": {"note": "", "note": "x"}}'),
    ],
)
def test_duplicate_keys_are_refused(
    client: TestClient, deployed: Deployed, path: str, key: str, raw: bytes
) -> None:
    r = _post(client, deployed.keys[key], path, raw)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "duplicate_key", r.text


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
    ],
)
@pytest.mark.parametrize(
    ("path", "key", "body"),
    [
        ("/score", "intake", {"report": submission("ctype-1")}),
        ("/score_batch", "intake", {"reports": [submission("ctype-2")]}),
        ("/queue", "analyst", {"query": {}}),
        ("/decide", "analyst", {"decision": {}}),
    ],
)
def test_json_routes_take_only_json(
    client: TestClient,
    deployed: Deployed,
    path: str,
    key: str,
    body: Any,
    content_type: str,
) -> None:
    r = _post(client, deployed.keys[key], path, body, **{"content-type": content_type})
    assert r.status_code == 415, r.text
    assert r.json()["error"] == "unsupported_media_type"
    assert "application/json" in r.json()["message"]


def test_json_variants_and_no_content_type_still_work(
    client: TestClient, deployed: Deployed
) -> None:
    key = deployed.keys["intake"]
    body = {"report": submission("ctype-ok-1")}
    for content_type in ("application/json; charset=utf-8", "application/vnd.x+json"):
        r = _post(client, key, "/score", body, **{"content-type": content_type})
        assert r.status_code == 200, r.text
    r = client.post("/queue", content=b"", headers=auth(deployed.keys["analyst"]))
    assert r.status_code == 400  # an empty body is {}: 'query' is missing, as before


def test_a_30000_item_batch_is_refused_on_count_before_validation(
    client: TestClient, deployed: Deployed
) -> None:
    """Items that would each fail validation: the count is what is answered."""
    r = _post(
        client, deployed.keys["intake"], "/score_batch", {"reports": [{}] * 30_000}
    )
    assert r.status_code == 400, r.text[:300]
    assert r.json() == {"error": "reports: at most 1000 per batch, got 30000"}


@pytest.mark.parametrize(
    ("identifiers", "files", "loc", "limit"),
    [
        ({"file_hashes": [f"{i:064x}" for i in range(MAX_FILE_HASHES + 1)]}, 0,
         ["report", "identifiers", "file_hashes"], MAX_FILE_HASHES),
        ({"ips": [f"10.1.{i // 250}.{i % 250}" for i in range(MAX_IDENTIFIERS + 1)]}, 0,
         ["report", "identifiers", "ips"], MAX_IDENTIFIERS),
        ({}, MAX_FILES + 1, ["report", "files"], MAX_FILES),
    ],
)  # fmt: skip
def test_identifiers_and_files_per_report_are_bounded(
    client: TestClient,
    deployed: Deployed,
    identifiers: dict[str, list[str]],
    files: int,
    loc: list[str],
    limit: int,
) -> None:
    report = submission("limits-1", identifiers=identifiers, files=[{}] * files)
    r = _post(client, deployed.keys["intake"], "/score", {"report": report})
    assert r.status_code == 400, r.text[:300]
    [detail] = r.json()["detail"]
    assert detail["loc"] == loc and str(limit) in detail["msg"]


def test_identifiers_per_batch_are_bounded(
    client: TestClient, deployed: Deployed
) -> None:
    """16 reports x 2,000 file hashes and 200 of each other kind: each within its own
    limits, together over the batch's budget (issue 18's stalling request, resized)."""
    kinds = ("accounts", "screen_names", "emails", "phones", "ips", "devices")
    reports = [
        submission(
            f"budget-{n}",
            identifiers={
                **{k: [f"{k}-{n}-{i}" for i in range(MAX_IDENTIFIERS)] for k in kinds},
                "file_hashes": [f"{n:08x}{i:056x}" for i in range(MAX_FILE_HASHES)],
            },
        )
        for n in range(16)
    ]
    r = _post(client, deployed.keys["intake"], "/score_batch", {"reports": reports})
    assert r.status_code == 400, r.text[:300]
    assert (
        "identifiers per batch" in r.json()["error"]
        and "got 51200" in r.json()["error"]
    )
