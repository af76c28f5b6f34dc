"""``tipscore train --engine dask``: the single-machine run, with features and fit on a cluster.

What differs from ``training.train.train`` is only where the work happens:

1. **Parts** (``training.partitions``): the history is a folder of Parquet parts or one
   file's row groups. The driver reads only the receipt times, to make the same temporal
   split over the whole history.
2. **Linkage features** by a shuffle on the hash (``training.dask.shuffle``), then
   each part's rows are validated and turned into the model matrix on the worker that
   read them. Report ids are checked for duplicates across parts.
3. **Fit** with ``lightgbm.dask`` on the training window; the number of trees is chosen
   by the early-stopping rule on the validation window (``training.dask.fit``).
4. **The rest is the single-machine code**: the validation and test windows are gathered
   to the driver as a ``History``, and ``finish_model`` (calibration, thresholds) and
   ``finish_run`` (baselines, evaluation, MLflow run, model artifact) run unchanged. The
   logistic baseline is fitted on the training window (every ``k``-th row beyond
   ``LOGISTIC_ROWS``).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.extract import build_features, history_rows, model_input
from features.spec import FEATURE_NAMES
from training.config import TrainConfig
from training.dask.cluster import bucket_count, linkage_futures, worker_count
from training.dask.fit import (
    fit_booster_dask,
    iteration_log_loss,
    leaf_values,
)
from training.data import (
    HistoryError,
    file_sha256,
    folder_sha256,
    prepared_history,
)
from training.decision_times import DEFAULT_ASSUMED_LAG_DAYS, with_decision_times
from training.fit import finish_model
from training.partitions import (
    Part,
    PartsError,
    history_parts,
    part_files,
    read_part,
    receipt_micros,
)
from training.provenance import window_dates
from training.splits import Split, temporal_split
from training.train import STAGES, RunData, TrainResult, finish_run, progress_bar
from training.validate_data import validate_table

logger = logging.getLogger(__name__)
LOGISTIC_ROWS = 1_000_000
"""At most this many training-window rows go to the driver for the logistic baseline."""
Piece = tuple[int, int, int]
"""(part index, first row, end row) of a window inside one part."""


@dataclass
class PartRows:
    """One part, ready on the worker that read it: flat rows with linkage, matrix, labels."""

    flat: pd.DataFrame
    matrix: np.ndarray
    labels: np.ndarray
    ids: np.ndarray
    """64-bit hashes of the report ids (duplicates across parts are checked with them)."""


def prepare_part(
    part: Part, links: dict[str, np.ndarray], lag_days: float = DEFAULT_ASSUMED_LAG_DAYS
) -> PartRows:
    """Read and validate a part; attach its linkage features; build its matrix.

    The flat rows carry ``decided_us`` (``training.decision_times``), as one machine's do.
    """
    table = read_part(part)
    problems, _ = validate_table(table)
    if problems:
        lines = "; ".join(f"{p.column}: {p.problem}" for p in problems[:10])
        raise HistoryError(
            f"part {part.name} ({part.path}) is not a valid history "
            f"({len(problems)} problems): {lines}"
        )
    flat = history_rows(with_decision_times(table, lag_days), links)
    ids = table.column("report_id").to_numpy(zero_copy_only=False)
    return PartRows(
        flat=flat,
        matrix=model_input(flat).matrix,
        labels=flat["escalated"].to_numpy(dtype=bool),
        ids=pd.util.hash_array(np.asarray(ids, dtype=object)),
    )


def window(parts: Sequence[Part], rows: slice) -> list[Piece]:
    """The pieces of each part inside a window of the whole history's rows."""
    out = []
    for i, part in enumerate(parts):
        lo = max(rows.start - part.offset, 0)
        hi = min(rows.stop - part.offset, part.rows)
        if lo < hi:
            out.append((i, lo, hi))
    return out


