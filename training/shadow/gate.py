"""Promotion's ``shadow`` gate, judged on what the service kept while the model shadowed.

A candidate earns this gate on live traffic, not on an offline window: it must have been
the service's challenger (``serving.shadow``) for at least ``min_reports`` reports, its
priority-1 queue must overlap the champion's enough (Jaccard of the two P1 sets), and on
the reports analysts decided its priority must agree with theirs at least as often as the
champion's did, less a tolerance. A candidate never shadowed is refused, saying so.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from training.shadow.compare import analyst_sides, p1_overlap


@dataclass(frozen=True)
class ShadowBounds:
    """The gate's bounds (``[gates]`` ``shadow_*`` keys of the training config)."""

    min_reports: int
    min_decided: int
    min_p1_overlap: float
    analyst_tolerance: float


def judge(frame: pd.DataFrame, bounds: ShadowBounds) -> tuple[bool, str]:
    """Whether the shadow answers in ``frame`` (one challenger's) pass, and why."""
    n = len(frame)
    if n == 0:
        return False, (
            "never shadowed: the service kept no answer of this model as challenger "
            "(give it the registry's `challenger` alias and let the service score with "
            "it, then promote)"
        )
    if n < bounds.min_reports:
        return False, f"shadowed on {n:,} reports, fewer than {bounds.min_reports:,}"
    overlap = p1_overlap(frame)
    jaccard = overlap["jaccard"]
    sides = analyst_sides(frame)
    ours, theirs = sides["challenger_agreement"], sides["champion_agreement"]
    problems = []
    if jaccard is not None and jaccard < bounds.min_p1_overlap:
        problems.append(f"P1 overlap {jaccard:.3f} < {bounds.min_p1_overlap}")
    if sides["decided"] < bounds.min_decided:
        problems.append(
            f"{sides['decided']:,} shadowed reports decided by analysts, fewer than "
            f"{bounds.min_decided:,}"
        )
    elif (
        ours is not None
        and theirs is not None
        and ours < theirs - bounds.analyst_tolerance
    ):
        problems.append(
            f"analyst agreement {ours:.3f} below the champion's {theirs:.3f} "
            f"beyond the tolerance {bounds.analyst_tolerance}"
        )
    facts = (
        f"shadowed on {n:,} reports; P1 overlap (Jaccard) "
        f"{'n/a (no P1 either side)' if jaccard is None else f'{jaccard:.3f}'}; "
        f"analyst agreement {_fmt(ours)} vs champion {_fmt(theirs)} "
        f"on {sides['decided']:,} decided"
    )
    return not problems, facts + ("; " + "; ".join(problems) if problems else "")


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
