"""Issue 18 at the unit level: limits, time range, cursors, encodings, bodies, multipart.

Each of these inputs once made a 500, or was accepted although it should not have been;
the HTTP-level regressions are in tests/service/test_input_hardening_api.py.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from features.identifiers import IdentifierHasher
from features.schema import MAX_FILE_HASHES, MAX_FILES, MAX_IDENTIFIERS, TipReport
from features.xml.encoding import EncodingError, xml_text
from features.xml.intake import IntakeOptions, parse_submission
from features.xml.safe import XmlIntakeError
from serving.json_bodies import (
    DuplicateKey,
    batch_over_budget,
    batch_too_large,
    extra_keys,
    refusal,
    strict_loads,
)
from serving.multipart_parts import split_parts
from serving.rules import PreservationPolicy
from serving.settings import ServingSettings
from serving.state.queue import cursor_of, uncursor
from serving.xml_facts import FormError
from tests.factories import make_report

pytestmark = pytest.mark.reliability  # an issue-18 regression: `make test-reliability`


def _errors(**overrides: Any) -> list[Any]:
    with pytest.raises(ValidationError) as caught:
        make_report(**overrides)
    return caught.value.errors()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("received_at", "9999-12-31T23:59:59-23:59"),  # past the calendar's end in UTC
        ("received_at", "9999-12-31T23:00:00+00:00"),
        ("incident_at", "0001-01-01T00:00:00+23:59"),  # before its start
        ("received_at", "1989-12-31T23:59:59Z"),
        ("received_at", "2101-01-01T00:00:00Z"),
    ],
)
def test_times_outside_1990_to_2100_are_named(field: str, value: str) -> None:
    errors = _errors(**{field: value})
    assert [e["loc"] for e in errors] == [(field,)]
    assert "1990-01-01 to 2100-12-31" in errors[0]["msg"]


def test_times_at_the_edges_are_kept_and_the_rules_do_not_overflow() -> None:
    report = make_report(
        incident_at="2100-12-31T20:00:00-03:00", received_at="2100-12-31T23:59:59Z"
    )
    assert PreservationPolicy().deadline(report.received_at).year == 2101
    assert make_report(incident_at="1990-01-01T00:00:00Z").incident_at.year == 1990


@pytest.mark.parametrize(
    ("where", "kind", "limit"),
    [
        ("identifiers", "ips", MAX_IDENTIFIERS),
        ("identifiers", "emails", MAX_IDENTIFIERS),
        ("identifiers", "file_hashes", MAX_FILE_HASHES),
    ],
)
def test_identifier_lists_are_bounded_by_name(
    where: str, kind: str, limit: int
) -> None:
    from features.schema import ReportSubmission

    values = [f"value-{i}@example.org" for i in range(limit + 1)]
    body = {**make_report().model_dump(mode="json", exclude={"linkage"})}
    body[where] = {kind: values}
    with pytest.raises(ValidationError) as caught:
        ReportSubmission.model_validate(body)
    [error] = caught.value.errors()
    assert error["loc"] == (where, kind) and error["type"] == "too_long"
    assert str(limit) in error["msg"]
    body[where] = {kind: values[:limit]}
    ReportSubmission.model_validate(body)


def test_files_are_bounded() -> None:
    errors = _errors(files=[{}] * (MAX_FILES + 1))
    assert [(e["loc"], e["type"]) for e in errors] == [(("files",), "too_long")]
    assert len(make_report(files=[{}] * MAX_FILES).files) == MAX_FILES
    assert TipReport.model_fields["files"].metadata  # the limit is on the contract


def _cursor(values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


@pytest.mark.parametrize(
    "values",
    [
        [2**63, 0.5, "r"],
        [-(2**63) - 1, 0.5, "r"],
        [1, 2**64, "r"],
        [1, float("nan"), "r"],
        [True, 0.5, "r"],
        [4, 0.5, "r"],
        [1, 0.5, "x" * 65],
        [1, 0.5, 7],
        {"a": 1, "b": 2, "c": 3},
        [1, 0.5, "\ud800"],  # a lone surrogate: the codec's message once answered
        [1, 0.5, "r\n1"],
    ],
)
def test_crafted_cursors_are_refused(values: Any) -> None:
    with pytest.raises(ValueError, match="cursor: not a cursor this service gave out"):
        uncursor(_cursor(values))


def test_cursors_given_out_are_read_back() -> None:
    assert uncursor(cursor_of(2, 0.25, "r-1")) == (2, 0.25, "r-1")
    assert uncursor(cursor_of(1, 1, "r-2")) == (1, 1.0, "r-2")


DECLARED = '<?xml version="1.0" encoding="{}"?><report/>'


@pytest.mark.parametrize(
    "data",
    [
        DECLARED.format("UTF-7").encode(),
        DECLARED.format("Shift_JIS").encode(),
        DECLARED.format("EUC-JP").encode(),
        DECLARED.format("punycode").encode(),
        DECLARED.format("x-no-such-thing").encode(),
        DECLARED.format("UTF-32").encode("utf-32"),  # with its byte-order mark
        DECLARED.format("UTF-32").encode("utf-32-le"),  # without one
    ],
)
def test_encodings_outside_the_accepted_list_are_refused(data: bytes) -> None:
    with pytest.raises(EncodingError) as caught:
        xml_text(data)
    assert caught.value.code == "unsupported_charset"


@pytest.mark.parametrize(
    "charset", ["UTF-7", "utf-32", "shift_jis", "punycode", "idna", "utf-8\x00"]
)
def test_charsets_outside_the_accepted_list_are_refused(charset: str) -> None:
    with pytest.raises(EncodingError) as caught:
        xml_text(b"<report/>", charset)
    assert caught.value.code == "unsupported_charset"


@pytest.mark.parametrize(
    "encoding", ["UTF-8", "utf-16", "US-ASCII", "ISO-8859-15", "windows-1250"]
)
def test_accepted_encodings_are_read(encoding: str) -> None:
    text = DECLARED.format(encoding).replace("<report/>", "<report>x</report>")
    assert xml_text(text.encode(encoding)).endswith("<report>x</report>")


@pytest.mark.parametrize("as_text", [True, False])
@pytest.mark.parametrize("encoding", ["UTF-7", "Shift_JIS", "UTF-32", "bogus-1"])
def test_the_intake_refuses_them_as_text_and_as_bytes(
    hasher: IdentifierHasher, samples: Path, encoding: str, as_text: bool
) -> None:
    """As text (the JSON form) the declaration no longer decides how it is read, but
    what is accepted does not depend on the form; as bytes (``tipscore parse``) expat
    raised ``ValueError``/``LookupError`` on them."""
    xml = (samples / "ncmec_doc_6_1_report_example.xml").read_text()
    xml = f'<?xml version="1.0" encoding="{encoding}"?>' + xml.split("?>", 1)[1]
    document: str | bytes = xml if as_text else xml.encode()
    with pytest.raises(XmlIntakeError) as caught:
        parse_submission([document], hasher, IntakeOptions(esp="X"))
    assert caught.value.code == "unsupported_charset"
    assert encoding in caught.value.message


def _with_ips(xml: str, ips: list[str]) -> str:
    events = "".join(
        f"<ipCaptureEvent><ipAddress>{ip}</ipAddress></ipCaptureEvent>" for ip in ips
    )
    party = f"<personOrUserReported>{events}</personOrUserReported>"
    crowded = xml.replace("<reporter>", party + "<reporter>", 1)
    assert crowded != xml
    return crowded


def test_xml_identifiers_are_bounded_like_json(
    hasher: IdentifierHasher, samples: Path
) -> None:
    xml = (samples / "ncmec_doc_6_1_report_example.xml").read_text()
    ips = [f"10.0.{i // 250}.{i % 250}" for i in range(MAX_IDENTIFIERS + 1)]
    with pytest.raises(XmlIntakeError) as caught:
        parse_submission([_with_ips(xml, ips)], hasher, IntakeOptions(esp="X"))
    assert caught.value.code == "too_many_identifiers"
    assert f"at most {MAX_IDENTIFIERS}" in caught.value.message
    assert "identifiers.ips" in caught.value.message
    once = _with_ips(xml, ["10.0.0.1"] * 300)  # one distinct address, 300 events
    parse_submission([once], hasher, IntakeOptions(esp="X"))
    parse_submission([_with_ips(xml, ips[:-1])], hasher, IntakeOptions(esp="X"))


def test_duplicate_keys_are_found_at_any_depth() -> None:
    assert strict_loads(b'{"a": {"b": 1, "c": 2}}') == {"a": {"b": 1, "c": 2}}
    for raw in (b'{"a": 1, "a": 2}', b'{"x": [{"b": 1, "b": 1}]}'):
        with pytest.raises(DuplicateKey):
            strict_loads(raw)


def test_bodies_are_held_to_the_contract() -> None:
    settings = ServingSettings(max_batch=3, max_batch_identifiers=4)
    assert extra_keys({"report": {}}, {"report"}) is None
    found = extra_keys({"report": {}, "debug": True}, {"report"})
    assert found is not None and found["detail"][0]["loc"] == ["debug"]
    assert found["detail"][0]["type"] == "extra_forbidden"
    assert batch_too_large({"reports": [{}] * 4}, 3) == {
        "error": "reports: at most 3 per batch, got 4"
    }
    over = {"reports": [{"identifiers": {"ips": ["a", "b"], "emails": ["c"]}}] * 2}
    assert "got 6" in batch_over_budget(over, 4)["error"]  # type: ignore[index]
    assert refusal("/score", b"not json", settings) is None  # BentoML answers it
    assert refusal("/score", b'{"report": {"a": 1, "a": 1}}', settings) == {
        "error": "duplicate_key",
        "message": "a: a key may appear once in a JSON object; it appears more than once",
    }
    assert refusal("/score_batch", b'{"reports": [1, 2, 3, 4]}', settings) == {
        "error": "reports: at most 3 per batch, got 4"
    }


BOUNDARY = b"xyz"
GOOD = (
    b'--xyz\r\nContent-Disposition: form-data; name="report"\r\n\r\n<report/>\r\n'
    b"--xyz--\r\n"
)


@pytest.mark.parametrize(
    ("body", "boundary"),
    [
        (GOOD[:-9], BOUNDARY),  # cut before the closing boundary
        (b"--xyz\r\nno header end", BOUNDARY),
        (b"--xyz\r\n: no name\r\n\r\nx\r\n--xyz--\r\n", BOUNDARY),
        (b"--xyz\r\nContent-Disposition: form-data\r\n\r\nx\r\n--xyz--\r\n", BOUNDARY),
        (b"garbage before\r\n--xyz--\r\n", BOUNDARY),
        (GOOD, b"x" * 2000),
        (GOOD, "\u00e9".encode()),
        (GOOD, b""),
        (GOOD, None),
        (b"\x00" * 100, BOUNDARY),
    ],
)
def test_malformed_multipart_is_invalid_multipart(
    body: bytes, boundary: bytes | None
) -> None:
    with pytest.raises(FormError) as caught:
        split_parts(body, boundary)
    assert caught.value.code == "invalid_multipart" and caught.value.status == 400


def test_a_good_multipart_body_is_split() -> None:
    [part] = split_parts(GOOD, BOUNDARY)
    assert (part.name, bytes(part.data)) == ("report", b"<report/>")


def test_a_receipt_ahead_of_the_clock_is_refused_unless_turned_off() -> None:
    """The service's check (``refuse_future_receipts``); simulate's service turns it off."""
    from datetime import UTC, datetime, timedelta

    from bentoml.exceptions import InvalidArgument

    from serving.service import not_ahead

    ahead = datetime.now(UTC) + timedelta(days=2)
    with pytest.raises(InvalidArgument, match="ahead of this service's clock"):
        not_ahead(ahead, "reports[3].received_at")
    not_ahead(ahead, on=False)
    not_ahead(datetime.now(UTC) + timedelta(minutes=30))  # within the hour of skew
