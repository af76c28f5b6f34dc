"""Dask engine on a 2-worker local cluster: training matches one machine, batch scores equal
one machine's and the service's reasons, a worker killed mid-scoring loses and doubles
nothing."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from features.extract import build_columns
from serving.explain import described
from tests.model.conftest import history_file
from tipscore.batch_score import score_dask, score_local
from tipscore.cli import app
from training import registry
from training.config import TrainConfig, load_train_config
from training.dask.cluster import local_cluster
from training.dask.fit import (
    MIN_ROUND,
    iteration_log_loss,
    leaf_values,
    stopping_iteration,
)
from training.dask.train import train_dask
from training.data import file_sha256, load_history
from training.model import EscalationModel
from training.partitions import write_month_parts
from training.train import TrainResult, train

ROWS = 120_000
SMALL = 24_000
FAST = {"learning_rate": 0.1, "n_estimators": 500, "early_stopping_rounds": 50}


@dataclass
class Runs:
    single: Path
    parts: Path
    local: TrainResult
    dask: TrainResult


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    client = local_cluster(2)  # 2 processes x 1 thread, no dashboard
    yield client
    client.close()
    client.cluster.close()


@pytest.fixture(scope="module")
def config() -> tuple[TrainConfig, str]:
    base, _ = load_train_config()
    config = base.model_copy(update={"model": base.model.model_copy(update=FAST)})
    text = "\n".join(f"{k} = {v}" for k, v in FAST.items())
    return config, f"[model]\n{text}\n"


@pytest.fixture(scope="module")
def runs(
    tmp_path_factory: pytest.TempPathFactory,
    mlflow_store: str,
    cluster: Any,
    config: tuple[TrainConfig, str],
) -> Runs:
    """One history (3% escalations, 24 months) trained on both engines, same config."""
    root = tmp_path_factory.mktemp("dask")
    single = history_file(root / "history.parquet", ROWS, seed=12, rate=0.03)
    parts = root / "parts"
    write_month_parts(single, parts)
    local = train(single, *config, progress=False)
    dask = train_dask(parts, *config, cluster, progress=False)
    return Runs(single, parts, local, dask)


@pytest.fixture(scope="module")
def model(runs: Runs) -> EscalationModel:
    return registry.load_model(runs.local.model_uri)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A smaller history to rescore (24 monthly parts of ~1,000 reports)."""
    root = tmp_path_factory.mktemp("rescore")
    single = history_file(root / "history.parquet", SMALL, seed=13, rate=0.03)
    write_month_parts(single, root / "parts")
    return single, root / "parts"


@pytest.fixture(scope="module")
def scored(
    small: tuple[Path, Path],
    model: EscalationModel,
    tmp_path_factory: pytest.TempPathFactory,
) -> pd.DataFrame:
    """The single-process rescoring of the smaller history."""
    out = tmp_path_factory.mktemp("scored")
    summary = score_local(model, small[1], out, progress=False)
    assert (summary.parts, summary.rows) == (24, SMALL)
    return _read(out)


def _read(folder: Path) -> pd.DataFrame:
    return pd.concat(
        [pd.read_parquet(p) for p in sorted(folder.glob("scored-*.parquet"))],
        ignore_index=True,
    )


def test_dask_model_matches_the_single_machine_model(runs: Runs) -> None:
    local, dask = runs.local.metrics, runs.dask.metrics
    assert abs(dask["test_pr_auc"] - local["test_pr_auc"]) <= 0.01
    assert runs.dask.split == runs.local.split  # the same temporal split
    for same in ("baseline_logreg_test_pr_auc", "baseline_rules_test_pr_auc"):
        assert dask[same] == pytest.approx(local[same], abs=1e-12), same
    assert dask["oracle_test_pr_auc"] == pytest.approx(local["oracle_test_pr_auc"])


def test_dask_run_is_logged_and_loadable_like_one_machine(runs: Runs) -> None:
    run = MlflowClient().get_run(runs.dask.run_id)
    assert run.data.params["engine"] == "dask"
    assert run.data.params["dask_parts"] == "24"
    assert run.data.params["dask_workers"] == "2"
    assert run.data.params["split.test_rows"] == str(runs.local.split["test"])
    assert run.data.tags["data_sha256"] == file_sha256(runs.parts)
    assert set(runs.local.metrics) == set(runs.dask.metrics)
    grown = int(run.data.params["dask_trees_grown"])
    kept, rounds = runs.dask.metrics["model_trees"], FAST["early_stopping_rounds"]
    assert kept + rounds <= grown < FAST["n_estimators"]  # grown until the rule fired
    assert grown - kept < rounds + max(rounds, MIN_ROUND)  # and not a round more
    loaded = registry.load_model(runs.dask.model_uri)
    history = load_history(runs.parts)
    assert loaded.booster.num_trees() == runs.dask.metrics["model_trees"]
    assert np.isfinite(loaded.raw_scores(history.matrix[:100])).all()


