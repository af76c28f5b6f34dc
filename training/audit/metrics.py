"""Per-group metrics of one audited attribute, computed with fairlearn's ``MetricFrame``.

Why rows are compressed first: ``MetricFrame`` hands every metric its group's rows one
Python object at a time (``np.stack`` over the column), which costs minutes on a 200,000-row
window. Queue metrics only depend on (group, label, selected), so identical rows are merged
into one with a ``sample_weight`` equal to their count: the same numbers, fairlearn's own
metrics, a few dozen rows. The truth view uses the same idea with soft labels: each report is
a positive of weight ``p_true`` and a negative of weight ``1 - p_true``, so fairlearn's
weighted true-positive rate is exactly the expected recall of true escalations. Only PR-AUC
and the mean prediction need every row.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from fairlearn.metrics import (
    MetricFrame,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import average_precision_score, precision_score


def _weighted_sum(y_true: Any, y_pred: Any, sample_weight: Any) -> float:
    return float(np.sum(sample_weight))


def _weighted_positives(y_true: Any, y_pred: Any, sample_weight: Any) -> float:
    return float(np.sum(np.asarray(sample_weight)[np.asarray(y_true, bool)]))


def _weighted_prevalence(y_true: Any, y_pred: Any, sample_weight: Any) -> float:
    return float(np.average(np.asarray(y_true, float), weights=sample_weight))


def _precision(y_true: Any, y_pred: Any, sample_weight: Any) -> float:
    return float(
        precision_score(
            y_true, y_pred, sample_weight=sample_weight, zero_division=np.nan
        )
    )


def compress(
    groups: pd.Series, y: np.ndarray, selected: np.ndarray, weight: np.ndarray
) -> pd.DataFrame:
    """Merge rows equal in (group, label, selected); ``w`` sums their weights."""
    frame = pd.DataFrame(
        {"group": groups.to_numpy(), "y": y, "selected": selected, "w": weight}
    )
    merged: pd.DataFrame = frame.groupby(
        ["group", "y", "selected"], as_index=False, observed=True
    )["w"].sum()
    return merged[merged["w"] > 0]


def weighted_frame(
    metrics: dict[str, Any], rows: pd.DataFrame, name: str = "group"
) -> pd.DataFrame:
    """``MetricFrame.by_group`` over compressed rows, every metric given the weights."""
    weights = {"sample_weight": rows["w"].to_numpy()}
    frame: pd.DataFrame = MetricFrame(
        metrics=metrics,
        y_true=rows["y"].to_numpy(bool),
        y_pred=rows["selected"].to_numpy(bool),
        sensitive_features=pd.Series(rows["group"].to_numpy(), name=name),
        sample_params=dict.fromkeys(metrics, weights),
    ).by_group
    return frame


def queue_frame(
    y: np.ndarray, selected: np.ndarray, groups: pd.Series, suffix: str
) -> pd.DataFrame:
    """Selection rate, recall, false-positive rate and precision of one queue."""
    rows = compress(groups, y, selected, np.ones(len(y)))
    metrics = {
        f"selection_rate_{suffix}": selection_rate,
        f"recall_{suffix}": true_positive_rate,
        f"fpr_{suffix}": false_positive_rate,
        f"precision_{suffix}": _precision,
    }
    return weighted_frame(metrics, rows)


def size_frame(y: np.ndarray, groups: pd.Series) -> pd.DataFrame:
    """Reports, escalations and prevalence per group."""
    rows = compress(groups, y, np.zeros(len(y), bool), np.ones(len(y)))
    metrics = {
        "size": _weighted_sum,
        "positives": _weighted_positives,
        "prevalence": _weighted_prevalence,
    }
    return weighted_frame(metrics, rows)


def soft_rows(
    groups: pd.Series, probability: np.ndarray, selected: np.ndarray
) -> pd.DataFrame:
    """Compressed rows; each report a weighted positive (``p``) and negative (``1 - p``)."""
    doubled = pd.concat([groups, groups], ignore_index=True)
    soft = np.concatenate([np.ones(len(groups), bool), np.zeros(len(groups), bool)])
    return compress(
        doubled,
        soft,
        np.concatenate([selected, selected]),
        np.concatenate([probability, 1 - probability]),
    )


def truth_frame(
    y: np.ndarray, truth: np.ndarray, sel12: np.ndarray, groups: pd.Series
) -> pd.DataFrame:
    """Against ``p_true``: expected recall of true escalations, and label rate / true rate."""
    frame = weighted_frame(
        {"truth_recall_p12": true_positive_rate, "mean_p_true": _weighted_prevalence},
        soft_rows(groups, truth, sel12),
    )
    observed = size_frame(y, groups)["prevalence"]
    frame["label_rate_over_truth"] = observed / frame["mean_p_true"]
    return frame


def ranking_frame(
    y: np.ndarray, p: np.ndarray, groups: pd.Series, min_positives: int
) -> pd.DataFrame:
    """Mean prediction (calibration) and PR-AUC (only where a group has ``min_positives``)."""

    def pr_auc(y_true: Any, y_pred: Any) -> float:
        labels = np.asarray(y_true, bool)
        if labels.sum() < min_positives:
            return math.nan
        return float(average_precision_score(labels, y_pred))

    mean = weighted_frame(
        {"mean_predicted": _weighted_prevalence},
        soft_rows(groups, p, np.zeros(len(p), bool)),
    )
    ranking = MetricFrame(
        metrics={"pr_auc": pr_auc},
        y_true=y,
        y_pred=p,
        sensitive_features=groups.rename("group"),
    ).by_group
    frame: pd.DataFrame = pd.concat([mean, ranking], axis=1)
    return frame


def group_table(
    y: np.ndarray,
    p: np.ndarray,
    thresholds: tuple[float, float],
    groups: pd.Series,
    truth: np.ndarray | None,
    min_positives: int,
    selected: tuple[np.ndarray, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Every per-group metric of one attribute, indexed by group label.

    The queues are ``p`` at the thresholds, or ``selected`` (P1, P1+P2) when given: pooled
    predictions of several models each come with their own thresholds.
    """
    sel1, sel12 = selected or (p >= thresholds[0], p >= thresholds[1])
    parts = [
        size_frame(y, groups),
        ranking_frame(y, p, groups, min_positives),
        queue_frame(y, sel1, groups, "p1"),
        queue_frame(y, sel12, groups, "p12"),
    ]
    if truth is not None:
        parts.append(truth_frame(y, truth, sel12, groups))
    table: pd.DataFrame = pd.concat(parts, axis=1)
    # fairlearn answers 0 where a rate is undefined (no positives, no negatives, none
    # selected); the audit says "undefined" instead of a misleading zero.
    negatives = table["size"] - table["positives"]
    for suffix in ("p1", "p12"):
        table.loc[table["positives"] == 0, f"recall_{suffix}"] = math.nan
        table.loc[negatives == 0, f"fpr_{suffix}"] = math.nan
    if truth is not None:
        table.loc[table["mean_p_true"] == 0, "truth_recall_p12"] = math.nan
    return table
