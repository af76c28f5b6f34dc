"""Figures logged with every run: PR curves, calibration curve, global SHAP importance.

matplotlib's non-interactive backend is chosen inside each function, never at import.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.metrics import precision_recall_curve

from training.reliability import DEFAULT_BINS, reliability_bins


def pyplot() -> Any:
    """matplotlib.pyplot on the non-interactive Agg backend (chosen here, never at import)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def pr_curves(labels: np.ndarray, scores: Mapping[str, np.ndarray]) -> Any:
    """Precision-recall curves of the model, the oracle and the baselines on one window."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name, score in scores.items():
        precision, recall, _ = precision_recall_curve(labels, score)
        ax.step(recall, precision, where="post", label=name)
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall (test window)")
    ax.legend()
    fig.tight_layout()
    return fig


def calibration_curve(
    labels: np.ndarray,
    probabilities: np.ndarray,
    bins: int = 10,
    thresholds: tuple[float, float] | None = None,
) -> Any:
    """Mean predicted vs observed escalation rate (log-log axes).

    With ``thresholds`` (P1, P2): equal-mass bins within each priority region
    (``training.reliability``), so the P1 and P2 regions always have bins of their own;
    without, ``bins`` equal-mass bins over all reports.
    """
    if thresholds is None:
        thresholds = (math.inf, math.inf)
        per_region: tuple[int, int, int] = (bins, 0, 0)
    else:
        per_region = DEFAULT_BINS
    rows = reliability_bins(labels, probabilities, thresholds, per_region)
    return reliability_plot(rows, thresholds, "Calibration (test window)")


COLOURS = {"P3": "#1f5fa8", "P2": "#c77700", "P1": "#a31515"}


def _region_points(ax: Any, rows: list[dict[str, Any]], low: float) -> None:
    """One line of bins per priority region, with the observed rate's 95% interval."""
    for region, colour in COLOURS.items():
        mine = [r for r in rows if r["region"] == region]
        if not mine:
            continue
        y = [max(r["observed"], low) for r in mine]
        below = [
            max(0.0, yi - max(r["observed_low"], low))
            for yi, r in zip(y, mine, strict=True)
        ]
        above = [
            max(0.0, r["observed_high"] - yi) for yi, r in zip(y, mine, strict=True)
        ]
        ax.errorbar(
            [r["mean_predicted"] for r in mine],
            y,
            yerr=[below, above],
            fmt="o-",
            color=colour,
            capsize=3,
            label=f"{region} region ({sum(r['reports'] for r in mine):,} reports)",
        )


def reliability_plot(
    rows: list[dict[str, Any]], thresholds: tuple[float, float], title: str
) -> Any:
    """Reliability bins (``training.reliability``) with 95% intervals and the thresholds."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 5))
    predicted = [r["mean_predicted"] for r in rows]
    observed = [r["observed"] for r in rows]
    low = max(min([*predicted, *(o for o in observed if o > 0), 1e-5]), 1e-6) / 2
    high = min(1.0, max([*predicted, *observed, 0.01]) * 2)
    ax.plot([low, high], [low, high], linestyle="--", color="grey", label="perfect")
    _region_points(ax, rows, low)
    for name, value in (("P1", thresholds[0]), ("P2", thresholds[1])):
        if math.isfinite(value) and low < value < high:
            ax.axvline(value, color=COLOURS[name], linestyle=":", linewidth=1)
            ax.text(
                value,
                low * 1.2,
                f" {name} threshold",
                color=COLOURS[name],
                rotation=90,
                va="bottom",
                fontsize=8,
            )
    ax.set(
        xscale="log",
        yscale="log",
        xlim=(low, high),
        ylim=(low, 1.0),
        xlabel="mean predicted probability",
        ylabel="observed escalation rate (95% interval)",
        title=title,
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def shap_importance(
    contributions: np.ndarray, names: tuple[str, ...], top: int = 20
) -> Any:
    """Mean |TreeSHAP contribution| per feature (log-odds), the largest ``top``."""
    plt = pyplot()
    mean_abs = np.abs(contributions).mean(axis=0)
    order = np.argsort(mean_abs)[::-1][:top][::-1]
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(order) + 1))
    ax.barh([names[i] for i in order], mean_abs[order])
    ax.set(
        xlabel="mean |SHAP| (log-odds)", title="Global feature importance (test window)"
    )
    fig.tight_layout()
    return fig