def _matrix(rows: PartRows, lo: int, hi: int) -> np.ndarray:
    return rows.matrix[lo:hi]


def _labels(rows: PartRows, lo: int, hi: int) -> np.ndarray:
    return rows.labels[lo:hi].astype(np.float64)


def _flat(rows: PartRows, lo: int, hi: int, step: int = 1) -> pd.DataFrame:
    return rows.flat.iloc[lo:hi:step]


def _losses(
    rows: PartRows, lo: int, hi: int, booster: Any, values: np.ndarray
) -> np.ndarray:
    return iteration_log_loss(booster, values, rows.matrix[lo:hi], rows.labels[lo:hi])


def _ids(rows: PartRows) -> np.ndarray:
    return rows.ids


def _prepare(
    client: Any, parts: Sequence[Part], lag_days: float = DEFAULT_ASSUMED_LAG_DAYS
) -> list[Any]:
    """Futures of every part's ``PartRows``; refuses report ids repeated across parts.

    Parts are dealt to the workers in turn (part ``i`` to worker ``i mod n``), so each
    worker holds months from the whole history: LightGBM builds each feature's bins from
    one worker's rows, and linkage counts grow over time, so a worker holding only the
    oldest months would bin them coarsely (measured, with ``feature_pre_filter`` still
    on: test PR-AUC up to 0.015 from the one-machine model's with parts placed as they
    came, within 0.005 dealt out).
    """
    workers = sorted(client.scheduler_info(n_workers=-1)["workers"])
    buckets = bucket_count(parts, len(workers))
    links = linkage_futures(client, parts, buckets, lag_days)
    prepared = [
        client.submit(
            prepare_part,
            part,
            link,
            lag_days,
            workers=[workers[i % len(workers)]],
            allow_other_workers=True,
            pure=False,
        )
        for i, (part, link) in enumerate(zip(parts, links, strict=True))
    ]
    ids = np.concatenate(client.gather([client.submit(_ids, f) for f in prepared]))
    repeated = len(ids) - len(np.unique(ids))
    if repeated:
        raise HistoryError(f"report_id: {repeated} report ids repeat across parts")
    return prepared


def _array(client: Any, prepared: Sequence[Any], pieces: list[Piece], take: Any) -> Any:
    """A Dask array of ``take(rows, lo, hi)`` over the pieces, one chunk per piece."""
    import dask.array as da

    width = (len(FEATURE_NAMES),) if take is _matrix else ()
    chunks = [
        da.from_delayed(  # type: ignore[no-untyped-call]
            client.submit(take, prepared[i], lo, hi, pure=False),
            shape=(hi - lo, *width),
            dtype=np.float64,
        )
        for i, lo, hi in pieces
    ]
    return da.concatenate(chunks)  # type: ignore[no-untyped-call]


def _fit(
    client: Any,
    config: TrainConfig,
    prepared: Sequence[Any],
    pieces: tuple[list[Piece], list[Piece]],
) -> tuple[Any, int]:
    """The booster grown on the training pieces, and the trees to keep."""
    train, valid = pieces
    data = (
        _array(client, prepared, train, _matrix),
        _array(client, prepared, train, _labels),
    )

    def losses_of(booster: Any) -> np.ndarray:
        """Validation log-loss after each tree, summed over the workers' pieces."""
        shared = client.scatter(
            [booster, leaf_values(booster)], broadcast=True, hash=False
        )
        losses = client.gather(
            [
                client.submit(_losses, prepared[i], lo, hi, *shared, pure=False)
                for i, lo, hi in valid
            ]
        )
        total: np.ndarray = np.sum(losses, axis=0)
        return total

    return fit_booster_dask(client, config, data, losses_of)


def _gather(
    client: Any, prepared: Sequence[Any], pieces: Sequence[Piece], step: int = 1
) -> pd.DataFrame:
    """Flat rows of the pieces on the driver (every ``step``-th row of the window)."""
    frames = client.gather(
        [
            client.submit(_flat, prepared[i], lo, hi, step, pure=False)
            for i, lo, hi in pieces
        ]
    )
    return pd.concat(frames, ignore_index=True)


