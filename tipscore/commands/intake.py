"""``tipscore parse``: CyberTipline XML in, the report contract (hashed identifiers) out."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from features.identifiers import IdentifierHasher
from features.vocab import HashMatch, ReporterType
from features.xml.intake import (
    IntakeOptions,
    parse_file_details,
    parse_submission,
    root_name,
)
from features.xml.safe import XmlIntakeError, XmlLimits
from serving.intake import IntakeSettings, intake_hasher, load_xsd
from tipscore.commands.options import EXIT_BAD_INPUT


def parse(
    files: Annotated[
        list[Path],
        typer.Argument(help="One `<report>` XML and its `<fileDetails>` XMLs."),
    ],
    esp: Annotated[str | None, typer.Option(help="Reporting ESP's name.")] = None,
    public: Annotated[bool, typer.Option(help="Reported by the public.")] = False,
    report_id: Annotated[
        str | None, typer.Option(help="Report id (not in the XML).")
    ] = None,
    received_at: Annotated[
        datetime | None,
        typer.Option(help="Receipt time, ISO-8601 (default: now, UTC)."),
    ] = None,
    hash_match: Annotated[
        list[str] | None, typer.Option(help="FILE_ID=known|novel|unknown (repeatable).")
    ] = None,
    strict: Annotated[
        bool,
        typer.Option(
            help="Also validate against the XSD (TIPSCORE_XSD_PATH or --xsd)."
        ),
    ] = False,
    xsd: Annotated[Path | None, typer.Option(help="XSD file for --strict.")] = None,
) -> None:
    """Parse CyberTipline XML into the report contract and print it as JSON.

    Identifiers come out only as keyed hashes; free text is dropped. Tolerated deviations
    from the XSD are listed under "warnings". A lone `<fileDetails>` prints its file metadata.
    """
    settings = IntakeSettings()
    reporter = ReporterType.PUBLIC if public else ReporterType.ESP
    xsd_path = _xsd_path(settings, strict, xsd)
    options = _options(settings, (esp, reporter, report_id), received_at, hash_match)
    documents, hasher = _read_all(files), intake_hasher(settings)
    try:
        if xsd_path is not None:
            options = replace(options, xsd=load_xsd(xsd_path))
        text, warnings = _parsed_json(documents, hasher, options)
    except XmlIntakeError as exc:
        typer.echo(f"error [{exc.code}] {exc}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    typer.echo(text)
    if warnings:
        typer.echo(f'{warnings} warning(s); see "warnings"', err=True)


def _options(
    settings: IntakeSettings,
    who: tuple[str | None, ReporterType, str | None],
    received_at: datetime | None,
    hash_match: list[str] | None,
) -> IntakeOptions:
    """The intake options from the command's options and the settings.

    A time without a zone or a bad ``--hash-match``: exit 2.
    """
    if received_at is not None and received_at.tzinfo is None:
        raise typer.BadParameter(
            "needs a zone, e.g. 2024-05-01T12:00:00Z", param_hint="--received-at"
        )
    esp, reporter_type, report_id = who
    return IntakeOptions(
        esp=esp,
        reporter_type=reporter_type,
        report_id=report_id,
        received_at=received_at,
        hash_matches=_hash_matches(hash_match or []),
        limits=XmlLimits(
            settings.xml_max_bytes, settings.xml_max_depth, settings.xml_max_elements
        ),
    )


def _xsd_path(settings: IntakeSettings, strict: bool, xsd: Path | None) -> Path | None:
    """The XSD to validate against with ``--strict`` (exit 2 when there is none)."""
    if not strict:
        return None
    path = xsd or settings.xsd_path
    if path is None:
        raise typer.BadParameter(
            "--strict needs --xsd or TIPSCORE_XSD_PATH", param_hint="--xsd"
        )
    return path


def _hash_matches(pairs: list[str]) -> dict[str, HashMatch]:
    matches = {}
    for pair in pairs:
        file_id, _, result = pair.partition("=")
        try:
            matches[file_id] = HashMatch(result)
        except ValueError:
            raise typer.BadParameter(
                f"expected FILE_ID=known|novel|unknown, got {pair!r}",
                param_hint="--hash-match",
            ) from None
    return matches


def _read_all(files: list[Path]) -> list[bytes]:
    documents = []
    for path in files:
        try:
            documents.append(path.read_bytes())
        except OSError as exc:
            raise typer.BadParameter(f"cannot read {path}: {exc.strerror}") from exc
    return documents


def _parsed_json(
    documents: list[bytes], hasher: IdentifierHasher, options: IntakeOptions
) -> tuple[str, int]:
    """The submission as contract JSON, with its number of warnings.

    Lone ``<fileDetails>`` give their file metadata (warnings listed per file, not counted).
    """
    if all(root_name(d, options.limits) == "fileDetails" for d in documents):
        out = [_file_json(d, hasher, options) for d in documents]
        return json.dumps({"files": out}, indent=2), 0
    parsed = parse_submission(documents, hasher, options)
    return parsed.model_dump_json(indent=2), len(parsed.warnings)


def _file_json(
    data: bytes, hasher: IdentifierHasher, options: IntakeOptions
) -> dict[str, object]:
    report_id, meta, warnings = parse_file_details(data, hasher, options)
    return {
        "report_id": report_id,
        "file": meta.model_dump(mode="json"),
        "warnings": [w.model_dump() for w in warnings],
    }
