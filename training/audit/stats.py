"""The audit's arithmetic: rates from confusion cells, ratios, bootstrap intervals, power.

Every division here is safe by construction (no ``errstate``, no warning filters): a rate
with an empty denominator is NaN (undefined), a ratio with a zero denominator is +inf when
its numerator is positive and NaN when it is zero. Quantiles of draws that contain +inf are
taken without interpolation, so an infinite bound stays +inf instead of becoming NaN.

Cells. A group's rows at one queue are four confusion cells ``(tp, fn, fp, tn)``. When the
model is compared with another ranking of the same rows (the reference model, the oracle),
each row falls in one of eight *joint* cells: label × model selects × comparator selects.
Resampling rows within a group is drawing these cells from a multinomial with the
observed shares, which is what the bootstrap does (fast at any size); drawing the joint
cells keeps the model and the comparator *paired* (the same resampled rows judge both).
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

GRID = np.geomspace(1e-4, 1.0, 4001)
"""Ratios searched for the detectable ratio below parity (log-spaced, 0.23% apart)."""


def cells(y: np.ndarray, selected: np.ndarray) -> np.ndarray:
    """``(tp, fn, fp, tn)`` of boolean labels and selections."""
    return np.array(
        [
            (y & selected).sum(),
            (y & ~selected).sum(),
            (~y & selected).sum(),
            (~y & ~selected).sum(),
        ]
    )


def joint_cells(y: np.ndarray, model: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Eight counts, label × model selects × comparator selects (1 before 0 in each)."""
    index = (~y).astype(int) * 4 + (~model).astype(int) * 2 + (~other).astype(int)
    counts: np.ndarray = np.bincount(index, minlength=8)
    return counts


