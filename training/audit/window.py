"""Assembling an audit: every attribute's groups, metrics and judged disparities.

``audit_frame`` judges any audited rows given their labels, the model's probabilities and
queues, and the comparators' queues: one window of a history (``run_audit``, which also
trains the reference model and explains the model), or pooled out-of-time predictions
(``training.audit.predictions``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from features.spec import FEATURE_SPEC
from training.audit.config import AuditConfig
from training.audit.disparity import (
    ATTRIBUTION_ROWS,
    WHO_REPORTED,
    _clean,
    judge_attribute,
    reference_of,
)
from training.audit.groups import (
    ATTRIBUTES,
    attribute_columns,
    base_labels,
    source_values,
)
from training.audit.label_rate import LABEL_RATE, label_rate_family, without_truth
from training.audit.mean_score import MEAN_SCORE, buckets
from training.audit.metrics import group_table
from training.audit.pooling import pool_groups
from training.audit.stats import divide
from training.data import History
from training.model import EscalationModel
from training.reliability import calibration_summary


@dataclass
class Audited:
    """The audited rows: labels, probabilities, queues and group sources, row-aligned."""

    y: np.ndarray
    p: np.ndarray
    sel1: np.ndarray
    sel12: np.ndarray
    base: pd.DataFrame
    """``PREDICTION_GROUP_COLUMNS`` of each row (``groups.base_labels``)."""
    thresholds: tuple[float, float]
    truth: np.ndarray | None = None
    comparators: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    """Name → (P1 queue, P1+P2 queue) of a comparator on the same rows."""
    comparator_scores: dict[str, np.ndarray] = field(default_factory=dict)
    """Name → a comparator's probability per row (``p_true``, the reference model's),
    for ``mean_score``."""
    training: pd.DataFrame | None = None
    """The model's training rows when known: ``base_labels`` and ``expected`` (each row's
    ``p_true``, or its label without it), for ``mean_score``'s training chance."""
    fold_training: dict[str, dict[str, dict[str, float]]] | None = None
    """Pooled predictions: each fold's expected training escalations per group source
    value (``{period: {column: {value: expected}}}``, a backtest's
    ``training_groups.json``), with ``periods`` the fold of each row."""
    periods: np.ndarray | None = None


