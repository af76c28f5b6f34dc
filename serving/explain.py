"""Why a report got its score: the model's top contributions, in plain words.

The model computes the contributions (exact TreeSHAP, LightGBM's own) and picks each
report's top reasons (``EscalationModel.scores``, ``Scores.reasons``); this module only
turns the chosen ones into values and sentences from the feature spec. The contributions
add up, with the base value, to the booster's raw score (log-odds); the calibrated
probability is a monotone map of that score, so contributions must never be added to the
probability — the response says so.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from features.spec import FEATURE_SPEC, FEATURES

SCALE_NOTE = (
    "contributions are in log-odds of the model's raw score: base_value plus all "
    "contributions equals the raw score; the calibrated probability is a monotone map of "
    "that raw score, so do not add contributions to the probability"
)


@dataclass(frozen=True)
class Contribution:
    """One feature's signed push on one report's raw score."""

    feature: str
    value: Any
    contribution: float
    text: str


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def sentence(feature: str, row: Mapping[str, Any], contribution: float) -> str:
    """The feature spec's sentence for the report's value, with the direction it pushes."""
    direction = "raises priority" if contribution > 0 else "lowers priority"
    try:
        said = FEATURES[feature].describe(row)
    except (KeyError, ValueError, TypeError):
        said = f"{feature} = {row.get(feature)}"
    return f"{said}: {direction}"


class LazyRow(Mapping[str, Any]):
    """One report's feature values (``build_columns`` arrays), made plain only when read.

    Category codes are turned back into their labels, so sentences read "Snapchat".
    """

    def __init__(self, columns: Mapping[str, np.ndarray], index: int) -> None:
        self.columns, self.index = columns, index

    def __getitem__(self, name: str) -> Any:
        value = self.columns[name][self.index]
        feature = FEATURES.get(name)
        if feature is not None and feature.kind == "category":
            return feature.categories[int(value)]
        return _plain(value)

    def __iter__(self) -> Iterator[str]:
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)


def described(
    columns: Mapping[str, np.ndarray],
    index: int,
    positions: np.ndarray,
    values: np.ndarray,
) -> list[Contribution]:
    """Report ``index``'s chosen reasons with its feature values and their sentences.

    ``positions`` and ``values`` are one row of the model's top reasons
    (``TopReasons.row``): feature positions in ``FEATURE_SPEC`` and contributions.
    """
    row = LazyRow(columns, index)
    out = []
    for position, contribution in zip(positions, values, strict=True):
        name = FEATURE_SPEC[int(position)].name
        value = float(contribution)
        out.append(Contribution(name, row[name], value, sentence(name, row, value)))
    return out
