"""The tipscore CLI: help, parse output, and precise errors with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tipscore.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIPSCORE_STATE_DIR", str(tmp_path / "state"))


def test_help_lists_parse() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "parse" in result.output


def test_parse_prints_contract_and_warnings(samples: Path) -> None:
    result = runner.invoke(
        app,
        [
            "parse",
            str(samples / "jatools_report_required_only_INVALID_incidentType.xml"),
            "--esp",
            "Snapchat",
            "--report-id",
            "42",
            "--received-at",
            "2024-02-01T00:00:00Z",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["report"]["report_id"] == "42"
    assert (
        payload["report"]["incident_type"]
        == "Online Enticement of Children for Sexual Acts"
    )
    assert payload["report"]["received_at"] == "2024-02-01T00:00:00Z"
    assert "enum_near_miss" in {w["code"] for w in payload["warnings"]}


def test_parse_lone_file_details(samples: Path) -> None:
    result = runner.invoke(
        app, ["parse", str(samples / "lumeweb_valid_fileDetails.xml")]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["files"][0]["report_id"] == "4564654"
    assert payload["files"][0]["file"]["media_kind"] == "image"


def test_parse_error_is_precise(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<report><incidentSummary/></report>")
    result = runner.invoke(app, ["parse", str(bad)])
    assert result.exit_code == 2
    assert "[missing_element] /report/incidentSummary/incidentDateTime" in result.stderr


def test_strict_needs_an_xsd(samples: Path) -> None:
    result = runner.invoke(
        app, ["parse", str(samples / "ncmec_doc_6_1_report_example.xml"), "--strict"]
    )
    assert result.exit_code == 2
    assert "--strict needs --xsd" in result.output


def test_strict_reports_xsd_errors(samples: Path, xsd: Path) -> None:
    name = "nachtalb_doc_section6_1_example_report.xml"
    result = runner.invoke(
        app, ["parse", str(samples / name), "--strict", "--xsd", str(xsd)]
    )
    assert result.exit_code == 2
    assert "[xsd_invalid]" in result.stderr and "informational" in result.stderr


def test_bad_hash_match_option(samples: Path) -> None:
    result = runner.invoke(
        app,
        [
            "parse",
            str(samples / "ncmec_doc_6_1_report_example.xml"),
            "--hash-match",
            "f=maybe",
        ],
    )
    assert result.exit_code == 2
    assert "FILE_ID=known|novel|unknown" in result.output


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["train", "--data", "h.parquet", "--engine", "spark"], "--engine"),
        (
            ["score", "--model", "m", "--data", "d", "--out", "o", "--engine", "x"],
            "--engine",
        ),
        (["generate", "--out", "h", "--partition", "year"], "--partition"),
        (["evaluate", "--model", "m", "--data", "d", "--window", "valid"], "--window"),
        (["keys", "add", "--role", "root"], "--role"),
    ],
)
def test_a_bad_choice_exits_2_naming_the_option(args: list[str], option: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    message = " ".join(result.output.replace("│", " ").split())
    assert f"Invalid value for '{option}'" in message
    assert repr(args[-1]) in message


def test_the_cli_and_the_engines_know_the_same_engines() -> None:
    from typing import get_args

    from tipscore.commands.options import Engine
    from tipscore.engines import ENGINES

    assert get_args(Engine) == ENGINES


def test_keys_add_takes_each_role() -> None:
    for role in ("intake", "analyst", "admin"):
        result = runner.invoke(app, ["keys", "add", "--role", role])
        assert result.exit_code == 0, result.output
    listed = runner.invoke(app, ["keys", "list"]).stdout.split()
    assert {"intake", "analyst", "admin"} <= set(listed)


def test_every_command_is_listed_in_order() -> None:
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    names = [
        line.split()[1]
        for line in result.output.splitlines()
        if line.startswith("│ ") and not line.split()[1].startswith("-")
    ]
    assert names == [
        "parse",
        "generate",
        "validate-data",
        "train",
        "evaluate",
        "backtest",
        "audit",
        "promote",
        "challenger",
        "compare",
        "export-decisions",
        "monitor",
        "simulate",
        "score",
        "serve",
        "info",
        "keys",
        "db",  # issue 22: tipscore db upgrade
    ]