def split_joint(joint: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The model's and the comparator's ``(tp, fn, fp, tn)`` from joint cells."""
    j = [joint[..., i] for i in range(8)]
    model = np.stack([j[0] + j[1], j[2] + j[3], j[4] + j[5], j[6] + j[7]], axis=-1)
    other = np.stack([j[0] + j[2], j[1] + j[3], j[4] + j[6], j[5] + j[7]], axis=-1)
    return model, other


def divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``a / b`` elementwise; NaN where ``b`` is 0 or either side is NaN (no warning)."""
    a, b = np.broadcast_arrays(
        np.asarray(numerator, float), np.asarray(denominator, float)
    )
    out = np.full(a.shape, math.nan)
    np.divide(a, b, out=out, where=np.isfinite(a) & np.isfinite(b) & (b != 0))
    return out


def ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Like ``divide``, but a positive number over 0 is +inf (a bound, not undefined)."""
    a, b = np.broadcast_arrays(
        np.asarray(numerator, float), np.asarray(denominator, float)
    )
    out = divide(a, b)
    out[(b == 0) & ((a > 0) | (a == math.inf))] = math.inf
    out[(a == math.inf) & np.isfinite(b) & (b > 0)] = math.inf
    out[np.isfinite(a) & (a >= 0) & (b == math.inf)] = 0.0
    return out


def metric_from_cells(metric: str, counts: np.ndarray) -> np.ndarray:
    """Recall, precision or false-positive rate from ``(..., 4)`` cells; NaN if undefined."""
    tp, fn, fp, tn = (counts[..., i].astype(float) for i in range(4))
    if metric.startswith("recall"):
        return divide(tp, tp + fn)
    if metric.startswith("precision"):
        return divide(tp, tp + fp)
    return divide(fp, fp + tn)


def denominator(metric: str, counts: np.ndarray) -> float:
    """How many rows the metric is a share of: positives, selected, or negatives."""
    tp, fn, fp, tn = (float(v) for v in counts)
    if metric.startswith("recall"):
        return tp + fn
    if metric.startswith("precision"):
        return tp + fp
    return fp + tn


def numerator(metric: str, counts: np.ndarray) -> float:
    """How many rows the metric counts: queued escalations, or queued non-escalations."""
    tp, _, fp, _ = (float(v) for v in counts)
    return fp if metric.startswith("fpr") else tp


def boundary_interval(
    metric: str, group: np.ndarray, reference: np.ndarray, confidence: float
) -> tuple[float, float] | None:
    """Katz's log interval of the ratio, with 0.5 added to each count, at a share of 0 or 1.

    Why: when a group's metric is 0 (none of its 31 escalations queued) every bootstrap
    resample is 0 too, and the percentile interval [0, 0] "excludes 1" whatever the
    counts; 0 of 31 against 3 of 150 is no evidence of a disparity (Fisher's p = 1). The
    bootstrap cannot see uncertainty at the boundary; this interval can. None when no
    share is at a boundary (or a denominator is 0).
    """
    a, n1 = numerator(metric, group), denominator(metric, group)
    b, n2 = numerator(metric, reference), denominator(metric, reference)
    if n1 == 0 or n2 == 0 or (0 < a < n1 and 0 < b < n2):
        return None
    a, n1, b, n2 = a + 0.5, n1 + 0.5, b + 0.5, n2 + 0.5
    log_r = math.log((a / n1) / (b / n2))
    se = math.sqrt(1 / a - 1 / n1 + 1 / b - 1 / n2)
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    return math.exp(log_r - z * se), math.exp(log_r + z * se)


def point_ratio(metric: str, group: np.ndarray, reference: np.ndarray) -> float:
    """The group's metric over the reference's; NaN (undefined) when the latter is 0."""
    ours = metric_from_cells(metric, group)
    theirs = metric_from_cells(metric, reference)
    return float(divide(ours, theirs))


def quantiles(draws: np.ndarray, confidence: float) -> tuple[float, float]:
    """Central interval of the defined draws; +inf kept as +inf; NaN when none defined."""
    values = draws[~np.isnan(draws)]
    if not len(values):
        return math.nan, math.nan
    tail = (1 - confidence) / 2
    if np.isinf(values).any():
        low, high = np.quantile(values, [tail, 1 - tail], method="inverted_cdf")
    else:
        low, high = np.quantile(values, [tail, 1 - tail])
    return float(low), float(high)


def draw(counts: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` bootstrap resamples of a group's cells (multinomial on the observed shares)."""
    total = counts.sum()
    if total == 0:
        return np.zeros((n, len(counts)), dtype=int)
    drawn: np.ndarray = rng.multinomial(total, counts / total, size=n)
    return drawn


def detectable_ratio(
    metric: str,
    group: np.ndarray,
    reference: np.ndarray,
    z: float,
    below: bool = True,
) -> float:
    """The ratio nearest parity whose interval would just exclude 1 (``z``: see ``z_value``).

    Delta method on the log ratio of two binomial shares: with the group's share
    ``r * p`` over ``n`` rows and the reference's ``p`` over ``m`` rows,
    ``se(log ratio)^2 = (1 - r p) / (n r p) + (1 - p) / (m p)``. Below parity the answer is
    the largest ``r < 1`` with ``log r + z se(r) <= 0`` (above parity: the smallest
    ``r > 1`` with ``log r - z se(r) >= 0``). NaN when no ratio is detectable (too few
    rows, or an undefined reference share). ``n``, ``m`` are the metric's denominators
    (positives for recall); ``p`` the reference's observed share.
    """
    p = float(metric_from_cells(metric, reference))
    n, m = denominator(metric, group), denominator(metric, reference)
    if not (n > 0 and m > 0 and 0 < p <= 1):
        return math.nan
    grid = GRID if below else 1 / GRID[::-1]
    share = grid * p
    valid = share <= 1
    se = np.sqrt(divide(1 - share[valid], n * share[valid]) + (1 - p) / (m * p))
    log_r = np.log(grid[valid])
    hits = (
        np.flatnonzero(log_r + z * se <= 0)
        if below
        else np.flatnonzero(log_r - z * se >= 0)
    )
    if not len(hits):
        return math.nan
    return float(grid[valid][hits[-1] if below else hits[0]])


def z_value(confidence: float, power: float) -> float:
    """Normal quantile for a two-sided interval at ``confidence``, plus one for ``power``.

    With ``power`` 0.5 this is the plain interval's ``z``: the detectable ratio is then the
    one whose expected interval just touches parity (detected about half the time).
    """
    normal = NormalDist()
    return normal.inv_cdf(1 - (1 - confidence) / 2) + normal.inv_cdf(power)
