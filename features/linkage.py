"""Point-in-time linkage features: how often a report's hashed identifiers were seen before.

One definition, two back-ends that must agree exactly:

- ``history_frame_features`` computes them over a whole history (training), vectorised;
- the service's state store (``serving/state/linkage.py``) looks them up among the reports
  scored before, and records each scored report in the same transaction as its suggestion
  so later ones see it.

Definition, for a report received at time t and each feature (identifier kind, window W):
for each of the report's hashes of that kind, count the *other* reports carrying the same
hash that were received in ``[t - W, t)`` — strictly before t, so reports received at the
same instant never see each other — and take the maximum over the report's hashes (0 when it
has none). Escalation counts only count earlier reports recorded as escalated **and decided
before t** (point-in-time labels, issue 19): the service marks a report escalated when an
analyst decides it, so a later report scored before that decision does not count it, and
training counts exactly the same (``decided_at < received_at`` of the counting report). A
report never decided never counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

MICROS_PER_DAY = 86_400_000_000
NEVER_DECIDED = np.iinfo(np.int64).max
"""The decision time (µs) of a report no analyst has decided: it never counts as escalated."""


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


def no_history(n: int) -> dict[str, np.ndarray]:
    """Linkage features for reports with no earlier reports known (all zero)."""
    return {d.name: np.zeros(n, dtype=np.int64) for d in LINK_FEATURES}


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def to_micros(values: Any) -> np.ndarray:
    """Times (tz-aware, or naive meaning UTC) as int64 microseconds since the epoch.

    A list of ``datetime`` objects (the service's one report) is converted in Python:
    the same integers, without the ~0.2 ms ``pd.to_datetime`` costs for a single value.
    """
    if isinstance(values, list) and all(type(v) is datetime for v in values):
        return np.array([_micros(v) for v in values], dtype=np.int64)
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    array = np.asarray(values)
    if array.dtype.kind != "M":
        array = pd.to_datetime(array, utc=True).tz_localize(None).to_numpy()
    micros: np.ndarray = array.astype("datetime64[us]").astype(np.int64)
    return micros


def _micros(value: datetime) -> int:
    """One time (naive meaning UTC) as integer microseconds since the epoch."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return (aware - _EPOCH) // _MICROSECOND


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
    flat: Mapping[str, Any],
    escalated: np.ndarray | None = None,
    decided_us: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Linkage features for every row of a history (the training back-end).

    Args:
        flat: columns ``received_at`` and the ``link_*`` lists, any row order.
        escalated: per-row final labels; needed for escalation counts (zeros when None).
        decided_us: per-row decision time (µs since the epoch; ``NEVER_DECIDED`` for a
            report never decided). An escalated row counts for a later report only when
            decided strictly before that report arrived. None: decided on arrival (the
            labels are known as soon as a report is received — the pre-issue-19 reading).
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
    known = micros if decided_us is None else np.maximum(decided_us, micros)
    out = no_history(n)
    for column in LINK_COLUMNS:
        rows, codes, _ = _items(flat[column])
        if not len(rows):
            continue
        ranks = row_rank[rows]
        for d in (d for d in LINK_FEATURES if d.column == column):
            if d.escalations:
                counts = _escalation_counts(
                    codes, rows, (ranks, span), (micros, unique_times, known),
                    labels, d.days,
                )  # fmt: skip
            else:
                start = np.searchsorted(
                    unique_times, micros[rows] - d.days * MICROS_PER_DAY
                )
                mask = np.ones(len(rows), dtype=bool)
                counts = _windowed_counts(codes, ranks, start, mask, span)
            np.maximum.at(out[d.name], rows, counts)
    return out


def _escalation_counts(
    codes: np.ndarray,
    rows: np.ndarray,
    ranked: tuple[np.ndarray, int],
    times: tuple[np.ndarray, np.ndarray, np.ndarray],
    labels: np.ndarray,
    days: int,
) -> np.ndarray:
    """For each item: escalated items with the same code, counted point in time.

    An escalated report e counts for a report q with the same hash when q arrived after e
    was decided and within the window of e's receipt: ``decided_e < t_q <= received_e + W``
    (``decided_e >= received_e``, so e was also received before q). Each escalated item so
    adds one to a contiguous run of the items sorted by (code, receipt rank): the runs are
    added with a difference array, exact and vectorised, whatever the lags.
    """
    ranks, span = ranked
    micros, unique_times, known = times
    keys = codes * span + ranks
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    esc = np.flatnonzero(labels[rows] & (known[rows] < NEVER_DECIDED))
    first = np.searchsorted(unique_times, known[rows[esc]], side="right")
    end = np.searchsorted(
        unique_times, micros[rows[esc]] + days * MICROS_PER_DAY, side="right"
    )
    lo = np.searchsorted(sorted_keys, codes[esc] * span + first, side="left")
    hi = np.searchsorted(sorted_keys, codes[esc] * span + end, side="left")
    ok = hi > lo
    diff = np.zeros(len(keys) + 1, dtype=np.int64)
    np.add.at(diff, lo[ok], 1)
    np.add.at(diff, hi[ok], -1)
    counts = np.empty(len(keys), dtype=np.int64)
    counts[order] = np.cumsum(diff[:-1])
    return counts
