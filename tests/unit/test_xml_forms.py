"""The pieces of the raw and multipart forms: charsets, facts, parts, intake warnings, docs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import openapi_spec_validator
import pytest
from python_multipart.multipart import parse_options_header

from features.identifiers import IdentifierHasher
from features.vocab import HashMatch, ReporterType
from features.xml.encoding import EncodingError, xml_text
from features.xml.intake import IntakeOptions, parse_submission
from serving.multipart_parts import split_parts
from serving.openapi_doc import complete
from serving.xml_facts import Facts, FormError
from serving.xml_forms import multipart_submission
from serving.xml_openapi import REPORT_EXAMPLE, add_xml_forms

TEXT = '<?xml version="1.0" encoding="{}"?><report><a>Jos\u00e9 \u20ac</a></report>'


@pytest.mark.parametrize(
    ("data", "charset"),
    [
        (TEXT.format("UTF-8").encode(), None),
        (TEXT.format("windows-1252").encode("cp1252"), None),
        (TEXT.format("UTF-16").encode("utf-16"), None),  # with a byte-order mark
        (TEXT.format("UTF-16").encode("utf-16-le"), None),  # without one
        (TEXT.format("UTF-8").encode("cp1252"), "windows-1252"),  # charset wins
        # a byte-order mark wins over the charset (RFC 7303), as the NCMEC API's
        # clients send UTF-16 with charset=utf-8
        (TEXT.format("UTF-16").encode("utf-16"), "utf-8"),
        (TEXT.format("UTF-8").encode("utf-8-sig"), "ISO-8859-1"),
    ],
)
def test_text_comes_from_the_charset_or_the_document(
    data: bytes, charset: str | None
) -> None:
    assert "Jos\u00e9 \u20ac" in xml_text(data, charset)


@pytest.mark.parametrize(
    ("data", "charset", "code"),
    [
        (TEXT.format("UTF-8").encode("cp1252"), None, "undecodable"),
        (b"<report/>", "klingon", "unsupported_charset"),
        (b"<report/>", "base64", "unsupported_charset"),
        (b'<?xml version="1.0" encoding="UTF-16"?><report/>', None, "undecodable"),
        (
            b'<?xml version="1.0" encoding="nope-9"?><report/>',
            None,
            "unsupported_charset",
        ),
    ],
)
def test_bad_encodings_are_named(data: bytes, charset: str | None, code: str) -> None:
    with pytest.raises(EncodingError) as caught:
        xml_text(data, charset)
    assert caught.value.code == code


def test_decoded_text_is_parsed_whatever_its_declaration_says(
    samples: Path, hasher: IdentifierHasher
) -> None:
    raw = (samples / "ncmec_doc_6_1_report_example.xml").read_bytes()
    latin = raw.replace(b"UTF-8", b"ISO-8859-1").replace(b"John", "J\u00f6hn".encode())
    as_text = parse_submission([xml_text(latin)], hasher, IntakeOptions(esp="X"))
    as_bytes = parse_submission([latin], hasher, IntakeOptions(esp="X"))
    assert as_text.report.linkage == as_bytes.report.linkage
    assert as_text.report.incident_type == as_bytes.report.incident_type


def test_facts_come_from_anywhere_once() -> None:
    facts = Facts()
    facts.add("esp", "Discord", "query parameter")
    facts.add_headers([(b"X-Tipscore-Esp", b"Discord"), (b"x-other", b"1")])
    facts.add("hash_match", "F1=known, F2=novel", "form field")
    facts.add("hash_matches", "F3=unknown", "form field")
    assert facts.fields() == {
        "esp": "Discord",
        "hash_matches": {"F1": "known", "F2": "novel", "F3": "unknown"},
    }
    facts.add("esp", "Kik", "form field")
    with pytest.raises(FormError, match="esp is given 3 times") as caught:
        facts.fields()
    assert caught.value.code == "conflicting_facts"
    with pytest.raises(FormError) as unknown:
        Facts().add("report_xml", "x", "form field")
    assert unknown.value.code == "unknown_parameter"
    bad = Facts()
    bad.add("hash_matches", "F1", "query parameter")
    with pytest.raises(FormError, match="FILE_ID=known"):
        bad.fields()


def test_header_facts_are_utf8_like_query_parameters() -> None:
    """A non-ASCII ESP name agrees whether it comes as a header or a query parameter."""
    facts = Facts()
    facts.add_headers([(b"x-tipscore-esp", "Café".encode())])
    facts.add("esp", "Café", "query parameter")
    assert facts.fields() == {"esp": "Café"}
    with pytest.raises(FormError, match="not UTF-8") as caught:
        Facts().add_headers([(b"x-tipscore-esp", b"Caf\xe9")])
    assert caught.value.code == "invalid_parameter"


def test_multipart_parts_are_cut_in_memory() -> None:
    request = httpx.Request(
        "POST",
        "http://test/score_xml",
        files=[
            (
                "report",
                (
                    "r.xml",
                    "<report>\u00e9</report>".encode("latin-1"),
                    "application/xml; charset=ISO-8859-1",
                ),
            ),
            ("fileDetails", ("f.xml", b"<fileDetails/>", "text/xml")),
        ],
        data={"esp": "Discord"},
    )
    body = request.read()
    _, params = parse_options_header(request.headers["content-type"])
    parts = {p.name: p for p in split_parts(body, params[b"boundary"])}
    assert set(parts) == {"report", "fileDetails", "esp"}
    assert parts["report"].charset == "ISO-8859-1"
    assert bytes(parts["report"].data) == "<report>\u00e9</report>".encode("latin-1")
    assert bytes(parts["esp"].data) == b"Discord"
    for broken, boundary in [(body[:-12], params[b"boundary"]), (body, None)]:
        with pytest.raises(FormError) as caught:
            split_parts(broken, boundary)
        assert caught.value.code == "invalid_multipart"


REPORT_PART = ("report", ("r.xml", b"<report/>", "application/xml"))
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)


def _multipart(*parts: tuple[str, tuple[str, bytes, str]]) -> dict[str, Any]:
    request = httpx.Request("POST", "http://test/score_xml", files=list(parts))
    _, params = parse_options_header(request.headers["content-type"])
    scope = {"query_string": b"", "headers": []}
    return multipart_submission(scope, request.read(), params[b"boundary"])


@pytest.mark.parametrize(
    "part",
    [
        ("image", ("x.png", PNG, "image/png")),  # a part of any name
        ("fileDetails", ("f.bin", PNG, "application/octet-stream")),
        ("report2", ("x.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "text/plain")),
        ("fileDetails", ("f.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "application/pdf")),
        ("clip", ("c.mp4", b"\x00\x00\x00\x18ftypmp42", "video/mp4")),
    ],
)
def test_a_file_in_any_part_is_refused_as_metadata_only(
    part: tuple[str, tuple[str, bytes, str]],
) -> None:
    with pytest.raises(FormError) as caught:
        _multipart(REPORT_PART, part)
    assert caught.value.code == "metadata_only"
    assert "metadata only" in caught.value.message


def test_utf16_xml_parts_are_not_taken_for_files() -> None:
    text = '<?xml version="1.0" encoding="UTF-16"?><report/>'
    for data in (text.encode("utf-16"), text.encode("utf-16-le")):
        form = _multipart(("report", ("r.xml", data, "application/xml")))
        assert form["report_xml"].lstrip("\ufeff").startswith("<?xml")


PLATFORM = """<report><incidentSummary>
<incidentType>Child Sex Trafficking</incidentType>{platform}
<incidentDateTime>2024-06-01T10:00:00Z</incidentDateTime></incidentSummary>
<reporter><reportingPerson><email>a@example.org</email></reportingPerson></reporter>
<personOrUserReported><espIdentifier>u1</espIdentifier>{service}</personOrUserReported>
</report>"""


@pytest.mark.parametrize(
    ("platform", "service", "options", "esp", "code"),
    [
        ("<platform>Kik</platform>", "", IntakeOptions(), "Kik", "esp_from_platform"),
        (
            "",
            "<espService>Xbox Live</espService>",
            IntakeOptions(),
            "Xbox Live",
            "esp_from_platform",
        ),
        ("", "", IntakeOptions(), None, "esp_not_given"),
        ("<platform>Kik</platform>", "", IntakeOptions(esp="Discord"), "Discord", None),
        (
            "<platform>Kik</platform>",
            "",
            IntakeOptions(reporter_type=ReporterType.PUBLIC),
            None,
            None,
        ),
    ],
)
def test_the_esp_is_the_platform_the_report_names_when_none_is_given(
    hasher: IdentifierHasher,
    platform: str,
    service: str,
    options: IntakeOptions,
    esp: str | None,
    code: str | None,
) -> None:
    document = PLATFORM.format(platform=platform, service=service)
    parsed = parse_submission([document], hasher, options)
    assert parsed.report.esp == esp
    codes = {w.code for w in parsed.warnings}
    assert codes & {"esp_from_platform", "esp_not_given"} == ({code} if code else set())
    # accounts are scoped by the ESP used, the derived one included
    same = IntakeOptions(esp=esp, reporter_type=options.reporter_type)
    named = parse_submission([document], hasher, same)
    assert parsed.report.linkage.accounts == named.report.linkage.accounts


def test_hash_matches_naming_no_file_are_warned_about(
    samples: Path, hasher: IdentifierHasher
) -> None:
    documents = [
        (samples / "jatools_report_all_fields.xml").read_bytes(),
        (samples / "jatools_fileDetails_all_fields.xml").read_bytes(),
    ]
    matches = {"FILE789": HashMatch.KNOWN, "GHOST-1": HashMatch.NOVEL}
    parsed = parse_submission(
        documents, hasher, IntakeOptions(esp="X", hash_matches=matches)
    )
    warned = [w for w in parsed.warnings if w.code == "hash_match_no_file"]
    assert len(warned) == 1 and "'GHOST-1'" in warned[0].message
    assert [f.hash_match for f in parsed.report.files] == [HashMatch.KNOWN]


def _spec() -> dict[str, Any]:
    """A document shaped as BentoML generates it for /score_xml (JSON form only)."""
    json_body = {"schema": {"$ref": "#/components/schemas/XmlSubmission"}}
    return {
        "openapi": "3.0.2",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/score_xml": {
                "post": {
                    "requestBody": {"content": {"application/json": json_body}},
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
        "components": {"schemas": {"XmlSubmission": {"type": "object"}}},
    }


def test_the_document_shows_every_form_with_an_example() -> None:
    spec = complete(_spec(), {})
    operation = spec["paths"]["/score_xml"]["post"]
    content = operation["requestBody"]["content"]
    assert set(content) == {
        "application/json",
        "application/xml",
        "text/xml",
        "multipart/form-data",
    }
    assert all("example" in media for media in content.values())
    assert content["application/xml"]["example"] == REPORT_EXAMPLE
    assert content["multipart/form-data"]["schema"]["required"] == ["report"]
    assert "fileDetails" in content["multipart/form-data"]["schema"]["properties"]
    parameters = {(p["name"], p["in"]) for p in operation["parameters"]}
    assert {("esp", "query"), ("X-Tipscore-Received-At", "header")} <= parameters
    assert ("reporter_type", "query") in parameters
    assert "415" in operation["responses"]
    again = complete(spec, {})  # idempotent: nothing doubles
    assert len(again["paths"]["/score_xml"]["post"]["parameters"]) == len(parameters)


def test_the_document_without_score_xml_is_left_alone() -> None:
    spec: dict[str, Any] = {"paths": {}}
    add_xml_forms(spec)
    assert spec == {"paths": {}}


@pytest.mark.parametrize("version", ["3.0.2", "3.1.0"])
def test_the_added_forms_keep_the_document_valid(version: str) -> None:
    """Checked with openapi-spec-validator (a dev dependency, as in the OpenAPI test)."""
    spec = _spec()
    spec["openapi"] = version
    add_xml_forms(spec)
    openapi_spec_validator.validate(spec)


def test_too_many_file_parts_are_too_many_files() -> None:
    # the answer was pydantic's too_long at submission.file_details_xml, a field no
    # multipart client sent (an outside XML client, session 9)
    part = ("fileDetails", ("f.xml", b"<fileDetails/>", "application/xml"))
    with pytest.raises(FormError) as caught:
        _multipart(REPORT_PART, *[part] * 1001)
    assert caught.value.code == "too_many_files"
    assert "1001" in caught.value.message
    assert len(_multipart(REPORT_PART, *[part] * 1000)["file_details_xml"]) == 1000
