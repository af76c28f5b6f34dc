"""One monitoring pass over served reports and decisions: every table and every alert.

Pure: frames and the reference profile in, the ``monitor.json`` dict out (its keys are a
public format, docs/monitoring.md). Reading the store, writing files and logging to MLflow
are the callers' (``training.monitor.job``, ``tipscore.monitor_state``).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from training.monitor.completeness import FIELDS, completeness_alerts, scorecard
from training.monitor.config import MonitorConfig
from training.monitor.drift import drift_alerts, feature_drift, score_drift
from training.monitor.load import served_columns
from training.monitor.overrides import override_rates, platform_tiers
from training.monitor.periods import Periods, periods
from training.monitor.volume import daily_volume, volume_alerts, volume_table

FORMAT = "tipscore-monitor/1"


def window(
    served: pd.DataFrame, since: date | None, until: date | None, cfg: MonitorConfig
) -> Periods:
    """The monitored days: ``[since, until)``.

    By default up to the newest report's day, and back over the baseline and recent
    periods.
    """
    newest = max(served["day"]) if len(served) else date.today()
    end = until or newest + timedelta(days=1)
    start = since or end - timedelta(days=cfg.recent_days + cfg.baseline_days)
    return periods(start, end, cfg.recent_days, cfg.baseline_days)


def _in(frame: pd.DataFrame, span: Periods) -> pd.DataFrame:
    day = frame["day"]
    return frame[(day >= span.start) & (day < span.end)]


def drift_section(
    served: pd.DataFrame,
    profile: dict[str, Any] | None,
    model_version: str | None,
    cfg: MonitorConfig,
) -> dict[str, Any]:
    """Drift of features, score and priority mix; ``skipped`` with a reason if not judged."""
    if profile is None:
        return {"status": "skipped", "reason": "the champion has no reference profile"}
    if len(served) < cfg.drift.min_reports:
        return {
            "status": "skipped",
            "reason": f"{len(served)} served reports; drift needs "
            f"{cfg.drift.min_reports} (drift.min_reports)",
        }
    features = feature_drift(profile, served_columns(served), cfg.drift)
    by_model = (
        served[served["model_version"] == model_version] if model_version else served
    )
    scored = by_model if len(by_model) >= cfg.drift.min_reports else served
    scores = score_drift(
        profile,
        scored["probability"].to_numpy(dtype=np.float64),
        scored["priority"].to_numpy(),
        cfg.drift,
    )
    return {
        "status": "judged",
        "reports": len(served),
        "score_reports": len(scored),
        "excluded": profile.get("excluded", []),
        "reference_windows": profile.get("windows", {}),
        "features": features,
        **scores,
    }


def analyse(
    served: pd.DataFrame,
    decisions: pd.DataFrame,
    span: Periods,
    profile: dict[str, Any] | None,
    model: dict[str, Any] | None,
    cfg: MonitorConfig,
) -> dict[str, Any]:
    """Every table and alert of one monitoring pass (the ``monitor.json`` dict)."""
    served = _in(served, span)
    daily = daily_volume(served[["day", "platform"]], span.start, span.end)
    tiers = platform_tiers(daily, cfg.tiers)
    baseline = served[served["day"] < span.recent_start]
    recent = served[served["day"] >= span.recent_start]
    version = f"{model['name']}/{model['version']}" if model else None
    drift = drift_section(served, profile, version, cfg)
    alerts = [
        *volume_alerts(daily, span, cfg.volume),
        *completeness_alerts(served, span, cfg.completeness),
        *(
            drift_alerts(drift["features"], drift)
            if drift["status"] == "judged"
            else []
        ),
    ]
    return {
        "format": FORMAT,
        "periods": span.as_dict(),
        "model": model,
        "reports": len(served),
        "decisions": len(decisions),
        "alerts": alerts,
        "volume": {
            "days": [d.isoformat() for d in daily.index],
            "daily": {str(p): [int(v) for v in daily[p]] for p in daily.columns},
            "platforms": volume_table(daily, span),
        },
        "tiers": tiers,
        "completeness": {
            "fields": list(FIELDS),
            "scorecard": scorecard(served),
            "baseline": scorecard(baseline),
            "recent": scorecard(recent),
        },
        "drift": drift,
        "overrides": override_rates(decisions, tiers),
        "config": cfg.model_dump(),
    }
