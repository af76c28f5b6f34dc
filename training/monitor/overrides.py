"""Platform size tiers and analysts' override rates over time.

Tiers group platforms by volume (mean reports per day over the monitored window, at or
above the configured thresholds), so the override table and the service's ``/metrics``
stay small however many platforms there are. Public reports (no platform) are their own
tier.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from training.monitor.config import TierConfig

PUBLIC = "(public)"
TIERS = ("large", "medium", "small", "public")


def size_tier(per_day: float, cfg: TierConfig) -> str:
    """``large``, ``medium`` or ``small`` by mean reports per day."""
    if per_day >= cfg.large:
        return "large"
    return "medium" if per_day >= cfg.medium else "small"


def platform_tiers(daily: pd.DataFrame, cfg: TierConfig) -> dict[str, str]:
    """Each platform's tier from its daily volume (``volume.daily_volume``)."""
    return {
        str(p): "public" if p == PUBLIC else size_tier(float(daily[p].mean()), cfg)
        for p in daily.columns
    }


def _rates(frame: pd.DataFrame) -> dict[str, Any]:
    decided = len(frame)
    overridden = int(frame["overridden"].sum()) if decided else 0
    return {
        "decided": decided,
        "overridden": overridden,
        "override_rate": round(overridden / decided, 4) if decided else None,
    }


def _by(frame: pd.DataFrame, column: str) -> dict[str, Any]:
    return {str(k): _rates(g) for k, g in frame.groupby(column, sort=True)}


def override_rates(decisions: pd.DataFrame, tiers: dict[str, str]) -> dict[str, Any]:
    """Override rates overall, per suggested priority, per tier, and per week of each.

    ``decisions``: ``received_at`` (UTC), ``suggested_priority``, ``priority``,
    ``platform``. A week (starting Monday) holds the decisions on the reports received
    in it, so a week's rate does not change its meaning as late decisions come in.
    """
    if decisions.empty:
        return {
            **_rates(decisions),
            "by_suggested_priority": {},
            "by_tier": {},
            "weekly": [],
        }
    frame = decisions.assign(
        overridden=decisions["priority"] != decisions["suggested_priority"],
        tier=decisions["platform"].map(lambda p: tiers.get(p, "small")),
        week=decisions["received_at"]
        .dt.tz_convert("UTC")
        .dt.tz_localize(None)
        .dt.to_period("W-SUN")
        .dt.start_time.dt.date.astype(str),
    )
    weekly = [
        {
            "week": str(week),
            **_rates(group),
            "by_suggested_priority": _by(group, "suggested_priority"),
            "by_tier": _by(group, "tier"),
        }
        for week, group in frame.groupby("week", sort=True)
    ]
    return {
        **_rates(frame),
        "by_suggested_priority": _by(frame, "suggested_priority"),
        "by_tier": _by(frame, "tier"),
        "weekly": weekly,
    }