def oracle_queues(
    truth: np.ndarray, thresholds: tuple[np.ndarray, np.ndarray] | tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """The oracle's queues: ``p_true`` at the model's own thresholds (per row or one)."""
    return truth >= thresholds[0], truth >= thresholds[1]


def labelled(rows: Audited, cfg: AuditConfig) -> pd.DataFrame:
    """Every row's group per attribute, pooled as configured (index 0..n-1)."""
    groups = attribute_columns(rows.base, cfg.top_esps, cfg.large_country_share)
    return pool_groups(groups, rows.base, rows.y, cfg).reset_index(drop=True)


def audit_frame(rows: Audited, cfg: AuditConfig) -> dict[str, Any]:
    """The judged disparities and per-group metrics of ``rows``, JSON-ready."""
    groups = labelled(rows, cfg)
    arrays = {"y": rows.y, "sel1": rows.sel1, "sel12": rows.sel12}
    for name, (first, both) in rows.comparators.items():
        if name in cfg.compare_with:
            arrays |= {f"{name}_sel1": first, f"{name}_sel12": both}
    rng = np.random.default_rng(cfg.seed)
    arrays |= {"p": rows.p, "bucket": buckets(len(rows.y), cfg.seed)}
    for name, scores in rows.comparator_scores.items():
        if name in cfg.compare_with:
            arrays[f"{name}_p"] = scores
    if rows.truth is not None:
        arrays["truth"] = rows.truth
    family = mean_score_family(groups, cfg)
    label_family = label_rate_family(groups, cfg)
    judged = cfg.training_chance and any(j.metric == MEAN_SCORE for j in cfg.judge)
    result: dict[str, Any] = {
        "rows": len(rows.y),
        "positives": int(rows.y.sum()),
        "thresholds": {"p1": rows.thresholds[0], "p2": rows.thresholds[1]},
        "has_truth": rows.truth is not None,
        "compared_with": sorted(n for n in rows.comparators if n in cfg.compare_with),
        "config": cfg.model_dump(),
    }
    result |= {"flags": [], "checked": [], "too_few_positives": [], "groups": []}
    for attribute in ATTRIBUTES:
        labels = groups[attribute]
        table = group_table(
            rows.y,
            rows.p,
            rows.thresholds,
            labels,
            rows.truth,
            cfg.min_positives,
            (rows.sel1, rows.sel12),
        )
        trained = training_expected(rows, groups, attribute) if judged else None
        checked, too_few = judge_attribute(
            attribute, table, arrays, labels, cfg, rng, family, trained, label_family
        )
        result["flags"] += [c for c in checked if c["flagged"]]
        result["checked"] += checked
        result["too_few_positives"] += too_few
        reference = reference_of(attribute, table, cfg)
        for group, values in table.iterrows():
            record: dict[str, Any] = {"attribute": attribute, "group": str(group)}
            record |= {str(k): _clean(v) for k, v in values.items()}
            record["reference"] = group == reference
            result["groups"].append(record)
    result["calibration"] = calibration_summary(rows.y, rows.p, rows.thresholds)
    result["groups_pooled"] = dict(cfg.pool)
    result["mean_score_family"] = family
    if rows.truth is None:
        result["too_few_positives"] += without_truth(cfg)
    elif any(j.metric == LABEL_RATE for j in cfg.judge):
        result["label_rate_family"] = label_family
    known = rows.training is not None or rows.fold_training is not None
    result["training_chance"] = bool(known and judged)
    return result


SOURCES = {"esp": "esp_name", "esp_size_tier": "esp_name", "jurisdiction": "country"}
"""The ``base_labels`` column each attribute's groups are a function of (else its own)."""


def training_expected(
    rows: Audited, groups: pd.DataFrame, attribute: str
) -> dict[str, float] | None:
    """Each group's expected escalations in the model's training rows (None: unknown).

    Training rows are put in the audited rows' groups by the same value → group map (top
    platforms, named countries and pooling were decided on the audited rows); a value
    the audited rows never show belongs to no group. Pooled folds: each fold's model has
    its own training count; the group's is the one whose ``1/E`` is the mean of the
    folds' ``1/E_f`` weighted by the group's audited rows in each fold, over the folds
    whose training held the group (a model that never saw it learnt no level of it: 0
    when none did, and no chance is counted).
    """
    if rows.training is None and (rows.fold_training is None or rows.periods is None):
        return None
    source = SOURCES.get(attribute, attribute)
    values = source_values(rows.base[source])
    mapping = (
        pd.DataFrame({"v": values, "g": groups[attribute].to_numpy()})
        .drop_duplicates("v")
        .set_index("v")["g"]
    )
    if rows.training is not None:
        where = pd.Series(source_values(rows.training[source])).map(mapping)
        sums = rows.training["expected"].groupby(where.to_numpy()).sum()
        return {str(g): float(v) for g, v in sums.items()}
    folds, periods = rows.fold_training, rows.periods
    if (
        folds is None or periods is None
    ):  # narrowed for the type checker (checked above)
        return None
    labels = groups[attribute].to_numpy()
    inverse: dict[str, tuple[float, float]] = {}
    for period in np.unique(periods):
        sums = pd.Series(folds.get(str(period), {}).get(source, {}), dtype=float)
        per_group = sums.groupby(sums.index.map(mapping).to_numpy()).sum()
        here = labels[periods == period]
        for group, count in zip(*np.unique(here, return_counts=True), strict=True):
            e = float(per_group.get(group, 0.0))
            if e > 0:  # a fold whose model never saw the group adds no chance
                weight, total = inverse.get(str(group), (0.0, 0.0))
                inverse[str(group)] = (weight + count, total + count / e)
    return {g: (w / t if t > 0 else 0.0) for g, (w, t) in inverse.items()}


def mean_score_family(groups: pd.DataFrame, cfg: AuditConfig) -> int:
    """``mean_score`` comparisons the audit makes: every group but each reference, per judge.

    Counted before judging (too-small groups included), so the simultaneous intervals do
    not depend on which groups turned out large enough.
    """
    judges = sum(j.metric == MEAN_SCORE for j in cfg.judge)
    others = sum(max(int(groups[a].nunique()) - 1, 0) for a in ATTRIBUTES)
    return max(judges * others, 1)


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
    sample = groups.iloc[rows]

    def share(mask: np.ndarray) -> float | None:
        return _clean(divide(per_row_who[mask].sum(), per_row_all[mask].sum()))

    return {
        "features": sorted(WHO_REPORTED),
        "rows": len(rows),
        "overall_share": share(np.ones(len(rows), bool)) or 0.0,
        "by_group": {
            attribute: {
                str(g): share((sample[attribute] == g).to_numpy())
                for g in sample[attribute].unique()
            }
            for attribute in groups.columns
        },
    }


def _training(history: History, rows: slice) -> pd.DataFrame:
    """The training rows' group sources and expected escalations (``Audited.training``)."""
    frame = base_labels(history.flat.iloc[rows]).reset_index(drop=True)
    truth = history.p_true[rows] if history.p_true is not None else None
    known = truth is not None and bool(np.isfinite(truth).all())
    frame["expected"] = truth if known else history.labels[rows].astype(float)
    return frame


def run_audit(
    model: EscalationModel,
    history: History,
    rows: slice,
    cfg: AuditConfig,
    reference: EscalationModel | None = None,
    training_rows: slice | None = None,
) -> dict[str, Any]:
    """The whole audit of ``model`` on ``rows`` of ``history`` as a JSON-ready dict.

    ``reference`` is the model trained without the platform and location features
    (``training.audit.reference``); without it the reference-model comparison is left out.
    ``training_rows``: the rows the model was trained on (``mean_score``'s training
    chance: each group's expected escalations there, from ``p_true`` or the labels).
    """
    from training.audit.reference import hidden

    flat = history.flat.iloc[rows]
    y = history.labels[rows]
    p = model.scores(history.matrix[rows]).probability
    thresholds = (model.policy.p1_threshold, model.policy.p2_threshold)
    truth = history.p_true[rows] if history.p_true is not None else None
    if truth is not None and not np.isfinite(truth).all():
        truth = None  # analysts' rows have no p_true: judge against labels only
    audited = Audited(
        y,
        p,
        p >= thresholds[0],
        p >= thresholds[1],
        base_labels(flat),
        thresholds,
        truth,
    )
    judged = any(j.metric == MEAN_SCORE for j in cfg.judge)
    if training_rows is not None and judged and cfg.training_chance:
        audited.training = _training(history, training_rows)
    if truth is not None:
        audited.comparators["oracle"] = oracle_queues(truth, thresholds)
        audited.comparator_scores["oracle"] = truth
    if reference is not None:
        theirs = reference.scores(hidden(history.matrix[rows]))
        blind = theirs.priority
        audited.comparators["reference_model"] = (blind <= 1, blind <= 2)
        audited.comparator_scores["reference_model"] = theirs.probability
    result = audit_frame(audited, cfg)
    result["attribution"] = attribution(
        model, history.matrix[rows], labelled(audited, cfg), cfg.seed
    )
    return result
