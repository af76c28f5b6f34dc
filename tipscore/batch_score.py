"""Rescoring a whole history, one process or a Dask cluster: ``tipscore score``.

After a model change, every report of a year (tens of millions) may need a new score. The
history is a folder of Parquet parts (``tipscore generate --partition month``) or one file
(split at its row groups); each part becomes one output part with, per report: the
calibrated probability, the suggested priority and the top-N reasons — exact TreeSHAP in
log-odds, chosen as the service chooses them (``training.model.top_reasons``).

Why it is split this way:

- **Linkage features are point-in-time across parts** (a report links to reports in
  earlier months). On a cluster they come from the shuffle on the hash that training
  uses (``training.dask.cluster.linkage_futures``); in one process, from one pass of
  ``history_frame_features`` over the hash columns of all parts. Both give the numbers
  training saw (tested).
- **Each part is one task** that writes its output to a temporary name and renames it
  into place. A task retried after a lost worker writes the same rows again under the
  same name: no part is lost, none doubled. At the end every output part's row count is
  checked against its input part.
- The model is loaded once (pinned version, checksum verified) and shipped to the workers.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from features.extract import model_input
from features.linkage import LINK_COLUMNS, history_frame_features
from features.spec import FEATURE_NAMES
from training.dask.cluster import bucket_count, linkage_futures, worker_count
from training.dask.shuffle import input_columns
from training.decision_times import DEFAULT_ASSUMED_LAG_DAYS, decided_micros
from training.model import TopReasons
from training.partitions import Part, history_parts, part_columns, read_parts
from training.registry import EscalationModel

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


MANIFEST = "_manifest.json"
"""Written last into ``--out``: the model, the parts and their rows."""


@dataclass(frozen=True)
class ScoreSummary:
    """What a rescoring run wrote."""

    parts: int
    rows: int
    out: Path
    files: tuple[tuple[str, int], ...] = ()
    """(output file name, rows) of every part, in order."""


def target_of(part: Part, out: Path) -> Path:
    """Where a part's scores go: ``OUT/scored-<part name>.parquet``."""
    return out / f"scored-{part.name}.parquet"


def reason_lists(top: TopReasons) -> tuple[pa.Array, pa.Array]:
    """Every row's reasons as two Arrow list columns: feature names, contributions."""
    kept = top.kept
    offsets = pa.array(np.r_[0, np.cumsum(top.count)].astype(np.int32))
    names = np.asarray(FEATURE_NAMES, dtype=object)[top.position[kept]]
    return (
        pa.ListArray.from_arrays(offsets, pa.array(names, pa.string())),
        pa.ListArray.from_arrays(offsets, pa.array(top.value[kept], pa.float64())),
    )


def score_table(
    table: pa.Table, links: dict[str, np.ndarray], model: EscalationModel, top_n: int
) -> pa.Table:
    """Scores and reasons of a part's rows (``OUTPUT`` schema)."""
    scores = model.scores(model_input(table, links).matrix, explain=True)
    names, values = reason_lists(scores.reasons(top_n))
    return pa.table(
        {
            "report_id": table.column("report_id").cast(pa.string()),
            "received_at": table.column("received_at").cast(OUTPUT.field(1).type),
            "escalation_probability": scores.probability.astype(np.float64),
            "suggested_priority": scores.priority,
            "raw_score": scores.raw.astype(np.float64),
            "base_value": scores.base_value.astype(np.float64),
            "reason_features": names,
            "reason_contributions": values,
        },
        schema=OUTPUT,
    )


def score_part(
    part: Part,
    target: Path,
    links: dict[str, np.ndarray],
    model: EscalationModel,
    top_n: int,
) -> int:
    """Score one part and write its output atomically; return its row count."""
    out = score_table(read_parts([part]), links, model, top_n)
    target.parent.mkdir(parents=True, exist_ok=True)
    # A unique name: a worker presumed lost may still be writing the same part.
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    pq.write_table(out, tmp)
    os.replace(tmp, target)  # atomic: a retried task replaces the same part whole
    return int(out.num_rows)


