"""Bias audit: per-group metrics, disparities against a reference group, flags.

Per-group metrics come from fairlearn's ``MetricFrame``; disparities get bootstrap
intervals; the truth view and the attribution view sit beside them.

A group is flagged only when its disparity is beyond the configured bound AND the interval
excludes parity; groups (or references) with too few escalations are reported as such and
never flagged. With ``p_true`` the same recall is computed against the truth, and the
group's label rate is compared with its mean ``p_true``, separating "the model is unfair"
from "the historical labels were unfair".
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from features.spec import FEATURE_SPEC
from training.audit.config import AuditConfig, Judge
from training.audit.groups import ATTRIBUTES, group_columns
from training.audit.metrics import group_table
from training.data import History
from training.model import EscalationModel
from training.reliability import calibration_summary

ATTRIBUTION_ROWS = 20_000
WHO_REPORTED = frozenset(
    f.name for f in FEATURE_SPEC if f.group in ("platform", "location")
)


def _cells(y: np.ndarray, selected: np.ndarray) -> np.ndarray:
    return np.array(
        [
            (y & selected).sum(),
            (y & ~selected).sum(),
            (~y & selected).sum(),
            (~y & ~selected).sum(),
        ]
    )


def _metric_from_cells(metric: str, cells: np.ndarray) -> np.ndarray:
    tp, fn, fp, tn = (cells[..., i].astype(float) for i in range(4))
    with np.errstate(invalid="ignore", divide="ignore"):
        if metric.startswith("recall"):
            values: np.ndarray = tp / (tp + fn)
        elif metric.startswith("precision"):
            values = tp / (tp + fp)
        else:
            values = fp / (fp + tn)
    return values


def ratio_interval(
    metric: str,
    group: np.ndarray,
    reference: np.ndarray,
    cfg: AuditConfig,
    rng: np.random.Generator,
) -> tuple[float, float, float]:
    """Ratio of a metric (group / reference) and its bootstrap interval.

    Resampling rows within a group is the same as drawing its confusion-matrix cells from a
    multinomial with the observed cell shares, which is what is done here (fast at any size).
    """
    point = float(
        _metric_from_cells(metric, group) / _metric_from_cells(metric, reference)
    )
    draws = [
        rng.multinomial(cells.sum(), cells / cells.sum(), size=cfg.bootstrap)
        for cells in (group, reference)
    ]
    ratios = _metric_from_cells(metric, draws[0]) / _metric_from_cells(metric, draws[1])
    tail = (1 - cfg.confidence) / 2
    low, high = np.nanquantile(ratios, [tail, 1 - tail])
    return point, float(low), float(high)


def reference_of(attribute: str, table: pd.DataFrame, cfg: AuditConfig) -> str | None:
    """The attribute's reference group (``largest``, or a named group if present)."""
    wanted = cfg.references.get(attribute, "largest")
    if wanted == "largest":
        return str(table["size"].idxmax())
    return wanted if wanted in table.index else None


def _compare(
    judge: Judge,
    group: str,
    reference: str,
    cells: tuple[np.ndarray, np.ndarray],
    table: pd.DataFrame,
    cfg: AuditConfig,
    rng: np.random.Generator,
) -> dict[str, Any]:
    """One judged disparity: ratio, interval, and whether it is flagged."""
    ratio, low, high = ratio_interval(judge.metric, cells[0], cells[1], cfg, rng)
    beyond = (judge.min_ratio is not None and ratio < judge.min_ratio) or (
        judge.max_ratio is not None and ratio > judge.max_ratio
    )
    defined = math.isfinite(ratio) and math.isfinite(low) and math.isfinite(high)
    return {
        "group": group,
        "metric": judge.metric,
        "reference": reference,
        "value": _clean(table.loc[group, judge.metric]),
        "reference_value": _clean(table.loc[reference, judge.metric]),
        "ratio": _clean(ratio),
        "ci_low": _clean(low),
        "ci_high": _clean(high),
        "min_ratio": judge.min_ratio,
        "max_ratio": judge.max_ratio,
        # an undefined ratio (e.g. the reference's metric is 0) is shown, never flagged
        "flagged": bool(defined and beyond and (high < 1.0 or low > 1.0)),
    }


