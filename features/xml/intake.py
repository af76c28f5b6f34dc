"""CyberTipline XML intake: one ``<report>`` plus N ``<fileDetails>`` → ``TipReport``.

The ``<report>`` document carries no report id (NCMEC assigns it at ``/submit``); the id comes
from the caller, or from the ``reportId`` its ``<fileDetails>`` documents share, or — for a
bare report — is derived from the document's bytes (with a warning). The receipt time and
hash-match results are not in the XML either: the intake system supplies them in
``IntakeOptions``, with the reporting ESP — or, when it does not, the platform the report
names is taken as the ESP (with a warning). Hash-match results for file ids that no
``<fileDetails>`` carries are named in a warning.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from features.identifiers import IdentifierHasher, hash_identifiers
from features.platforms import Platforms
from features.report_limits import ReportLimits
from features.schema import FileMeta, RawIdentifiers, TipReport
from features.vocab import HashMatch, LocationSource, ReporterType
from features.xml.common import Context, local, report_number
from features.xml.content import refuse_content
from features.xml.encoding import EncodingError, check_declaration, check_encoding
from features.xml.files import FileDoc, read_file_details
from features.xml.limits import check_limits
from features.xml.parties import RawBag
from features.xml.places import country_of, incident_countries
from features.xml.report import (
    check_report_children,
    incident_upload,
    read_annotations,
    read_bundle,
    read_escalation,
    read_incident_kinds,
    read_incident_type,
    read_parties,
    read_platform,
    read_summary,
)
from features.xml.safe import (
    ParseWarning,
    XmlDocument,
    XmlIntakeError,
    XmlLimits,
    Xsd,
    read_xml,
    validate_xsd,
)


@dataclass(frozen=True)
class IntakeOptions:
    """What the intake system knows beside the XML."""

    esp: str | None = None
    reporter_type: ReporterType = ReporterType.ESP
    report_id: str | None = None
    received_at: datetime | None = None
    hash_matches: Mapping[str, HashMatch] = field(default_factory=dict)
    xsd: Xsd | None = None
    limits: XmlLimits = field(default_factory=XmlLimits)
    report_limits: ReportLimits = field(default_factory=ReportLimits)
    platforms: Platforms = field(default_factory=Platforms)


class ParsedReport(BaseModel):
    """The contract parsed from XML, with every tolerated deviation as a warning."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    report: TipReport
    warnings: list[ParseWarning]


def _as_bytes(data: bytes | str) -> tuple[bytes, str | None]:
    """Bytes to parse, and the encoding to read them in (None: as they declare).

    Either way the document must be in, or declare, an accepted encoding
    (``features.xml.encoding.ACCEPTED``): expat failed on some others with errors no
    caller expected (``ValueError``, ``LookupError``), and text in the JSON form that
    declares one is refused alike, so what is accepted does not depend on the form.
    """
    try:
        if isinstance(data, str):  # text decoded by the caller: read as UTF-8
            raw = data.encode("utf-8", "surrogatepass")
            check_declaration(raw)
            return raw, "utf-8"
        check_encoding(data)
    except EncodingError as exc:
        raise XmlIntakeError(exc.code, "/", exc.message) from None
    return data, None


def _read(
    data: bytes | str, options: IntakeOptions, ctx: Context, name: str
) -> tuple[XmlDocument, bytes]:
    raw, encoding = _as_bytes(data)
    document = read_xml(raw, options.limits, encoding)
    refuse_content(ctx, document.root)  # before the XSD: content is never "valid"
    if options.xsd is not None:
        problems = validate_xsd(raw, options.xsd, encoding)
        if problems:
            raise XmlIntakeError(
                "xsd_invalid", f"/{local(document.root.tag)}", "; ".join(problems[:5])
            )
    if not document.has_declaration:
        ctx.warn("no_xml_declaration", name, "document has no <?xml ...?> declaration")
    if document.has_comments:
        ctx.warn("xml_comment", name, "document contains comments; they were ignored")
    return document, raw


IN_NO_NAMESPACE = " in no namespace (the CyberTipline XSD has no target namespace)"


def _split(
    documents: Sequence[bytes | str], options: IntakeOptions, ctx: Context, bag: RawBag
) -> tuple[XmlDocument, bytes, list[FileDoc]]:
    reports: list[tuple[XmlDocument, bytes]] = []
    files: list[FileDoc] = []
    for index, data in enumerate(documents):
        document, raw = _read(data, options, ctx, f"document[{index + 1}]")
        root_name = local(document.root.tag)
        if root_name == "report":
            reports.append((document, raw))
        elif root_name == "fileDetails":
            files.append(read_file_details(ctx, document.root, bag))
        else:
            raise XmlIntakeError(
                "wrong_root",
                f"/{root_name[:60]}",
                "root element must be <report> or <fileDetails>"
                + (IN_NO_NAMESPACE if root_name.startswith("{") else ""),
            )
    if len(reports) != 1:
        raise XmlIntakeError(
            "report_count",
            "/report",
            f"expected exactly one <report> document, got {len(reports)}",
        )
    return reports[0][0], reports[0][1], _distinct(ctx, files)


