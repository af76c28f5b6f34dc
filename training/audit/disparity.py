"""Judging disparities: each group's ratio to its reference group, against comparators.

A group is flagged only when (1) its ratio is beyond the configured bound and its bootstrap
interval excludes parity (``disparity``), and (2) the ratio *exceeds* what a comparator
that cannot be unfair to the group shows on the same rows: the reference model (trained
without the platform and location features) and, with ``p_true``, the oracle. The excess
is the ratio of the two ratios, with a paired bootstrap interval; it must exclude 1 on the
ratio's side, for every comparator whose excess is defined.
Groups (or references) with too few escalations are reported, never flagged, with the
ratio they could have detected.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from features.spec import FEATURE_SPEC
from training.audit import label_rate
from training.audit.config import COMPARATORS, AuditConfig, Judge
from training.audit.label_rate import LABEL_RATE
from training.audit.mean_score import MEAN_SCORE, judge_groups
from training.audit.stats import (
    boundary_interval,
    cells,
    detectable_ratio,
    draw,
    joint_cells,
    metric_from_cells,
    point_ratio,
    quantiles,
    ratio,
    split_joint,
    z_value,
)

ATTRIBUTION_ROWS = 20_000
WHO_REPORTED = frozenset(
    f.name for f in FEATURE_SPEC if f.group in ("platform", "location")
)
"""The features about who reported and from where: the attribution view's share, and what
the reference model is trained without."""


def _cells(y: np.ndarray, selected: np.ndarray) -> np.ndarray:
    return cells(y, selected)


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
    The ratio is NaN (undefined) when the reference's metric is 0; a bound is +inf when
    enough resamples give the reference a 0 under a positive group value. Where a share is
    0 or 1 the bootstrap cannot vary it, and the interval is widened to at least Katz's
    (``stats.boundary_interval``).
    """
    point = point_ratio(metric, group, reference)
    ours, theirs = (draw(c, cfg.bootstrap, rng) for c in (group, reference))
    ratios = ratio(metric_from_cells(metric, ours), metric_from_cells(metric, theirs))
    low, high = quantiles(ratios, cfg.confidence)
    wide = boundary_interval(metric, group, reference, cfg.confidence)
    if wide is not None and not (math.isnan(low) or math.isnan(high)):
        low, high = min(low, wide[0]), max(high, wide[1])  # never narrower than Katz's
    return point, low, high


def paired_excess(
    metric: str,
    group: np.ndarray,
    reference: np.ndarray,
    cfg: AuditConfig,
    rng: np.random.Generator,
) -> dict[str, float]:
    """A comparator's ratio and the model's excess over it, from joint cells (paired).

    ``group`` and ``reference`` are ``joint_cells`` (label × model × comparator). The
    excess is the model's ratio over the comparator's; each resample judges both on the
    same rows, so what they share (the case mix) cancels in the interval.
    """
    (g_model, g_other), (r_model, r_other) = split_joint(group), split_joint(reference)
    ours = point_ratio(metric, g_model, r_model)
    theirs = point_ratio(metric, g_other, r_other)
    drawn = [split_joint(draw(c, cfg.bootstrap, rng)) for c in (group, reference)]
    model_draws = ratio(
        metric_from_cells(metric, drawn[0][0]), metric_from_cells(metric, drawn[1][0])
    )
    other_draws = ratio(
        metric_from_cells(metric, drawn[0][1]), metric_from_cells(metric, drawn[1][1])
    )
    low, high = quantiles(other_draws, cfg.confidence)
    excess_low, excess_high = quantiles(ratio(model_draws, other_draws), cfg.confidence)
    excess = math.nan if not (theirs > 0) else ours / theirs
    return {
        "ratio": theirs,
        "ci_low": low,
        "ci_high": high,
        "excess": excess,
        "excess_ci_low": excess_low,
        "excess_ci_high": excess_high,
    }


