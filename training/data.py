"""Loading a history file for training or evaluation: validated, ordered, with linkage.

The only reader of the outcome columns (``escalated``, ``p_true``) besides the validator.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from features.extract import build_columns, to_matrix
from features.linkage import LINK_COLUMNS, history_frame_features, to_micros
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


def load_history(path: Path) -> History:
    """Validate, read and prepare a history file.

    Raises:
        HistoryError: the file is unreadable or breaks the training-data format (every
            problem listed).
    """
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
    flat = history_frame(table)
    labels = flat["escalated"].to_numpy(dtype=bool)
    links: dict[str, object] = {name: table.column(name) for name in LINK_COLUMNS}
    links["received_at"] = flat["received_at"]
    flat = flat.assign(**history_frame_features(links, labels))
    has_truth = "p_true" in flat.columns
    logger.info("loaded %d reports from %s", len(flat), path)
    return History(
        path=path,
        sha256=file_sha256(path),
        flat=flat,
        matrix=to_matrix(build_columns(flat)),
        labels=labels,
        p_true=flat["p_true"].to_numpy(dtype=np.float64) if has_truth else None,
        micros=to_micros(flat["received_at"]),
    )
