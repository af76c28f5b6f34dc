"""Why a report got its score: the model's top contributions, in plain words.

The model computes the contributions (exact TreeSHAP, LightGBM's own) and picks each
report's top reasons (``EscalationModel.scores``, ``Scores.reasons``); this module only
turns the chosen ones into values and sentences from the feature spec. The contributions
add up, with the base value, to the booster's raw score (log-odds); the calibrated
probability is a monotone map of that score, so contributions must never be added to the
probability — the response says so.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from features.spec import FEATURE_SPEC, FEATURES
from serving.wording import PRESENT, Context, describe, not_applicable

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


def direction(contribution: float) -> str:
    """Which way a contribution pushes the priority, in words."""
    return "raises priority" if contribution > 0 else "lowers priority"


def sentence(
    feature: str,
    row: Mapping[str, Any],
    contribution: float,
    context: Context = PRESENT,
) -> str:
    """The sentence for the report's value (``serving.wording``), with its direction.

    ``context`` says what the report did not carry (no files, no account): without it
    the sentence claims nothing beyond the row's values.
    """
    try:
        said = describe(feature, row, context) if feature in FEATURES else None
    except (KeyError, ValueError, TypeError):
        said = None
    if said is None:
        said = f"{feature} = {row.get(feature)}"
    return f"{said}: {direction(contribution)}"


class PlainColumns(dict[str, list[Any]]):
    """``build_columns`` arrays as Python values, category codes as their labels.

    Made once per batch (``plain_columns``): the sentences, the not-applicable mask and the
    grouped line read each value several times, and reading numpy scalars one by one cost
    a third of a 1,000-report batch.
    """


def plain_columns(columns: Mapping[str, np.ndarray]) -> PlainColumns:
    """Every column as a list of plain values (NaN as None; categories as labels)."""
    out = PlainColumns()
    for name, array in columns.items():
        feature = FEATURES.get(name)
        if feature is not None and feature.kind == "category":
            labels = np.asarray(feature.categories, dtype=object)
            out[name] = labels[np.asarray(array, dtype=np.int64)].tolist()
        else:
            out[name] = [_plain(v) for v in np.asarray(array).tolist()]
    return out


class LazyRow(Mapping[str, Any]):
    """One report's feature values, plain: category codes read as their labels.

    So sentences read "Snapchat". Over ``plain_columns`` (a batch) or raw arrays.
    """

    def __init__(self, columns: Mapping[str, Any], index: int) -> None:
        self.columns, self.index = columns, index

    def __getitem__(self, name: str) -> Any:
        value = self.columns[name][self.index]
        if isinstance(self.columns, PlainColumns):
            return value
        feature = FEATURES.get(name)
        if feature is not None and feature.kind == "category":
            return feature.categories[int(value)]
        return _plain(value)

    def __iter__(self) -> Iterator[str]:
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)


def described(
    columns: Mapping[str, Any],
    index: int,
    positions: np.ndarray,
    values: np.ndarray,
    context: Context = PRESENT,
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
        said = sentence(name, row, value, context)
        out.append(Contribution(name, row[name], value, said))
    return out


_MAYBE_NOT_APPLICABLE: tuple[int, ...] = tuple(
    i
    for i, f in enumerate(FEATURE_SPEC)
    if f.group in ("files", "history", "location") or f.name.startswith("rp_account_")
)


def not_applicable_mask(
    columns: Mapping[str, Any], contexts: Sequence[Context]
) -> np.ndarray:
    """Which features (columns, in spec order) do not apply to each report (rows)."""
    mask = np.zeros((len(contexts), len(FEATURE_SPEC)), dtype=bool)
    for i, context in enumerate(contexts):
        row = LazyRow(columns, i)
        for position in _MAYBE_NOT_APPLICABLE:
            name = FEATURE_SPEC[position].name
            mask[i, position] = not_applicable(name, row, context) is not None
    return mask


_FIRST = ("no files", "no account", "no location")
"""The order of the commonest reasons a feature does not apply (the rest follow)."""


@dataclass(frozen=True)
class NotApplicable:
    """The features that do not apply to a report, as one line: why, and their sum."""

    because: tuple[str, ...]
    contribution: float
    text: str
    contributions: tuple[Contribution, ...]


def grouped(
    columns: Mapping[str, Any],
    index: int,
    contributions: np.ndarray,
    mask: np.ndarray,
    context: Context = PRESENT,
) -> NotApplicable | None:
    """One line for the contributions of the features that do not apply to the report.

    ``contributions`` and ``mask`` are the report's row of TreeSHAP values (features
    only) and of ``not_applicable_mask``. ``None`` if no such feature moved the score.
    """
    row = LazyRow(columns, index)
    members, because = [], []
    for position in np.flatnonzero(mask & (contributions != 0.0)):
        name = FEATURE_SPEC[int(position)].name
        value = float(contributions[position])
        said = sentence(name, row, value, context)
        members.append(Contribution(name, row[name], value, said))
        reason = not_applicable(name, row, context)
        if reason and reason not in because:
            because.append(reason)
    if not members:
        return None
    because.sort(key=lambda b: _FIRST.index(b) if b in _FIRST else len(_FIRST))
    total = float(np.sum(contributions[mask]))
    text = (
        f"Not applicable to this report ({', '.join(because)}): together "
        f"{'raises' if total > 0 else 'lowers'} priority by {abs(total):.3f} log-odds"
    )
    return NotApplicable(tuple(because), total, text, tuple(members))


def summary(reasons: Sequence[Contribution]) -> list[str]:
    """Up to three short phrases for the strongest reasons (largest push first)."""
    out = []
    for reason in reasons[:3]:
        said = reason.text.rsplit(": ", 1)[0]
        out.append(f"{said} ({direction(reason.contribution)})")
    return out
