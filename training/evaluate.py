"""Honest evaluation: metrics of a model, the oracle and baselines on a window, also by month.

Thresholds are never tuned here: the model's come with it (chosen on its validation window),
the oracle's are chosen by the same capacity policy on the validation window's ``p_true``.
"""

from __future__ import annotations

import math

import numpy as np

from training.config import TrainConfig
from training.data import History
from training.metrics import capacity_threshold, pr_auc, summary
from training.runtime import EscalationModel
from training.splits import Split


def prefixed(prefix: str, metrics: dict[str, float]) -> dict[str, float]:
    """``{prefix}_{name}`` for every metric."""
    return {f"{prefix}_{name}": value for name, value in metrics.items()}


def model_probabilities(
    model: EscalationModel, history: History, rows: slice
) -> np.ndarray:
    """Calibrated probabilities of the model for ``rows`` of the history."""
    return model.calibration.apply(model.raw_scores(history.matrix[rows]))


def model_metrics(
    model: EscalationModel, history: History, rows: slice, config: TrainConfig
) -> dict[str, float]:
    """The model's headline metrics on ``rows``."""
    p = model_probabilities(model, history, rows)
    thresholds = (model.policy.p1_threshold, model.policy.p2_threshold)
    return summary(history.labels[rows], p, thresholds, config.evaluation.ece_bins)


def oracle_metrics(
    history: History, split: Split, config: TrainConfig
) -> dict[str, float]:
    """The best possible: rank by ``p_true`` (thresholds chosen on the validation window)."""
    if history.p_true is None:
        return {}
    valid = history.p_true[split.valid]
    thresholds = (
        capacity_threshold(valid, config.policy.p1_share),
        capacity_threshold(valid, config.policy.p12_share),
    )
    return summary(
        history.labels[split.test],
        history.p_true[split.test],
        thresholds,
        config.evaluation.ece_bins,
    )


def monthly(
    labels: np.ndarray,
    probabilities: np.ndarray,
    months: np.ndarray,
    thresholds: tuple[float, float],
    bins: int,
) -> dict[str, dict[str, float]]:
    """The headline metrics for each receipt month of a window."""
    out = {}
    for month in np.unique(months):
        rows = months == month
        out[str(month)] = summary(labels[rows], probabilities[rows], thresholds, bins)
    return out


def ratio(model: float, oracle: float) -> float:
    """Model metric as a share of the oracle's (NaN when undefined)."""
    if math.isnan(model) or math.isnan(oracle) or oracle == 0:
        return math.nan
    return model / oracle


def baseline_pr_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """PR-AUC of a baseline's ranking score."""
    return pr_auc(labels, scores)


def evaluate_file(
    model: EscalationModel, history: History, rows: slice, config: TrainConfig
) -> dict[str, float]:
    """``eval_*`` metrics of a model on ``rows`` of any history, with oracle and rules."""
    from training.baselines import rules_score

    metrics = prefixed("eval", model_metrics(model, history, rows, config))
    labels = history.labels[rows]
    metrics["baseline_rules_eval_pr_auc"] = baseline_pr_auc(
        labels, rules_score(history.flat.iloc[rows])
    )
    if history.p_true is not None:
        truth = history.p_true[rows]
        thresholds = (
            capacity_threshold(truth, config.policy.p1_share),
            capacity_threshold(truth, config.policy.p12_share),
        )
        oracle = summary(labels, truth, thresholds, config.evaluation.ece_bins)
        metrics |= prefixed("oracle_eval", oracle)
        metrics["eval_pr_auc_ratio_to_oracle"] = ratio(
            metrics["eval_pr_auc"], oracle["pr_auc"]
        )
    return metrics
