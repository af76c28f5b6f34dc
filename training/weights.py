"""Sample weights for analysts' decisions: trust blind reviews more, followed suggestions less.

Why: an analyst who simply accepts the model's suggestion (automation bias) produces a label
that repeats the model's own view; trained on, it teaches the model its own mistakes. A
decision made blind (issue 21: the suggestion was hidden until decided) carries no such echo.
``[data] blind_weight`` and ``[data] followed_suggestion_weight`` (training/config.py) weight
those rows in the booster's fit; every other row weighs 1. See docs/model.md, "Weighting
analysts' decisions".

Each row's review kind is read once from a history table (``review_kinds``) and kept in the
flat rows as ``REVIEW``; the weights are a pure function of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

if TYPE_CHECKING:
    from training.config import TrainConfig
    from training.data import History

REVIEW = "review_kind"
"""Column of the flat rows: how an analyst decided the row (one of the kinds below)."""
NOT_DECIDED = 0
"""A history row (no analyst decision in the file)."""
BLIND = 1
"""Decided blind: the suggestion was hidden until the analyst decided."""
FOLLOWED = 2
"""Decided with the suggestion shown, at the suggested priority."""
OVERRIDDEN = 3
"""Decided with the suggestion shown, at another priority."""


def review_kinds(table: pa.Table) -> np.ndarray:
    """Each row's review kind, from a decisions export's provenance columns (else 0)."""
    n = len(table)
    if "suggested_priority" not in table.column_names:
        return np.zeros(n, dtype=np.int8)
    suggested = np.nan_to_num(
        np.asarray(table.column("suggested_priority").to_numpy(zero_copy_only=False)),
        nan=0,
    ).astype(np.int64)
    priority = np.asarray(
        table.column("priority").to_numpy(zero_copy_only=False), dtype=object
    ).astype(str)
    decided = suggested > 0
    followed = decided & (priority == suggested.astype(str))
    kinds = np.where(followed, FOLLOWED, np.where(decided, OVERRIDDEN, NOT_DECIDED))
    if "decision_blind" in table.column_names:
        blind = np.asarray(
            table.column("decision_blind")
            .fill_null(False)
            .to_numpy(zero_copy_only=False),
            dtype=bool,
        )
        kinds = np.where(decided & blind, BLIND, kinds)
    return kinds.astype(np.int8)


def sample_weights(
    kinds: np.ndarray | None, blind_weight: float, followed_weight: float
) -> np.ndarray | None:
    """Per-row weights for the fit; None when every row would weigh 1 (the default)."""
    if kinds is None or (blind_weight == 1.0 and followed_weight == 1.0):
        return None
    weights = np.ones(len(kinds), dtype=np.float64)
    weights[kinds == BLIND] = blind_weight
    weights[kinds == FOLLOWED] = followed_weight
    return weights


def history_weights(config: TrainConfig, history: History) -> np.ndarray | None:
    """Every row's weight in ``history`` under ``config``'s ``[data]`` weights (or None).

    The one reading of the weights for every fit of a config — ``tipscore train``, each
    backtest fold, the audit's reference model — so none of them fits another model.
    """
    return sample_weights(
        history.review,
        config.data.blind_weight,
        config.data.followed_suggestion_weight,
    )
