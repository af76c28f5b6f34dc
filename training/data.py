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

from features.extract import history_rows, model_input
from features.linkage import LINK_COLUMNS, history_frame_features, to_micros
from training.data_format import REQUIRED_TYPES
from training.decision_times import (
    DECIDED_US,
    DEFAULT_ASSUMED_LAG_DAYS,
    with_decision_times,
)
from training.partitions import PartsError, history_parts, part_files, read_parts
from training.validate_data import validate_table
from training.weights import REVIEW, review_kinds

logger = logging.getLogger(__name__)
TRUTH = "p_true"
SUGGESTED = "suggested_priority"


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
    """The true escalation probability (synthetic rows); NaN on rows without one
    (analysts' decisions), None when no row has one."""
    micros: np.ndarray
    analyst: np.ndarray | None = None
    """Rows from analysts' decisions: the analyst's priority (1-3), 0 for history rows."""
    suggested: np.ndarray | None = None
    """Rows from analysts' decisions: the priority the service had suggested, else 0."""
    decisions: tuple[tuple[str, str], ...] = ()
    """(path, sha256) of each decisions file included."""

    @property
    def decided(self) -> np.ndarray | None:
        """Each row's resolved decision time, or None if not loaded.

        µs since the epoch, ``NEVER_DECIDED`` for a report never decided
        (``training.decision_times``); the backtest's "decided before" reads it.
        """
        if DECIDED_US not in self.flat.columns:
            return None
        decided: np.ndarray = self.flat[DECIDED_US].to_numpy(dtype=np.int64)
        return decided

    @property
    def review(self) -> np.ndarray | None:
        """Each row's review kind (``training.weights``: blind, followed, ...), if loaded."""
        if REVIEW not in self.flat.columns:
            return None
        kinds: np.ndarray = self.flat[REVIEW].to_numpy(dtype=np.int8)
        return kinds

    @property
    def months(self) -> np.ndarray:
        """Receipt month (``YYYY-MM``) of every row."""
        stamps = self.micros.astype("datetime64[us]").astype("datetime64[M]")
        months: np.ndarray = stamps.astype(str)
        return months


def file_sha256(path: Path) -> str:
    """SHA-256 of a history file (logged as the run's data hash).

    For a folder of parts: SHA-256 over each part's name and SHA-256, in name order.
    """
    if path.is_dir():
        return folder_sha256([(p.name, file_sha256(p)) for p in part_files(path)])
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def folder_sha256(parts: Sequence[tuple[str, str]]) -> str:
    """The data hash of a folder of parts: SHA-256 over (name, SHA-256) of each, in order."""
    combined = hashlib.sha256(b"tipscore partitioned history\n")
    for name, digest in parts:
        combined.update(f"{name}\0{digest}\n".encode())
    return combined.hexdigest()


def combined_sha256(history: str, decisions: Sequence[str]) -> str:
    """The data hash of a history with decisions: SHA-256 over the files' digests, in order.

    Without decisions it is the history file's own SHA-256, as before decisions existed.
    """
    if not decisions:
        return history
    combined = hashlib.sha256(history.encode())
    for digest in decisions:
        combined.update(digest.encode())
    return combined.hexdigest()


def data_sha256(path: Path, decisions: Sequence[Path] = ()) -> str:
    """The ``data_sha256`` a run on ``path`` plus ``decisions`` logs (files unread)."""
    return combined_sha256(file_sha256(path), [file_sha256(d) for d in decisions])


def _read(path: Path) -> pa.Table:
    """Read and validate a history file or folder of parts (``HistoryError`` lists problems)."""
    if not path.exists():
        raise HistoryError(f"no history file at {path}")
    try:
        table = (
            read_parts(history_parts(path)) if path.is_dir() else pq.read_table(path)
        )
    except PartsError as exc:
        raise HistoryError(str(exc)) from exc
    except (OSError, pa.ArrowInvalid) as exc:
        raise HistoryError(f"cannot read {path} as Parquet: {exc}") from exc
    problems, _ = validate_table(table)
    if problems:
        lines = "; ".join(f"{p.column}: {p.problem}" for p in problems[:10])
        raise HistoryError(
            f"{path} is not a valid history ({len(problems)} problems): {lines}"
        )
    return table


def _part(table: pa.Table, source: int, truth: bool, lag_days: float) -> pa.Table:
    """One file's rows in the combined layout (format columns, ``p_true``, suggestions).

    Each file's decision times are resolved on its own (``decided_us``): a decisions
    export carries ``decided_at`` even when the history it joins has none.
    """
    names = list(REQUIRED_TYPES)
    n = len(table)
    part = table.select(names).cast(
        pa.schema([pa.field(name, REQUIRED_TYPES[name]) for name in names])
    )
    if truth:
        part = part.append_column(
            TRUTH,
            table.column(TRUTH).cast(pa.float64())
            if TRUTH in table.column_names
            else pa.nulls(n, pa.float64()),
        )
    suggested = (
        table.column(SUGGESTED).cast(pa.int64())
        if SUGGESTED in table.column_names
        else pa.array(np.zeros(n, dtype=np.int64))
    )
    part = part.append_column(SUGGESTED, suggested)
    decided = with_decision_times(table, lag_days).column(DECIDED_US)
    part = part.append_column(DECIDED_US, decided)
    part = part.append_column(REVIEW, pa.array(review_kinds(table)))
    return part.append_column("_source", pa.array(np.full(n, source)))


