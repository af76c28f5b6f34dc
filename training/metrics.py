"""Evaluation metrics: pure functions of (labels, scores[, threshold]); no I/O.

Why these: positives are ~0.2% of reports, so ranking quality is judged by PR-AUC (ROC-AUC
is reported but flatters rare-event models), probabilities by log-loss, Brier and expected
calibration error, and the desk's real question — how many escalations land in the queues
analysts can work — by recall and precision inside the P1 and P1+P2 queues.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    cohen_kappa_score,
    roc_auc_score,
)
from sklearn.metrics import log_loss as sklearn_log_loss

EPS = 1e-15
HIGHER_IS_BETTER: Mapping[str, bool] = {
    "pr_auc": True,
    "roc_auc": True,
    "log_loss": False,
    "brier": False,
    "ece": False,
    "ece_above_p2": False,
    "p1_recall": True,
    "p1_precision": True,
    "p12_recall": True,
    "p12_precision": True,
    "p1_share": False,
    "p12_share": False,
}
"""Direction of every metric, for comparisons and gates."""


def _arrays(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=np.float64)
    if y.shape != s.shape:
        raise ValueError(f"labels and scores differ in shape: {y.shape} vs {s.shape}")
    return y, s


def pr_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Average precision (area under the precision-recall step curve); NaN without positives."""
    y, s = _arrays(labels, scores)
    if not y.any():
        return math.nan
    return float(average_precision_score(y, s))


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (ties count one half); NaN with a single class."""
    y, s = _arrays(labels, scores)
    if y.all() or not y.any():
        return math.nan
    return float(roc_auc_score(y, s))


def log_loss(labels: np.ndarray, probabilities: np.ndarray) -> float:
    """Mean negative log-likelihood of the labels (probabilities clipped to [1e-15, 1-1e-15]).

    scikit-learn's ``log_loss``; the clip to ``EPS`` is ours, so a probability of exactly 0 or 1
    costs what it always cost here (scikit-learn's own clip, at float64's epsilon, is tighter).
    ``labels=[False, True]``: a window with one class still has a log-loss. NaN without rows.
    """
    y, p = _arrays(labels, probabilities)
    if not len(y):
        return math.nan
    return float(sklearn_log_loss(y, np.clip(p, EPS, 1 - EPS), labels=[False, True]))


def brier(labels: np.ndarray, probabilities: np.ndarray) -> float:
    """Mean squared error of the probabilities (scikit-learn's ``brier_score_loss``); NaN without rows."""
    y, p = _arrays(labels, probabilities)
    if not len(y):
        return math.nan
    return float(brier_score_loss(y, p, labels=[False, True]))


def ece(labels: np.ndarray, probabilities: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error over equal-mass bins of the predicted probability.

    Equal-mass, not equal-width: with probabilities mostly near 0.002, equal-width bins
    would put nearly every report in the first bin and hide miscalibration at the top.
    """
    y, p = _arrays(labels, probabilities)
    if not len(p):
        return math.nan
    order = np.argsort(p, kind="stable")
    total = 0.0
    for chunk in np.array_split(order, min(bins, len(p))):
        total += len(chunk) * abs(float(p[chunk].mean()) - float(y[chunk].mean()))
    return total / len(p)


def ece_above(
    labels: np.ndarray, probabilities: np.ndarray, threshold: float, bins: int = 10
) -> float:
    """ECE over only the reports with ``probability >= threshold`` (NaN when none are).

    Why: with ~0.2% positives nearly every report sits near the base rate, so the overall
    ECE mostly measures how well the bulk matches the base rate, and a model badly
    miscalibrated in the queues analysts work (P1, P2) still scores a tiny overall ECE.
    Restricted to the P1+P2 queue, the same statistic judges the decisions' region.
    """
    y, p = _arrays(labels, probabilities)
    above = p >= threshold
    if not above.any():
        return math.nan
    return ece(y[above], p[above], bins)


def queue_metrics(
    labels: np.ndarray, scores: np.ndarray, threshold: float
) -> dict[str, float]:
    """Share of reports in the queue ``score >= threshold``, recall and precision inside it.

    Every report tied at the threshold is in the queue: thresholds, not ranks, decide.
    """
    y, s = _arrays(labels, scores)
    queued = s >= threshold
    hits = int((queued & y).sum())
    return {
        "share": float(queued.mean()) if len(s) else math.nan,
        "recall": hits / int(y.sum()) if y.any() else math.nan,
        "precision": hits / int(queued.sum()) if queued.any() else math.nan,
    }


def analyst_agreement(
    model_priority: np.ndarray, analyst_priority: np.ndarray, recorded: np.ndarray
) -> dict[str, float]:
    """How a model's suggested priorities agree with analysts' decisions on decided reports.

    ``rows``: decided reports compared; ``agreement``: share where the model suggests the
    analyst's priority; ``kappa``: Cohen's kappa of the two, **unweighted** (priorities
    are queues, not a scale: P1 vs P3 is no "bigger" disagreement for the desk than P1 vs
    P2), chance-corrected, NaN when both only ever say the same one priority;
    ``recorded_override_rate``: share where the analyst's priority differs from
    ``recorded``, the suggestion the service had actually shown (the model of the day).

    Raises:
        ValueError: the three arrays differ in shape.
    """
    m = np.asarray(model_priority, dtype=np.int64)
    a = np.asarray(analyst_priority, dtype=np.int64)
    r = np.asarray(recorded, dtype=np.int64)
    if not m.shape == a.shape == r.shape:
        raise ValueError(
            "model_priority, analyst_priority and recorded differ in shape: "
            f"{m.shape}, {a.shape}, {r.shape}"
        )
    if not len(a):
        return {"rows": 0.0}
    # one priority said by both: chance agreement is total and kappa undefined (checked
    # here, not left to scikit-learn's warning)
    single = len(np.union1d(m, a)) == 1
    return {
        "rows": float(len(a)),
        "agreement": float((m == a).mean()),
        "kappa": math.nan if single else float(cohen_kappa_score(m, a)),
        "recorded_override_rate": float((r != a).mean()),
    }


def capacity_threshold(scores: np.ndarray, share: float) -> float:
    """The lowest threshold whose queue ``score >= threshold`` holds at most ``share``.

    A group of tied scores that would overflow the capacity is left out whole, so the queue
    never exceeds its share; when even the top score's ties overflow, the threshold lies
    above every score (an empty queue).
    """
    s = np.sort(np.asarray(scores, dtype=np.float64))[::-1]
    capacity = math.floor(share * len(s) + 1e-9)
    if capacity <= 0 or not len(s):
        return math.inf
    if capacity >= len(s):
        return float(s[-1])
    candidate = s[capacity - 1]
    if s[capacity] < candidate:
        return float(candidate)
    above = s[s > candidate]
    return float(above[-1]) if len(above) else math.inf


def summary(
    labels: np.ndarray,
    probabilities: np.ndarray,
    thresholds: tuple[float, float],
    bins: int = 10,
) -> dict[str, float]:
    """Every headline metric of calibrated probabilities with (P1, P2) thresholds."""
    p1 = queue_metrics(labels, probabilities, thresholds[0])
    p12 = queue_metrics(labels, probabilities, thresholds[1])
    return {
        "pr_auc": pr_auc(labels, probabilities),
        "roc_auc": roc_auc(labels, probabilities),
        "log_loss": log_loss(labels, probabilities),
        "brier": brier(labels, probabilities),
        "ece": ece(labels, probabilities, bins),
        "ece_above_p2": ece_above(labels, probabilities, thresholds[1], bins),
        "p1_recall": p1["recall"],
        "p1_precision": p1["precision"],
        "p1_share": p1["share"],
        "p12_recall": p12["recall"],
        "p12_precision": p12["precision"],
        "p12_share": p12["share"],
        "positives": float(np.asarray(labels, dtype=bool).sum()),
        "reports": float(len(labels)),
    }
