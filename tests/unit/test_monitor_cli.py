"""``tipscore monitor`` on the command line: exit codes for a scheduler, help, a missing store."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from tests.monitor_fixtures import HALVED, TRIPLED, fill_store
from tipscore.cli import app


@pytest.fixture
def no_mlflow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No MLflow store: the monitor skips drift and logging, and creates none."""
    uri = tmp_path / "mlruns" / "mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{uri}")
    return uri


def _invoke(db: Path, out: Path, *extra: str) -> Result:
    return CliRunner().invoke(
        app,
        [
            "monitor",
            "--reports-db",
            str(db),
            "--out",
            str(out),
            "--no-progress",
            *extra,
        ],
    )


def test_alerts_exit_1_with_fail_on_alert_and_name_the_platforms(
    tmp_path: Path, no_mlflow: Path
) -> None:
    db = tmp_path / "state" / "reports.db"
    fill_store(db, changed=True, decide_every=50)
    result = _invoke(db, tmp_path / "out", "--fail-on-alert")
    assert result.exit_code == 1, result.output
    output = result.output
    assert f"ALERT volume: {TRIPLED}" in output
    assert f"ALERT completeness: {HALVED}: upload_ip" in output
    assert "drift skipped" in output and not no_mlflow.exists()
    assert (tmp_path / "out" / "monitor.html").exists()
    status = db.parent / "monitor_status.json"
    assert status.stat().st_mode & 0o777 == 0o600  # owner-only, as the state folder
    plain = _invoke(db, tmp_path / "out")
    assert plain.exit_code == 0


def test_a_quiet_store_exits_0_and_a_window_can_be_chosen(
    tmp_path: Path, no_mlflow: Path
) -> None:
    db = tmp_path / "reports.db"
    fill_store(db, changed=False, decide_every=50)
    args = ("--since", "2024-03-18", "--until", "2024-04-29", "--fail-on-alert")
    result = _invoke(db, tmp_path / "out", *args)
    assert result.exit_code == 0, result.output
    assert "no alert" in result.output
    assert "2024-03-18 .. 2024-04-29" in result.output


def test_a_missing_store_exits_1_and_creates_nothing(
    tmp_path: Path, no_mlflow: Path
) -> None:
    result = _invoke(tmp_path / "none" / "reports.db", tmp_path / "out")
    assert result.exit_code == 1
    assert "no report store" in result.output
    assert not (tmp_path / "none").exists()


def test_help_shows_an_example_and_the_outputs() -> None:
    result = CliRunner().invoke(app, ["monitor", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "tipscore monitor --since" in text and "--fail-on-alert" in text
    assert "monitor_status.json" in text and "monitor.json" in text