def with_decisions(
    history: pa.Table,
    decisions: Sequence[pa.Table],
    lag_days: float = DEFAULT_ASSUMED_LAG_DAYS,
) -> pa.Table:
    """The history with analysts' decision rows added, in receipt order.

    A decision replaces a history row with the same report id (a later file wins over
    an earlier one). ``p_true`` is kept when the history has it and is null on decided
    rows: they have no known truth, so oracle figures use only the rows that do.
    ``suggested_priority`` (0 on history rows) keeps what the service had suggested, for
    the agreement metrics. ``decided_us`` holds each row's resolved decision time (a
    file without ``decided_at`` assumes ``lag_days``). Other provenance columns are dropped.
    """
    tables = [history, *decisions]
    truth = any(TRUTH in t.column_names for t in tables)
    combined = pa.concat_tables(
        [_part(t, i, truth, lag_days) for i, t in enumerate(tables)]
    )
    ids = combined.column("report_id").to_numpy(zero_copy_only=False)
    source = combined.column("_source").to_numpy()
    _refuse_id_collisions(ids, combined.column("received_at"))
    order = np.lexsort((np.arange(len(ids)), -source))  # later files first
    _, first = np.unique(ids[order], return_index=True)
    keep = np.sort(order[first])
    combined = combined.take(pa.array(keep)).drop_columns(["_source"])
    by_time = pc.sort_indices(combined, sort_keys=[("received_at", "ascending")])
    return combined.take(by_time)


def _refuse_id_collisions(ids: np.ndarray, received: pa.ChunkedArray) -> None:
    """Refuse a decided report whose id a history report received at another time has.

    A decision replaces the history row of the same report; two different reports that
    share an id (every generated history numbers its rows r0000000000…) would be replaced
    silently: 870 decided reports of 2025 took the place of 870 history reports of 2023
    (an outside test, session 9).

    Raises:
        HistoryError: naming how many ids collide and one of them.
    """
    frame = pd.DataFrame({"id": ids, "at": to_micros(received.to_pandas())})
    shared = frame[frame.duplicated("id", keep=False)]
    times = shared.groupby("id")["at"].nunique()
    clashing = times[times > 1]
    if clashing.empty:
        return
    example = str(clashing.index[0])
    raise HistoryError(
        f"{len(clashing)} report id(s) name reports received at different times in the "
        f"history and a decisions file (e.g. {example!r}): they are different reports "
        "numbered in different id spaces, and the decision would replace the history's "
        "silently. Give the history and the decisions one id space."
    )


def _analyst(flat: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """(analyst's priority, suggested priority) per row, 0 on rows no analyst decided."""
    if SUGGESTED not in flat.columns:
        return None
    suggested = flat[SUGGESTED].to_numpy(dtype=np.int64)
    priority = pd.to_numeric(flat["priority"], errors="coerce").fillna(0)
    analyst = np.where(suggested > 0, priority.to_numpy(dtype=np.int64), 0)
    return analyst, suggested


def load_history(
    path: Path,
    decisions: Sequence[Path] = (),
    assumed_lag_days: float = DEFAULT_ASSUMED_LAG_DAYS,
) -> History:
    """Validate, read and prepare a history (a file, or a folder of parts), with decisions.

    A file that is itself a decisions export (``suggested_priority`` present) may be
    loaded as the history too: its rows count as decided. Escalation counts are point in
    time: an earlier report counts once decided (``decided_at``, or ``received_at`` +
    ``assumed_lag_days`` for a file without it) before the counting report arrived.

    Raises:
        HistoryError: a file is unreadable or breaks the training-data format (every
            problem listed).
    """
    table = _read(path)
    if decisions:
        table = with_decisions(table, [_read(d) for d in decisions], assumed_lag_days)
    else:
        table = with_decision_times(table, assumed_lag_days)
        table = table.append_column(REVIEW, pa.array(review_kinds(table)))
    included = tuple((str(d), file_sha256(d)) for d in decisions)
    sha256 = combined_sha256(file_sha256(path), [digest for _, digest in included])
    flat = history_rows(table)
    labels = flat["escalated"].to_numpy(dtype=bool)
    links: dict[str, object] = {name: table.column(name) for name in LINK_COLUMNS}
    links["received_at"] = flat["received_at"]
    decided = flat[DECIDED_US].to_numpy(dtype=np.int64)
    flat = flat.assign(**history_frame_features(links, labels, decided))
    history = prepared_history(path, sha256, flat, included)
    if history.suggested is not None:
        logger.info(
            "%d analyst-decided reports (%d decisions file(s) added)",
            int((history.suggested > 0).sum()),
            len(decisions),
        )
    logger.info("loaded %d reports from %s", len(flat), path)
    return history


def prepared_history(
    path: Path,
    sha256: str,
    flat: pd.DataFrame,
    decisions: tuple[tuple[str, str], ...] = (),
) -> History:
    """A ``History`` of flat rows that already carry their linkage features (``hist_*``).

    ``load_history`` ends here; so does the Dask path, with the rows it gathers.
    """
    decided = _analyst(flat)
    return History(
        path=path,
        sha256=sha256,
        flat=flat,
        matrix=model_input(flat).matrix,
        labels=flat["escalated"].to_numpy(dtype=bool),
        p_true=flat[TRUTH].to_numpy(dtype=np.float64) if TRUTH in flat else None,
        micros=to_micros(flat["received_at"]),
        analyst=decided[0] if decided is not None else None,
        suggested=decided[1] if decided is not None else None,
        decisions=decisions,
    )
