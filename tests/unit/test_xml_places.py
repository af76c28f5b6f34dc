"""What a CyberTipline document gives of places, identifiers and uploads, read as given.

An outside XML client (session 9) sent XSD-valid reports that the analyst was told had "no
location", "no user identifiers" or "no upload IP", and hollow elements counted as facts.
"""

from __future__ import annotations

import pytest

from features.identifiers import IdentifierHasher
from features.xml.intake import IntakeOptions, ParsedReport, parse_submission
from features.xml.safe import XmlIntakeError
from serving.key_facts import key_facts
from serving.rules import PreservationPolicy, likely_informational

SUMMARY = (
    "<incidentSummary><incidentType>Child Sex Trafficking</incidentType>"
    "<incidentDateTime>2025-05-30T10:00:00Z</incidentDateTime></incidentSummary>"
)
REPORTER = "<reporter><reportingPerson><email>a@esp.example</email></reportingPerson></reporter>"
UPLOAD = (
    "<ipCaptureEvent><ipAddress>192.0.2.1</ipAddress><eventName>Upload</eventName>"
    "</ipCaptureEvent>"
)


def _parse(
    hasher: IdentifierHasher, details: str = "", reported: str = ""
) -> ParsedReport:
    body = f"<report>{SUMMARY}{details}{REPORTER}{reported}</report>"
    return parse_submission([body], hasher, IntakeOptions(esp="Discord"))


def _person(inner: str) -> str:
    return f"<personOrUserReported>{inner}</personOrUserReported>"


def _missing(parsed: ParsedReport) -> str:
    warning = likely_informational(parsed.report)
    return "" if warning is None else warning.text


def _codes(parsed: ParsedReport) -> list[str]:
    return [w.code for w in parsed.warnings]


def test_the_incidents_own_address_is_its_location(hasher: IdentifierHasher) -> None:
    details = (
        "<internetDetails><nonInternetIncident><locationName>Park</locationName>"
        "<incidentAddress><city>Leeds</city><country>GB</country></incidentAddress>"
        "</nonInternetIncident></internetDetails>"
    )
    parsed = _parse(
        hasher, details, _person("<espIdentifier>u1</espIdentifier>" + UPLOAD)
    )
    assert parsed.report.location.country_code == "GB"
    assert _missing(parsed) == ""


@pytest.mark.parametrize(
    ("state", "country"), [("TX", "US"), ("PR", "PR"), ("DC", "US")]
)
def test_a_us_state_places_the_address(
    hasher: IdentifierHasher, state: str, country: str
) -> None:
    address = f"<address><city>Austin</city><zipCode>78701</zipCode><state>{state}</state></address>"
    parsed = _parse(
        hasher,
        reported=_person(
            f"<personOrUserReportedPerson>{address}</personOrUserReportedPerson>"
        ),
    )
    assert parsed.report.location.country_code == country


def test_a_code_off_the_xsds_list_is_not_a_country(hasher: IdentifierHasher) -> None:
    located = "<estimatedLocation><countryCode>{}</countryCode></estimatedLocation>"
    parsed = _parse(hasher, reported=_person(located.format("ZZ")))
    assert parsed.report.location.country_code is None
    assert "invalid_country" in _codes(parsed)
    raw = _parse(hasher, reported=_person(located.format("JDOE@EXAMPLE.ORG")))
    said = next(w.message for w in raw.warnings if w.code == "invalid_country")
    assert "JDOE" not in said  # the sender's text is named by its digest only
    lower = _parse(hasher, reported=_person(located.format("de")))
    assert lower.report.location.country_code == "DE"


def test_an_estimated_location_without_country_is_not_no_location(
    hasher: IdentifierHasher,
) -> None:
    located = (
        "<estimatedLocation><city>Paris</city><region>IDF</region></estimatedLocation>"
    )
    parsed = _parse(
        hasher, reported=_person("<espIdentifier>u1</espIdentifier>" + UPLOAD + located)
    )
    assert parsed.report.location.country_code is None
    assert "location_without_country" in _codes(parsed)
    assert "no location" not in _missing(parsed)
    facts = key_facts(
        parsed.report, {}, parsed.report.received_at.date(), PreservationPolicy()
    )
    location = next(f for f in facts if f.code == "location")
    assert (
        location.text == "Country unknown: an estimated location is given without one"
    )


