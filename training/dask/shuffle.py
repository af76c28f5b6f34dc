"""Point-in-time linkage features over a partitioned history, by a shuffle on the hash.

A report's linkage features count *earlier* reports with the same hashed identifier,
which may sit in any earlier part (up to a year back). Computing them part by part would
need each part's whole past; computing them centrally would need every hash in one
process. Instead, the work is split by hash value, as a map-reduce:

1. **map** (per part): route every hashed identifier to one of ``buckets`` by its hash
   value. For each bucket, the part's reports that carry a hash of that bucket, with
   their lists cut down to those hashes, their receipt time, label and decision time.
2. **reduce** (per bucket): all parts' pieces of the bucket hold every report carrying
   any of its hashes, so ``history_frame_features`` — the training definition, unchanged
   — gives each report the maximum over *its hashes in this bucket*.
3. **merge** (per part): a report's feature is the maximum over buckets, which is the
   maximum over all its hashes: exactly ``history_frame_features`` on the whole history.

Each hashed identifier is moved once, whatever the history's length; no task needs more
than one bucket (about ``1/buckets`` of the hashes). These functions are pure; the Dask
wiring is in ``training.dask.cluster``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features.linkage import LINK_COLUMNS, LINK_FEATURES, history_frame_features
from features.linkage import no_history as no_links
from training.decision_times import (
    DECIDED_AT,
    DEFAULT_ASSUMED_LAG_DAYS,
    decided_micros,
)

INPUT_COLUMNS: tuple[str, ...] = (*LINK_COLUMNS, "received_at", "escalated")
"""What the map step reads of each part (and ``decided_at`` where the part has it)."""
OPTIONAL_INPUT: tuple[str, ...] = (DECIDED_AT,)
PartLinks = tuple[np.ndarray, np.ndarray]
"""One bucket's result for one part: row numbers in the part, and a (rows × features)
matrix of linkage counts in ``LINK_FEATURES`` order."""


def _buckets_of(values: pa.Array, buckets: int) -> np.ndarray:
    """Bucket of every hash string: a fixed-key hash of the value, modulo ``buckets``."""
    encoded = pc.dictionary_encode(values)
    distinct = encoded.dictionary.to_numpy(zero_copy_only=False)
    per_value = pd.util.hash_array(np.asarray(distinct, dtype=object)) % buckets
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    chosen: np.ndarray = per_value[codes].astype(np.int64)
    return chosen


def _list_column(column: pa.ChunkedArray | pa.Array) -> pa.ListArray:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    return column.cast(pa.list_(pa.string()))


def input_columns(names: Sequence[str]) -> list[str]:
    """The columns the map step reads of a part whose columns are ``names``."""
    return [*INPUT_COLUMNS, *(c for c in OPTIONAL_INPUT if c in names)]


def bucket_pieces(
    part: int,
    table: pa.Table,
    buckets: int,
    lag_days: float = DEFAULT_ASSUMED_LAG_DAYS,
) -> list[pa.Table]:
    """The map step: one piece per bucket of a part's reports (``input_columns`` read).

    A piece has ``_part``, ``_row`` (row in the part), ``received_us``, ``escalated``,
    ``decided_us`` (``training.decision_times``: ``decided_at``, or receipt plus
    ``lag_days`` when the part has no such column) and the ``link_*`` lists holding only
    the bucket's hashes; a report with no hash in the bucket is left out of its piece.
    """
    n = len(table)
    cut: dict[str, list[pa.ListArray]] = {}
    carries = np.zeros((buckets, n), dtype=bool)
    for name in LINK_COLUMNS:
        column = _list_column(table.column(name))
        values = pc.list_flatten(column)
        parents = pc.list_parent_indices(column).to_numpy(zero_copy_only=False)
        bucket = _buckets_of(values, buckets) if len(values) else parents
        cut[name] = []
        for b in range(buckets):
            mask = bucket == b
            counts = np.bincount(parents[mask], minlength=n)
            offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
            kept = values.filter(pa.array(mask))
            cut[name].append(pa.ListArray.from_arrays(pa.array(offsets), kept))
            carries[b] |= counts > 0
    times = table.column("received_at").cast(pa.timestamp("us", tz="UTC"))
    micros = times.to_numpy().astype(np.int64)
    labels = table.column("escalated").to_numpy(zero_copy_only=False).astype(bool)
    decided = decided_micros(table, lag_days)
    pieces = []
    for b in range(buckets):
        rows = np.flatnonzero(carries[b])
        take = pa.array(rows)
        columns = {
            "_part": pa.array(np.full(len(rows), part, dtype=np.int64)),
            "_row": take,
            "received_us": pa.array(micros[rows]),
            "escalated": pa.array(labels[rows]),
            "decided_us": pa.array(decided[rows]),
        }
        columns |= {name: cut[name][b].take(take) for name in LINK_COLUMNS}
        pieces.append(pa.table(columns))
    return pieces


def bucket_links(pieces: Sequence[pa.Table], parts: int) -> list[PartLinks]:
    """The reduce step: one bucket's pieces from every part → each part's counts."""
    table = pa.concat_tables(pieces)
    owner = table.column("_part").to_numpy()
    rows = table.column("_row").to_numpy()
    links: dict[str, object] = {name: table.column(name) for name in LINK_COLUMNS}
    links["received_at"] = table.column("received_us").to_numpy().astype("M8[us]")
    labels = table.column("escalated").to_numpy(zero_copy_only=False).astype(bool)
    decided = table.column("decided_us").to_numpy().astype(np.int64)
    counts = history_frame_features(links, labels, decided)
    matrix = np.column_stack([counts[d.name] for d in LINK_FEATURES])
    order = np.argsort(owner, kind="stable")
    bounds = np.searchsorted(owner[order], np.arange(parts + 1))
    return [
        (rows[order[a:b]], matrix[order[a:b]]) for a, b in itertools.pairwise(bounds)
    ]


def merge_links(rows: int, results: Sequence[PartLinks]) -> dict[str, np.ndarray]:
    """The merge step: a part's linkage features, the maximum over buckets."""
    out = no_links(rows)
    for found, matrix in results:
        for j, d in enumerate(LINK_FEATURES):
            out[d.name][found] = np.maximum(out[d.name][found], matrix[:, j])
    return out


def shuffled_links(
    tables: Sequence[pa.Table],
    buckets: int,
    lag_days: float = DEFAULT_ASSUMED_LAG_DAYS,
) -> list[dict[str, np.ndarray]]:
    """All three steps in this process (what the cluster runs, for tests and one machine)."""
    pieces = [bucket_pieces(i, t, buckets, lag_days) for i, t in enumerate(tables)]
    reduced = [
        bucket_links([p[b] for p in pieces], len(tables)) for b in range(buckets)
    ]
    return [merge_links(len(t), [r[i] for r in reduced]) for i, t in enumerate(tables)]
