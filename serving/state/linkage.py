"""The serving back-end of the point-in-time linkage features, over the ``link`` table.

``features.linkage`` defines the features and computes them over a whole history
(training); this module must agree with it exactly, one report (or one batch) at a time.
For a report received at t: for each of its hashes of a kind, count the *other* reports
with that hash received in ``[t - W, t)``, and take the maximum over its hashes.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from features.linkage import LINK_COLUMNS, LINK_FEATURES, MICROS_PER_DAY, LinkDef
from serving.state import sql
from serving.state.backend import Connection
from serving.state.records import LinkRecord

BY_COLUMN: dict[str, tuple[LinkDef, ...]] = {
    column: tuple(d for d in LINK_FEATURES if d.column == column)
    for column in LINK_COLUMNS
}
CHUNK = 500  # ids per IN list, below every engine's parameter limit


class BatchIndex:
    """Receipt times of a batch's reports per (kind, hash), for counts within the batch."""

    def __init__(self, reports: Sequence[LinkRecord], stored: set[str] | None) -> None:
        self._times: dict[tuple[str, str], list[int]] = {}
        if stored is None:  # not counting within the batch
            return
        seen: set[str] = set()
        for report_id, received_us, links in reports:
            if report_id in stored or report_id in seen:  # counted by the store / once
                continue
            seen.add(report_id)
            for column in LINK_COLUMNS:
                for value in dict.fromkeys(links.get(column, ())):
                    self._times.setdefault((column, value), []).append(received_us)
        for times in self._times.values():
            times.sort()

    def count(self, column: str, value: str, start: int, end: int) -> int:
        """Batch reports with this hash received in ``[start, end)``."""
        times = self._times.get((column, value))
        if not times:
            return 0
        return bisect.bisect_left(times, end) - bisect.bisect_left(times, start)


MICROS_PER_MINUTE = 60_000_000


def escalation_minute(now: datetime | None = None) -> int:
    """The minute an escalation takes hold, since the epoch, rounded up (``link.escalated``).

    Minutes, not microseconds: the column is a 32-bit INTEGER on PostgreSQL. Rounded up,
    so an escalation counts only for reports received at or after that minute began
    (compared with their receipt minute rounded down): never one decided after them.
    """
    micros = int((now or datetime.now(UTC)).timestamp() * 1_000_000)
    return -(-micros // MICROS_PER_MINUTE)


def stored_ids(db: Connection, reports: Sequence[LinkRecord]) -> set[str]:
    """Which of these reports the store already holds."""
    ids = list(dict.fromkeys(r[0] for r in reports))
    found: set[str] = set()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        rows = db.rows(sql.LINK_STORED_IDS.format(marks=sql.marks(len(chunk))), chunk)
        found.update(r["report_id"] for r in rows)
    return found


def _sums(defs: Sequence[LinkDef]) -> str:
    return ", ".join(
        sql.LINK_COUNT.format(
            escalated=sql.ESCALATED_BEFORE if d.escalations else "", i=i
        )
        for i, d in enumerate(defs)
    )


SUMS = {column: _sums(defs) for column, defs in BY_COLUMN.items()}


def stored_counts(
    db: Connection, column: str, values: Sequence[str], starts: Sequence[int], end: int
) -> dict[str, Sequence[int]]:
    """Per hash, the stored reports in each window ``[start, end)`` (absent: none).

    One query per ``CHUNK`` hashes rather than one per hash: a report naming thousands of
    identifiers made thousands of queries, each a round trip through Python holding the
    GIL, which slowed every other request of the worker (issue 18).
    """
    found: dict[str, Sequence[int]] = {}
    sums = SUMS[column]
    received_minute = end // MICROS_PER_MINUTE
    windows = [
        p
        for d, start in zip(BY_COLUMN[column], starts, strict=True)
        for p in ((start, received_minute) if d.escalations else (start,))
    ]
    for at in range(0, len(values), CHUNK):
        chunk = values[at : at + CHUNK]
        query = sql.LINK_COUNTS_IN.format(sums=sums, marks=sql.marks(len(chunk)))
        for row in db.rows(query, (*windows, column, *chunk, min(starts), end)):
            found[row["hash"]] = [int(row[f"n{i}"]) for i in range(len(starts))]
    return found


def lookup(
    db: Connection,
    received_us: int,
    links: Mapping[str, Sequence[str]],
    batch: BatchIndex,
) -> dict[str, int]:
    """One report's features, the maximum over its hashes of each kind.

    Per kind, one query per ``CHUNK`` hashes counts every window of every hash at once.
    """
    out = {d.name: 0 for d in LINK_FEATURES}
    for column, defs in BY_COLUMN.items():
        values = list(dict.fromkeys(links.get(column, ())))
        if not values:
            continue
        starts = [received_us - d.days * MICROS_PER_DAY for d in defs]
        stored = stored_counts(db, column, values, starts, received_us)
        none = [0] * len(defs)
        for value in values:
            counts = stored.get(value, none)
            for i, (d, start) in enumerate(zip(defs, starts, strict=True)):
                extra = (
                    0
                    if d.escalations
                    else batch.count(column, value, start, received_us)
                )
                out[d.name] = max(out[d.name], counts[i] + extra)
    return out


def link_rows(
    reports: Sequence[LinkRecord], escalated: bool
) -> list[tuple[str, str, int, str, int]]:
    """``link`` rows (kind, hash, received_us, report_id, escalated) of reports."""
    return [
        (column, value, received_us, report_id, int(escalated))
        for report_id, received_us, links in reports
        for column in LINK_COLUMNS
        for value in dict.fromkeys(links.get(column, ()))
    ]


def linked(row: Mapping[str, Any]) -> dict[str, Any]:
    """A ``linked_to`` row: kinds shared, receipt time (µs), escalated."""
    return {
        "report_id": row["report_id"],
        "kinds": sorted(str(row["kinds"]).split(",")),
        "received_us": int(row["received_us"]),
        "escalated": bool(row["escalated"]),
    }