def test_coordinates_without_country_are_named(hasher: IdentifierHasher) -> None:
    details = (
        "<internetDetails><cellPhoneIncident><latitude>51.5</latitude>"
        "<longitude>-0.12</longitude></cellPhoneIncident></internetDetails>"
    )
    parsed = _parse(hasher, details)
    warning = next(w for w in parsed.warnings if w.code == "location_without_country")
    assert "coordinates" in warning.message


def test_an_associated_account_is_a_user_identifier(hasher: IdentifierHasher) -> None:
    account = (
        "<associatedAccount><espIdentifier>alt-9</espIdentifier></associatedAccount>"
    )
    parsed = _parse(hasher, reported=_person(account))
    assert parsed.report.linkage.accounts
    assert "no user identifiers" not in _missing(parsed)


def test_a_peer_to_peer_upload_is_an_upload_ip(hasher: IdentifierHasher) -> None:
    details = f"<internetDetails><peer2peerIncident>{UPLOAD}</peer2peerIncident></internetDetails>"
    parsed = _parse(hasher, details)
    assert parsed.report.reported_person.upload_ip
    assert "no upload IP" not in _missing(parsed)


def test_hollow_elements_are_not_facts(hasher: IdentifierHasher) -> None:
    hollow = (
        "<espIdentifier>u1</espIdentifier>"
        "<ipCaptureEvent><eventName>Upload</eventName></ipCaptureEvent><ipCaptureEvent/>"
        "<deviceId/><priorCTReports/><priorCTReports>none known</priorCTReports>"
        "<priorCTReports>123456</priorCTReports>"
    )
    parsed = _parse(hasher, reported=_person(hollow))
    person = parsed.report.reported_person
    assert (person.upload_ip, person.ip_events, person.device_ids) == (False, 0, 0)
    assert person.prior_ct_reports == 1
    paths = {w.path for w in parsed.warnings if w.code == "hollow_element"}
    assert {p.rsplit("/", 1)[1] for p in paths} == {
        "ipCaptureEvent",
        "deviceId",
        "priorCTReports",
    }


def test_a_birth_after_the_incident_is_no_age(hasher: IdentifierHasher) -> None:
    victim = "<victim><victimPerson><dateOfBirth>2030-01-01</dateOfBirth></victimPerson></victim>"
    parsed = _parse(hasher, reported=victim)
    assert parsed.report.victims.minor_stated is False


def test_warnings_of_one_kind_are_listed_up_to_a_cap(hasher: IdentifierHasher) -> None:
    # 49,990 unknown elements made as many warnings: a 3.8 MB answer, a 4.9 MB row
    many = "".join(f"<x{i}/>" for i in range(100))
    body = f"<report>{SUMMARY}{REPORTER}{many}</report>"
    parsed = parse_submission([body], hasher, IntakeOptions(esp="Discord"))
    unknown = [w for w in parsed.warnings if w.code == "unknown_element"]
    assert len(unknown) == 21  # 20 listed, one counting the rest
    assert unknown[-1].message.startswith("80 more unknown_element warning(s)")


@pytest.mark.parametrize(
    "root", ['<report xmlns="urn:not-ncmec">', '<n:report xmlns:n="urn:not-ncmec">']
)
def test_a_document_in_a_namespace_is_not_a_cybertipline_report(
    hasher: IdentifierHasher, root: str
) -> None:
    close = "</n:report>" if root.startswith("<n:") else "</report>"
    with pytest.raises(XmlIntakeError) as caught:
        parse_submission([f"{root}{SUMMARY}{REPORTER}{close}"], hasher, IntakeOptions())
    assert caught.value.code == "wrong_root"
    assert "no namespace" in str(caught.value)


def test_a_foreign_element_is_unknown_not_read(hasher: IdentifierHasher) -> None:
    foreign = SUMMARY.replace(
        "</incidentSummary>",
        '<x:escalateToHighPriority xmlns:x="urn:other">imminent</x:escalateToHighPriority>'
        "</incidentSummary>",
    )
    body = f"<report>{foreign}{REPORTER}</report>"
    parsed = parse_submission([body], hasher, IntakeOptions(esp="Discord"))
    assert parsed.report.esp_escalated is False
    assert "unknown_element" in _codes(parsed)


