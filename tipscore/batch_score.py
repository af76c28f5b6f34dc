"""Rescoring a whole history, one process or a Dask cluster: ``tipscore score``.

After a model change, every report of a year (tens of millions) may need a new score. The
history is a folder of Parquet parts (``tipscore generate --partition month``) or one file;
each part becomes one output part with, per report: the calibrated probability, the
suggested priority and the top-N reasons (exact TreeSHAP in log-odds, as the service gives).

Why it is split this way:

- **Linkage features are point-in-time across parts** (a report links to reports in
  earlier months), so they are computed first, in one pass over the projected hash columns
  of the whole history with the training code (``history_frame_features``) — the same
  numbers training saw — and handed to each part's task.
- **Each part is an independent task** that writes its output to a temporary name and
  renames it into place. A task retried after a lost worker writes the same rows again
  under the same name: no part is lost, none doubled.
- The model is loaded once (pinned version, checksum verified) and shipped to the workers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from features.extract import build_columns, to_matrix
from features.linkage import LINK_COLUMNS, history_frame_features
from features.spec import FEATURE_NAMES
from training.registry import EscalationModel
from training.validate_data import history_frame

OUTPUT = pa.schema(
    [
        pa.field("report_id", pa.string(), nullable=False),
        pa.field("received_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("escalation_probability", pa.float64(), nullable=False),
        pa.field("suggested_priority", pa.int64(), nullable=False),
        pa.field("raw_score", pa.float64(), nullable=False),
        pa.field("base_value", pa.float64(), nullable=False),
        pa.field("reason_features", pa.list_(pa.string()), nullable=False),
        pa.field("reason_contributions", pa.list_(pa.float64()), nullable=False),
    ]
)
"""One row per report, in each input part's row order."""


@dataclass(frozen=True)
class Part:
    """One input part and where its output goes."""

    source: Path
    target: Path
    offset: int
    rows: int


def parts_of(data: Path) -> list[Path]:
    """The Parquet parts of a history: a folder's ``*.parquet`` in name order, or a file."""
    if data.is_dir():
        found = sorted(data.glob("*.parquet"))
        if not found:
            raise FileNotFoundError(f"{data}: no .parquet parts in this folder")
        return found
    if not data.is_file():
        raise FileNotFoundError(f"{data}: no such file or folder")
    return [data]


def linkage_by_part(sources: Sequence[Path]) -> tuple[list[int], dict[str, np.ndarray]]:
    """Point-in-time linkage features of every row, over all parts (row counts too).

    Reads only the hash columns, receipt times and labels; parts must be in receipt
    order (month parts named by month are).
    """
    wanted = [*LINK_COLUMNS, "received_at", "escalated"]
    tables = [pq.read_table(s, columns=wanted) for s in sources]
    table = pa.concat_tables(tables)
    links: dict[str, object] = {name: table.column(name) for name in LINK_COLUMNS}
    links["received_at"] = table.column("received_at").to_pandas()
    labels = table.column("escalated").to_numpy(zero_copy_only=False).astype(bool)
    return [len(t) for t in tables], history_frame_features(links, labels)


