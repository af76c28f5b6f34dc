"""Drift of served reports against the champion's reference profile (``profile``).

The measure is the population stability index, ``PSI = Σ (a − e) · ln(a / e)`` over the
profile's bins (``e``: reference share, ``a``: served share), computed here rather than
with a drift library: the reference is a profile of bins and shares logged at training
time, not the training rows such libraries want, and the one library that installs with
this stack (Evidently) brings some 25 further packages, a web framework and usage
telemetry among them, for a formula of a few lines (docs/monitoring.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from training.monitor.config import DriftConfig
from training.monitor.profile import priority_mix, shares_like

FLOOR = 1e-4
"""Empty bins count as this share, so one empty bin does not make the index infinite."""


def psi(expected: list[float], actual: list[float], floor: float = FLOOR) -> float:
    """Population stability index of ``actual`` shares against ``expected`` shares."""
    if len(expected) != len(actual):
        raise ValueError(f"{len(expected)} reference bins but {len(actual)} served")
    e = np.clip(np.asarray(expected, dtype=np.float64), floor, None)
    a = np.clip(np.asarray(actual, dtype=np.float64), floor, None)
    return float(np.sum((a - e) * np.log(a / e)))


def band(value: float, cfg: DriftConfig) -> str:
    """``alert`` (major shift), ``warn`` (moderate) or ``ok``."""
    if value >= cfg.alert_psi:
        return "alert"
    return "warn" if value >= cfg.warn_psi else "ok"


def _row(
    name: str, entry: Mapping[str, Any], values: np.ndarray, cfg: DriftConfig
) -> dict[str, Any]:
    served = shares_like(entry, values)
    value = psi(list(entry["shares"]), served)
    return {
        "feature": name,
        "psi": round(value, 4),
        "status": band(value, cfg),
        "reference": [round(s, 4) for s in entry["shares"]],
        "served": [round(s, 4) for s in served],
    }


def feature_drift(
    profile: Mapping[str, Any], columns: Mapping[str, np.ndarray], cfg: DriftConfig
) -> list[dict[str, Any]]:
    """PSI of every profiled feature, strongest first."""
    rows = [
        _row(name, entry, columns[name], cfg)
        for name, entry in profile["features"].items()
        if name in columns
    ]
    return sorted(rows, key=lambda r: -r["psi"])


def score_drift(
    profile: Mapping[str, Any],
    probabilities: np.ndarray,
    priorities: np.ndarray,
    cfg: DriftConfig,
) -> dict[str, Any]:
    """PSI of the score and of the priority mix against the profile's."""
    score = _row("score", profile["score"], probabilities, cfg)
    expected = profile["priority_mix"]
    served = priority_mix(priorities)
    value = psi(
        [expected[k] for k in sorted(expected)], [served[k] for k in sorted(expected)]
    )
    return {
        "score": score,
        "priority_mix": {
            "psi": round(value, 4),
            "status": band(value, cfg),
            "reference": expected,
            "served": {k: round(v, 4) for k, v in served.items()},
        },
    }


def drift_alerts(
    features: list[dict[str, Any]], scores: dict[str, Any]
) -> list[dict[str, Any]]:
    """An alert per feature, and for the score and the priority mix, in the ``alert`` band."""
    alerts = [
        {
            "kind": "drift",
            "feature": r["feature"],
            "psi": r["psi"],
            "message": f"feature {r['feature']}: PSI {r['psi']:.3f}",
        }
        for r in features
        if r["status"] == "alert"
    ]
    for name in ("score", "priority_mix"):
        if scores[name]["status"] == "alert":
            alerts.append(
                {
                    "kind": f"{name}_drift",
                    "feature": name,
                    "psi": scores[name]["psi"],
                    "message": f"{name.replace('_', ' ')}: PSI {scores[name]['psi']:.3f}",
                }
            )
    return alerts
