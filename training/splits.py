"""Temporal splits: oldest reports train, the next window validates, the latest tests.

Pure: receipt times in, index ranges out. A boundary never cuts through one instant, so
reports received at the same time are always in the same window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Split:
    """Contiguous row ranges of a history sorted by receipt."""

    train: slice
    valid: slice
    test: slice

    def sizes(self) -> dict[str, int]:
        """Rows per window."""
        return {name: s.stop - s.start for name, s in self.__dict__.items()}


def _clean(boundary: int, micros: np.ndarray) -> int:
    while 0 < boundary < len(micros) and micros[boundary] == micros[boundary - 1]:
        boundary -= 1  # the whole instant goes to the later window
    return boundary


def temporal_split(
    micros: np.ndarray, valid_fraction: float, test_fraction: float
) -> Split:
    """Split rows (sorted by receipt time, in µs) into train / valid / test windows.

    Raises:
        ValueError: the rows are not in receipt order, or a window would be empty.
    """
    n = len(micros)
    if n and (np.diff(micros) < 0).any():
        raise ValueError("rows must be sorted by received_at before splitting")
    test_start = _clean(n - round(n * test_fraction), micros)
    valid_start = _clean(max(test_start - round(n * valid_fraction), 0), micros)
    split = Split(
        slice(0, valid_start), slice(valid_start, test_start), slice(test_start, n)
    )
    empty = [name for name, size in split.sizes().items() if size == 0]
    if empty:
        raise ValueError(f"temporal split leaves {empty} empty ({n} rows)")
    return split
