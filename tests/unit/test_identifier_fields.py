"""Fields that are not identifiers cannot carry one to disk (issue 18, point 5).

``report_id`` has a strict shape, ``esp`` is kept from a closed vocabulary, and parser
warnings name a raw value or an odd element name only by a short keyed digest.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from features.identifiers import IdentifierHasher, to_contract
from features.platforms import OTHER, Platforms
from features.report_id import identifier_shape
from features.schema import ReportSubmission
from features.vocab import HashMatch
from features.xml.common import Context
from features.xml.intake import IntakeOptions, parse_submission
from tests.service.conftest import submission

pytestmark = pytest.mark.reliability  # an issue-18 regression: `make test-reliability`

REFUSED_IDS = [
    "198.51.100.9",
    "10.0.0.1",
    "ip-198.51.100.9",
    "2001:db8::1",
    "fe80::1",
    "::1",
    "2001:0db8:0000:0000:0000:ff00:0042:8329",
    "0xC0A80164",
    "555-701-9999",
    "555.701.9999",
    "1-555-701-9999",
    "tel-555-701-9999",
    "555-0123",
    "44-20-7946-0958",
]
REFUSED_BY_PATTERN = [
    "john.doe@example.com",
    "+15557019999",
    "(555) 123-4567",
    "\uff11\uff19\uff18.51.100.9",  # fullwidth digits: not ASCII
    "-leading-dash",
    "has space",
    "x" * 65,
]
ACCEPTED_IDS = [
    "4564654",
    "7855776",
    "123456789012",
    "xml-0123456789abcdef",
    "web-meme-1",
    "FBI-case-7",
    "r-2024-06-01-3",
    "2024-06-01",
    "pii-0",
    "s-parity",
    "bench-12",
    "a",
    "report:2024:17",
    "v1.2.3",
]


@pytest.mark.parametrize("report_id", REFUSED_IDS + REFUSED_BY_PATTERN)
def test_a_report_id_that_is_an_identifier_is_refused_by_name(report_id: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ReportSubmission.model_validate(submission(report_id))
    assert caught.value.errors()[0]["loc"] == ("report_id",)


@pytest.mark.parametrize("report_id", REFUSED_IDS)
def test_each_refused_shape_is_named(report_id: str) -> None:
    assert identifier_shape(report_id) is not None


@pytest.mark.parametrize("report_id", ACCEPTED_IDS)
def test_real_report_ids_are_accepted(report_id: str) -> None:
    assert ReportSubmission.model_validate(submission(report_id)).report_id == report_id


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("Discord", "Discord"),
        ("discord", "Discord"),
        ("twitter", "X Corp"),
        ("X", "X Corp"),
        ("Meta", "Facebook"),
        ("QueueTestESP", "QueueTestESP"),  # registered
        ("queue test esp", "QueueTestESP"),
        ("555-701-9999", OTHER),
        ("john.doe@example.com", OTHER),
        ("Xbox Live", OTHER),
        ("x" * 256, OTHER),
        (None, None),
    ],
)
def test_the_esp_is_kept_from_a_closed_vocabulary(sent: str | None, kept: str) -> None:
    assert Platforms(["QueueTestESP"]).canonical(sent) == kept


def test_closing_the_esp_keeps_the_hashes_and_the_model_category(
    hasher: IdentifierHasher,
) -> None:
    body = submission("esp-1", esp="zq-unknown-esp-555-701-9999")
    body["identifiers"] = {"accounts": ["acct-1"], "screen_names": ["screen-1"]}
    raw = to_contract(ReportSubmission.model_validate(body), hasher)
    closed = Platforms().closed(raw)
    assert closed.esp == OTHER and "zq-unknown" not in closed.model_dump_json()
    # account hashes were scoped by the name as sent, on arrival: unchanged
    assert closed.linkage == raw.linkage
    again = to_contract(ReportSubmission.model_validate(body), hasher)
    assert again.linkage.accounts == raw.linkage.accounts
    known = to_contract(ReportSubmission.model_validate(submission("esp-2")), hasher)
    assert Platforms().closed(known) is known  # "Snapchat" stays as it is


NEAR_MISS = "online enticement of children for sexual acts 555-701-9999"
LONG_NAME = "zqRawElement" + "x" * 100_000


def _xml(incident_type: str, extra: str) -> str:
    return (
        "<?xml version='1.0'?><report><incidentSummary>"
        f"<incidentType>{incident_type}</incidentType>"
        "<incidentDateTime>2024-01-01T00:00:00Z</incidentDateTime>"
        "<platform>zq-raw-platform-555-701-9999</platform>"
        "</incidentSummary><reporter><reportingPerson><email>a@b.c</email>"
        f"</reportingPerson></reporter>{extra}</report>"
    )


def test_parser_warnings_keep_no_raw_value_and_no_long_name(
    hasher: IdentifierHasher,
) -> None:
    extra = f"<{LONG_NAME}/><ip-198.51.100.9/><mysteryBlock/>"
    parsed = parse_submission(
        [_xml(NEAR_MISS, extra)], hasher, IntakeOptions(report_id="1")
    )
    codes = {w.code for w in parsed.warnings}
    assert {"enum_near_miss", "unknown_element", "esp_from_platform"} <= codes
    text = " ".join(f"{w.path} {w.message}" for w in parsed.warnings)
    for raw in (NEAR_MISS, "555-701-9999", "198.51.100.9", "zqRawElement"):
        assert raw not in text
    assert len(text) < 2_000
    assert "/report/mysteryBlock" in {
        w.path for w in parsed.warnings
    }  # plain names stay
    # the same value gives the same digest: repeats can be counted
    again = parse_submission(
        [_xml(NEAR_MISS, extra)], hasher, IntakeOptions(report_id="1")
    )
    assert [w.message for w in again.warnings] == [w.message for w in parsed.warnings]
    platform = next(w for w in parsed.warnings if w.code == "esp_from_platform")
    assert platform.message.endswith("'other'")


def test_a_file_id_shaped_like_an_identifier_is_redacted_in_warnings(
    hasher: IdentifierHasher,
) -> None:
    matches = {"555-701-9999": HashMatch.KNOWN, "GHOST-1": HashMatch.NOVEL}
    parsed = parse_submission(
        [_xml("Child Sex Trafficking", "")],
        hasher,
        IntakeOptions(report_id="1", hash_matches=matches),
    )
    text = " ".join(
        w.message for w in parsed.warnings if w.code == "hash_match_no_file"
    )
    assert "'GHOST-1'" in text and "555-701-9999" not in text and "#" in text


@pytest.mark.parametrize(
    "value",
    ["10.0.0.1\n", "555-701-9999\n", " 10.0.0.1", "ip10.0.0.1", "555-701-9999x"],
)
def test_a_reference_shaped_like_an_identifier_is_never_quoted(
    hasher: IdentifierHasher, value: str
) -> None:
    """A trailing newline or glued letters once got a raw value quoted in a warning."""
    ctx = Context(hasher)
    assert ctx.reference(value) == ctx.redact(value)
    assert value.strip() not in ctx.reference(value)
    assert ctx.reference("GHOST-1") == "'GHOST-1'"
