"""Volume per platform per day, and the platforms whose recent volume jumped or collapsed.

Pure functions of a frame of served reports (``platform``, ``day``): each platform's recent
daily mean is set against its own baseline daily mean, so a platform that always sends
little is not flagged for being small, only for changing.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd

from training.monitor.config import VolumeConfig
from training.monitor.periods import Periods


def daily_volume(reports: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """Reports per day (rows, every day of ``[start, end)``) and platform (columns)."""
    days = [start + timedelta(days=i) for i in range((end - start).days)]
    if reports.empty:
        return pd.DataFrame(index=pd.Index(days, name="day"))
    counts = reports.groupby(["day", "platform"]).size().unstack(fill_value=0)
    counts = counts.reindex(days, fill_value=0)
    counts.index.name = "day"
    return counts.sort_index(axis=1).astype("int64")


def _mean(daily: pd.Series, first: date, stop: date) -> tuple[float, int]:
    """Daily mean and total of ``daily`` over ``[first, stop)``."""
    part = daily[(daily.index >= first) & (daily.index < stop)]
    return (float(part.mean()) if len(part) else 0.0), int(part.sum())


def volume_alerts(
    daily: pd.DataFrame, span: Periods, cfg: VolumeConfig
) -> list[dict[str, Any]]:
    """Platforms whose recent daily mean / baseline daily mean is a jump or a collapse.

    Platforms with fewer than ``min_baseline_reports`` in the baseline are not judged.
    """
    alerts = []
    for platform in daily.columns:
        base, base_total = _mean(
            daily[platform], span.baseline_start, span.recent_start
        )
        recent, _ = _mean(daily[platform], span.recent_start, span.end)
        if base_total < cfg.min_baseline_reports or base <= 0:
            continue
        ratio = recent / base
        direction = (
            "jump"
            if ratio >= cfg.jump_ratio
            else "collapse"
            if ratio <= cfg.collapse_ratio
            else None
        )
        if direction is None:
            continue
        alerts.append(
            {
                "kind": "volume",
                "platform": str(platform),
                "direction": direction,
                "recent_per_day": round(recent, 3),
                "baseline_per_day": round(base, 3),
                "ratio": round(ratio, 3),
                "message": f"{platform}: volume {direction} ({base:.1f} → "
                f"{recent:.1f} reports/day, ×{ratio:.2f})",
            }
        )
    return alerts


def volume_table(daily: pd.DataFrame, span: Periods) -> list[dict[str, Any]]:
    """Per platform: reports in the window, baseline and recent daily means, ratio."""
    rows = []
    for platform in daily.columns:
        base, _ = _mean(daily[platform], span.baseline_start, span.recent_start)
        recent, _ = _mean(daily[platform], span.recent_start, span.end)
        rows.append(
            {
                "platform": str(platform),
                "reports": int(daily[platform].sum()),
                "per_day": round(float(daily[platform].mean()), 3),
                "baseline_per_day": round(base, 3),
                "recent_per_day": round(recent, 3),
                "ratio": round(recent / base, 3) if base > 0 else None,
            }
        )
    return rows
