"""Loading a history file for training or evaluation: validated, ordered, with linkage.

The only reader of the outcome columns (``escalated``, ``p_true``) besides the validator.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from features.extract import build_columns, to_matrix
from features.linkage import LINK_COLUMNS, history_frame_features, to_micros
from training.data_format import REQUIRED_TYPES
from training.validate_data import history_frame, validate_table

logger = logging.getLogger(__name__)


class HistoryError(ValueError):
    """A history file that cannot be trained on; lists its problems."""


@dataclass
class History:
    """A history ready for the model: flat rows with linkage, matrix, labels."""

    path: Path
    sha256: str
    flat: pd.DataFrame
    matrix: np.ndarray
    labels: np.ndarray
    p_true: np.ndarray | None
    micros: np.ndarray
    analyst: np.ndarray | None = None
    """Rows from analysts' decisions: the analyst's priority (1-3), 0 for history rows."""
    suggested: np.ndarray | None = None
    """Rows from analysts' decisions: the priority the service had suggested, else 0."""
    decisions: tuple[tuple[str, str], ...] = ()
    """(path, sha256) of each decisions file included."""

    @property
    def months(self) -> np.ndarray:
        """Receipt month (``YYYY-MM``) of every row."""
        stamps = self.micros.astype("datetime64[us]").astype("datetime64[M]")
        months: np.ndarray = stamps.astype(str)
        return months


def file_sha256(path: Path) -> str:
    """SHA-256 of a file (logged as the run's data hash)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read(path: Path) -> pa.Table:
    """Read and validate one history file (raises ``HistoryError`` listing problems)."""
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise HistoryError(f"cannot read {path} as Parquet: {exc}") from exc
    problems, _ = validate_table(table)
    if problems:
        lines = "; ".join(f"{p.column}: {p.problem}" for p in problems[:10])
        raise HistoryError(
            f"{path} is not a valid history ({len(problems)} problems): {lines}"
        )
    return table


def with_decisions(history: pa.Table, decisions: Sequence[pa.Table]) -> pa.Table:
    """The history with analysts' decision rows added, in receipt order.

    A decision replaces a history row with the same report id (a later file wins over
    an earlier one). ``p_true`` is dropped: decided rows have no known truth, so oracle
    figures are not computed. ``suggested_priority`` (0 on history rows) keeps what the
    service had suggested, for the agreement metrics.
    """
    names = list(REQUIRED_TYPES)
    parts = []
    for i, table in enumerate([history, *decisions]):
        part = table.select(names).cast(
            pa.schema([pa.field(n, REQUIRED_TYPES[n]) for n in names])
        )
        suggested = (
            table.column("suggested_priority").cast(pa.int64())
            if i and "suggested_priority" in table.column_names
            else pa.array(np.zeros(len(table), dtype=np.int64))
        )
        part = part.append_column("suggested_priority", suggested)
        parts.append(part.append_column("_source", pa.array(np.full(len(table), i))))
    combined = pa.concat_tables(parts)
    ids = combined.column("report_id").to_numpy(zero_copy_only=False)
    source = combined.column("_source").to_numpy()
    order = np.lexsort((np.arange(len(ids)), -source))  # later files first
    _, first = np.unique(ids[order], return_index=True)
    keep = np.sort(order[first])
    combined = combined.take(pa.array(keep)).drop_columns(["_source"])
    by_time = pc.sort_indices(combined, sort_keys=[("received_at", "ascending")])
    return combined.take(by_time)


def load_history(path: Path, decisions: Sequence[Path] = ()) -> History:
    """Validate, read and prepare a history file, with analysts' decisions if given.

    Raises:
        HistoryError: a file is unreadable or breaks the training-data format (every
            problem listed).
    """
    table = _read(path)
    sha256 = file_sha256(path)
    included: tuple[tuple[str, str], ...] = ()
    if decisions:
        included = tuple((str(d), file_sha256(d)) for d in decisions)
        table = with_decisions(table, [_read(d) for d in decisions])
        combined = hashlib.sha256(sha256.encode())
        for _, digest in included:
            combined.update(digest.encode())
        sha256 = combined.hexdigest()
    flat = history_frame(table)
    labels = flat["escalated"].to_numpy(dtype=bool)
    links: dict[str, object] = {name: table.column(name) for name in LINK_COLUMNS}
    links["received_at"] = flat["received_at"]
    flat = flat.assign(**history_frame_features(links, labels))
    has_truth = "p_true" in flat.columns
    analyst = suggested = None
    if decisions:
        suggested = flat["suggested_priority"].to_numpy(dtype=np.int64)
        priority = pd.to_numeric(flat["priority"], errors="coerce").fillna(0)
        analyst = np.where(suggested > 0, priority.to_numpy(dtype=np.int64), 0)
        logger.info(
            "added %d decided reports from %d file(s)",
            int((suggested > 0).sum()),
            len(decisions),
        )
    logger.info("loaded %d reports from %s", len(flat), path)
    return History(
        path=path,
        sha256=sha256,
        flat=flat,
        matrix=to_matrix(build_columns(flat)),
        labels=labels,
        p_true=flat["p_true"].to_numpy(dtype=np.float64) if has_truth else None,
        micros=to_micros(flat["received_at"]),
        analyst=analyst,
        suggested=suggested,
        decisions=included,
    )
