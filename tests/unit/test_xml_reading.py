"""XML that real clients send, read as the XSD means it (an outside integrator's cases).

Comments inside a value, content in elements the parsers skip, empty optional elements,
file names that are URLs: each was misread or accepted before, and each case here failed
on the code before the fix.
"""

from __future__ import annotations

import base64

import pytest

from features.identifiers import IdentifierHasher
from features.vocab import MediaKind
from features.xml.intake import IntakeOptions, parse_file_details, parse_submission
from features.xml.safe import XmlIntakeError

TYPE = "<incidentType>Child Sex Trafficking</incidentType>"
WHEN = "<incidentDateTime>2024-06-01T10:00:00Z</incidentDateTime>"
REPORTER = (
    "<reporter><reportingPerson><email>a@b.c</email></reportingPerson></reporter>"
)
BLOB = base64.b64encode(bytes(range(256)) * 8).decode()  # 2,732 characters


def report(summary: str = TYPE + WHEN, parties: str = "", extra: str = "") -> bytes:
    body = f"<incidentSummary>{summary}</incidentSummary>{REPORTER}{parties}{extra}"
    return f"<?xml version='1.0'?><report>{body}</report>".encode()


def parse(data: bytes, hasher: IdentifierHasher):  # type: ignore[no-untyped-def]
    options = IntakeOptions(esp="X", report_id="1")
    return parse_submission([data], hasher, options)


def file_details(inner: str) -> bytes:
    head = "<fileDetails><reportId>1</reportId><fileId>f</fileId>"
    return f"{head}{inner}</fileDetails>".encode()


# --- comments are not part of a value ---------------------------------------------------


@pytest.mark.parametrize(
    "incident_type",
    [
        "<!-- reviewer -->Child Sex Trafficking",
        "Child Sex <!--x-->Trafficking",
        "Child Sex Trafficking<!-- after -->",
    ],
)
def test_a_comment_inside_a_value_is_not_part_of_it(
    hasher: IdentifierHasher, incident_type: str
) -> None:
    summary = f"<incidentType>{incident_type}</incidentType>" + WHEN.replace(
        "2024", "<!--UTC-->2024"
    )
    parsed = parse(report(summary), hasher)
    assert parsed.report.incident_type.value == "Child Sex Trafficking"
    assert parsed.report.incident_at.isoformat() == "2024-06-01T10:00:00+00:00"
    assert "xml_comment" in {w.code for w in parsed.warnings}


def test_a_comment_before_a_victims_age_keeps_the_age(hasher: IdentifierHasher) -> None:
    plain = parse(
        report(parties="<victim><victimPerson><age>14</age></victimPerson></victim>"),
        hasher,
    )
    commented = parse(
        report(
            parties="<victim><victimPerson><age><!-- stated -->14</age></victimPerson></victim>"
        ),
        hasher,
    )
    assert plain.report.victims.minor_stated is True
    assert commented.report.victims.minor_stated is True


def test_a_comment_before_a_file_flag_keeps_the_flag(hasher: IdentifierHasher) -> None:
    data = file_details("<fileViewedByEsp><!-- reviewed -->true</fileViewedByEsp>")
    _, meta, warnings = parse_file_details(data, hasher, IntakeOptions())
    assert meta.viewed_by_esp is True
    assert "invalid_boolean" not in {w.code for w in warnings}


# --- content is refused wherever it sits -------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "parties", "path"),
    [
        (f"<fileContent>{BLOB}</fileContent>", "", "/report/fileContent"),
        ("<fileContent>iVBORw0KGgo=</fileContent>", "", "/report/fileContent"),
        (
            "",
            f"<personOrUserReported><profileImage>{BLOB}</profileImage></personOrUserReported>",
            "/report/personOrUserReported/profileImage",
        ),
        (
            f"<notes>{BLOB}</notes>",
            "",
            "/report/notes",
        ),
        (
            "",
            "<personOrUserReported><personOrUserReportedPerson>"
            "<displayName>data:image/png;base64,iVBORw0KGgo=</displayName>"
            "</personOrUserReportedPerson></personOrUserReported>",
            "/report/personOrUserReported/personOrUserReportedPerson/displayName",
        ),
    ],
)
def test_content_in_the_report_is_refused_wherever_it_sits(
    hasher: IdentifierHasher, extra: str, parties: str, path: str
) -> None:
    with pytest.raises(XmlIntakeError, match="metadata only") as caught:
        parse(report(parties=parties, extra=extra), hasher)
    assert caught.value.code == "metadata_only"
    assert caught.value.path == path


