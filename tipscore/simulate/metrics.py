"""What one simulated month measured: the served model against the oracle, the analysts.

Pure: the month's reports (with the history's final label and ``p_true``), what the
service answered for each, and the analysts' decisions in, a flat dict of figures out.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tipscore.simulate.month import MonthLog
from training.metrics import pr_auc


def _recall(labels: np.ndarray, chosen: np.ndarray) -> float:
    positives = int(labels.sum())
    return float((labels & chosen).sum() / positives) if positives else float("nan")


def model_figures(rows: pd.DataFrame, log: MonthLog) -> dict[str, float]:
    """PR-AUC and priority-1 recall of the served answers, and the oracle's."""
    served = [log.served.get(r) for r in rows["report_id"]]
    kept = np.array([s is not None for s in served])
    labels = rows["escalated"].to_numpy(dtype=bool)[kept]
    p_true = rows["p_true"].to_numpy(dtype=np.float64)[kept]
    probability = np.array([s[0] for s in served if s is not None])
    priority = np.array([s[1] for s in served if s is not None])
    p1 = priority == 1
    top = np.zeros(len(p_true), dtype=bool)
    top[np.argsort(-p_true, kind="stable")[: int(p1.sum())]] = True
    figures = {
        "reports": float(len(rows)),
        "scored": float(kept.sum()),
        "escalations": float(labels.sum()),
        "p1_suggested": float(p1.sum()),
        "pr_auc": pr_auc(labels, probability) if labels.any() else float("nan"),
        "oracle_pr_auc": pr_auc(labels, p_true) if labels.any() else float("nan"),
        "p1_recall": _recall(labels, p1),
        "oracle_p1_recall": _recall(labels, top),
    }
    figures["pr_auc_vs_oracle"] = figures["pr_auc"] / figures["oracle_pr_auc"]
    return figures


def _share(values: list[bool]) -> float:
    return float(np.mean(values)) if values else float("nan")


def analyst_figures(rows: pd.DataFrame, log: MonthLog) -> dict[str, float]:
    """Agreement with the suggestion (blind, shown), overrides, label quality."""
    truth = dict(zip(rows["report_id"], rows["escalated"], strict=True))
    blind = [d for d in log.decisions if d.blind]
    shown = [d for d in log.decisions if not d.blind]
    correct = [
        (d.priority == 1) == bool(truth[d.report_id])
        for d in log.decisions
        if d.report_id in truth
    ]
    return {
        "decided": float(len(log.decisions)),
        "decided_blind": float(len(blind)),
        "agreement_blind": _share([d.agrees for d in blind]),
        "agreement_shown": _share([d.agrees for d in shown]),
        "override_rate_shown": _share([not d.agrees for d in shown]),
        "followed_by_bias": _share([d.biased for d in shown]),
        "analyst_escalations": float(sum(d.priority == 1 for d in log.decisions)),
        "analyst_label_accuracy": _share(correct),
    }


def month_figures(rows: pd.DataFrame, log: MonthLog) -> dict[str, Any]:
    """Every figure of one month, and which model versions served it.

    A month whose champion changed (promoted after the shadow days) mixes two models in
    its headline figures; ``by_model`` then has each version's own, on the reports it
    answered.
    """
    versions = sorted({s[2] for s in log.served.values()})
    figures: dict[str, Any] = {
        **model_figures(rows, log),
        **analyst_figures(rows, log),
        "served_by": versions,
    }
    if len(versions) > 1:
        by = np.array([log.served.get(r, (0, 0, ""))[2] for r in rows["report_id"]])
        figures["by_model"] = {v: model_figures(rows[by == v], log) for v in versions}
    return figures
