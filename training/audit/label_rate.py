"""``label_rate``: are a group's escalations recorded at the rate its reports' truth implies?

Why: a model learns each group's level from the labels it is trained on. When a country's
escalations are recorded at 45% of their true rate (the synthetic history's
``[[label_bias]]``), every model trained on those labels neglects that country; the model's
own scores show it only as far as the group's few training escalations let it learn the
deficit, and at the real base rate that is inside what chance gives a fair model
(``mean_score``'s training chance; ``benchmarks/RESULTS.md``, "Backtest audit"). The labels
themselves carry the evidence: with ``p_true`` known, a group's recorded escalations ``O``
have expectation ``E = sum(p_true)`` over its reports when its labels are fair, whatever
the group's case mix or how much information its reports carry.

What is judged: the group's ``O / E`` over the same for every other audited row (the rest
of the history, not one reference group: labels are judged against the truth, and the
rest only takes out a recording rate shared by the whole history). Given the total
``n = O_g + O_rest``, ``O_g`` is binomial with ``pi = R E_g / (R E_g + E_rest)``, ``R`` the
ratio; the exact (Clopper-Pearson) interval of ``pi`` maps to ``R``'s. With
``simultaneous = true`` the intervals are Bonferroni-simultaneous over every
``label_rate`` comparison of the audit. A group is flagged when ``R`` is beyond the judge's
bound and its interval excludes 1. A group (or the rest) with fewer than ``min_expected``
expected escalations is too small to judge.

A flag is about the **labels**: the history under-records (or over-records) the group's
escalations, and any model trained on it learns that. It needs ``p_true``, so it judges
synthetic histories only; on a real history the same question is asked of blind review's
decisions (docs/bias-audit.md, "Label rate").
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.stats import beta

from training.audit.config import AuditConfig, Judge
from training.audit.groups import ATTRIBUTES

LABEL_RATE = "label_rate"
REST = "(every other row)"
"""What each group's label rate is compared with."""


def without_truth(cfg: AuditConfig) -> list[dict[str, Any]]:
    """The one row that says ``label_rate`` could not judge (no ``p_true``), if judged."""
    if not any(j.metric == LABEL_RATE for j in cfg.judge):
        return []
    reason = (
        "label_rate needs p_true (a synthetic history); on a real history the labels "
        "are checked by a blind second review (docs/bias-audit.md, 'Label rate')"
    )
    return [
        {"attribute": "(all)", "group": "(all)", "metric": LABEL_RATE, "reason": reason}
    ]


def label_rate_family(groups: pd.DataFrame, cfg: AuditConfig) -> int:
    """``label_rate`` comparisons the audit makes: every group of every attribute, per judge.

    Counted before judging (too-small groups included), so the simultaneous intervals do
    not depend on which groups turned out large enough.
    """
    judges = sum(j.metric == LABEL_RATE for j in cfg.judge)
    every = sum(int(groups[a].nunique()) for a in ATTRIBUTES)
    return max(judges * every, 1)


def level(cfg: AuditConfig, family: int) -> float:
    """Each interval's confidence: simultaneous over ``family`` comparisons (Bonferroni)."""
    if not cfg.simultaneous or family <= 1:
        return cfg.confidence
    return 1 - (1 - cfg.confidence) / family


def rate_ratio(
    counts: tuple[float, float], expected: tuple[float, float], confidence: float
) -> tuple[float, float, float]:
    """``R = (O_g/E_g) / (O_r/E_r)`` and its exact interval (NaN: undefined).

    ``counts``: recorded escalations of the group and of the rest; ``expected``: their
    summed ``p_true``. Conditional on ``O_g + O_r``, ``O_g`` is binomial; the
    Clopper-Pearson interval of its share maps to ``R`` by ``pi / (1 - pi) * E_r / E_g``.
    """
    (group, rest), (e_group, e_rest) = counts, expected
    if group + rest == 0 or e_group <= 0 or e_rest <= 0:
        return math.nan, math.nan, math.nan
    alpha = 1 - confidence
    low = beta.ppf(alpha / 2, group, rest + 1) if group > 0 else 0.0
    high = beta.ppf(1 - alpha / 2, group + 1, rest) if rest > 0 else 1.0
    scale = e_rest / e_group

    def odds(share: float) -> float:
        return math.inf if share >= 1 else share / (1 - share) * scale

    point = math.inf if rest == 0 else group / rest * scale
    return point, odds(float(low)), odds(float(high))