def test_content_in_an_attribute_is_refused(hasher: IdentifierHasher) -> None:
    data = report(extra=f'<reporter thumb="{BLOB}"/>')
    with pytest.raises(XmlIntakeError) as caught:
        parse(data, hasher)
    assert caught.value.code == "metadata_only"
    assert caught.value.path == "/report/reporter/@thumb"


def test_a_base64_thumbnail_in_exif_details_is_refused(
    hasher: IdentifierHasher,
) -> None:
    exif = (
        '<details type="EXIF"><nameValuePair><name>ThumbnailImage</name>'
        f"<value>{BLOB}</value></nameValuePair></details>"
    )
    with pytest.raises(XmlIntakeError) as caught:
        parse_file_details(file_details(exif), hasher, IntakeOptions())
    assert caught.value.code == "metadata_only"
    assert caught.value.path == "/fileDetails/details/nameValuePair/value"


def test_a_hash_element_holding_content_is_refused(hasher: IdentifierHasher) -> None:
    """Hash elements are exempt only for values written as a hash is (review)."""
    for inner in (
        f'<originalFileHash hashType="MD5">data:image/png;base64,{BLOB}</originalFileHash>',
        f'<originalFileHash hashType="MD5">{BLOB}</originalFileHash>',
    ):
        with pytest.raises(XmlIntakeError) as caught:
            parse_file_details(file_details(inner), hasher, IntakeOptions())
        assert caught.value.code == "metadata_only"


def test_hash_values_and_xsd_names_are_not_content(hasher: IdentifierHasher) -> None:
    photodna = "ab" * 144  # 288 hex characters, as PhotoDNA is often written
    hashes = (
        f'<originalFileHash hashType="PhotoDNA">{photodna}</originalFileHash>'
        '<details type="HASH"><nameValuePair><name>PhotoDNA</name>'
        f"<value>{photodna}</value></nameValuePair></details>"
    )
    parse_file_details(file_details(hashes), hasher, IntakeOptions())
    email = (
        "<internetDetails><emailIncident><emailAddress>x@y.z</emailAddress>"
        "<content>Subject: hello</content></emailIncident></internetDetails>"
    )
    parse(report(extra=email), hasher)


# --- empty optional elements are absent --------------------------------------------------


def test_an_empty_age_is_no_age_given(hasher: IdentifierHasher) -> None:
    empty = "<personOrUserReported><personOrUserReportedPerson><age/><dateOfBirth> </dateOfBirth></personOrUserReportedPerson></personOrUserReported>"
    given = "<personOrUserReported><personOrUserReportedPerson><age>30</age></personOrUserReportedPerson></personOrUserReported>"
    assert (
        parse(report(parties=empty), hasher).report.reported_person.age_or_dob is False
    )
    assert (
        parse(report(parties=given), hasher).report.reported_person.age_or_dob is True
    )


@pytest.mark.parametrize(("age", "minor"), [("+15", True), ("15", True), ("19", False)])
def test_a_signed_age_is_an_xs_int(
    hasher: IdentifierHasher, age: str, minor: bool
) -> None:
    parties = f"<victim><victimPerson><age>{age}</age></victimPerson></victim>"
    assert parse(report(parties=parties), hasher).report.victims.minor_stated is minor


# --- file names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("names", "kind"),
    [
        (
            "<originalFileName>https://cdn.example.com/u/1/IMG_0001.jpg?ex=66a1&amp;hm=9f</originalFileName>",
            MediaKind.IMAGE,
        ),
        ("<originalFileName>clip.mpg#t=3</originalFileName>", MediaKind.VIDEO),
        ("<originalFileName>v.MPEG</originalFileName>", MediaKind.VIDEO),
        ("<originalFileName>x.jfif</originalFileName>", MediaKind.IMAGE),
        ("<originalFileName>photo.avif</originalFileName>", MediaKind.IMAGE),
        (
            "<fileName>upload.mp4</fileName><originalFileName>blob</originalFileName>",
            MediaKind.VIDEO,
        ),
        ("<originalFileName>notes.txt</originalFileName>", MediaKind.OTHER),
        ("<originalFileName> </originalFileName>", MediaKind.UNKNOWN),
    ],
)
def test_media_kind_reads_urls_and_common_extensions(
    hasher: IdentifierHasher, names: str, kind: MediaKind
) -> None:
    _, meta, _ = parse_file_details(file_details(names), hasher, IntakeOptions())
    assert meta.media_kind is kind


# --- date-times, repeated and unknown elements, report numbers, UTF-16 -------------------