def _distinct(ctx: Context, files: list[FileDoc]) -> list[FileDoc]:
    """Each ``<fileDetails>`` once: one sent again whole is the same file.

    The same document sent three times read as three files ("3 of 3 files were not
    viewed"; an outside test, session 9): a repeat with the same ``fileId`` and the same
    fields is dropped, with a warning. Two that share a ``fileId`` but differ (a file
    and its supplemental description, as an independent client's samples send) are
    both read, with a warning that they share it.
    """
    kept: list[FileDoc] = []
    seen: set[tuple[str, str]] = set()
    for doc in files:
        key = (doc.file_id, repr(sorted(doc.fields.items())))
        if key not in seen:
            seen.add(key)
            kept.append(doc)
    again = len(files) - len(kept)
    if again:
        ctx.warn(
            "duplicate_file",
            "/fileDetails",
            f"{again} <fileDetails> repeat(s) one sent before in this submission "
            "(the same fileId and fields): read once",
        )
    shared = len(kept) - len({doc.file_id for doc in kept})
    if shared:
        ctx.warn(
            "shared_file_id",
            "/fileDetails/fileId",
            f"{shared} <fileDetails> share a fileId with another that says something "
            "else: each is read as a file",
        )
    return kept


def _report_id(
    options: IntakeOptions, files: list[FileDoc], data: bytes, ctx: Context
) -> str:
    ids = {f.report_id for f in files}
    if options.report_id is not None:
        ids.discard(options.report_id)
        ids.discard(report_number(options.report_id) or options.report_id)
        if ids:
            raise XmlIntakeError(
                "report_id_mismatch",
                "/fileDetails/reportId",
                f"fileDetails belong to report(s) {sorted(ids)}, not {options.report_id!r}",
            )
        return options.report_id
    if len(ids) > 1:
        raise XmlIntakeError(
            "report_id_mismatch",
            "/fileDetails/reportId",
            f"fileDetails name different reports: {sorted(ids)}",
        )
    if ids:
        return ids.pop()
    derived = "xml-" + hashlib.sha256(data).hexdigest()[:16]
    ctx.warn(
        "report_id_derived", "/report", f"no report id supplied; derived {derived}"
    )
    return derived


def _location(ctx: Context, root: Any, codes: list[str]) -> dict[str, Any]:
    """The incident's country first, then the parties' (``features.xml.places``)."""
    code = country_of(ctx, [*incident_countries(root), *codes], root)
    if code is None:
        return {"country_code": None, "source": LocationSource.UNKNOWN}
    return {"country_code": code, "source": LocationSource.SUPPLIED}


def _files(files: list[FileDoc], options: IntakeOptions) -> list[dict[str, Any]]:
    """Each file's fields with its hash-match result (``unknown`` when none was given)."""
    return [
        {
            **f.fields,
            "hash_match": _matches(options).get(f.file_id, HashMatch.UNKNOWN),
        }
        for f in files
    ]


def _matches(options: IntakeOptions) -> dict[str, HashMatch]:
    """Hash-match results by file id as a ``fileId`` (``xs:token``) reads: spaces collapsed."""
    return {" ".join(k.split()): v for k, v in options.hash_matches.items()}


def _unmatched_files(
    ctx: Context, files: list[FileDoc], options: IntakeOptions
) -> None:
    """Warn about hash-match results for file ids that no ``<fileDetails>`` carries."""
    known = {f.file_id for f in files}
    for file_id in sorted(set(_matches(options)) - known):
        ctx.warn(
            "hash_match_no_file",
            "/fileDetails/fileId",
            f"hash_matches names file id {ctx.reference(file_id)}, but no <fileDetails> in "
            f"this submission has it ({len(known)} file(s) sent); its result was ignored",
        )


def _esp(ctx: Context, root: Any, options: IntakeOptions) -> str | None:
    """The reporting ESP: as supplied, else (an ESP's report) the platform the XML names."""
    if options.reporter_type is not ReporterType.ESP or options.esp is not None:
        return options.esp
    named = read_platform(root)
    if named is None:
        ctx.warn(
            "esp_not_given", "/report", "reporting ESP not supplied; read as 'other'"
        )
        return None
    value, path = named
    ctx.warn(
        "esp_from_platform",
        path,
        "reporting ESP not supplied; used the platform the report names: "
        f"{options.platforms.canonical(value)!r}",
    )
    return value