def numbers(values: dict[str, Any]) -> dict[str, Any]:
    """JSON-ready: non-finite floats become null; ``infinite`` names the +inf ones."""
    out: dict[str, Any] = {}
    infinite = []
    for key, value in values.items():
        if isinstance(value, float | np.floating):
            if value == math.inf:
                infinite.append(key)
            out[key] = _clean(value)
        else:
            out[key] = value
    return out | {"infinite": infinite}


def reference_of(attribute: str, table: pd.DataFrame, cfg: AuditConfig) -> str | None:
    """The attribute's reference group (``largest``, or a named group if present)."""
    wanted = cfg.references.get(attribute, "largest")
    if wanted == "largest":
        return str(table["size"].idxmax())
    return wanted if wanted in table.index else None


def _beyond(judge: Judge, value: float) -> bool:
    return (judge.min_ratio is not None and value < judge.min_ratio) or (
        judge.max_ratio is not None and value > judge.max_ratio
    )


def _exceeds(model_ratio: float, comparison: dict[str, float]) -> bool | None:
    """Whether the excess interval excludes 1 on the model ratio's side (None: undefined).

    A comparator whose ratio is 0 (it queues none of the group's escalations either)
    shows the whole of a disparity below parity: the model's cannot exceed it, so False
    — the disparity is shared. Leaving such a comparator out (its excess, x / 0, has no
    value) flagged a group no model could recall, on a fair history (an independent
    generator's check).
    """
    if comparison["ratio"] == 0.0 and model_ratio < 1.0:
        return False
    low, high = comparison["excess_ci_low"], comparison["excess_ci_high"]
    if not math.isfinite(comparison["excess"]) or math.isnan(low) or math.isnan(high):
        return None
    return bool(high < 1.0) if model_ratio < 1.0 else bool(low > 1.0)


