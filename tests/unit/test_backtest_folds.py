"""Rolling-origin folds: calendar periods, and only what was known before each began."""

from __future__ import annotations

import numpy as np
import pytest

from features.linkage import NEVER_DECIDED
from training.backtest.folds import known_before, make_folds, period_bounds


def us(stamp: str) -> int:
    return int(np.datetime64(stamp, "us").astype(np.int64))


def day(stamp: str) -> str:
    return str(np.datetime64(us(stamp), "us").astype("datetime64[D]"))


def bounds(micros: list[int], step: str, folds: int) -> list[tuple[str, str]]:
    found = period_bounds(np.asarray(micros), step, folds)  # type: ignore[arg-type]
    return [
        (
            str(np.datetime64(a, "us").astype("datetime64[D]")),
            str(np.datetime64(b, "us").astype("datetime64[D]")),
        )
        for a, b in found
    ]


ROWS = [us("2024-01-15"), us("2024-02-03"), us("2024-03-31T23:59"), us("2024-04-02")]


def test_months_weeks_and_quarters_are_calendar_periods() -> None:
    assert bounds(ROWS, "month", 2) == [
        ("2024-03-01", "2024-04-01"),
        ("2024-04-01", "2024-05-01"),
    ]
    assert bounds(ROWS, "quarter", 1) == [("2024-04-01", "2024-07-01")]
    # 2024-04-01 is a Monday; weeks start on Mondays
    assert bounds(ROWS, "week", 1) == [("2024-04-01", "2024-04-08")]
    assert bounds([us("2024-04-07T23:00"), us("2024-04-10")], "week", 1) == [
        ("2024-04-08", "2024-04-15")
    ]


@pytest.mark.parametrize(
    ("step", "folds", "message"),
    [("month", 4, "spans 4 months; 4 folds need 5"), ("day", 1, "step must be")],
)
def test_too_few_periods_or_a_bad_step_are_refused(
    step: str, folds: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        period_bounds(np.asarray(ROWS), step, folds)  # type: ignore[arg-type]


def test_only_outcomes_known_before_the_period_are_learned_from() -> None:
    micros = np.asarray(
        [us("2024-01-01"), us("2024-01-10"), us("2024-01-20"), us("2024-02-05")]
    )
    decided = np.asarray(
        [us("2024-01-02"), us("2024-02-10"), NEVER_DECIDED, us("2024-02-06")]
    )
    # decided after the start: left out; never decided: known not escalated
    assert known_before(micros, decided, us("2024-02-01")).tolist() == [0, 2]


def test_folds_fit_on_the_past_calibrate_on_its_newest_and_score_their_period() -> None:
    rng = np.random.default_rng(0)
    micros = np.sort(rng.integers(us("2024-01-01"), us("2024-07-01"), 3_000))
    decided = micros + rng.integers(0, 30 * 86_400_000_000, len(micros))
    folds = make_folds(micros, decided, "month", 3, valid_share=0.25)
    assert [f.period for f in folds] == ["2024-04-01", "2024-05-01", "2024-06-01"]
    for fold in folds:
        known = np.concatenate([fold.train, fold.valid])
        assert (micros[known] < fold.start).all() and (
            decided[known] < fold.start
        ).all()
        assert micros[fold.valid].min() >= micros[fold.train].max()
        assert abs(len(fold.valid) - 0.25 * len(known)) <= 1
        assert (
            (micros[fold.test] >= fold.start) & (micros[fold.test] < fold.end)
        ).all()
        assert len(np.intersect1d(known, fold.test)) == 0
    # periods tile the scored span: every report of the last 3 months scored once
    scored = np.concatenate([f.test for f in folds])
    assert (
        sorted(scored.tolist()) == np.flatnonzero(micros >= us("2024-04-01")).tolist()
    )


def test_unsorted_rows_are_refused() -> None:
    with pytest.raises(ValueError, match="sorted"):
        make_folds(np.asarray([2, 1]), np.asarray([3, 3]), "month", 1, 0.2)
