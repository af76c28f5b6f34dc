"""The reference profile: what the champion's own data looked like, kept with its run.

Written by ``tipscore train`` as a run artifact (``monitor/reference_profile.json``) so the
monitor can measure drift without the training history: per model feature, the bin edges
and the share of rows in each bin (quantile bins for numbers, one bin per category or
boolean value), the score (calibrated probability) in the same way, and the priority mix.
The features' linkage counts (``hist_*``) are left out: the service does not keep them
with a report (only its flat metadata), so they cannot be rebuilt for served reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from features.spec import FEATURE_SPEC, FeatureDef
from training.model import EscalationModel

PROFILE_ARTIFACT = "monitor/reference_profile.json"
PROFILE_FORMAT = "tipscore-reference-profile/1"
EXCLUDED_PREFIX = "hist_"
"""Linkage features: not rebuilt from a served report's flat metadata."""
PRIORITIES = (1, 2, 3)


def profiled_features() -> list[FeatureDef]:
    """The model features the profile describes (all but the linkage counts)."""
    return [f for f in FEATURE_SPEC if not f.name.startswith(EXCLUDED_PREFIX)]


def numeric_edges(values: np.ndarray, bins: int) -> list[float]:
    """Interior bin edges at the quantiles of ``values`` (ties merged: distinct edges)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return []
    inner = np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1])
    return [float(e) for e in np.unique(inner)]


def binned_shares(values: np.ndarray, edges: list[float]) -> list[float]:
    """Share of ``values`` in each bin ``(-inf, e0], (e0, e1], ..., (e_last, inf)``."""
    counts = np.bincount(
        np.searchsorted(np.asarray(edges, dtype=np.float64), values, side="left"),
        minlength=len(edges) + 1,
    )
    return _shares(counts)


def category_shares(codes: np.ndarray, categories: int) -> list[float]:
    """Share of each category code ``0 .. categories - 1``."""
    return _shares(np.bincount(codes.astype(np.int64), minlength=categories))


def _shares(counts: np.ndarray) -> list[float]:
    total = counts.sum()
    return [float(c / total) if total else 0.0 for c in counts]


def _categories(feature: FeatureDef) -> list[str] | None:
    if feature.kind == "category":
        return [str(c) for c in feature.categories]
    return ["false", "true"] if feature.kind == "bool" else None


def feature_profile(
    feature: FeatureDef, values: np.ndarray, bins: int
) -> dict[str, Any]:
    """One feature's reference bins and shares."""
    categories = _categories(feature)
    if categories is not None:
        return {
            "kind": "categorical",
            "categories": categories,
            "shares": category_shares(values, len(categories)),
        }
    numbers = values.astype(np.float64)
    edges = numeric_edges(numbers, bins)
    return {"kind": "numeric", "edges": edges, "shares": binned_shares(numbers, edges)}


def shares_like(entry: Mapping[str, Any], values: np.ndarray) -> list[float]:
    """Shares of ``values`` in a profile entry's own bins (for comparison with it)."""
    if entry["kind"] == "categorical":
        return category_shares(values, len(entry["categories"]))
    return binned_shares(values.astype(np.float64), list(entry["edges"]))


def priority_mix(priorities: np.ndarray) -> dict[str, float]:
    """Share of each suggested priority."""
    shares = _shares(np.array([(priorities == p).sum() for p in PRIORITIES]))
    return {str(p): s for p, s in zip(PRIORITIES, shares, strict=True)}


def reference_profile(
    columns: Mapping[str, np.ndarray],
    scores: tuple[np.ndarray, np.ndarray],
    bins: int = 10,
    windows: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The profile of feature ``columns`` and of ``scores`` (probabilities, priorities).

    ``windows`` says where the rows came from (``{"features": "train", ...}``).
    """
    probabilities, priorities = scores
    edges = numeric_edges(probabilities.astype(np.float64), bins)
    return {
        "format": PROFILE_FORMAT,
        "windows": dict(windows or {}),
        "rows": {
            "features": len(next(iter(columns.values()))),
            "scores": len(probabilities),
        },
        "bins": bins,
        "excluded": sorted(
            f.name for f in FEATURE_SPEC if f not in profiled_features()
        ),
        "features": {
            f.name: feature_profile(f, columns[f.name], bins)
            for f in profiled_features()
        },
        "score": {
            "kind": "numeric",
            "edges": edges,
            "shares": binned_shares(probabilities, edges),
        },
        "priority_mix": priority_mix(priorities),
    }


def matrix_columns(matrix: np.ndarray) -> dict[str, np.ndarray]:
    """The model matrix's columns by feature name (``features.extract.to_matrix`` order)."""
    return {f.name: matrix[:, i] for i, f in enumerate(FEATURE_SPEC)}


PROFILE_ROWS = 50_000
"""At most this many rows per window go into a profile (evenly spaced over the window)."""


def _spaced(rows: slice, limit: int) -> slice:
    """Evenly spaced rows of ``rows``, at most ``limit`` of them."""
    count = rows.stop - rows.start
    step = max(1, -(-count // limit))
    return slice(rows.start, rows.stop, step)


def run_profile(
    model: EscalationModel, matrix: np.ndarray, windows: Mapping[str, tuple[str, slice]]
) -> dict[str, Any] | None:
    """The reference profile of a training run (``train``, both engines).

    ``windows``: ``features`` and ``scores``, each a window name and its rows of
    ``matrix``. The features come from the training window (validation where the
    engine does not gather it: Dask); the score and priority mix from the test window,
    scored as the model scores unseen reports. None when a window is empty.
    """
    (feature_name, feature_rows), (score_name, score_rows) = (
        windows["features"],
        windows["scores"],
    )
    if feature_rows.stop <= feature_rows.start or score_rows.stop <= score_rows.start:
        return None
    features = matrix_columns(matrix[_spaced(feature_rows, PROFILE_ROWS)])
    scored = model.scores(matrix[_spaced(score_rows, PROFILE_ROWS)])
    return reference_profile(
        features,
        (scored.probability, scored.priority),
        windows={"features": feature_name, "scores": score_name},
    )