def score_part(
    part: Part, links: dict[str, np.ndarray], model: EscalationModel, top_n: int
) -> int:
    """Score one part and write its output atomically; return its row count."""
    table = pq.read_table(part.source)
    flat = history_frame(table).assign(**links)
    matrix = to_matrix(build_columns(flat))
    raw = model.raw_scores(matrix)
    probability = model.calibration.apply(raw)
    priority = model.policy.priority(probability)
    contributions = np.asarray(model.booster.predict(matrix, pred_contrib=True))
    features = contributions[:, :-1]
    order = np.argsort(-np.abs(features), axis=1, kind="stable")[:, :top_n]
    names = np.asarray(FEATURE_NAMES, dtype=object)
    out = pa.table(
        {
            "report_id": table.column("report_id").cast(pa.string()),
            "received_at": table.column("received_at").cast(OUTPUT.field(1).type),
            "escalation_probability": probability.astype(np.float64),
            "suggested_priority": np.asarray(priority, dtype=np.int64),
            "raw_score": raw.astype(np.float64),
            "base_value": contributions[:, -1].astype(np.float64),
            "reason_features": [list(names[row]) for row in order],
            "reason_contributions": [
                features[i, row].astype(np.float64).tolist()
                for i, row in enumerate(order)
            ],
        },
        schema=OUTPUT,
    )
    part.target.parent.mkdir(parents=True, exist_ok=True)
    tmp = part.target.with_name(f".{part.target.name}.{os.getpid()}.tmp")
    pq.write_table(out, tmp)
    os.replace(tmp, part.target)  # atomic: a retried task rewrites the same part
    return int(out.num_rows)


def plan(sources: Sequence[Path], sizes: Sequence[int], out: Path) -> list[Part]:
    """One output part per input part, named after it."""
    parts, offset = [], 0
    for source, rows in zip(sources, sizes, strict=True):
        parts.append(Part(source, out / f"scored-{source.stem}.parquet", offset, rows))
        offset += rows
    return parts


def _slice(links: dict[str, np.ndarray], part: Part) -> dict[str, np.ndarray]:
    return {k: v[part.offset : part.offset + part.rows] for k, v in links.items()}


@dataclass(frozen=True)
class ScoreSummary:
    """What a rescoring run wrote."""

    parts: int
    rows: int
    out: Path


def score_local(
    model: EscalationModel, data: Path, out: Path, top_n: int = 5, progress: bool = True
) -> ScoreSummary:
    """Rescore in this process, part after part."""
    sources = parts_of(data)
    sizes, links = linkage_by_part(sources)
    parts = plan(sources, sizes, out)
    rows = 0
    for part in tqdm(parts, desc="score", unit="part", disable=not progress):
        rows += score_part(part, _slice(links, part), model, top_n)
    return ScoreSummary(len(parts), rows, out)


def score_dask(
    model: EscalationModel,
    data: Path,
    out: Path,
    client: Any,
    top_n: int = 5,
    progress: bool = True,
    on_submitted: Callable[[], None] | None = None,
) -> ScoreSummary:
    """Rescore on a Dask cluster: one task per part, retried if its worker is lost."""
    from distributed import as_completed

    sources = parts_of(data)
    sizes, links = linkage_by_part(sources)
    parts = plan(sources, sizes, out)
    shared = client.scatter(model, broadcast=True)
    futures = [
        client.submit(
            score_part,
            part,
            _slice(links, part),
            shared,
            top_n,
            key=f"score-{part.source.stem}",
            retries=3,
            pure=False,
        )
        for part in parts
    ]
    if on_submitted is not None:
        on_submitted()
    rows = 0
    bar = tqdm(total=len(parts), desc="score", unit="part", disable=not progress)
    for future in as_completed(futures):  # type: ignore[no-untyped-call]
        rows += int(future.result())
        bar.update()
    bar.close()
    return ScoreSummary(len(parts), rows, out)


def local_cluster(workers: int = 2) -> Any:
    """A cluster on this machine: ``workers`` processes of one thread, no dashboard."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
    )
    return Client(cluster)  # type: ignore[no-untyped-call]


def write_month_parts(source: Path, folder: Path) -> list[Path]:
    """Split a history file into one Parquet part per receipt month (``YYYY-MM.parquet``).

    Rows keep their order; concatenating the parts in name order gives the file back.
    """
    table = pq.read_table(source)
    months = table.column("received_at").to_numpy().astype("datetime64[M]").astype(str)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for month in sorted(set(months)):
        rows = np.flatnonzero(months == month)
        path = folder / f"{month}.parquet"
        pq.write_table(table.take(pa.array(rows)), path)
        written.append(path)
    return written
