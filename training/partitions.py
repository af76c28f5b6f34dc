"""A history in parts: a folder of Parquet files in receipt order, or one file's row groups.

Several years of reports do not fit one file or one machine. A partitioned history is a
folder of Parquet files in the training-data format whose name order is receipt order
(``tipscore generate --partition month`` writes ``YYYY-MM.parquet``); concatenated in name
order the parts are exactly the single-file history. A single file is split at its row
groups, so the same code reads both.

Each ``Part`` knows its rows' place in the whole history (``offset``) and its first and
last receipt time (from the Parquet statistics), so a Dask task can be given one part
and still know where it stands in time.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


class PartsError(ValueError):
    """A folder or file that is not a usable partitioned history; names the part."""


@dataclass(frozen=True)
class Part:
    """One part of a history: a file, or one row group of a file."""

    path: str
    row_group: int | None
    name: str
    offset: int
    """Row number of the part's first row in the whole history."""
    rows: int
    first_us: int
    last_us: int
    """Receipt times (µs since the epoch, UTC) of the part's first and last rows."""


def part_files(path: Path) -> list[Path]:
    """The Parquet files of a history: a folder's ``*.parquet`` in name order, or a file."""
    if path.is_dir():
        found = sorted(path.glob("*.parquet"))
        if not found:
            raise PartsError(f"{path}: no .parquet parts in this folder")
        return found
    if not path.is_file():
        raise PartsError(f"{path}: no such file or folder")
    return [path]


def _time_range(meta: pq.RowGroupMetaData, column: int) -> tuple[int, int] | None:
    stats = meta.column(column).statistics
    if stats is None or not stats.has_min_max:
        return None
    low, high = pa.scalar(stats.min), pa.scalar(stats.max)
    cast = pa.timestamp("us", tz="UTC")
    return int(low.cast(cast).value), int(high.cast(cast).value)


def _groups(file: Path) -> list[tuple[int, int, int]]:
    """(rows, first µs, last µs) of each row group of a file."""
    handle = pq.ParquetFile(file)
    column = handle.schema_arrow.get_field_index("received_at")
    if column < 0:
        raise PartsError(f"{file}: no received_at column")
    out = []
    for k in range(handle.metadata.num_row_groups):
        meta = handle.metadata.row_group(k)
        span = _time_range(meta, column)
        if span is None and meta.num_rows:
            times = handle.read_row_group(k, columns=["received_at"]).column(0)
            micros = times.cast(pa.timestamp("us", tz="UTC")).to_numpy().astype(int)
            span = int(micros.min()), int(micros.max())
        out.append((meta.num_rows, *(span or (0, 0))))
    return out


def history_parts(path: Path) -> list[Part]:
    """The parts of a history in receipt order (a folder's files, or a file's row groups).

    Raises:
        PartsError: no parts, or a part starts before the previous one ends.
    """
    files = part_files(path)
    parts: list[Part] = []
    offset = 0
    for file in files:
        groups = _groups(file)
        split = len(files) == 1 and len(groups) > 1
        for k, (rows, first, last) in enumerate(groups):
            if not rows:
                continue
            name = f"{file.stem}-part{k:04d}" if split else file.stem
            group = k if split else None
            parts.append(Part(str(file), group, name, offset, rows, first, last))
            offset += rows
    for before, after in itertools.pairwise(parts):
        if after.first_us < before.last_us:
            raise PartsError(
                f"parts out of receipt order: {after.name} starts before {before.name} "
                "ends (name order must be receipt order)"
            )
    return parts


def read_part(part: Part, columns: Sequence[str] | None = None) -> pa.Table:
    """A part's rows (all columns, or ``columns``)."""
    wanted = list(columns) if columns is not None else None
    if part.row_group is None:
        return pq.read_table(part.path, columns=wanted)
    return pq.ParquetFile(part.path).read_row_group(part.row_group, columns=wanted)


def part_columns(part: Part) -> list[str]:
    """The column names of a part (from its file's footer; no rows read)."""
    return list(pq.read_schema(part.path).names)


def read_parts(parts: Sequence[Part], columns: Sequence[str] | None = None) -> pa.Table:
    """Several parts as one table, in order (types unified, e.g. string/large_string)."""
    tables = [read_part(p, columns) for p in parts]
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise PartsError(f"parts have incompatible columns: {exc}") from exc


def receipt_micros(parts: Sequence[Part]) -> np.ndarray:
    """Receipt times of every row of the history (µs, in order): what the split needs."""
    if not parts:
        return np.zeros(0, dtype=np.int64)
    times = read_parts(parts, ["received_at"]).column(0)
    micros: np.ndarray = (
        times.cast(pa.timestamp("us", tz="UTC")).to_numpy().astype(np.int64)
    )
    return micros


def write_month_parts(source: Path, folder: Path) -> list[Path]:
    """Split a history file into one Parquet part per receipt month (``YYYY-MM.parquet``).

    Rows keep their order and the schema its metadata; concatenating the parts in name
    order gives the file's rows back.
    """
    table = pq.read_table(source)
    months = table.column("received_at").to_numpy().astype("datetime64[M]").astype(str)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for month in sorted(set(months)):
        rows = np.flatnonzero(months == month)
        path = folder / f"{month}.parquet"
        pq.write_table(table.take(pa.array(rows)), path, compression="zstd")
        written.append(path)
    return written