@pytest.mark.parametrize(
    ("written", "read", "warned"),
    [
        ("2024-06-01T24:00:00Z", "2024-06-02T00:00:00+00:00", set()),
        ("2024-06-01T10:00:00.5+05:30", "2024-06-01T10:00:00.500000+05:30", set()),
        ("2024-06-01T10:00Z", "2024-06-01T10:00:00+00:00", {"not_xs_datetime"}),
        ("2024-06-01 10:00:00Z", "2024-06-01T10:00:00+00:00", {"not_xs_datetime"}),
    ],
)
def test_date_times_as_the_xsd_reads_them(
    hasher: IdentifierHasher, written: str, read: str, warned: set[str]
) -> None:
    summary = TYPE + f"<incidentDateTime>{written}</incidentDateTime>"
    parsed = parse(report(summary), hasher)
    assert parsed.report.incident_at.isoformat() == read
    codes = {w.code for w in parsed.warnings}
    assert codes & {"not_xs_datetime", "naive_datetime"} == warned


def test_the_end_of_the_last_day_is_an_invalid_value_not_a_crash(
    hasher: IdentifierHasher,
) -> None:
    summary = TYPE + "<incidentDateTime>9999-12-31T24:00:00Z</incidentDateTime>"
    with pytest.raises(XmlIntakeError) as caught:
        parse(report(summary), hasher)
    assert caught.value.code == "invalid_value"
    assert "9999-12-31T24:00:00Z" in caught.value.message  # as written


def test_a_negative_age_falls_back_to_the_date_of_birth(
    hasher: IdentifierHasher,
) -> None:
    person = "<victimPerson><age>-1</age><dateOfBirth>2012-01-01</dateOfBirth></victimPerson>"
    parsed = parse(report(parties=f"<victim>{person}</victim>"), hasher)
    assert parsed.report.victims.minor_stated is True


def test_an_element_allowed_once_but_repeated_is_named(
    hasher: IdentifierHasher,
) -> None:
    summary = (
        TYPE
        + "<reportAnnotations><spam/></reportAnnotations>"
        + "<reportAnnotations><sextortion/></reportAnnotations>"
        + WHEN
    )
    parsed = parse(report(summary), hasher)
    repeated = [w for w in parsed.warnings if w.code == "repeated_element"]
    assert [w.path for w in repeated] == ["/report/incidentSummary/reportAnnotations"]
    assert "the first was read" in repeated[0].message
    assert parsed.report.annotations.spam and not parsed.report.annotations.sextortion


def test_an_unknown_element_in_the_summary_is_named(hasher: IdentifierHasher) -> None:
    parsed = parse(report(TYPE + WHEN + "<ageAssertionDiscrepancy/>"), hasher)
    unknown = {w.path for w in parsed.warnings if w.code == "unknown_element"}
    assert unknown == {"/report/incidentSummary/ageAssertionDiscrepancy"}


@pytest.mark.parametrize("written", ["+123456", "0123456", "123456"])
def test_a_files_report_number_is_an_xs_long(
    hasher: IdentifierHasher, written: str
) -> None:
    data = (
        f"<fileDetails><reportId>{written}</reportId><fileId>f</fileId></fileDetails>"
    )
    report_id, _, _ = parse_file_details(data.encode(), hasher, IntakeOptions())
    assert report_id == "123456"
    for given in ("123456", "0123456"):  # the caller's id, as it was given
        parsed = parse_submission(
            [report(), data.encode()], hasher, IntakeOptions(esp="X", report_id=given)
        )
        assert parsed.report.report_id == given


@pytest.mark.parametrize("written", ["-5", "9223372036854775808"])
def test_a_report_number_outside_xs_long_is_refused(
    hasher: IdentifierHasher, written: str
) -> None:
    # one past xs:long's maximum was accepted as the report id (session 9)
    data = (
        f"<fileDetails><reportId>{written}</reportId><fileId>f</fileId></fileDetails>"
    )
    with pytest.raises(XmlIntakeError) as caught:
        parse_file_details(data.encode(), hasher, IntakeOptions())
    assert caught.value.code == "invalid_value"


def test_a_negative_report_number_is_refused(hasher: IdentifierHasher) -> None:
    data = b"<fileDetails><reportId>-5</reportId><fileId>f</fileId></fileDetails>"
    with pytest.raises(XmlIntakeError) as caught:
        parse_file_details(data, hasher, IntakeOptions())
    assert caught.value.code == "invalid_value"


def test_a_utf16_document_with_a_declaration_is_not_said_to_lack_one(
    hasher: IdentifierHasher,
) -> None:
    text = (
        report()
        .decode()
        .replace("<?xml version='1.0'?>", '<?xml version="1.0" encoding="UTF-16"?>')
    )
    for data in (text.encode("utf-16"), text.encode("utf-16-le")):
        parsed = parse(data, hasher)
        assert "no_xml_declaration" not in {w.code for w in parsed.warnings}
    bare = text.split("?>", 1)[1].encode("utf-16")
    assert "no_xml_declaration" in {w.code for w in parse(bare, hasher).warnings}
