"""The reference model: the same training, blind to who reported and from where.

Why: some groups' escalations carry less information (no location, files not viewed), so
even the best model recalls fewer of them. A disparity is the model's only when a model
that cannot see the group would not show it. The reference model is fitted like the audited
one (same config, same windows, ``training.fit.fit_model``: booster, isotonic calibration
and capacity thresholds on the validation window) but with the platform and location
features (``WHO_REPORTED``) blanked to missing, so no tree can split on them.

Kept cheap: at most ``reference_model_rows`` training rows, every escalation and a seeded
sample of the rest. Calibration and thresholds come from the whole validation window, so
the sample changes the ranking's precision only, not its scale or its queues. The rows are
weighted as the audited model's were (``[data]`` decision weights, ``training.weights``).
"""

from __future__ import annotations

import logging

import numpy as np

from features.spec import FEATURE_NAMES
from training.audit.disparity import WHO_REPORTED
from training.config import TrainConfig
from training.data import History
from training.fit import fit_model
from training.model import EscalationModel
from training.splits import Split
from training.weights import history_weights

logger = logging.getLogger(__name__)

HIDDEN_COLUMNS = tuple(
    i for i, name in enumerate(FEATURE_NAMES) if name in WHO_REPORTED
)
"""Matrix columns the reference model never sees (the platform and location features)."""


def hidden(matrix: np.ndarray) -> np.ndarray:
    """A copy of ``matrix`` with the platform and location columns missing (NaN)."""
    blind = np.array(matrix, dtype=np.float64, copy=True)
    blind[:, list(HIDDEN_COLUMNS)] = np.nan
    return blind


def training_rows(
    labels: np.ndarray, window: slice, limit: int, seed: int
) -> np.ndarray:
    """Row numbers of ``window``: every escalation and a seeded sample of the rest."""
    rows = np.arange(window.start, window.stop)
    if len(rows) <= limit:
        return rows
    positive = rows[labels[rows]]
    rest = rows[~labels[rows]]
    keep = max(limit - len(positive), 0)
    sample = np.random.default_rng(seed).choice(
        rest, size=min(keep, len(rest)), replace=False
    )
    chosen: np.ndarray = np.sort(np.concatenate([positive, sample]))
    return chosen


def fit_reference_model(
    config: TrainConfig, history: History, split: Split, max_rows: int
) -> EscalationModel:
    """The reference model for ``history`` split as the audited model's training split it.

    Also what a backtest calls per fold to write ``reference_priority`` beside the model's
    predictions (``training.audit.predictions.REFERENCE_COLUMNS``).
    """
    labels = history.labels.astype(bool)
    rows = training_rows(labels, split.train, max_rows, config.seed)
    logger.info(
        "reference model: %d training rows, platform/location hidden", len(rows)
    )
    valid = np.arange(split.valid.start, split.valid.stop)
    weights = history_weights(config, history)
    return fit_model(
        config,
        (hidden(history.matrix[rows]), labels[rows]),
        (hidden(history.matrix[valid]), labels[valid]),
        None if weights is None else (weights[rows], weights[valid]),
    )
