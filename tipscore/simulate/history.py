"""The simulation's view of a history: months, what was known when, decision times.

- ``months``: the calendar months a history spans, in order;
- ``known_at``: the history as it stood at a moment — reports received before it, and an
  outcome only where it had been decided before it (``decided_at``); a later decision is
  not known yet, so its row is "never reviewed" (not escalated, no ``decided_at``). A row
  received on or after the simulation's start (``simulated_from``) carries no outcome
  from the generator at all: only the simulated analysts decide those reports, and their
  labels come from the decisions export alone. Every training in the simulation reads
  this, so no label arrives before its time and none the analysts never gave;
- ``with_simulated_times``: a decisions export whose decision times are the simulated
  days' (the service stamps the wall clock; the simulation's clock is the history's).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from training.partitions import history_parts, read_parts


def read_history(path: Path) -> pa.Table:
    """A history file, or a folder of parts, as one table in receipt order."""
    return read_parts(history_parts(path)) if path.is_dir() else pq.read_table(path)


def months(table: pa.Table) -> list[datetime]:
    """The first instant (UTC) of every month with reports, in order."""
    received = pd.DatetimeIndex(table.column("received_at").to_pandas())
    if received.tz is None:
        received = received.tz_localize(UTC)
    starts = (
        received.tz_convert(UTC).tz_localize(None).to_period("M").unique().sort_values()
    )
    return [p.to_timestamp().tz_localize(UTC).to_pydatetime() for p in starts]


def between(table: pa.Table, start: datetime, end: datetime) -> pa.Table:
    """Rows received in ``[start, end)``."""
    received = table.column("received_at")
    mask = pc.and_(
        pc.greater_equal(received, pa.scalar(start, received.type)),
        pc.less(received, pa.scalar(end, received.type)),
    )
    return table.filter(mask)


def known_at(
    table: pa.Table,
    moment: datetime,
    start: datetime | None = None,
    simulated_from: datetime | None = None,
) -> pa.Table:
    """The history as known at ``moment``: received before it, labels decided before it.

    Rows received on or after ``simulated_from`` keep no generator outcome (the
    simulated analysts decide them; their labels come from the decisions export).
    """
    rows = between(table, start or datetime(1990, 1, 1, tzinfo=UTC), moment)
    if "decided_at" not in rows.column_names:
        return rows
    late_np = _unknown(rows, moment, simulated_from)
    if not late_np.any():
        return rows
    decided = rows.column("decided_at")
    escalated = np.asarray(rows.column("escalated").to_numpy(zero_copy_only=False))
    priority = np.asarray(
        rows.column("priority").to_numpy(zero_copy_only=False), dtype=object
    )
    priority = np.where(late_np & (priority == "1"), "2", priority)
    columns = {
        "escalated": pa.array(escalated & ~late_np),
        "priority": pa.array(priority.astype(str), rows.schema.field("priority").type),
        "decided_at": pc.if_else(
            pa.array(late_np), pa.nulls(len(rows), decided.type), decided
        ),
    }
    for name, column in columns.items():
        rows = rows.set_column(rows.column_names.index(name), name, column)
    return rows


def _unknown(
    rows: pa.Table, moment: datetime, simulated_from: datetime | None
) -> np.ndarray:
    """Rows whose outcome is not known: decided at or after ``moment``, or simulated."""
    decided = rows.column("decided_at")
    late = pc.fill_null(
        pc.greater_equal(decided, pa.scalar(moment, decided.type)), False
    )
    unknown = np.asarray(late.to_numpy(zero_copy_only=False), dtype=bool)
    if simulated_from is not None:
        received = rows.column("received_at")
        simulated = pc.greater_equal(received, pa.scalar(simulated_from, received.type))
        unknown |= np.asarray(simulated.to_numpy(zero_copy_only=False), dtype=bool)
    return unknown


def with_simulated_times(export: Path, times: dict[str, datetime], out: Path) -> int:
    """Rewrite an export's ``decided_at`` and ``decision_at`` to the simulated times.

    Each decided report takes the end of the simulated day it was decided on (never
    before it was received). Returns the rows written.
    """
    table = pq.read_table(export)
    ids = table.column("report_id").to_pylist()
    received = table.column("received_at").to_pylist()
    stamps = [max(times[i], r) for i, r in zip(ids, received, strict=True)]
    for name in ("decided_at", "decision_at"):
        kind = table.schema.field(name).type
        index = table.column_names.index(name)
        table = table.set_column(index, name, pa.array(stamps, kind))
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, out)
    return len(table)
