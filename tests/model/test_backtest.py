"""``tipscore backtest`` end to end: folds fitted on one machine and on Dask, pooled, logged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from tests.model.conftest import history_file
from training.audit.predictions import AUDIT_COLUMNS
from training.backtest.job import BacktestJob, BacktestResult, run_backtest
from training.backtest.report import PREDICTION_COLUMNS
from training.config import TrainConfig, load_train_config
from training.dask.cluster import local_cluster

FAST = {"learning_rate": 0.1, "n_estimators": 300, "early_stopping_rounds": 30}


@pytest.fixture(scope="module")
def config() -> TrainConfig:
    base, _ = load_train_config()
    return base.model_copy(update={"model": base.model.model_copy(update=FAST)})


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # 3% escalations: enough positives per month to judge at this size
    return history_file(
        tmp_path_factory.mktemp("bt") / "history.parquet", 40_000, seed=3, rate=0.03
    )


@pytest.fixture(scope="module")
def local(
    history: Path,
    config: TrainConfig,
    mlflow_store: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> BacktestResult:
    out = tmp_path_factory.mktemp("bt-local")
    job = BacktestJob(data=history, out=out, step="month", folds=3)
    return run_backtest(job, config, "", None, progress=False)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    client = local_cluster(2)
    yield client
    client.close()
    client.cluster.close()


def test_each_period_is_scored_out_of_time_once(
    local: BacktestResult, history: Path
) -> None:
    predictions = pd.read_parquet(local.paths["predictions"])
    assert list(predictions.columns[: len(PREDICTION_COLUMNS)]) == list(
        PREDICTION_COLUMNS
    )
    assert PREDICTION_COLUMNS == AUDIT_COLUMNS  # what the bias audit reads
    assert {"reference_priority", "p1_threshold", "received_at"} <= set(predictions)
    assert predictions["reference_priority"].isin([1, 2, 3]).all()
    assert predictions["report_id"].is_unique
    periods = ["2024-10-01", "2024-11-01", "2024-12-01"]
    assert sorted(predictions["period"].unique()) == periods
    received = pd.to_datetime(predictions["received_at"], utc=True)
    assert (received >= pd.Timestamp("2024-10-01", tz="UTC")).all()
    source = pd.read_parquet(history, columns=["received_at"])
    later = pd.to_datetime(source["received_at"], utc=True) >= pd.Timestamp(
        "2024-10-01", tz="UTC"
    )
    assert len(predictions) == int(later.sum())  # every report of the periods
    assert predictions["priority"].isin([1, 2, 3]).all()
    assert predictions["p_true"].between(0, 1).all()
    for period in local.result["periods"]:
        assert period["reports"] == int(
            (predictions["period"] == period["period"]).sum()
        )
        assert 0 < period["model"]["pr_auc"] <= 1
        assert "pr_auc" in period["oracle"]
        # a fold learns only from reports received before its period
        before = pd.to_datetime(source["received_at"], utc=True) < pd.Timestamp(
            period["period"], tz="UTC"
        )
        known = period["trained_on"] + period["calibrated_on"]
        assert 0.9 * int(before.sum()) < known <= int(before.sum())
    # each fold's expected training escalations per group source, for the audit
    training = json.loads(local.paths["training_groups"].read_text())
    assert sorted(training) == periods
    truth = pd.read_parquet(history, columns=["received_at", "p_true"])
    for period, columns in training.items():
        totals = [sum(values.values()) for values in columns.values()]
        # every column splits the same training rows (sums in another order)
        assert totals == pytest.approx([totals[0]] * len(totals), rel=1e-9)
        earlier = pd.to_datetime(truth["received_at"], utc=True) < pd.Timestamp(
            period, tz="UTC"
        )
        assert 0 < totals[0] < truth.loc[earlier, "p_true"].sum()
    html = local.paths["html"].read_text()
    assert html.count("data:image/png;base64,") == 3 and "2024-11-01" in html


def test_one_parent_run_with_a_child_per_fold(local: BacktestResult) -> None:
    client = MlflowClient()
    parent = client.get_run(local.run_id)
    assert parent.data.tags["kind"] == "backtest"
    assert "backtest_pr_auc" in parent.data.metrics
    children = client.search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{local.run_id}'",
    )
    assert sorted(c.data.tags["period"] for c in children) == [
        "2024-10-01",
        "2024-11-01",
        "2024-12-01",
    ]
    assert all("test_pr_auc" in c.data.metrics for c in children)


def test_dask_fits_the_same_folds_in_parallel(
    local: BacktestResult,
    history: Path,
    config: TrainConfig,
    cluster: Any,
    tmp_path: Path,
) -> None:
    job = BacktestJob(data=history, out=tmp_path, step="month", folds=3)
    done = run_backtest(job, config, "", cluster, progress=False)
    assert done.result["engine"] == "dask"
    ours = pd.read_parquet(done.paths["predictions"])
    theirs = pd.read_parquet(local.paths["predictions"])
    assert ours["report_id"].tolist() == theirs["report_id"].tolist()
    # the same fit; LightGBM's threads may order sums differently
    np.testing.assert_allclose(ours["probability"], theirs["probability"], atol=1e-3)


def test_the_pooled_predictions_are_what_the_audit_reads(
    local: BacktestResult, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from tipscore.cli import app

    def audit(out: Path, *options: str) -> dict[str, Any]:
        folder = str(local.paths["predictions"].parent)
        command = ["audit", "--predictions", folder, *options, "--out", str(out)]
        result = CliRunner().invoke(app, command)
        assert result.exit_code in (0, 1), result.output
        text = (out / "audit.json").read_text()
        assert '"source": "predictions"' in text and "reference_model" in text
        found: dict[str, Any] = json.loads(text)
        return found

    assert audit(tmp_path / "audit")["meta"]["training_groups"] is False
    # the mean_score audit counts each fold's training escalations from the backtest's file
    config = Path(__file__).parents[2] / "training" / "configs" / "audit_pooled.toml"
    found = audit(tmp_path / "pooled", "--config", str(config))
    assert found["meta"]["training_groups"] is True and found["training_chance"] is True
    judged = [c for c in found["checked"] if c["metric"] == "mean_score"]
    assert judged and all("expected_train" in c for c in judged)
    # the labels are judged against p_true too (the generator's history has it)
    labels = [c for c in found["checked"] if c["metric"] == "label_rate"]
    assert labels and found["label_rate_family"] >= len(labels)
    assert all(c["reference"] == "(every other row)" for c in labels)
