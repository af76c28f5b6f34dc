"""Training on generated history: beats the baselines, near the oracle, calibrated, logged."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from mlflow.tracking import MlflowClient

from tests.model.conftest import Trained, history_file
from training import registry
from training.config import load_train_config
from training.data import load_history
from training.train import train

METRIC_KEYS = [
    "test_pr_auc",
    "test_roc_auc",
    "test_log_loss",
    "test_brier",
    "test_ece",
    "test_p1_recall",
    "test_p1_precision",
    "test_p12_recall",
    "oracle_test_pr_auc",
    "oracle_test_p1_recall",
    "baseline_rules_test_pr_auc",
    "baseline_logreg_test_pr_auc",
]


def test_model_beats_both_baselines(trained: Trained) -> None:
    m = trained.result.metrics
    assert m["test_pr_auc"] > m["baseline_rules_test_pr_auc"]
    assert m["test_pr_auc"] > m["baseline_logreg_test_pr_auc"]


def test_model_reaches_ninety_percent_of_the_oracle(trained: Trained) -> None:
    m = trained.result.metrics
    assert m["test_pr_auc"] >= 0.9 * m["oracle_test_pr_auc"]
    assert m["test_pr_auc_ratio_to_oracle"] == pytest.approx(
        m["test_pr_auc"] / m["oracle_test_pr_auc"]
    )


def test_model_is_calibrated_within_the_bound(trained: Trained) -> None:
    config, _ = load_train_config()
    assert trained.result.metrics["test_ece"] <= config.gates.max_ece
    assert trained.result.metrics["valid_p1_share"] <= config.policy.p1_share
    assert trained.result.metrics["valid_p12_share"] <= config.policy.p12_share


def test_run_logs_the_public_metric_keys_tags_and_artifacts(trained: Trained) -> None:
    registry.configure(trained.store)
    run = MlflowClient().get_run(trained.result.run_id)
    assert set(METRIC_KEYS) <= set(run.data.metrics)
    for tag in (
        "git_commit",
        "config_sha256",
        "data_sha256",
        "contract_version",
        "model_uri",
    ):
        assert run.data.tags.get(tag), tag
    assert run.data.params["model.num_leaves"] == "4"
    artifacts = {
        a.path for a in MlflowClient().list_artifacts(trained.result.run_id, "plots")
    }
    assert artifacts == {
        "plots/pr_curve.png",
        "plots/calibration_curve.png",
        "plots/shap_importance.png",
    }
    top = {a.path for a in MlflowClient().list_artifacts(trained.result.run_id)}
    assert {
        "metrics.json",
        "threshold_policy.json",
        "config.toml",
        "metrics_by_month.json",
    } <= top


def test_logged_model_predicts_through_pyfunc_like_the_runtime(
    trained: Trained,
) -> None:
    registry.configure(trained.store)
    history = load_history(trained.data)
    rows = history.flat.iloc[-500:]
    pyfunc = mlflow.pyfunc.load_model(trained.result.model_uri)
    via_pyfunc = pyfunc.predict(registry.pyfunc_frame(rows))
    direct = registry.load_model(trained.result.model_uri).predict(rows)
    pd.testing.assert_frame_equal(
        via_pyfunc.reset_index(drop=True), direct.reset_index(drop=True)
    )
    assert set(direct["suggested_priority"]) <= {1, 2, 3}


def test_same_seed_same_metrics(tmp_path: Path, mlflow_store: str) -> None:
    data = history_file(tmp_path / "small.parquet", 60_000, seed=4, rate=0.02)
    config, text = load_train_config()
    first = train(data, config, text, progress=False).metrics
    second = train(data, config, text, progress=False).metrics
    assert first == second


def test_invalid_history_is_refused_before_training(
    tmp_path: Path, mlflow_store: str
) -> None:
    from training.data import HistoryError

    bad = tmp_path / "bad.parquet"
    pd.DataFrame({"report_id": ["a"]}).to_parquet(bad)
    config, text = load_train_config()
    with pytest.raises(HistoryError, match="missing column"):
        train(bad, config, text, progress=False)


def _decisions_from(history: Path, out: Path, rows: int) -> pd.DataFrame:
    """Analysts' decisions on the history's latest ``rows`` reports (same report ids)."""
    from tipscore.export_decisions import SCHEMA

    frame = pd.read_parquet(history).drop(columns="p_true").tail(rows)
    rng = np.random.default_rng(0)
    analyst = np.where(frame["escalated"], 1, rng.integers(2, 4, len(frame)))
    frame = frame.assign(
        escalated=analyst == 1,
        priority=pd.array([str(p) for p in analyst], dtype="string"),
        designation=np.where(analyst == 1, "referral", frame["designation"]),
        decision_at=pd.Timestamp("2025-01-02", tz="UTC"),
        decision_action=np.where(analyst == 3, "accept", "override"),
        decision_reason="other",
        decision_key_id="k1",
        suggested_priority=np.full(len(frame), 3),
        suggested_probability=0.001,
        suggested_by="tip-escalation/1",
        decision_blind=False,
    )
    pq.write_table(
        pa.Table.from_pandas(frame, schema=SCHEMA, preserve_index=False), out
    )
    return frame


def test_decisions_join_training_and_are_compared_with_analysts(
    tmp_path: Path, mlflow_store: str
) -> None:
    from training.promote import _history, load_candidate
    from training.train import DECISION_FILES

    data = history_file(tmp_path / "small.parquet", 40_000, seed=5, rate=0.02)
    decisions = tmp_path / "decisions.parquet"
    decided = _decisions_from(data, decisions, 300)
    config, text = load_train_config()
    fast = config.model.model_copy(
        update={"n_estimators": 300, "early_stopping_rounds": 30}
    )
    config = config.model_copy(
        update={
            "model": fast,
            "data": config.data.model_copy(update={"decisions": [decisions]}),
        }
    )
    result = train(data, config, text, progress=False)
    m = result.metrics
    assert sum(result.split.values()) == 40_000  # replaced, not added
    assert m["test_analyst_rows"] == 300
    assert m["test_analyst_recorded_override_rate"] == pytest.approx(
        float((decided["priority"] != "3").mean())
    )
    # the oracle is judged only where p_true is known
    assert m["oracle_test_reports"] == m["test_reports"] - 300
    assert np.isfinite(m["test_pr_auc_ratio_to_oracle"])
    registry.configure(mlflow_store)
    run = MlflowClient().get_run(result.run_id)
    assert str(decisions) in run.data.params["decision_files"]
    assert run.data.tags["oracle_rows"].startswith(
        f"{int(m['oracle_test_reports'])} of"
    )
    assert DECISION_FILES in {
        a.path for a in MlflowClient().list_artifacts(result.run_id)
    }
    # promotion re-reads the same data: the history with its decisions
    again = _history(load_candidate(result.run_id))
    assert again is not None and again.sha256 == run.data.tags["data_sha256"]
    # agreement, by hand: the logged model's suggestions (its own pyfunc path) against
    # the analysts' priorities on the decided rows
    assert again.analyst is not None
    decided = np.flatnonzero(again.analyst > 0)
    model = registry.load_model(result.model_uri)
    suggested = model.predict(again.flat.iloc[decided])["suggested_priority"]
    agreement = float((suggested.to_numpy() == again.analyst[decided]).mean())
    assert m["test_analyst_agreement"] == pytest.approx(agreement, abs=1e-12)
