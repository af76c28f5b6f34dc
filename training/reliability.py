"""Reliability bins that cover the regions where decisions are made: pure, no I/O.

Why not plain equal-mass bins: with ~0.2% positives, ten equal-mass bins put the whole
top decile (every P1 and P2 report, and many P3) into one bin whose mean predicted
probability is a few percent, so the priority-1 region is never seen on the plot. Here
the reports are first cut at the priority thresholds (below P2, P2, P1) and each region
gets equal-mass bins of its own, so the P1 and P2 regions always have bins when they
hold reports. Each bin carries a Wilson interval for its observed rate, because bins in
the top regions hold few reports.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from training.metrics import ece, ece_above

REGIONS = ("P3", "P2", "P1")
"""Region names, lowest first: below the P2 threshold, between P2 and P1, at or above P1."""
DEFAULT_BINS = (8, 4, 4)
"""Equal-mass bins per region (P3, P2, P1)."""
Z = 1.959963984540054  # two-sided 95%


def wilson(hits: int, total: int) -> tuple[float, float]:
    """95% Wilson score interval of a rate ``hits / total`` (``(nan, nan)`` when empty)."""
    if total <= 0:
        return math.nan, math.nan
    rate = hits / total
    denominator = 1 + Z**2 / total
    centre = (rate + Z**2 / (2 * total)) / denominator
    half = Z * math.sqrt(rate * (1 - rate) / total + Z**2 / (4 * total**2))
    half /= denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def _region_index(p: np.ndarray, thresholds: tuple[float, float]) -> np.ndarray:
    """0 for below P2, 1 for P2, 2 for P1 (a P1 threshold below P2's counts as P1)."""
    p1, p2 = thresholds
    region: np.ndarray = np.where(p >= p1, 2, np.where(p >= p2, 1, 0))
    return region


def _bin_row(region: str, y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    hits, total = int(y.sum()), len(y)
    low, high = wilson(hits, total)
    return {
        "region": region,
        "lower": float(p.min()),
        "upper": float(p.max()),
        "mean_predicted": float(p.mean()),
        "observed": hits / total,
        "observed_low": low,
        "observed_high": high,
        "reports": total,
        "escalations": hits,
    }


def reliability_bins(
    labels: np.ndarray,
    probabilities: np.ndarray,
    thresholds: tuple[float, float],
    bins: tuple[int, int, int] = DEFAULT_BINS,
) -> list[dict[str, Any]]:
    """Equal-mass bins within each priority region, lowest probability first.

    ``thresholds`` are (P1, P2). A region with fewer reports than bins gets one bin per
    report; an empty region (e.g. an infinite threshold) gets none.

    Raises:
        ValueError: labels and probabilities differ in shape.
    """
    y = np.asarray(labels, dtype=bool)
    p = np.asarray(probabilities, dtype=np.float64)
    if y.shape != p.shape:
        raise ValueError(f"labels and scores differ in shape: {y.shape} vs {p.shape}")
    region = _region_index(p, thresholds)
    rows: list[dict[str, Any]] = []
    for index, (name, count) in enumerate(zip(REGIONS, bins, strict=True)):
        members = np.flatnonzero(region == index)
        if not len(members):
            continue
        order = members[np.argsort(p[members], kind="stable")]
        for chunk in np.array_split(order, min(count, len(order))):
            rows.append(_bin_row(name, y[chunk], p[chunk]))
    return rows


def calibration_summary(
    labels: np.ndarray, probabilities: np.ndarray, thresholds: tuple[float, float]
) -> dict[str, Any]:
    """Overall ECE, ECE above the P2 threshold and the region bins, JSON-ready (no NaN)."""

    def clean(value: float) -> float | None:
        return value if math.isfinite(value) else None

    bins = [
        {k: clean(v) if isinstance(v, float) else v for k, v in row.items()}
        for row in reliability_bins(labels, probabilities, thresholds)
    ]
    return {
        "ece": clean(ece(labels, probabilities)),
        "ece_above_p2": clean(ece_above(labels, probabilities, thresholds[1])),
        "bins": bins,
    }