def central_links(parts: Sequence[Part]) -> list[dict[str, np.ndarray]]:
    """Every part's linkage features from one pass over all parts' hash columns."""
    table = read_parts(parts, input_columns(part_columns(parts[0])))
    links: dict[str, object] = {name: table.column(name) for name in LINK_COLUMNS}
    links["received_at"] = table.column("received_at").to_pandas()
    labels = table.column("escalated").to_numpy(zero_copy_only=False).astype(bool)
    decided = decided_micros(table, DEFAULT_ASSUMED_LAG_DAYS)
    whole = history_frame_features(links, labels, decided)
    return [
        {k: v[p.offset : p.offset + p.rows] for k, v in whole.items()} for p in parts
    ]


def _finish(parts: Sequence[Part], out: Path, rows: int) -> ScoreSummary:
    """Drop this run's temporary files of tasks lost mid-write; check each part is whole."""
    for part in parts:
        target = target_of(part, out)
        for stale in out.glob(f".{target.name}.*.tmp"):
            stale.unlink(missing_ok=True)
        written = pq.read_metadata(target).num_rows
        if written != part.rows:
            raise RuntimeError(f"{target}: {written} rows written for {part.rows} read")
    files = tuple((target_of(p, out).name, p.rows) for p in parts)
    return ScoreSummary(len(parts), rows, out, files)


class OutputExistsError(ValueError):
    """``--out`` holds an earlier run's scores and ``--overwrite`` was not given."""


def claim_out(out: Path, overwrite: bool) -> None:
    """Make ``out`` ready for a run: refuse an earlier run's output, or remove it.

    Parts left from an earlier run (another model, or parts since renamed or removed)
    would mix with this run's and be read as one output; the manifest would no longer
    describe the folder.

    Raises:
        OutputExistsError: ``out`` holds scored parts or a manifest, and not ``overwrite``.
    """
    earlier = [*out.glob("scored-*.parquet"), *out.glob(".scored-*.tmp")]
    earlier += [out / MANIFEST] if (out / MANIFEST).exists() else []
    if earlier and not overwrite:
        raise OutputExistsError(
            f"{out} already holds {len(earlier)} scored file(s) from an earlier run: "
            "pass --overwrite to replace them, or choose another --out"
        )
    for path in earlier:
        path.unlink(missing_ok=True)


def write_manifest(summary: ScoreSummary, about: dict[str, Any]) -> Path:
    """Write ``OUT/_manifest.json`` last: what was scored, with which model, the parts.

    Its presence says the run finished; a reader should take exactly the listed parts.
    """
    manifest = {
        **about,
        "rows": summary.rows,
        "parts": [{"file": name, "rows": rows} for name, rows in summary.files],
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    path = summary.out / MANIFEST
    tmp = path.with_name(f".{MANIFEST}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(tmp, path)
    return path


def score_local(
    model: EscalationModel, data: Path, out: Path, top_n: int = 5, progress: bool = True
) -> ScoreSummary:
    """Rescore in this process, part after part."""
    parts = history_parts(data)
    rows = 0
    for part, links in zip(
        tqdm(parts, desc="score", unit="part", disable=not progress),
        central_links(parts),
        strict=True,
    ):
        rows += score_part(part, target_of(part, out), links, model, top_n)
    return _finish(parts, out, rows)


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

    parts = history_parts(data)
    links = linkage_futures(client, parts, bucket_count(parts, worker_count(client)))
    shared = client.scatter(model, broadcast=True, hash=False)
    futures = [
        client.submit(
            score_part,
            part,
            target_of(part, out),
            link,
            shared,
            top_n,
            key=f"score-{part.name}-{os.urandom(4).hex()}",
            retries=3,
            pure=False,
        )
        for part, link in zip(parts, links, strict=True)
    ]
    if on_submitted is not None:
        on_submitted()
    rows = 0
    bar = tqdm(total=len(parts), desc="score", unit="part", disable=not progress)
    for future in as_completed(futures):  # type: ignore[no-untyped-call]
        rows += int(future.result())
        bar.update()
    bar.close()
    return _finish(parts, out, rows)
