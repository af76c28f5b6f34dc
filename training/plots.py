"""Figures logged with every run: PR curves, calibration curve, global SHAP importance.

matplotlib's non-interactive backend is chosen inside each function, never at import.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.metrics import precision_recall_curve


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
    labels: np.ndarray, probabilities: np.ndarray, bins: int = 10
) -> Any:
    """Mean predicted vs observed escalation rate over equal-mass bins (log-log axes)."""
    plt = pyplot()
    order = np.argsort(probabilities, kind="stable")
    chunks = np.array_split(order, bins)
    predicted = [float(probabilities[c].mean()) for c in chunks]
    observed = [float(labels[c].mean()) for c in chunks]
    fig, ax = plt.subplots(figsize=(5, 5))
    low = max(min(predicted + [o for o in observed if o > 0] + [1e-5]), 1e-6)
    ax.plot([low, 1], [low, 1], linestyle="--", color="grey", label="perfect")
    ax.plot(predicted, np.maximum(observed, low), marker="o", label="model")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="mean predicted",
        ylabel="observed rate",
        title="Calibration (test window)",
    )
    ax.legend()
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
