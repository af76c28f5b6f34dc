"""``tipscore train``: history file in, one MLflow run with metrics, plots and the model out.

Orchestration only: loading, splitting, fitting, evaluating and logging live in their own
modules. Progress is shown per stage.
"""

from __future__ import annotations

import logging
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from features.extract import build_features
from features.schema import SCHEMA_VERSION
from features.spec import FEATURE_NAMES, FEATURE_SPEC_VERSION
from training import plots, registry
from training.baselines import fit_logistic, rules_score
from training.config import TrainConfig, config_hash, flatten_config
from training.data import History, load_history
from training.evaluate import (
    analyst_metrics,
    baseline_pr_auc,
    model_metrics,
    model_probabilities,
    monthly,
    oracle_comparison,
    prefixed,
)
from training.fit import fit_model
from training.model import EscalationModel
from training.monitor.profile import PROFILE_ARTIFACT, run_profile
from training.provenance import log_provenance, window_dates
from training.reliability import reliability_bins
from training.splits import Split, temporal_split
from training.weights import history_weights

logger = logging.getLogger(__name__)
SHAP_ROWS = 5_000
DECISION_FILES = "decision_files.json"
"""Artifact listing the decisions files a run included (path, full SHA-256)."""
STAGES = ("load history", "fit model", "baselines", "evaluate", "log to MLflow")


@dataclass(frozen=True)
class TrainResult:
    """What a training run produced."""

    run_id: str
    model_uri: str
    metrics: dict[str, float]
    split: dict[str, int]


