"""What cannot be a report is refused with a precise error; drift is a named warning."""

from __future__ import annotations

import pytest

from features.identifiers import IdentifierHasher
from features.xml.intake import IntakeOptions, parse_file_details, parse_submission
from features.xml.safe import XmlIntakeError

HEAD = "<report><incidentSummary>"
TYPE = "<incidentType>Child Sex Trafficking</incidentType>"
WHEN = "<incidentDateTime>2024-01-01T00:00:00Z</incidentDateTime>"
TAIL = "</incidentSummary><reporter><reportingPerson><email>a@b.c</email></reportingPerson></reporter></report>"


def report(summary: str, extra: str = "") -> bytes:
    return f"<?xml version='1.0'?>{HEAD}{summary}{TAIL}".replace(
        "</report>", f"{extra}</report>"
    ).encode()


def parse(data: bytes, hasher: IdentifierHasher):  # type: ignore[no-untyped-def]
    return parse_submission([data], hasher, IntakeOptions(esp="X", report_id="1"))


@pytest.mark.parametrize(
    ("data", "code", "path", "words"),
    [
        (
            b"<report><reporter/></report>",
            "missing_element",
            "/report/incidentSummary",
            "expected <incidentSummary>",
        ),
        (
            report(WHEN),
            "missing_element",
            "/report/incidentSummary/incidentType",
            "missing",
        ),
        (
            report(TYPE),
            "missing_element",
            "/report/incidentSummary/incidentDateTime",
            "missing",
        ),
        (
            report("<incidentType>Stolen bicycle</incidentType>" + WHEN),
            "invalid_value",
            "/report/incidentSummary/incidentType",
            "expected one of",
        ),
        (
            report(TYPE + "<incidentDateTime>yesterday</incidentDateTime>"),
            "invalid_value",
            "/report/incidentSummary/incidentDateTime",
            "ISO-8601",
        ),
        (b"<invoice><total>3</total></invoice>", "wrong_root", "/invoice", "<report>"),
        (b"<report><incidentSummary>", "not_well_formed", "/", "line 1"),
    ],
)
def test_refusals_name_element_and_expectation(
    hasher: IdentifierHasher, data: bytes, code: str, path: str, words: str
) -> None:
    with pytest.raises(XmlIntakeError) as caught:
        parse(data, hasher)
    assert caught.value.code == code
    assert caught.value.path == path
    assert words in str(caught.value)


def test_exactly_one_report_document(hasher: IdentifierHasher) -> None:
    one = report(TYPE + WHEN)
    with pytest.raises(XmlIntakeError, match="exactly one <report> document, got 2"):
        parse_submission([one, one], hasher, IntakeOptions())


@pytest.mark.parametrize(
    ("summary", "extra", "code"),
    [
        (
            TYPE + "<reportAnnotations><spam>true</spam></reportAnnotations>" + WHEN,
            "",
            "presence_flag_text",
        ),
        (
            TYPE + "<reportAnnotations><spam>false</spam></reportAnnotations>" + WHEN,
            "",
            "presence_flag_false",
        ),
        (
            TYPE + "<incidentDateTime>2024-01-01T00:00:00</incidentDateTime>",
            "",
            "naive_datetime",
        ),
        (
            TYPE + "<escalateToHighPriority> </escalateToHighPriority>" + WHEN,
            "",
            "blank_escalation",
        ),
        (TYPE + WHEN, "<mysteryBlock/>", "unknown_element"),
        (TYPE + WHEN, "<internetDetails/>", "empty_container"),
        (
            TYPE + WHEN,
            "<personOrUserReported><accountPermanentlyDisabled>maybe</accountPermanentlyDisabled></personOrUserReported>",
            "invalid_boolean",
        ),
    ],
)
def test_drift_is_a_named_warning(
    hasher: IdentifierHasher, summary: str, extra: str, code: str
) -> None:
    parsed = parse(report(summary, extra), hasher)
    assert code in {w.code for w in parsed.warnings}


def test_presence_flags_in_both_spellings_are_read(hasher: IdentifierHasher) -> None:
    summary = (
        TYPE
        + "<reportAnnotations><spam/><sextortion>true</sextortion></reportAnnotations>"
        + WHEN
    )
    parsed = parse(report(summary), hasher)
    assert parsed.report.annotations.spam and parsed.report.annotations.sextortion


def test_file_content_element_is_refused_as_metadata_only(
    hasher: IdentifierHasher,
) -> None:
    data = (
        b"<fileDetails><reportId>1</reportId><fileId>f</fileId>"
        b"<fileContent>iVBORw0KGgo=</fileContent></fileDetails>"
    )
    with pytest.raises(XmlIntakeError, match="metadata only") as caught:
        parse_file_details(data, hasher, IntakeOptions())
    assert caught.value.code == "metadata_only"
    assert caught.value.path == "/fileDetails/fileContent"


def test_missing_file_viewed_flag_stays_unknown(hasher: IdentifierHasher) -> None:
    data = b"<fileDetails><reportId>1</reportId><fileId>f</fileId></fileDetails>"
    _, meta, _ = parse_file_details(data, hasher, IntakeOptions())
    assert meta.viewed_by_esp is None


def test_file_details_need_a_numeric_report_id(hasher: IdentifierHasher) -> None:
    data = b"<fileDetails><reportId>abc</reportId><fileId>f</fileId></fileDetails>"
    with pytest.raises(XmlIntakeError, match="xs:long"):
        parse_file_details(data, hasher, IntakeOptions())
