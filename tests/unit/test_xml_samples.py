"""All shared real-world samples parse (with their named warnings), strictly or leniently."""

from __future__ import annotations

from pathlib import Path

import pytest

from features.identifiers import IdentifierHasher
from features.vocab import IncidentType, MediaKind
from features.xml.intake import IntakeOptions, parse_file_details, parse_submission
from features.xml.safe import XmlIntakeError, Xsd
from serving.intake import load_xsd

REPORTS = {
    "jatools_report_all_fields.xml": (IncidentType.CHILD_PORNOGRAPHY, set()),
    "jatools_report_multiple_victims_recipients.xml": (
        IncidentType.CHILD_SEX_TRAFFICKING,
        {"empty_container"},
    ),
    "jatools_report_required_only_INVALID_incidentType.xml": (
        IncidentType.ONLINE_ENTICEMENT,
        {"enum_near_miss", "empty_container"},
    ),
    "nachtalb_doc_section6_1_example_report.xml": (
        IncidentType.CHILD_PORNOGRAPHY,
        {"unknown_annotation"},
    ),
    "nachtalb_minimal_child_sex_trafficking_report.xml": (
        IncidentType.CHILD_SEX_TRAFFICKING,
        {"no_xml_declaration"},
    ),
    "ncmec_doc_6_1_report_example.xml": (IncidentType.CHILD_PORNOGRAPHY, set()),
}
FILES = {
    "jatools_fileDetails_all_fields.xml": ("123456", set()),
    "jatools_fileDetails_supplemental_potentialMeme.xml": ("123456", set()),
    "jatools_fileDetails_technical_metadata.xml": ("123456", {"empty_container"}),
    "lumeweb_fileDetails_ipCaptureEvent_ipOnly.xml": ("4564654", {"xml_comment"}),
    "lumeweb_valid_fileDetails.xml": ("4564654", set()),
}
XSD_INVALID = {
    "nachtalb_doc_section6_1_example_report.xml": "Element 'informational'",
    "jatools_report_required_only_INVALID_incidentType.xml": "[facet 'enumeration']",
}


def test_the_inventory_covers_every_sample(samples: Path) -> None:
    assert {p.name for p in samples.glob("*.xml")} == set(REPORTS) | set(FILES)


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_report_samples_parse_with_named_warnings(
    samples: Path, hasher: IdentifierHasher, name: str
) -> None:
    parsed = parse_submission(
        [(samples / name).read_bytes()], hasher, IntakeOptions(esp="X")
    )
    expected_type, expected_warnings = REPORTS[name]
    assert parsed.report.incident_type is expected_type
    codes = {w.code for w in parsed.warnings}
    assert codes == expected_warnings | {"report_id_derived"}


@pytest.mark.parametrize("name", sorted(FILES))
def test_file_samples_parse(samples: Path, hasher: IdentifierHasher, name: str) -> None:
    report_id, meta, warnings = parse_file_details(
        (samples / name).read_bytes(), hasher, IntakeOptions()
    )
    assert report_id == FILES[name][0]
    assert {w.code for w in warnings} == FILES[name][1]
    assert meta.hash_match == "unknown"


@pytest.mark.parametrize("name", sorted(set(REPORTS) | set(FILES)))
def test_strict_mode_accepts_valid_and_names_the_xsd_error(
    samples: Path, hasher: IdentifierHasher, xsd: Path, name: str
) -> None:
    options = IntakeOptions(esp="X", xsd=load_xsd(xsd))
    data = (samples / name).read_bytes()
    parse = parse_file_details if name in FILES else None
    if name in XSD_INVALID:
        with pytest.raises(XmlIntakeError) as caught:
            parse_submission([data], hasher, options)
        assert caught.value.code == "xsd_invalid"
        assert XSD_INVALID[name] in str(caught.value)
    elif parse is not None:
        parse(data, hasher, options)
    else:
        parse_submission([data], hasher, options)


def test_report_and_files_join_by_report_id(
    samples: Path, hasher: IdentifierHasher
) -> None:
    documents = [
        (samples / "jatools_report_all_fields.xml").read_bytes(),
        (samples / "jatools_fileDetails_all_fields.xml").read_bytes(),
        (samples / "jatools_fileDetails_supplemental_potentialMeme.xml").read_bytes(),
    ]
    options = IntakeOptions(esp="Discord", hash_matches={"FILE789": "known"})  # type: ignore[dict-item]
    report = parse_submission(documents, hasher, options).report
    assert report.report_id == "123456"
    assert len(report.files) == 2
    first, second = report.files
    assert first.media_kind is MediaKind.IMAGE
    assert first.viewed_by_esp is True
    assert first.industry_classification == "A1"
    assert first.annotations.viral and first.annotations.live_streaming
    assert first.hash_match == "known"
    assert second.relevance == "Supplemental Reported"
    assert second.viewed_by_esp is None
    assert report.reported_person.upload_ip is True
    assert report.victims.minor_stated is True
    assert report.location.country_code == "US"
    assert report.esp_escalated is True
    assert report.annotations.sextortion and report.annotations.csam_solicitation
    assert report.incident_kinds.web_page and report.incident_kinds.chat_im
    assert len(report.linkage.file_hashes) == 3


def test_files_of_another_report_are_refused(
    samples: Path, hasher: IdentifierHasher
) -> None:
    documents = [
        (samples / "ncmec_doc_6_1_report_example.xml").read_bytes(),
        (samples / "lumeweb_valid_fileDetails.xml").read_bytes(),
    ]
    with pytest.raises(XmlIntakeError, match="not '999'") as caught:
        parse_submission(documents, hasher, IntakeOptions(report_id="999"))
    assert caught.value.code == "report_id_mismatch"


def test_mixed_file_reports_are_refused(
    samples: Path, hasher: IdentifierHasher
) -> None:
    documents = [
        (samples / "ncmec_doc_6_1_report_example.xml").read_bytes(),
        (samples / "lumeweb_valid_fileDetails.xml").read_bytes(),
        (samples / "jatools_fileDetails_all_fields.xml").read_bytes(),
    ]
    with pytest.raises(XmlIntakeError, match="different reports"):
        parse_submission(documents, hasher, IntakeOptions())


def test_an_unusable_xsd_is_named(
    samples: Path, hasher: IdentifierHasher, tmp_path: Path
) -> None:
    """The caller reads the XSD (features do no I/O); both failures name its source."""
    with pytest.raises(XmlIntakeError) as missing:
        load_xsd(tmp_path / "absent.xsd")
    assert missing.value.code == "xsd_unusable"
    assert "absent.xsd" in str(missing.value)
    data = (samples / sorted(REPORTS)[0]).read_bytes()
    options = IntakeOptions(esp="X", xsd=Xsd(b"<not-a-schema/>", "broken.xsd"))
    with pytest.raises(XmlIntakeError) as broken:
        parse_submission([data], hasher, options)
    assert broken.value.code == "xsd_unusable"
    assert "cannot load the XSD at broken.xsd" in str(broken.value)