def git_commit() -> str:
    """The source tree's commit, or ``unknown`` outside a git checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parent,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


@dataclass(frozen=True)
class RunData:
    """What evaluation and logging see of a history, whichever engine fitted the model.

    One machine: the whole history. Dask: only the validation and test windows, gathered
    from the workers (the training window stays on the cluster); ``sizes`` are always
    the whole history's windows, as logged.
    """

    history: History
    split: Split
    """Windows of ``history``'s rows (the Dask path's ``train`` window is empty)."""
    sizes: dict[str, int]
    """Rows per window of the whole history."""
    logistic: tuple[pd.DataFrame, np.ndarray]
    """Model frame and labels the logistic-regression baseline is fitted on."""
    params: dict[str, Any] = field(default_factory=dict)
    """Engine-specific MLflow params (``engine``, ...)."""
    tags: dict[str, str] = field(default_factory=dict)
    """Engine-specific MLflow tags (Dask: the whole history's window dates)."""


def _baselines(run: RunData, seed: int) -> dict[str, float]:
    history, split = run.history, run.split
    test = history.labels[split.test]
    rules = rules_score(history.flat.iloc[split.test])
    logistic = fit_logistic(*run.logistic, seed)
    scores = logistic.predict_proba(build_features(history.flat.iloc[split.test]))[:, 1]
    return {
        "baseline_rules_test_pr_auc": baseline_pr_auc(test, rules),
        "baseline_logreg_test_pr_auc": baseline_pr_auc(test, scores),
    }


def _metrics(
    model: EscalationModel, history: History, split: Split, config: TrainConfig
) -> dict[str, float]:
    metrics = prefixed("test", model_metrics(model, history, split.test, config))
    metrics |= prefixed("valid", model_metrics(model, history, split.valid, config))
    oracle, ratios = oracle_comparison(
        model, history, split.test, config, thresholds_from=split.valid
    )
    metrics |= prefixed("oracle_test", oracle) | prefixed("test", ratios)
    metrics["model_trees"] = float(model.booster.num_trees())
    metrics |= prefixed("test_analyst", analyst_metrics(model, history, split.test))
    return metrics


def _log_figures(
    model: EscalationModel,
    history: History,
    split: Split,
    baselines: dict[str, np.ndarray],
) -> None:
    labels = history.labels[split.test]
    probabilities = model_probabilities(model, history, split.test)
    curves = {"model": probabilities, **baselines}
    truth = None if history.p_true is None else history.p_true[split.test]
    if truth is not None and np.isfinite(truth).all():  # one set of rows per figure
        curves["oracle (p_true)"] = truth
    registry.log_figure(plots.pr_curves(labels, curves), "plots/pr_curve.png")
    thresholds = (model.policy.p1_threshold, model.policy.p2_threshold)
    registry.log_figure(
        plots.calibration_curve(labels, probabilities, thresholds=thresholds),
        "plots/calibration_curve.png",
    )
    registry.log_dict(
        reliability_bins(labels, probabilities, thresholds), "reliability_bins.json"
    )
    sample = history.matrix[split.test][:SHAP_ROWS]
    contributions = model.scores(sample, explain=True).feature_contributions
    registry.log_figure(
        plots.shap_importance(contributions, FEATURE_NAMES), "plots/shap_importance.png"
    )


def _log_run(
    context: dict[str, Any],
    model: EscalationModel,
    run: RunData,
    metrics: dict[str, float],
) -> str:
    config: TrainConfig = context["config"]
    history, split = run.history, run.split
    registry.log_params(
        {
            **flatten_config(config),
            # absolute: promote and audit reopen these from whatever folder they run in
            "data_path": str(Path(history.path).resolve()),
            "decision_files": ",".join(
                f"{Path(path).resolve()} (sha256 {digest[:12]})"
                for path, digest in history.decisions
            )
            or "none",
            "rows": sum(run.sizes.values()),
            **{f"split.{k}_rows": v for k, v in run.sizes.items()},
            **run.params,
        }
    )
    registry.set_tags(
        {
            "git_commit": git_commit(),
            "config_sha256": config_hash(context["config_text"]),
            "data_sha256": history.sha256,
            "contract_version": SCHEMA_VERSION,
            "feature_spec_version": FEATURE_SPEC_VERSION,
            "test_window": f"{history.flat['received_at'].iloc[split.test.start]} .. {history.flat['received_at'].iloc[split.test.stop - 1]}",
        }
    )
    registry.set_tags(window_dates(history.micros, split) | run.tags)
    truth = history.p_true
    log_provenance(history.path, truth is not None and bool(np.isfinite(truth).any()))
    registry.log_metrics({k: v for k, v in metrics.items() if np.isfinite(v)})
    if history.decisions:
        registry.set_tags({"oracle_rows": oracle_rows(metrics)})
        registry.log_dict(
            {
                "decision_files": [
                    {"path": str(Path(p).resolve()), "sha256": d}
                    for p, d in history.decisions
                ]
            },
            DECISION_FILES,
        )
    _log_monthly(model, history, split, config)
    _log_figures(model, history, split, context["baseline_scores"])
    _log_profile(model, run)
    registry.log_dict(metrics, "metrics.json")
    registry.log_dict({**model.policy.__dict__}, "threshold_policy.json")
    registry.log_text(context["config_text"], registry.CONFIG_ARTIFACT)
    example = registry.pyfunc_frame(
        history.flat.iloc[split.test.start : split.test.start + 5]
    )
    model_uri = registry.log_model(model, example)
    registry.set_tags({"model_uri": model_uri})
    return model_uri


def _log_profile(model: EscalationModel, run: RunData) -> None:
    """The reference profile ``tipscore monitor`` measures drift against (both engines)."""
    split = run.split
    trained = split.train.stop > split.train.start  # Dask keeps it on the cluster
    features = ("train", split.train) if trained else ("valid", split.valid)
    windows = {"features": features, "scores": ("test", split.test)}
    profile = run_profile(model, run.history.matrix, windows)
    if profile is not None:
        registry.log_dict(profile, PROFILE_ARTIFACT)


def _log_monthly(
    model: EscalationModel, history: History, split: Split, config: TrainConfig
) -> None:
    months = history.months[split.test]
    table = monthly(
        history.labels[split.test],
        model_probabilities(model, history, split.test),
        months,
        (model.policy.p1_threshold, model.policy.p2_threshold),
        config.evaluation.ece_bins,
    )
    for step, values in enumerate(table.values()):
        for name in ("pr_auc", "p1_recall", "p12_recall", "ece"):
            if np.isfinite(values[name]):
                registry.log_metrics({f"test_month_{name}": values[name]}, step=step)
    registry.log_dict(table, "metrics_by_month.json")


def train(
    data: Path, config: TrainConfig, config_text: str, progress: bool = True
) -> TrainResult:
    """Train, evaluate and log one run; return its id and metrics."""
    bar = progress_bar(progress)
    history = load_history(
        data, config.data.decisions, config.history.assumed_decision_lag_days
    )
    split = temporal_split(
        history.micros, config.split.valid_fraction, config.split.test_fraction
    )
    bar.update()
    bar.set_postfix_str(STAGES[1])
    x, y = history.matrix, history.labels
    weights = history_weights(config, history)
    model = fit_model(
        config,
        (x[split.train], y[split.train]),
        (x[split.valid], y[split.valid]),
        None if weights is None else (weights[split.train], weights[split.valid]),
    )
    bar.update()
    logistic = (build_features(history.flat.iloc[split.train]), y[split.train])
    run = RunData(history, split, split.sizes(), logistic, {"engine": "local"})
    return finish_run(model, run, config, config_text, bar)


def progress_bar(progress: bool) -> Any:
    """The run's stage bar (``STAGES``), at the first stage."""
    bar = tqdm(total=len(STAGES), desc="train", unit="stage", disable=not progress)
    bar.set_postfix_str(STAGES[0])
    return bar


def finish_run(
    model: EscalationModel,
    run: RunData,
    config: TrainConfig,
    config_text: str,
    bar: Any,
) -> TrainResult:
    """Baselines, evaluation and the MLflow run, for a fitted model (every engine)."""
    bar.set_postfix_str(STAGES[2])
    metrics = _baselines(run, config.seed)
    baseline_scores = {"rules": rules_score(run.history.flat.iloc[run.split.test])}
    bar.update()
    bar.set_postfix_str(STAGES[3])
    metrics |= _metrics(model, run.history, run.split, config)
    bar.update()
    bar.set_postfix_str(STAGES[4])
    registry.configure(create=True)
    with registry.start_run(config.experiment) as run_id:
        context = {
            "config": config,
            "config_text": config_text,
            "baseline_scores": baseline_scores,
        }
        model_uri = _log_run(context, model, run, metrics)
    bar.update()
    bar.close()
    return TrainResult(run_id, model_uri, metrics, dict(run.sizes))


def oracle_rows(metrics: dict[str, float]) -> str:
    """Which test rows the oracle figures cover (only rows with ``p_true``)."""
    covered = metrics.get("oracle_test_reports")
    if covered is None:
        return "none: no test row has p_true"
    total = int(metrics["test_reports"])
    if covered == total:
        return f"all {total} test rows"
    return f"{int(covered)} of {total} test rows (those with p_true; not analysts')"


def metrics_table(metrics: dict[str, float]) -> str:
    """A short, aligned table of the headline metrics for the terminal."""
    rows = [
        ("PR-AUC", "test_pr_auc", "oracle_test_pr_auc"),
        ("ROC-AUC", "test_roc_auc", "oracle_test_roc_auc"),
        ("log-loss", "test_log_loss", "oracle_test_log_loss"),
        ("Brier", "test_brier", "oracle_test_brier"),
        ("ECE", "test_ece", "oracle_test_ece"),
        ("ECE above P2", "test_ece_above_p2", "oracle_test_ece_above_p2"),
        ("P1 recall", "test_p1_recall", "oracle_test_p1_recall"),
        ("P1 precision", "test_p1_precision", "oracle_test_p1_precision"),
        ("P1+P2 recall", "test_p12_recall", "oracle_test_p12_recall"),
    ]
    lines = [f"{'metric (test window)':<22}{'model':>10}{'oracle':>10}"]
    for label, key, oracle in rows:
        lines.append(
            f"{label:<22}{metrics.get(key, float('nan')):>10.4f}{metrics.get(oracle, float('nan')):>10.4f}"
        )
    lines.append(
        f"{'rules baseline PR-AUC':<22}{metrics['baseline_rules_test_pr_auc']:>10.4f}"
    )
    lines.append(
        f"{'logreg baseline PR-AUC':<22}{metrics['baseline_logreg_test_pr_auc']:>10.4f}"
    )
    if "test_pr_auc_ratio_to_oracle" in metrics:
        lines.append(
            f"{'model / oracle PR-AUC':<22}{metrics['test_pr_auc_ratio_to_oracle']:>10.3f}"
        )
    if "oracle_test_reports" in metrics and (
        metrics["oracle_test_reports"] != metrics["test_reports"]
    ):
        lines.append(f"oracle figures on {oracle_rows(metrics)}")
    return "\n".join(lines + analyst_lines(metrics, "test"))


def analyst_lines(metrics: dict[str, float], window: str) -> list[str]:
    """Table lines comparing the model with analysts' decisions (``{window}_analyst_*``)."""
    decided = metrics.get(f"{window}_analyst_rows")
    if decided is None:
        return []
    if not decided:
        return [f"no analyst-decided rows in the {window} window"]
    lines = [f"{'analyst-decided rows':<22}{int(decided):>10d}"]
    for label, name in (
        ("agreement w/ analysts", "agreement"),
        ("Cohen's kappa", "kappa"),
        ("recorded overrides", "recorded_override_rate"),
    ):
        value = metrics.get(f"{window}_analyst_{name}", float("nan"))
        lines.append(f"{label:<22}{value:>10.3f}")
    return lines
