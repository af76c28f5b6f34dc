"""Point-in-time linkage features: how often a report's hashed identifiers were seen before.

One definition, two back-ends that must agree exactly:

- ``history_frame_features`` computes them over a whole history (training), vectorised;
- ``LinkageStore`` looks them up in a SQLite store of past reports (serving), one report at
  a time, and records each report after scoring so later ones see it.

Definition, for a report received at time t and each feature (identifier kind, window W):
for each of the report's hashes of that kind, count the *other* reports carrying the same
hash that were received in ``[t - W, t)`` — strictly before t, so reports received at the
same instant never see each other — and take the maximum over the report's hashes (0 when it
has none). Escalation counts only count earlier reports recorded as escalated.
"""

from __future__ import annotations

import bisect
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

MICROS_PER_DAY = 86_400_000_000


@dataclass(frozen=True)
class LinkDef:
    """One linkage feature: which hashes, over which window, counting what."""

    name: str
    column: str
    days: int
    escalations: bool = False


LINK_FEATURES: tuple[LinkDef, ...] = (
    LinkDef("hist_account_reports_30d", "link_accounts", 30),
    LinkDef("hist_account_reports_365d", "link_accounts", 365),
    LinkDef("hist_account_escalations_365d", "link_accounts", 365, escalations=True),
    LinkDef("hist_email_reports_365d", "link_emails", 365),
    LinkDef("hist_phone_reports_365d", "link_phones", 365),
    LinkDef("hist_ip_reports_365d", "link_ips", 365),
    LinkDef("hist_device_reports_365d", "link_devices", 365),
    LinkDef("hist_file_reports_365d", "link_file_hashes", 365),
)
LINK_COLUMNS: tuple[str, ...] = tuple(dict.fromkeys(d.column for d in LINK_FEATURES))
_BY_COLUMN: dict[str, tuple[LinkDef, ...]] = {
    column: tuple(d for d in LINK_FEATURES if d.column == column)
    for column in LINK_COLUMNS
}


def no_history(n: int) -> dict[str, np.ndarray]:
    """Linkage features for reports with no earlier reports known (all zero)."""
    return {d.name: np.zeros(n, dtype=np.int64) for d in LINK_FEATURES}


def to_micros(values: Any) -> np.ndarray:
    """Times (tz-aware, or naive meaning UTC) as int64 microseconds since the epoch."""
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    array = np.asarray(values)
    if array.dtype.kind != "M":
        array = pd.to_datetime(array, utc=True).tz_localize(None).to_numpy()
    micros: np.ndarray = array.astype("datetime64[us]").astype(np.int64)
    return micros


