"""Words for the model card: a label and one line of meaning for every figure it shows.

Why here and not in the page: the JSON card and the page must say the same thing, and
other tools read the JSON card. Every metric key the card carries has a label
(``tests/unit/test_model_card.py`` checks it), so no raw MLflow key reaches an analyst.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class MetricText(NamedTuple):
    """How a metric is named and read on the card."""

    label: str
    meaning: str
    kind: (
        str  # "rate" (a share, shown as a percentage), "score" (0-1), "ratio", "error"
    )


METRICS: dict[str, MetricText] = {
    "test_pr_auc": MetricText(
        "PR-AUC (test)",
        "How well escalated reports are ranked above the rest in the latest months; "
        "1 is perfect, chance scores the escalation rate (about 0.002).",
        "score",
    ),
    "test_roc_auc": MetricText(
        "ROC-AUC (test)",
        "Chance that a random escalated report scores above a random other one; it "
        "flatters rare events, so read PR-AUC first.",
        "score",
    ),
    "test_p1_recall": MetricText(
        "P1 recall (test)",
        "Share of the escalated reports that the model put in priority 1.",
        "rate",
    ),
    "test_p1_precision": MetricText(
        "P1 precision (test)",
        "Share of the priority-1 suggestions that were escalated.",
        "rate",
    ),
    "test_p1_share": MetricText(
        "P1 queue size (test)",
        "Share of all reports suggested as priority 1 (the capacity it was set for).",
        "rate",
    ),
    "test_p12_recall": MetricText(
        "P1+P2 recall (test)",
        "Share of the escalated reports that the model put in priority 1 or 2.",
        "rate",
    ),
    "test_p12_precision": MetricText(
        "P1+P2 precision (test)",
        "Share of the priority-1 and -2 suggestions that were escalated.",
        "rate",
    ),
    "test_p12_share": MetricText(
        "P1+P2 queue size (test)",
        "Share of all reports suggested as priority 1 or 2.",
        "rate",
    ),
    "test_ece": MetricText(
        "Calibration error, all reports (test)",
        "Average gap between predicted probability and observed escalation rate; with "
        "so few escalations it is small for almost any model.",
        "error",
    ),
    "test_ece_above_p2": MetricText(
        "Calibration error, P1 and P2 reports (test)",
        "The same gap over only the reports at or above the P2 threshold, where "
        "decisions are made: read this one before trusting a probability.",
        "error",
    ),
    "test_pr_auc_ratio_to_oracle": MetricText(
        "PR-AUC as a share of the best possible (test)",
        "The model's PR-AUC divided by that of ranking by the true probability, which "
        "only a synthetic history knows.",
        "ratio",
    ),
    "baseline_rules_test_pr_auc": MetricText(
        "PR-AUC of the manual-triage rules (test)",
        "The same score for rules that mimic manual triage; the model should beat it.",
        "score",
    ),
    "baseline_logreg_test_pr_auc": MetricText(
        "PR-AUC of a logistic regression (test)",
        "The same score for a simple model on the same features; the model should "
        "beat it.",
        "score",
    ),
}
"""Every metric on the card, in the order shown."""

AUDIT_METRICS = {
    "recall_p1": "P1 recall",
    "recall_p12": "P1+P2 recall",
    "precision_p1": "P1 precision",
    "precision_p12": "P1+P2 precision",
    "fpr_p1": "P1 false-positive rate",
    "fpr_p12": "P1+P2 false-positive rate",
    "selection_rate_p1": "share suggested P1",
    "selection_rate_p12": "share suggested P1 or P2",
    "mean_score": "mean score (its excess over the comparators is judged)",
    "label_rate": "recorded escalations over their true expected count (the labels)",
}
"""The audit's judged metrics, in words."""

ATTRIBUTES = {
    "esp": "platform (ESP)",
    "esp_size_tier": "platform size",
    "jurisdiction": "jurisdiction",
    "incident_type": "incident type",
    "completeness": "report completeness",
    "files_viewed": "files viewed by the platform",
    "bundled": "batched (bundled) report",
}
"""The audit's group attributes, in words."""


def shown(value: float | None, kind: str) -> str:
    """A value as the card prints it (``–`` when missing)."""
    if value is None or value != value:
        return "–"
    if kind == "rate":
        return f"{100 * value:.{3 if abs(value) < 0.001 else 1}f}%"
    if kind == "ratio":
        return f"{value:.2f}"
    return f"{value:.4f}"


def metric_rows(metrics: dict[str, float]) -> list[dict[str, Any]]:
    """One row per metric the run logged: key, label, value, display, meaning."""
    return [
        {
            "key": key,
            "label": text.label,
            "value": metrics[key],
            "display": shown(metrics[key], text.kind),
            "meaning": text.meaning,
        }
        for key, text in METRICS.items()
        if key in metrics
    ]