def _report_fields(
    ctx: Context, root: Any, options: IntakeOptions, bag: RawBag
) -> dict[str, Any]:
    check_report_children(ctx, root)
    summary, incident_at = read_summary(ctx, root)
    parties = read_parties(ctx, root, incident_at, bag)
    if incident_upload(root):
        parties.person["upload_ip"] = True
    return {
        "incident_type": read_incident_type(ctx, summary),
        "incident_at": incident_at,
        "received_at": options.received_at or datetime.now(UTC),
        "reporter_type": options.reporter_type,
        "esp": _esp(ctx, root, options),
        "esp_escalated": read_escalation(ctx, summary),
        "annotations": read_annotations(ctx, summary),
        "incident_kinds": read_incident_kinds(ctx, root, bag),
        "reported_person": parties.person,
        "victims": parties.victims,
        "recipients": parties.recipients,
        "location": _location(ctx, root, parties.country_codes),
        "bundle": read_bundle(root, parties.person["count"]),
    }


def parse_submission(
    documents: Sequence[bytes | str], hasher: IdentifierHasher, options: IntakeOptions
) -> ParsedReport:
    """Parse one ``<report>`` and its ``<fileDetails>`` documents into the contract.

    A document given as ``str`` is text already decoded (``features.xml.encoding``): it is
    read as such; bytes are read as they declare. Either way the encoding it names must
    be an accepted one (``features.xml.encoding.ACCEPTED``).

    Raises:
        XmlIntakeError: the documents cannot be a report; the error names the element.
    """
    ctx, bag = Context(hasher=hasher), RawBag()
    document, data, files = _split(documents, options, ctx, bag)
    fields = _report_fields(ctx, document.root, options, bag)
    fields["report_id"] = _report_id(options, files, data, ctx)
    fields["files"] = _files(files, options)
    _unmatched_files(ctx, files, options)
    if any(f.fields["upload_ip"] for f in files):
        fields["reported_person"] = {**fields["reported_person"], "upload_ip": True}
    check_limits(bag, files, options.report_limits)
    raw = RawIdentifiers.model_construct(**vars(bag))
    fields["linkage"] = hash_identifiers(raw, hasher, fields["esp"])
    try:
        report = TipReport.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise XmlIntakeError(
            "invalid_report", _xml_path(first["loc"], first["msg"]), first["msg"]
        ) from exc
    return ParsedReport(report=report, warnings=ctx.listed())


XML_PATHS = {
    "incident_at": "/report/incidentSummary/incidentDateTime",
    "report_id": "/fileDetails/reportId",
    "incident_type": "/report/incidentSummary/incidentType",
    "esp": "/report/reporter/reportingPerson (esp)",
}
"""Where in the XML a contract field comes from, for a refusal to name it."""


def _xml_path(loc: Sequence[int | str], message: str) -> str:
    """The element a contract refusal is about, by the field it names.

    ``/report (incident_at)`` is ``/report/incidentSummary/incidentDateTime``; a check of
    the whole report (an incident after its receipt) is named by the field its message
    names (session 9: ``/report ()`` named nothing).
    """
    field = str(loc[0]) if loc else next((f for f in XML_PATHS if f in message), "")
    if field in XML_PATHS:
        return XML_PATHS[field]
    return f"/report ({'/'.join(str(p) for p in loc)})" if loc else "/report"


def parse_file_details(
    data: bytes | str, hasher: IdentifierHasher, options: IntakeOptions
) -> tuple[str, FileMeta, list[ParseWarning]]:
    """Parse a lone ``<fileDetails>`` document: its report id, metadata and warnings."""
    ctx, bag = Context(hasher=hasher), RawBag()
    document, _ = _read(data, options, ctx, "document[1]")
    if local(document.root.tag) != "fileDetails":
        name = local(document.root.tag)
        raise XmlIntakeError(
            "wrong_root",
            f"/{name[:60]}",
            "expected <fileDetails>"
            + (IN_NO_NAMESPACE if name.startswith("{") else ""),
        )
    doc = read_file_details(ctx, document.root, bag)
    meta = FileMeta.model_validate(_files([doc], options)[0])
    return doc.report_id, meta, ctx.listed()


def root_name(data: bytes, limits: XmlLimits) -> str:
    """The root element's name of a document (after the same safety checks as a parse)."""
    raw, encoding = _as_bytes(data)
    return local(read_xml(raw, limits, encoding).root.tag)
