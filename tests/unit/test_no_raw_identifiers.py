"""No raw identifier or free text from a report survives into the contract, features or logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from features.flat import flat_frame
from features.identifiers import IdentifierHasher
from features.xml.intake import IntakeOptions, parse_submission
from tests.factories import reports_to_frame
from tipscore.cli import app

DOCUMENTS = [
    "jatools_report_all_fields.xml",
    "jatools_fileDetails_all_fields.xml",
    "jatools_fileDetails_supplemental_potentialMeme.xml",
    "jatools_fileDetails_technical_metadata.xml",
]
RAW = [
    # identifiers
    "suspicious_user_123",
    "192.168.1.100",
    "123456789012345",
    "USER123",
    "victim_user",
    "john.smith@fbi.gov",
    "sarah.johnson@company.com",
    "555-0123",
    "suspicious@example.com",
    "192.168.5.100",
    "354123456789012",
    "89012345678901234567",
    "hash_value_1",
    "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
    "e86fdc2283aff4179685f2a918a769eb",
    "FBI-2024-001",
    "private-room-123",
    "newsgroup1",
    # names, places, free text, file names, EXIF values
    "Jane",
    "Sarah",
    "123 Main St",
    "62701",
    "Springfield",
    "Middle School",
    "Immediate risk to child",
    "Multiple incidents",
    "harmful-content",
    "Suspicious messages",
    "original_evidence.jpg",
    "platform.com",
    "Canon",
    "EOS R5",
    "40.7128",
    "attempted to delete",
    "Users must comply",
]


def test_parsed_outputs_and_logs_hold_no_raw_values(
    samples: Path, hasher: IdentifierHasher, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    documents = [(samples / name).read_bytes() for name in DOCUMENTS]
    parsed = parse_submission(documents, hasher, IntakeOptions(esp="Discord"))
    outputs = [
        parsed.model_dump_json(),
        flat_frame([parsed.report]).to_json(date_format="iso"),
        reports_to_frame([parsed.report]).to_csv(),
        caplog.text,
    ]
    for raw in RAW:
        for output in outputs:
            assert raw.lower() not in output.lower(), raw


def test_cli_output_holds_no_raw_values(
    samples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIPSCORE_STATE_DIR", str(tmp_path / "state"))
    files = [str(samples / name) for name in DOCUMENTS]
    result = CliRunner().invoke(app, ["parse", *files, "--esp", "Discord"])
    assert result.exit_code == 0, result.output
    for raw in RAW:
        assert raw.lower() not in result.output.lower(), raw
    secret = (tmp_path / "state" / "hmac.key").read_text().strip()
    assert secret not in result.output