def _data_sha256(client: Any, data: Path) -> str:
    """The data hash ``load_history`` would log, with the files hashed on the workers."""
    files = part_files(data)
    digests = client.gather(client.map(file_sha256, files, pure=False))
    if data.is_dir():
        return folder_sha256([(f.name, d) for f, d in zip(files, digests, strict=True)])
    return str(digests[0])


def _run_data(
    client: Any,
    data: Path,
    parts: Sequence[Part],
    prepared: Sequence[Any],
    split: Split,
) -> RunData:
    """The validation and test windows as a ``History``, and the baseline's training rows."""
    flat = _gather(
        client, prepared, window(parts, slice(split.valid.start, split.test.stop))
    )
    history = prepared_history(data, _data_sha256(client, data), flat)
    sizes = split.sizes()
    valid_rows = sizes["valid"]
    local = Split(slice(0, 0), slice(0, valid_rows), slice(valid_rows, len(flat)))
    step = max(1, math.ceil(sizes["train"] / LOGISTIC_ROWS))
    sample = _gather(client, prepared, _stepped(parts, split.train, step), step)
    logistic = (build_features(sample), sample["escalated"].to_numpy(dtype=bool))
    params = {
        "engine": "dask",
        "dask_workers": worker_count(client),
        "dask_parts": len(parts),
        "baseline_logreg_train_rows": len(sample),
    }
    return RunData(history, local, sizes, logistic, params)


def _stepped(parts: Sequence[Part], rows: slice, step: int) -> list[Piece]:
    """Window pieces starting at rows whose history row number is a multiple of ``step``."""
    out = []
    for i, lo, hi in window(parts, rows):
        first = lo + (-(parts[i].offset + lo)) % step
        if first < hi:
            out.append((i, first, hi))
    return out


def train_dask(
    data: Path,
    config: TrainConfig,
    config_text: str,
    client: Any,
    progress: bool = True,
) -> TrainResult:
    """Train, evaluate and log one run with features and fit on the client's cluster.

    Raises:
        HistoryError: the history cannot be read or breaks the training-data format.
        ValueError: the config asks for analysts' decisions (one machine only, for now).
    """
    if config.data.decisions:
        raise ValueError(
            "--engine dask does not add analysts' decisions yet: train with "
            "--engine local, or write the decided rows into the history's parts"
        )
    bar = progress_bar(progress)
    try:
        parts = history_parts(data)
    except PartsError as exc:
        raise HistoryError(str(exc)) from exc
    micros = receipt_micros(parts)
    split = temporal_split(
        micros, config.split.valid_fraction, config.split.test_fraction
    )
    started = time.perf_counter()
    prepared = _prepare(client, parts, config.history.assumed_decision_lag_days)
    logger.info(
        "%d parts: linkage and features on the cluster in %.1f s",
        len(parts),
        time.perf_counter() - started,
    )
    bar.update()
    bar.set_postfix_str(STAGES[1])
    started = time.perf_counter()
    pieces = (window(parts, split.train), window(parts, split.valid))
    booster, trees = _fit(client, config, prepared, pieces)
    logger.info(
        "lightgbm.dask: %d trees grown, %d kept, in %.1f s",
        booster.num_trees(),
        trees,
        time.perf_counter() - started,
    )
    run = _run_data(client, data, parts, prepared, split)
    run.params["dask_trees_grown"] = booster.num_trees()  # before the cut to ``trees``
    run.tags.update(window_dates(micros, split))  # the whole history's windows
    valid = run.split.valid
    model = finish_model(
        config, booster, (run.history.matrix[valid], run.history.labels[valid]), trees
    )
    bar.update()
    return finish_run(model, run, config, config_text, bar)
