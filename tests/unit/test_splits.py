"""Temporal splits: ordered, disjoint, never cutting through one instant."""

from __future__ import annotations

import numpy as np
import pytest

from training.splits import temporal_split


def test_windows_are_ordered_disjoint_and_complete() -> None:
    micros = np.arange(100) * 10
    split = temporal_split(micros, 0.2, 0.2)
    assert split.sizes() == {"train": 60, "valid": 20, "test": 20}
    assert (
        split.train.stop == split.valid.start and split.valid.stop == split.test.start
    )
    assert (
        micros[split.train].max() < micros[split.valid].min() < micros[split.test].min()
    )


def test_an_instant_is_never_split() -> None:
    micros = np.array([0, 1, 2, 3, 4, 5, 5, 5, 8, 9])
    split = temporal_split(micros, 0.2, 0.3)
    for a, b in ((split.train, split.valid), (split.valid, split.test)):
        assert micros[a].max() < micros[b].min()


def test_unsorted_rows_are_refused() -> None:
    with pytest.raises(ValueError, match="sorted by received_at"):
        temporal_split(np.array([3, 1, 2]), 0.3, 0.3)


def test_empty_window_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        temporal_split(np.zeros(10, dtype=np.int64), 0.2, 0.2)