def detectable(
    judge: Judge,
    expected: float,
    rest: tuple[int, float],
    cfg: AuditConfig,
    confidence: float,
) -> float:
    """The ratio nearest 1 this group could be flagged at, from the exact interval.

    ``rest``: the other rows' recorded escalations and their summed ``p_true``. Under a
    ratio ``R`` the group records about ``R * E_g`` times the rest's recording rate,
    fewer (more, above parity) by ``z_power * sqrt(count)`` at the configured power; the
    detectable ratio is the ``R`` at which that count's exact interval just touches 1.
    Never nearer 1 than the judge's bound; NaN when even no recorded escalation (or no
    finite excess) could be flagged.
    """
    o_rest, e_rest = rest
    if expected <= 0 or o_rest <= 0 or e_rest <= 0:
        return math.nan
    rate = o_rest / e_rest
    power = NormalDist().inv_cdf(cfg.detect_power)  # 0 at power 0.5
    bound = judge.min_ratio
    below = bound is not None

    def gap(r: float) -> float:
        mean = r * rate * expected
        spread = power * math.sqrt(mean)
        count = max(mean - spread, 0.0) if below else mean + spread
        _, low, high = rate_ratio((count, o_rest), (expected, e_rest), confidence)
        return (high if below else low) - 1.0

    if bound is not None:
        if gap(1e-9) >= 0:
            return math.nan
        return min(float(brentq(gap, 1e-9, 1.0)), bound)
    top = 2.0
    while gap(top) <= 0 and top < 1e6:
        top *= 2
    found = float(brentq(gap, 1.0, top)) if gap(top) > 0 else math.nan
    return max(found, judge.max_ratio) if judge.max_ratio else found


def _beyond(judge: Judge, value: float) -> bool:
    return (judge.min_ratio is not None and value < judge.min_ratio) or (
        judge.max_ratio is not None and value > judge.max_ratio
    )


def judge_groups(
    judge: Judge,
    attribute: str,
    groups: pd.Series,
    order: list[str],
    arrays: dict[str, np.ndarray],
    cfg: AuditConfig,
    family: int = 1,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every group of ``attribute`` judged on ``label_rate``: (checked, too small).

    ``arrays``: ``y`` and, when the history has it, ``truth`` (each row's ``p_true``).
    ``family``: the audit's ``label_rate`` comparisons in all (``level``).
    """
    head = {"attribute": attribute, "metric": LABEL_RATE}
    if "truth" not in arrays:
        return [], []  # said once per audit: ``without_truth``
    known = np.isfinite(arrays["truth"])  # rows an analyst added carry no p_true
    y, truth = arrays["y"][known], arrays["truth"][known]
    labels = groups.to_numpy()[known]
    total_o, total_e = int(y.sum()), float(truth.sum())
    confidence = level(cfg, family)
    checked, too_few = [], []
    for group in order:
        rows = labels == group
        o_group, e_group = int(y[rows].sum()), float(truth[rows].sum())
        o_rest, e_rest = total_o - o_group, total_e - e_group
        entry = head | {
            "group": str(group),
            "positives": o_group,
            "reference_positives": o_rest,
            "expected": round(e_group, 1),
            "reference_expected": round(e_rest, 1),
            "detectable_ratio": detectable(
                judge, e_group, (o_rest, e_rest), cfg, confidence
            ),
        }
        if min(e_group, e_rest) < cfg.min_expected:
            too_few.append(entry)
            continue
        ratio, low, high = rate_ratio((o_group, o_rest), (e_group, e_rest), confidence)
        defined = all(math.isfinite(v) for v in (ratio, low)) and not math.isnan(high)
        side = (high < 1.0) if ratio < 1.0 else (low > 1.0)
        disparity = bool(defined and _beyond(judge, ratio) and side)
        checked.append(
            entry
            | {
                "value": o_group / e_group,
                "reference_value": o_rest / e_rest if e_rest > 0 else math.nan,
                "ratio": ratio,
                "ci_low": low,
                "ci_high": high,
                "confidence": confidence,
                "reference": REST,
                "min_ratio": judge.min_ratio,
                "max_ratio": judge.max_ratio,
                "judged_on": "labels",
                "defined": defined,
                "disparity": disparity,
                "flagged": disparity,
            }
        )
    return checked, too_few
