"""Report completeness per platform: the scorecard, and the shares that moved.

What a clearinghouse could send back to each platform: how often its reports carry user
identifiers, a known location, the upload IP, files it viewed, and each annotation. A
share is judged against the platform's own baseline period, with a two-proportion z
statistic beside the absolute change, so a small platform's noise is not an alert.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from features.vocab import REPORT_ANNOTATIONS
from training.monitor.config import CompletenessConfig
from training.monitor.periods import Periods

USER_ID_FLAGS = ("rp_esp_user_id", "rp_screen_name", "rp_email", "rp_phone")

Indicator = Callable[[pd.DataFrame], tuple[np.ndarray, np.ndarray]]
"""Flat rows → (filled, applies): whether each report has it, and counts for it."""


def _all(rows: pd.DataFrame, filled: Any) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(filled, dtype=bool), np.ones(len(rows), dtype=bool)


def _flag(column: str, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return _all(rows, rows[column])


def _files_viewed(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Among reports with files: those where the platform viewed at least one."""
    count = rows["files_count"].to_numpy(dtype=np.int64)
    viewed = rows["files_viewed"].to_numpy(dtype=np.int64)
    return viewed > 0, count > 0


FIELDS: dict[str, Indicator] = {
    "user_identifiers": lambda r: _all(r, r[list(USER_ID_FLAGS)].any(axis=1)),
    "location": lambda r: _all(r, r["country_code"].notna()),
    "upload_ip": lambda r: _all(r, r["rp_upload_ip"]),
    "files_viewed": _files_viewed,
}
for _annotation in REPORT_ANNOTATIONS:
    FIELDS[f"ann_{_annotation}"] = functools.partial(_flag, f"ann_{_annotation}")
"""Each scorecard field and how it is read from flat rows (``features.flat``)."""


def _share(rows: pd.DataFrame, field: str) -> tuple[float | None, int]:
    """A field's share among the rows it applies to, and how many that is."""
    if rows.empty:
        return None, 0
    filled, applies = FIELDS[field](rows)
    n = int(applies.sum())
    return (float(filled[applies].mean()) if n else None), n


def scorecard(reports: pd.DataFrame) -> list[dict[str, Any]]:
    """One row per platform: reports and the share of each field over the window."""
    rows = []
    for platform, group in reports.groupby("platform", sort=True):
        row: dict[str, Any] = {"platform": str(platform), "reports": len(group)}
        for field in FIELDS:
            share, _ = _share(group, field)
            row[field] = None if share is None else round(share, 4)
        rows.append(row)
    return rows


def z_statistic(p1: float, n1: int, p2: float, n2: int) -> float:
    """Two-proportion z statistic of ``p2 - p1`` (pooled); 0 when it is undefined."""
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return (p2 - p1) / spread if spread > 0 else 0.0


def share_alert(
    baseline: tuple[float | None, int],
    recent: tuple[float | None, int],
    cfg: CompletenessConfig,
) -> dict[str, float] | None:
    """The change of one share if it is an alert: big enough and unlikely to be noise."""
    (p1, n1), (p2, n2) = baseline, recent
    if p1 is None or p2 is None or min(n1, n2) < cfg.min_reports:
        return None
    z = z_statistic(p1, n1, p2, n2)
    if abs(p2 - p1) < cfg.min_abs_change or abs(z) < cfg.min_z:
        return None
    return {"baseline": round(p1, 4), "recent": round(p2, 4), "z": round(z, 2)}


def completeness_alerts(
    reports: pd.DataFrame, span: Periods, cfg: CompletenessConfig
) -> list[dict[str, Any]]:
    """Per platform and field: a share that dropped or rose against the baseline."""
    day = reports["day"]
    base = reports[(day >= span.baseline_start) & (day < span.recent_start)]
    recent = reports[(day >= span.recent_start) & (day < span.end)]
    alerts = []
    for platform in sorted(reports["platform"].unique()):
        before = base[base["platform"] == platform]
        after = recent[recent["platform"] == platform]
        for field in FIELDS:
            change = share_alert(_share(before, field), _share(after, field), cfg)
            if change is None:
                continue
            direction = "drop" if change["recent"] < change["baseline"] else "rise"
            alerts.append(
                {
                    "kind": "completeness",
                    "platform": str(platform),
                    "field": field,
                    "direction": direction,
                    **change,
                    "message": f"{platform}: {field} share {direction} "
                    f"({change['baseline']:.1%} → {change['recent']:.1%})",
                }
            )
    return alerts
