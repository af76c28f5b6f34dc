"""``tipscore train --decisions`` runs on an export of decisions the API accepted."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from features.identifiers import IdentifierHasher
from tests.decision_fixtures import decide_all, every_try
from tests.model.conftest import history_file
from tipscore.cli import app
from tipscore.export_decisions import export_decisions

SMALL = """
experiment = "decisions-smoke"
registered_model = "decisions-smoke"
[model]
n_estimators = 60
early_stopping_rounds = 10
min_child_samples = 20
min_data_per_group = 20
"""


def test_train_runs_on_every_accepted_decision(
    tmp_path: Path, mlflow_store: str, hasher: IdentifierHasher
) -> None:
    store, decisions = tmp_path / "reports.db", tmp_path / "decisions.parquet"
    results = decide_all(store, hasher, every_try(), received="2024-12-20")
    accepted = sum(ok for *_, ok in results)
    assert 0 < accepted < len(results)  # the contradictions were refused
    assert export_decisions(store, decisions).rows == accepted
    history = history_file(tmp_path / "h.parquet", 12_000, seed=3, rate=0.03)
    config = tmp_path / "small.toml"
    config.write_text(SMALL)
    runner = CliRunner()
    checked = runner.invoke(app, ["validate-data", str(decisions)])
    assert checked.exit_code == 0, checked.output
    result = runner.invoke(
        app,
        [
            "train",
            "--data",
            str(history),
            "--decisions",
            str(decisions),
            "--config",
            str(config),
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "run id:" in result.output
    line = next(
        x for x in result.output.splitlines() if x.startswith("analyst-decided rows")
    )
    assert int(line.split()[-1]) == accepted
