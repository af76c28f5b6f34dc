"""Rolling-origin folds: for each of the last N periods, what was known when it began.

Pure: receipt and decision times (µs since the epoch) in, row numbers out. A fold's model
may learn only from reports whose outcome was known before its period started — received
before the start, and decided before it (or never decided: a report nobody escalated by
then counts as not escalated, as it would have in a history extracted that day). Reports
received before the start but decided after it are left out: their outcome was not yet
known. The fold then scores every report received in its period; those predictions,
pooled over the folds, are out of time: no model saw its own period's outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from features.linkage import NEVER_DECIDED

Step = Literal["month", "quarter", "week"]
STEPS: tuple[Step, ...] = ("month", "quarter", "week")
_UNIT = {"month": "M", "quarter": "M", "week": "W"}
_SIZE = {"month": 1, "quarter": 3, "week": 1}


@dataclass(frozen=True)
class Fold:
    """One period: rows to fit on, to calibrate on, and to score."""

    period: str
    """The period's first day (``YYYY-MM-DD``), UTC."""
    start: int
    end: int
    """The period, ``[start, end)`` in µs since the epoch."""
    train: np.ndarray
    valid: np.ndarray
    """Rows known before ``start``, in receipt order: the older ones fit the booster, the
    newest ``valid`` ones calibrate it and set its thresholds (as in ``train``)."""
    test: np.ndarray
    """Rows received in the period."""


def period_bounds(micros: np.ndarray, step: Step, folds: int) -> list[tuple[int, int]]:
    """``[start, end)`` (µs) of the last ``folds`` periods of ``step`` holding any row.

    Periods are calendar periods (a month starts on its first day, a week on Monday, a
    quarter in January, April, July or October); the last one may be partial.

    Raises:
        ValueError: no rows, or fewer periods than ``folds`` after the first.
    """
    if step not in STEPS:
        raise ValueError(f"step must be one of {', '.join(STEPS)}, got {step!r}")
    if folds < 1:
        raise ValueError(f"folds must be at least 1, got {folds}")
    if not len(micros):
        raise ValueError("the history has no rows")
    unit, size = _UNIT[step], _SIZE[step]
    first = _floor(int(micros.min()), unit, size)
    last = _floor(int(micros.max()), unit, size)
    starts = list(range(first, last + size, size))
    # the first period has nothing before it to learn from
    if len(starts) - 1 < folds:
        raise ValueError(
            f"the history spans {len(starts)} {step}s; {folds} folds need "
            f"{folds + 1} (the first {step} only trains)"
        )
    return [
        (_start_micros(s, unit), _start_micros(s + size, unit)) for s in starts[-folds:]
    ]


def _floor(us: int, unit: str, size: int) -> int:
    """The index (in ``unit`` since the epoch) of the period holding ``us``."""
    moment = np.datetime64(us, "us")
    if unit == "W":
        # weeks start on Monday: 1970-01-01 was a Thursday, so week 0 starts 1969-12-29
        days = int(moment.astype("datetime64[D]").astype(np.int64))
        return (days + 3) // 7
    index = int(moment.astype(f"datetime64[{unit}]").astype(np.int64))
    return index - index % size


def _start_micros(index: int, unit: str) -> int:
    """Where period ``index`` (of ``_floor``) starts, in µs since the epoch."""
    if unit == "W":
        start = np.datetime64(index * 7 - 3, "D")
    else:
        start = np.datetime64(index, "M")  # months (a quarter is three)
    return int(start.astype("datetime64[us]").astype(np.int64))


def known_before(micros: np.ndarray, decided: np.ndarray, start: int) -> np.ndarray:
    """Row numbers (receipt order) whose outcome was known before ``start``."""
    before = micros < start
    settled = (decided < start) | (decided == NEVER_DECIDED)
    known: np.ndarray = np.flatnonzero(before & settled)
    return known


def make_folds(
    micros: np.ndarray,
    decided: np.ndarray,
    step: Step,
    folds: int,
    valid_share: float,
) -> list[Fold]:
    """The last ``folds`` periods, each with what was known before it began.

    Args:
        micros: receipt times, sorted ascending.
        decided: decision times (``NEVER_DECIDED`` for never), same rows.
        step: the period length (``month``, ``quarter``, ``week``).
        folds: how many of the latest periods to score.
        valid_share: the share of a fold's known rows (the newest) that calibrate.

    Raises:
        ValueError: rows not sorted, a bad step, too few periods, or a fold with no
            row to train, calibrate or score.
    """
    if len(micros) and (np.diff(micros) < 0).any():
        raise ValueError("rows must be sorted by received_at")
    out = []
    for start, end in period_bounds(micros, step, folds):
        known = known_before(micros, decided, start)
        cut = len(known) - round(len(known) * valid_share)
        test = np.flatnonzero((micros >= start) & (micros < end))
        period = str(np.datetime64(start, "us").astype("datetime64[D]"))
        fold = Fold(period, start, end, known[:cut], known[cut:], test)
        empty = [n for n in ("train", "valid", "test") if not len(getattr(fold, n))]
        if empty:
            raise ValueError(f"the fold starting {period} has no rows to {empty}")
        out.append(fold)
    return out


def valid_share(valid_fraction: float, test_fraction: float) -> float:
    """The validation window's share of the rows before the test window, as in ``train``."""
    return valid_fraction / (1.0 - test_fraction)