def _file(file_id: str, viewed: str = "false") -> str:
    return (
        f"<fileDetails><reportId>1</reportId><fileId>{file_id}</fileId>"
        f"<fileViewedByEsp>{viewed}</fileViewedByEsp></fileDetails>"
    )


def test_a_file_sent_again_is_one_file(hasher: IdentifierHasher) -> None:
    # one fileDetails sent three times read as "3 of 3 files were not viewed" (session 9)
    body = f"<report>{SUMMARY}{REPORTER}</report>"
    options = IntakeOptions(esp="Discord", report_id="1")
    parsed = parse_submission([body, *[_file("f1")] * 3], hasher, options)
    assert len(parsed.report.files) == 1
    assert "duplicate_file" in _codes(parsed)
    # the same id saying something else (a file and its supplemental description, as
    # an independent client's samples send): both read, with a warning
    differ = parse_submission([body, _file("f1"), _file("f1", "true")], hasher, options)
    assert len(differ.report.files) == 2
    assert "shared_file_id" in _codes(differ)


def test_a_file_id_is_a_token_for_hash_matches(hasher: IdentifierHasher) -> None:
    # fileId is xs:token: "abc  def" is "abc def", and a result for it applies
    from features.vocab import HashMatch

    body = f"<report>{SUMMARY}{REPORTER}</report>"
    options = IntakeOptions(
        esp="Discord", report_id="1", hash_matches={"abc def": HashMatch.KNOWN}
    )
    parsed = parse_submission([body, _file(" abc  def ")], hasher, options)
    assert parsed.report.files[0].hash_match == HashMatch.KNOWN
    assert "hash_match_no_file" not in _codes(parsed)


def test_a_boolean_in_another_case_is_read_with_a_warning(
    hasher: IdentifierHasher,
) -> None:
    # TRUE was read as true with no word of it (xs:boolean is lower case; session 9)
    person = _person(
        "<espIdentifier>u1</espIdentifier><accountTemporarilyDisabled>TRUE</accountTemporarilyDisabled>"
    )
    parsed = _parse(hasher, reported=person)
    assert parsed.report.reported_person.account_temporarily_disabled is True
    assert "not_xs_boolean" in _codes(parsed)


@pytest.mark.parametrize(
    ("when", "path"),
    [
        (
            "2099-05-30T10:00:00Z",
            "/report/incidentSummary/incidentDateTime",
        ),  # after receipt
        (
            "1985-05-30T10:00:00Z",
            "/report/incidentSummary/incidentDateTime",
        ),  # before 1990
    ],
)
def test_a_contract_refusal_names_the_element(
    hasher: IdentifierHasher, when: str, path: str
) -> None:
    # it said "/report ()" or "/report (incident_at)" (an outside XML client, session 9)
    summary = SUMMARY.replace("2025-05-30T10:00:00Z", when)
    with pytest.raises(XmlIntakeError) as caught:
        parse_submission(
            [f"<report>{summary}{REPORTER}</report>"], hasher, IntakeOptions(esp="X")
        )
    assert caught.value.code == "invalid_report"
    assert caught.value.path == path


def test_a_phones_country_calling_code_is_part_of_it(hasher: IdentifierHasher) -> None:
    # the XSD's <phone countryCallingCode="+1"> hashed apart from "+1 (555) 701-9999"
    def phones(phone: str) -> list[str]:
        person = _person(
            f"<personOrUserReportedPerson>{phone}</personOrUserReportedPerson>"
        )
        return _parse(hasher, reported=person).report.linkage.phones

    attribute = phones('<phone countryCallingCode="+1">5557019999</phone>')
    assert attribute == phones("<phone>+1 (555) 701-9999</phone>")
    assert attribute == phones("<phone>15557019999</phone>")
    # a number that carries the code already is not prefixed twice; a trunk 0 goes
    carried = '<phone countryCallingCode="+1">+1 555 701 9999</phone>'
    assert phones(carried) == attribute
    uk = phones('<phone countryCallingCode="+44">07700 900123</phone>')
    assert uk == phones("<phone>+44 7700 900123</phone>")


def test_the_esp_scope_ignores_spaces_around_the_name(hasher: IdentifierHasher) -> None:
    from features.identifiers import RawIdentifiers, hash_identifiers

    raw = RawIdentifiers(accounts=["u1"])
    spaced = hash_identifiers(raw, hasher, " DISCORD ")
    assert spaced.accounts == hash_identifiers(raw, hasher, "Discord").accounts