def test_trees_kept_follow_lightgbms_early_stopping_rule() -> None:
    assert stopping_iteration([5, 4, 3, 3.5, 3.2, 3.1, 3.05], rounds=3) == 3
    assert stopping_iteration([5, 4, 3, 2.9, 3.5, 3.4], rounds=10) == 4
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 4))
    y = x[:, 0] + rng.normal(size=3000) > 1
    params = {"objective": "binary", "verbosity": -1, "num_leaves": 4, "seed": 1}
    valid = lgb.Dataset(x[2000:], y[2000:])
    record: dict[str, Any] = {}
    booster = lgb.train(
        params,
        lgb.Dataset(x[:2000], y[:2000]),
        80,
        valid_sets=[valid],
        callbacks=[lgb.record_evaluation(record)],
    )
    losses = iteration_log_loss(booster, leaf_values(booster), x[2000:], y[2000:])
    np.testing.assert_allclose(
        losses / 1000, record["valid_0"]["binary_logloss"], rtol=1e-9
    )
    stopped = lgb.train(
        params,
        lgb.Dataset(x[:2000], y[:2000]),
        80,
        valid_sets=[lgb.Dataset(x[2000:], y[2000:])],
        callbacks=[lgb.early_stopping(5, verbose=False)],
    )
    assert stopping_iteration(losses, 5) == stopped.best_iteration


def test_batch_scores_equal_single_machine_and_service_reasons(
    small: tuple[Path, Path],
    scored: pd.DataFrame,
    model: EscalationModel,
    cluster: Any,
    tmp_path: Path,
) -> None:
    dask = score_dask(model, small[1], tmp_path / "dask", cluster, progress=False)
    assert (dask.parts, dask.rows) == (24, SMALL)
    pd.testing.assert_frame_equal(_read(tmp_path / "dask"), scored)
    history = load_history(small[0])
    raw = model.raw_scores(history.matrix)
    expected = model.calibration.apply(raw)
    assert scored["report_id"].tolist() == history.flat["report_id"].tolist()
    np.testing.assert_allclose(scored["raw_score"], raw, rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        scored["escalation_probability"], expected, rtol=0, atol=1e-12
    )
    np.testing.assert_array_equal(
        scored["suggested_priority"], model.policy.priority(expected)
    )
    built = build_columns(history.flat)
    rows = np.r_[0:50, np.flatnonzero(scored["suggested_priority"] == 1)[:50]]
    scores = model.scores(history.matrix[rows], explain=True)
    shap, top = scores.contributions, scores.reasons(5)
    assert shap is not None
    for k, i in enumerate(rows):
        reasons = described(built, int(i), *top.row(k))
        assert list(scored["reason_features"][i]) == [r.feature for r in reasons]
        np.testing.assert_allclose(
            scored["reason_contributions"][i],
            [r.contribution for r in reasons],
            rtol=0,
            atol=1e-12,
        )
        assert scored["base_value"][i] == pytest.approx(shap[k, -1], abs=1e-12)


@dataclass
class SlowModel(EscalationModel):
    """The same model, slow enough that a worker can be killed mid-part."""

    def raw_scores(self, matrix: np.ndarray) -> np.ndarray:
        time.sleep(0.3)
        return super().raw_scores(matrix)