def _items(column: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """Distinct (row, hash code) pairs of a list column, and the number of distinct hashes.

    Accepts Arrow arrays or any sequence of lists; hashes are dictionary-encoded in Arrow,
    never turned into Python strings, which keeps millions of rows fast.
    """
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if not isinstance(column, pa.Array):
        column = pa.array(list(column), type=pa.list_(pa.string()))
    rows = (
        pc.list_parent_indices(column).to_numpy(zero_copy_only=False).astype(np.int64)
    )
    encoded = pc.dictionary_encode(pc.list_flatten(column))
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    distinct = len(encoded.dictionary) + 1
    pairs = pd.unique(rows * distinct + codes)  # a hash counts once per report
    return pairs // distinct, pairs % distinct, distinct


def _windowed_counts(
    codes: np.ndarray,
    ranks: np.ndarray,
    start_ranks: np.ndarray,
    mask: np.ndarray,
    span: int,
) -> np.ndarray:
    """For each item: earlier items (where ``mask``) with the same code and rank in window."""
    keys = np.sort(codes[mask] * span + ranks[mask])
    upper = np.searchsorted(keys, codes * span + ranks, side="left")
    lower = np.searchsorted(keys, codes * span + start_ranks, side="left")
    counts: np.ndarray = upper - lower
    return counts


def history_frame_features(
    flat: Mapping[str, Any], escalated: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Linkage features for every row of a history (the training back-end).

    Args:
        flat: columns ``received_at`` and the ``link_*`` lists, any row order.
        escalated: per-row labels; needed for escalation counts (zeros when None).
    """
    micros = to_micros(flat["received_at"])
    n = len(micros)
    unique_times = np.unique(micros)
    span = len(unique_times) + 1
    row_rank = np.searchsorted(unique_times, micros, side="left")
    labels = (
        np.zeros(n, dtype=bool)
        if escalated is None
        else np.asarray(escalated, dtype=bool)
    )
    out = no_history(n)
    for column in LINK_COLUMNS:
        rows, codes, _ = _items(flat[column])
        if not len(rows):
            continue
        ranks = row_rank[rows]
        for d in (d for d in LINK_FEATURES if d.column == column):
            start = np.searchsorted(
                unique_times, micros[rows] - d.days * MICROS_PER_DAY
            )
            mask = labels[rows] if d.escalations else np.ones(len(rows), dtype=bool)
            counts = _windowed_counts(codes, ranks, start, mask, span)
            np.maximum.at(out[d.name], rows, counts)
    return out


SCHEMA = """
CREATE TABLE IF NOT EXISTS link (
    kind TEXT NOT NULL,
    hash TEXT NOT NULL,
    received_us INTEGER NOT NULL,
    report_id TEXT NOT NULL,
    escalated INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, hash, report_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS link_by_time ON link (kind, hash, received_us);
CREATE INDEX IF NOT EXISTS link_by_report ON link (report_id);
"""


class _BatchIndex:
    """Receipt times of a batch's reports per (kind, hash), for counts within the batch."""

    def __init__(
        self,
        reports: Sequence[tuple[str, int, Mapping[str, Sequence[str]]]],
        stored: set[str] | None,
    ) -> None:
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


class LinkageStore:
    """The serving back-end: past reports' hashes in SQLite (WAL), looked up per report.

    Holds keyed hashes, times, report ids and escalation flags only — never a raw
    identifier.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def lookup(
        self, received_us: int, links: Mapping[str, Sequence[str]]
    ) -> dict[str, int]:
        """The linkage features of one report received at ``received_us``."""
        return self.lookup_many([(received_us, links)])[0]

    def lookup_many(
        self, reports: Sequence[tuple[int, Mapping[str, Sequence[str]]]]
    ) -> list[dict[str, int]]:
        """Linkage features of many reports from the store alone, in one transaction.

        One query per (identifier kind, hash) counts every window of that kind at once;
        the transaction gives all lookups one consistent snapshot and one lock.
        """
        return self.lookup_batch(
            [(f"\x00{i}", t, links) for i, (t, links) in enumerate(reports)],
            within_batch=False,
        )

    def lookup_batch(
        self,
        reports: Sequence[tuple[str, int, Mapping[str, Sequence[str]]]],
        within_batch: bool = True,
    ) -> list[dict[str, int]]:
        """Linkage features of ``(report_id, received_us, links)`` scored together.

        As if the reports had arrived one by one: each counts the store's earlier reports
        and, by the same definition (other reports, received in ``[t - W, t)``), the
        batch's own earlier reports that the store does not hold yet. Those are not
        decided yet, so they add nothing to escalation counts.
        """
        batch = _BatchIndex(
            reports, self._stored_ids(reports) if within_batch else None
        )
        out = []
        with self._db:
            self._db.execute("BEGIN")
            for _, received_us, links in reports:
                out.append(self._lookup(received_us, links, batch))
        return out

    def _stored_ids(
        self, reports: Sequence[tuple[str, int, Mapping[str, Sequence[str]]]]
    ) -> set[str]:
        ids = list(dict.fromkeys(r[0] for r in reports))
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            rows = self._db.execute(
                f"SELECT DISTINCT report_id FROM link WHERE report_id IN ({marks})",
                chunk,
            )
            found.update(r[0] for r in rows)
        return found

    def _lookup(
        self, received_us: int, links: Mapping[str, Sequence[str]], batch: _BatchIndex
    ) -> dict[str, int]:
        out = {d.name: 0 for d in LINK_FEATURES}
        for column, defs in _BY_COLUMN.items():
            starts = [received_us - d.days * MICROS_PER_DAY for d in defs]
            sums = ", ".join(
                "COALESCE(SUM(received_us >= ?"
                + (" AND escalated = 1" if d.escalations else "")
                + "), 0)"
                for d in defs
            )
            query = (
                f"SELECT {sums} FROM link WHERE kind = ? AND hash = ? "
                "AND received_us >= ? AND received_us < ?"
            )
            for value in dict.fromkeys(links.get(column, ())):
                counts = self._db.execute(
                    query, (*starts, column, value, min(starts), received_us)
                ).fetchone()
                for d, start, count in zip(defs, starts, counts, strict=True):
                    extra = (
                        0
                        if d.escalations
                        else batch.count(column, value, start, received_us)
                    )
                    out[d.name] = max(out[d.name], int(count) + extra)
        return out

    def record(
        self,
        report_id: str,
        received_us: int,
        links: Mapping[str, Sequence[str]],
        escalated: bool = False,
    ) -> None:
        """Remember a report's hashes so later reports can link to it (idempotent)."""
        self.record_many([(report_id, received_us, links)], escalated)

    def record_many(
        self,
        reports: Sequence[tuple[str, int, Mapping[str, Sequence[str]]]],
        escalated: bool = False,
    ) -> None:
        """Remember many reports' hashes in one transaction (all or none)."""
        rows = [
            (column, value, received_us, report_id, int(escalated))
            for report_id, received_us, links in reports
            for column in LINK_COLUMNS
            for value in dict.fromkeys(links.get(column, ()))
        ]
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR IGNORE INTO link VALUES (?, ?, ?, ?, ?)", rows
            )

    def linked_to(self, report_id: str, limit: int = 50) -> list[dict[str, Any]]:
        """Earlier reports (past year) sharing a hashed identifier with this one.

        Newest first, each with the identifier kinds it shares (``link_accounts`` ...),
        its receipt time (microseconds) and whether it was recorded as escalated.
        """
        rows = self._db.execute(
            "SELECT o.report_id, group_concat(DISTINCT o.kind), MAX(o.received_us), "
            "MAX(o.escalated) FROM link AS me JOIN link AS o "
            "ON o.kind = me.kind AND o.hash = me.hash AND o.report_id != me.report_id "
            "AND o.received_us < me.received_us AND o.received_us >= me.received_us - ? "
            "WHERE me.report_id = ? GROUP BY o.report_id "
            "ORDER BY MAX(o.received_us) DESC LIMIT ?",
            (365 * MICROS_PER_DAY, report_id, limit),
        ).fetchall()
        return [
            {
                "report_id": r[0],
                "kinds": sorted(r[1].split(",")),
                "received_us": int(r[2]),
                "escalated": bool(r[3]),
            }
            for r in rows
        ]

    def set_escalated(self, report_id: str, escalated: bool) -> None:
        """Record an analyst's escalation decision for a stored report."""
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute(
                "UPDATE link SET escalated = ? WHERE report_id = ?",
                (int(escalated), report_id),
            )
