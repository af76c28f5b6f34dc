"""The monitored window and its two periods: the recent days and the baseline before them.

Every comparison in the monitor (volume, completeness) sets a platform's recent period
against its own baseline, so a platform is judged by its own history, not by others'.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Periods:
    """``[start, end)`` in days (UTC); recent = the last ``recent_days`` of it."""

    start: date
    end: date
    recent_start: date
    baseline_start: date

    @property
    def days(self) -> int:
        """Days in the whole window."""
        return (self.end - self.start).days

    def as_dict(self) -> dict[str, str]:
        """The periods as ISO dates (``monitor.json``'s ``periods``)."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "recent_start": self.recent_start.isoformat(),
            "baseline_start": self.baseline_start.isoformat(),
        }


def periods(start: date, end: date, recent_days: int, baseline_days: int) -> Periods:
    """The window ``[start, end)`` split into baseline and recent periods.

    The baseline is the ``baseline_days`` before the recent period, cut at ``start``.
    """
    recent_start = max(start, end - timedelta(days=recent_days))
    baseline_start = max(start, recent_start - timedelta(days=baseline_days))
    return Periods(start, end, recent_start, baseline_start)
