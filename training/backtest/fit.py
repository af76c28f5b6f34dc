"""One fold: fit on what was known before the period, score the period.

The fit is ``training.fit.fit_model`` — the booster, calibration and capacity thresholds
of ``tipscore train`` with the same config — so a backtest measures the model that
training would have made then, not a variant of it. Pure of I/O, so a Dask worker can run
it as well as this process.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from training.audit.reference import hidden
from training.backtest.folds import Fold
from training.config import TrainConfig
from training.fit import fit_model
from training.metrics import capacity_threshold, summary

HEADLINE = ("pr_auc", "p1_recall", "p1_precision", "p12_recall", "ece")
"""The per-period figures of the report (``training.metrics.summary`` keys)."""


@dataclass(frozen=True)
class FoldScores:
    """A fold's out-of-time answers for its period's rows (``Fold.test``)."""

    probability: np.ndarray
    priority: np.ndarray
    thresholds: tuple[float, float]
    trees: int
    reference_priority: np.ndarray | None = None
    """The fold's reference model's priorities (platform and location hidden), for the
    audit's comparison (``training.audit.reference``); None when not asked for."""
    reference_probability: np.ndarray | None = None
    """The same reference model's calibrated probabilities (the audit's ``mean_score``
    comparison); None when not asked for."""


def fit_fold(
    config: TrainConfig,
    matrix: np.ndarray,
    labels: np.ndarray,
    fold: Fold,
    reference_rows: int | None = None,
    weights: np.ndarray | None = None,
) -> FoldScores:
    """Fit on the fold's known rows, then score its period (final labels to learn from).

    With ``reference_rows``, also fit the audit's reference model on the same rows (at
    most that many training rows: every escalation and a seeded sample of the rest) with
    the platform and location features hidden, and keep its priorities for the period.
    ``weights`` (one per row of ``matrix``, ``training.weights.sample_weights``) weight
    both fits as ``tipscore train`` weights its fit, sliced to the same rows.
    """
    model = fit_model(
        config,
        (matrix[fold.train], labels[fold.train]),
        (matrix[fold.valid], labels[fold.valid]),
        _rows(weights, fold.train, fold.valid),
    )
    scores = model.scores(matrix[fold.test])
    reference = None
    if reference_rows is not None:
        rows = _sample(labels, fold.train, reference_rows, config.seed)
        blind = fit_model(
            config,
            (hidden(matrix[rows]), labels[rows]),
            (hidden(matrix[fold.valid]), labels[fold.valid]),
            _rows(weights, rows, fold.valid),
        )
        reference = blind.scores(hidden(matrix[fold.test]))
    return FoldScores(
        probability=scores.probability,
        priority=scores.priority,
        thresholds=(model.policy.p1_threshold, model.policy.p2_threshold),
        trees=model.booster.num_trees(),
        reference_priority=None if reference is None else reference.priority,
        reference_probability=None if reference is None else reference.probability,
    )


def _rows(
    weights: np.ndarray | None, train: np.ndarray, valid: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """The weights of the fit's training and validation rows (None: unweighted)."""
    return None if weights is None else (weights[train], weights[valid])


def _sample(labels: np.ndarray, rows: np.ndarray, limit: int, seed: int) -> np.ndarray:
    """Every escalation of ``rows`` and a seeded sample of the rest, at most ``limit``."""
    if len(rows) <= limit:
        return rows
    positive, rest = rows[labels[rows]], rows[~labels[rows]]
    keep = min(max(limit - len(positive), 0), len(rest))
    sample = np.random.default_rng(seed).choice(rest, size=keep, replace=False)
    chosen: np.ndarray = np.sort(np.concatenate([positive, sample]))
    return chosen


def period_metrics(
    labels: np.ndarray,
    scores: FoldScores,
    config: TrainConfig,
) -> dict[str, float]:
    """The model's headline figures on one period (its final labels)."""
    return summary(
        labels, scores.probability, scores.thresholds, config.evaluation.ece_bins
    )


def oracle_metrics(
    labels: np.ndarray,
    p_true: np.ndarray,
    reference: np.ndarray,
    config: TrainConfig,
) -> dict[str, float]:
    """The oracle's figures on a period's rows with ``p_true`` (empty when none).

    The oracle ranks by ``p_true``; its thresholds follow the capacity policy on
    ``reference`` (the fold's calibration rows' ``p_true``), as ``train``'s oracle does.
    """
    known = np.isfinite(p_true)
    reference = reference[np.isfinite(reference)]
    if not known.any() or not len(reference):
        return {}
    thresholds = (
        capacity_threshold(reference, config.policy.p1_share),
        capacity_threshold(reference, config.policy.p12_share),
    )
    return summary(labels[known], p_true[known], thresholds, config.evaluation.ece_bins)


def finite(values: dict[str, float]) -> dict[str, float]:
    """Only the defined figures (MLflow and JSON get no NaN)."""
    return {k: float(v) for k, v in values.items() if not math.isnan(float(v))}