def judge_attribute(
    attribute: str,
    table: pd.DataFrame,
    arrays: dict[str, np.ndarray],
    groups: pd.Series,
    cfg: AuditConfig,
    rng: np.random.Generator,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every judged disparity of an attribute's groups: (checked, too few to judge)."""
    reference = reference_of(attribute, table, cfg)
    if reference is None:
        wanted = cfg.references.get(attribute)
        reason = f"reference group {wanted!r} not present"
        return [], [{"attribute": attribute, "group": "(reference)", "reason": reason}]
    checked: list[dict[str, Any]] = []
    too_few: list[dict[str, Any]] = []
    y, ref_rows = arrays["y"], (groups == reference).to_numpy()
    for judge in cfg.judge:
        queue = arrays["sel1"] if judge.metric.endswith("_p1") else arrays["sel12"]
        for group in (g for g in table.index if g != reference):
            rows = (groups == group).to_numpy()
            counts = {
                "positives": int(y[rows].sum()),
                "reference_positives": int(y[ref_rows].sum()),
            }
            head = {"attribute": attribute, "group": str(group), "metric": judge.metric}
            if min(counts.values()) < cfg.min_positives:
                too_few.append(head | counts)
                continue
            cells = (_cells(y[rows], queue[rows]), _cells(y[ref_rows], queue[ref_rows]))
            compared = _compare(judge, str(group), reference, cells, table, cfg, rng)
            checked.append(head | compared | counts)
    return checked, too_few


def attribution(
    model: EscalationModel, matrix: np.ndarray, groups: pd.DataFrame, seed: int
) -> dict[str, Any]:
    """Share of total |SHAP| carried by platform- and location-related features."""
    rng = np.random.default_rng(seed)
    rows = np.sort(
        rng.choice(len(matrix), size=min(ATTRIBUTION_ROWS, len(matrix)), replace=False)
    )
    contributions = np.abs(
        model.scores(matrix[rows], explain=True).feature_contributions
    )
    who = np.array([f.name in WHO_REPORTED for f in FEATURE_SPEC])
    per_row_who, per_row_all = (
        contributions[:, who].sum(axis=1),
        contributions.sum(axis=1),
    )
    out: dict[str, Any] = {
        "features": sorted(WHO_REPORTED),
        "rows": len(rows),
        "overall_share": float(per_row_who.sum() / per_row_all.sum()),
    }
    sample = groups.iloc[rows]
    out["by_group"] = {
        attribute: {
            str(g): float(
                per_row_who[(sample[attribute] == g).to_numpy()].sum()
                / per_row_all[(sample[attribute] == g).to_numpy()].sum()
            )
            for g in sample[attribute].unique()
        }
        for attribute in groups.columns
    }
    return out


def run_audit(
    model: EscalationModel, history: History, rows: slice, cfg: AuditConfig
) -> dict[str, Any]:
    """The whole audit of ``model`` on ``rows`` of ``history`` as a JSON-ready dict."""
    flat = history.flat.iloc[rows]
    y = history.labels[rows]
    p = model.scores(history.matrix[rows]).probability
    thresholds = (model.policy.p1_threshold, model.policy.p2_threshold)
    truth = history.p_true[rows] if history.p_true is not None else None
    if truth is not None and not np.isfinite(truth).all():
        truth = None  # analysts' rows have no p_true: judge against labels only
    groups = group_columns(flat, cfg.top_esps, cfg.large_country_share)
    arrays = {"y": y, "sel1": p >= thresholds[0], "sel12": p >= thresholds[1]}
    rng = np.random.default_rng(cfg.seed)
    result: dict[str, Any] = {
        "rows": len(y),
        "positives": int(y.sum()),
        "thresholds": {"p1": thresholds[0], "p2": thresholds[1]},
        "has_truth": truth is not None,
        "config": cfg.model_dump(),
    }
    result |= {"flags": [], "checked": [], "too_few_positives": [], "groups": []}
    for attribute in ATTRIBUTES:
        labels = groups[attribute].reset_index(drop=True)
        table = group_table(y, p, thresholds, labels, truth, cfg.min_positives)
        checked, too_few = judge_attribute(attribute, table, arrays, labels, cfg, rng)
        result["flags"] += [c for c in checked if c["flagged"]]
        result["checked"] += checked
        result["too_few_positives"] += too_few
        for group, values in table.iterrows():
            record = {
                "attribute": attribute,
                "group": str(group),
                **{k: _clean(v) for k, v in values.items()},
            }
            record["reference"] = group == reference_of(attribute, table, cfg)
            result["groups"].append(record)
    result["calibration"] = calibration_summary(y, p, thresholds)
    result["attribution"] = attribution(
        model, history.matrix[rows], groups.reset_index(drop=True), cfg.seed
    )
    return result


def _clean(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None
