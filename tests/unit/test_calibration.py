"""Calibration keeps the booster's ranking and follows the isotonic fit."""

from __future__ import annotations

import numpy as np

from training.fit import block_centres
from training.model import Calibration, Policy


def test_block_centres_collapse_flat_runs() -> None:
    x, y = block_centres(
        np.array([0.0, 1.0, 2.0, 3.0, 4.0]), np.array([0.1, 0.1, 0.1, 0.5, 0.5])
    )
    assert x.tolist() == [1.0, 3.5]
    assert y.tolist() == [0.1, 0.5]


def test_calibrated_probabilities_never_tie_distinct_scores() -> None:
    calibration = Calibration((0.0, 1.0), (0.01, 0.3))
    raw = np.array([-5.0, -4.0, 0.5, 3.0, 4.0])
    p = calibration.apply(raw)
    assert (np.diff(p) > 0).all()
    assert abs(p[2] - 0.155) < 1e-6


def test_policy_assigns_priorities() -> None:
    policy = Policy(0.5, 0.1, 0.005, 0.05)
    assert policy.priority(np.array([0.6, 0.5, 0.2, 0.1, 0.05])).tolist() == [
        1,
        1,
        2,
        2,
        3,
    ]
