"""When each report's outcome became known: the ``decided_at`` column, resolved once.

Why one place: escalation counts (``hist_*_escalations_365d``) count an earlier report only
once it was decided before the counting report arrived — as the service does, which marks a
report escalated when an analyst decides it. Every training path (one machine, the Dask
shuffle, batch scoring) asks this module for the decision times of a history's rows, so a
history with the column, one without it (an assumed lag) and a decisions export all mean
the same thing everywhere.

- ``decided_at`` present: its value; null means never decided (never counts as escalated).
- ``decided_at`` absent: ``received_at`` + the experiment's
  ``[history] assumed_decision_lag_days`` (``training.config.HistoryConfig``).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from features.linkage import MICROS_PER_DAY, NEVER_DECIDED

DECIDED_AT = "decided_at"
"""The optional history column: UTC time of the decision that set the outcome."""
DECIDED_US = "decided_us"
"""The resolved decision time (int64 µs since the epoch, ``NEVER_DECIDED`` when never)
that loaded histories carry beside their flat rows."""
DEFAULT_ASSUMED_LAG_DAYS = 1.0
"""Assumed lag when a history has no ``decided_at``: priority-1 decisions are made within
hours, so one day errs on the side of counting an escalation late rather than early."""


def _micros(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    # any unit: nanoseconds are cut to microseconds (the linkage features' resolution)
    micros = pc.cast(column, pa.timestamp("us", tz="UTC"), safe=False)
    return micros.cast(pa.int64())


def decided_micros(table: pa.Table, assumed_lag_days: float) -> np.ndarray:
    """Each row's decision time in µs since the epoch (``NEVER_DECIDED`` when none).

    Args:
        table: history rows with ``received_at`` and, optionally, ``decided_at``.
        assumed_lag_days: the lag after ``received_at`` assumed when the column is absent.
    """
    received = _micros(table.column("received_at")).to_numpy(zero_copy_only=False)
    if DECIDED_AT not in table.column_names:
        lag = round(assumed_lag_days * MICROS_PER_DAY)
        return np.asarray(received, dtype=np.int64) + lag
    decided = pc.fill_null(_micros(table.column(DECIDED_AT)), NEVER_DECIDED)
    return np.asarray(decided.to_numpy(zero_copy_only=False), dtype=np.int64)


def with_decision_times(table: pa.Table, assumed_lag_days: float) -> pa.Table:
    """The table with its resolved ``decided_us`` column (replacing one already there)."""
    if DECIDED_US in table.column_names:
        table = table.drop_columns([DECIDED_US])
    return table.append_column(
        DECIDED_US, pa.array(decided_micros(table, assumed_lag_days))
    )