def _kill_a_worker_mid_part(client: Any, killed: list[str]) -> None:
    """SIGKILL the process of a worker while it is scoring a part."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for worker, keys in client.processing().items():
            if any(str(k).startswith("score-") for k in keys):
                pid = client.run(os.getpid, workers=[worker])[worker]
                os.kill(pid, signal.SIGKILL)
                killed.append(worker)
                return
        time.sleep(0.02)


def test_a_worker_killed_mid_scoring_loses_and_doubles_nothing(
    small: tuple[Path, Path],
    scored: pd.DataFrame,
    model: EscalationModel,
    cluster: Any,
    tmp_path: Path,
) -> None:
    slow = SlowModel(model.booster, model.calibration, model.policy)
    killed: list[str] = []
    summary = score_dask(
        slow,
        small[1],
        tmp_path / "dask",
        cluster,
        progress=False,
        on_submitted=lambda: _kill_a_worker_mid_part(cluster, killed),
    )
    assert killed, "no worker was caught scoring a part"
    again = _read(tmp_path / "dask")
    assert summary.rows == len(again) == SMALL
    assert again["report_id"].is_unique
    pd.testing.assert_frame_equal(again, scored)
    cluster.wait_for_workers(2, timeout=60)


def test_cli_trains_on_a_scheduler_and_rescores(
    small: tuple[Path, Path],
    cluster: Any,
    config: tuple[TrainConfig, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config_path = tmp_path / "fast.toml"
    config_path.write_text(config[1])
    runner = CliRunner()
    address = cluster.scheduler_info()["address"]
    train_args = ["train", "--engine", "dask", "--scheduler", address]
    train_args += ["--data", str(small[1]), "--config", str(config_path)]
    trained = runner.invoke(app, [*train_args, "--no-progress"])
    assert trained.exit_code == 0, trained.output
    run_id = trained.output.split("run id: ")[1].split()[0]
    score_args = ["score", "--model", f"runs:/{run_id}/model", "--no-progress"]
    score_args += ["--data", str(small[1]), "--out", str(tmp_path / "out")]
    score_args += ["--engine", "dask", "--scheduler", address]
    scored = runner.invoke(app, score_args)
    assert scored.exit_code == 0, scored.output
    assert f"scored {SMALL:,} reports in 24 parts" in scored.output
    assert cluster.scheduler_info()["address"] == address  # a given cluster stays up
    manifest = json.loads((tmp_path / "out" / "_manifest.json").read_text())
    assert manifest["model"]["run_id"] == run_id and manifest["engine"] == "dask"
    assert manifest["rows"] == SMALL and len(manifest["parts"]) == 24
    assert sum(p["rows"] for p in manifest["parts"]) == SMALL

    again = runner.invoke(app, score_args)  # an earlier run's output is not mixed in
    assert again.exit_code == 2 and "--overwrite" in again.output
    assert runner.invoke(app, [*score_args, "--overwrite"]).exit_code == 0

    refused = runner.invoke(app, ["train", "--data", "x", "--scheduler", address])
    assert refused.exit_code == 2
    assert "only with --engine dask" in refused.output
    monkeypatch.setattr("training.dask.cluster.CONNECT_SECONDS", 1.0)
    nobody = runner.invoke(app, [*score_args[:-1], "tcp://127.0.0.1:9", "--overwrite"])
    assert nobody.exit_code == 2 and "no Dask scheduler answered" in nobody.output
    kept = json.loads((tmp_path / "out" / "_manifest.json").read_text())  # not removed
    assert (
        kept["rows"] == SMALL and len(list((tmp_path / "out").glob("scored-*"))) == 24
    )


def test_both_engines_log_the_same_window_dates_and_provenance(runs: Runs) -> None:
    local = MlflowClient().get_run(runs.local.run_id).data.tags
    dask = MlflowClient().get_run(runs.dask.run_id).data.tags
    for tag in ("train_window", "valid_window", "synthetic"):
        assert dask[tag] == local[tag], tag
    assert local["synthetic"] == "true"
    assert "history.card.md" in local["synthetic_evidence"]
    assert "p_true" in dask["synthetic_evidence"]  # the parts folder has no card here


def test_both_engines_log_a_reference_profile_for_the_monitor(runs: Runs) -> None:
    """Issue 20: ``tipscore monitor`` measures drift against this profile."""
    from training.monitor.profile import PROFILE_ARTIFACT, profiled_features

    local = registry.artifact_json(runs.local.run_id, PROFILE_ARTIFACT)
    dask = registry.artifact_json(runs.dask.run_id, PROFILE_ARTIFACT)
    assert local["windows"] == {"features": "train", "scores": "test"}
    assert dask["windows"] == {"features": "valid", "scores": "test"}  # train stays put
    names = {f.name for f in profiled_features()}
    for profile in (local, dask):
        assert set(profile["features"]) == names
        assert sum(profile["priority_mix"].values()) == pytest.approx(1.0)
        assert sum(profile["score"]["shares"]) == pytest.approx(1.0)
    assert local["priority_mix"] == pytest.approx(dask["priority_mix"], abs=0.02)