def _compare(
    judge: Judge,
    group: str,
    reference: str,
    cells_: tuple[np.ndarray, np.ndarray],
    table: pd.DataFrame,
    cfg: AuditConfig,
    rng: np.random.Generator,
    joint: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> dict[str, Any]:
    """One judged disparity: ratio, interval, comparators, and whether it is flagged."""
    point, low, high = ratio_interval(judge.metric, cells_[0], cells_[1], cfg, rng)
    defined = math.isfinite(point) and not math.isnan(low) and not math.isnan(high)
    # an undefined ratio (e.g. the reference's metric is 0) is shown, never flagged
    disparity = bool(defined and _beyond(judge, point) and (high < 1.0 or low > 1.0))
    comparisons = {}
    for name, (ours, theirs) in (joint or {}).items():
        found = paired_excess(judge.metric, ours, theirs, cfg, rng)
        comparisons[name] = numbers(found) | {"exceeds": _exceeds(point, found)}
    verdicts = [c["exceeds"] for c in comparisons.values() if c["exceeds"] is not None]
    row = {
        "group": group,
        "metric": judge.metric,
        "reference": reference,
        "value": float(table.loc[group, judge.metric]),
        "reference_value": float(table.loc[reference, judge.metric]),
        "ratio": point,
        "ci_low": low,
        "ci_high": high,
        "min_ratio": judge.min_ratio,
        "max_ratio": judge.max_ratio,
        "detectable_ratio": _detectable(judge, cells_, cfg),
    }
    return numbers(row) | {
        "defined": defined,
        "disparity": disparity,
        "comparisons": comparisons,
        "flagged": disparity and all(verdicts),
    }


def _detectable(
    judge: Judge, cells_: tuple[np.ndarray, np.ndarray], cfg: AuditConfig
) -> float:
    """The ratio this group could have been detected at (its side of parity)."""
    z = z_value(cfg.confidence, cfg.detect_power)
    below = judge.min_ratio is not None
    return detectable_ratio(judge.metric, cells_[0], cells_[1], z, below)


def _comparators(arrays: dict[str, np.ndarray], suffix: str) -> list[str]:
    return [name for name in COMPARATORS if f"{name}_sel{suffix}" in arrays]


def judge_attribute(
    attribute: str,
    table: pd.DataFrame,
    arrays: dict[str, np.ndarray],
    groups: pd.Series,
    cfg: AuditConfig,
    rng: np.random.Generator,
    family: int = 1,
    trained: dict[str, float] | None = None,
    label_family: int = 1,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every judged disparity of an attribute's groups: (checked, too few to judge).

    ``family``: the audit's ``mean_score`` comparisons in all (its intervals are
    simultaneous over them when the config says so); ``trained``: each group's expected
    escalations in the model's training rows, when known (``mean_score``);
    ``label_family``: the audit's ``label_rate`` comparisons in all.

    ``arrays`` holds ``y``, the model's queues ``sel1``/``sel12`` and, for each comparator
    available, its queues ``{name}_sel1``/``{name}_sel12`` on the same rows; for
    ``mean_score`` also the model's probability ``p``, the comparators' ``{name}_p`` and
    the rows' bootstrap ``bucket`` (``training.audit.mean_score``); for ``label_rate``
    each row's ``truth`` (``p_true``) when known (``training.audit.label_rate``).
    """
    checked: list[dict[str, Any]] = []
    too_few: list[dict[str, Any]] = []
    order = [str(g) for g in table.index]
    reference = reference_of(attribute, table, cfg)
    if reference is None and any(j.metric != LABEL_RATE for j in cfg.judge):
        wanted = cfg.references.get(attribute)
        reason = f"reference group {wanted!r} not present"
        too_few.append(
            {"attribute": attribute, "group": "(reference)", "reason": reason}
        )
    y, ref_rows = arrays["y"], (groups == reference).to_numpy()
    for judge in cfg.judge:
        if judge.metric == LABEL_RATE:
            # every group against the rest of the rows: no reference group needed
            found, small = label_rate.judge_groups(
                judge, attribute, groups, order, arrays, cfg, label_family
            )
            checked += [numbers(row) for row in found]
            too_few += [numbers(row) for row in small]
            continue
        if reference is None:
            continue
        if judge.metric == MEAN_SCORE:
            found, small = judge_groups(
                judge,
                attribute,
                groups,
                order,
                reference,
                arrays,
                cfg,
                family,
                trained,
            )
            checked += [_cleaned(row) for row in found]
            too_few += [numbers(row) for row in small]
            continue
        suffix = "1" if judge.metric.endswith("_p1") else "12"
        queue = arrays[f"sel{suffix}"]
        for group in (g for g in table.index if g != reference):
            rows = (groups == group).to_numpy()
            counts = {
                "positives": int(y[rows].sum()),
                "reference_positives": int(y[ref_rows].sum()),
            }
            head = {"attribute": attribute, "group": str(group), "metric": judge.metric}
            pair = (_cells(y[rows], queue[rows]), _cells(y[ref_rows], queue[ref_rows]))
            if min(counts.values()) < cfg.min_positives:
                detectable = _clean(_detectable(judge, pair, cfg))
                too_few.append(head | counts | {"detectable_ratio": detectable})
                continue
            joint = {
                name: tuple(
                    joint_cells(y[r], queue[r], arrays[f"{name}_sel{suffix}"][r])
                    for r in (rows, ref_rows)
                )
                for name in _comparators(arrays, suffix)
            }
            compared = _compare(
                judge,
                str(group),
                reference,
                pair,
                table,
                cfg,
                rng,
                joint,  # type: ignore[arg-type]
            )
            checked.append(head | compared | counts)
    return checked, too_few


def _cleaned(row: dict[str, Any]) -> dict[str, Any]:
    """A ``mean_score`` row JSON-ready, its comparisons too (as ``_compare``'s rows)."""
    comparisons = {
        name: numbers({k: v for k, v in c.items() if k != "exceeds"})
        | {"exceeds": c["exceeds"]}
        for name, c in row["comparisons"].items()
    }
    flat = {k: v for k, v in row.items() if k != "comparisons"}
    return numbers(flat) | {"comparisons": comparisons}


def _clean(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None
