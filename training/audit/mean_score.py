"""``mean_score``: a disparity judged from every report of a group, not its few positives.

Why: at the real base rate (0.18%) most groups hold a handful of escalations, so the recall
judges cannot tell a neglected group from noise. A calibrated model's mean probability over
a group that is a function of the features (country, platform, completeness are) equals the
group's mean true probability, however little information its reports carry:
``E[p_model | g] = E[p_true | g]``. A model trained on labels that under-record a group's
escalations by a factor scores the group at about that factor of its true rate. So the
group's mean score over the reference group's, *divided by the same ratio of a comparator*
(the oracle's ``p_true``; the reference model's probabilities) is ~1 for a fair model and
~the factor for a biased one. The model's own ratio is shown but never judged: groups
differ in true rate (that is case mix, not the model's doing).

The interval is a paired bucket bootstrap: every audited row is given one of ``BUCKETS``
random buckets once per audit; per group, the buckets' sums (rows, model probability,
each comparator's probability) are iid, and resampling buckets with replacement resamples
the group's rows in blocks (exactly the row bootstrap's variance in expectation; fast at
1M rows). The model and its comparators are resampled with the same weights (paired), so
what they share cancels in the excess's interval. The excess's interval is normal on the
log scale with the bootstrap's standard error, widened by two more sources of chance:

- **the group's training labels.** The model learnt the group's level from the escalations
  its training window happened to hold; with E of them expected, their count is off by
  about ``sqrt(E)`` by chance alone, and a fair model follows it. So ``1/E_train`` of the
  group and of the reference is added to the log excess's variance, with ``E_train`` the
  group's expected escalations in the model's training rows (``p_true`` summed there, or
  the labels without it): the window audit sums them over its model's training window;
  pooled predictions carry each fold's sums (``training_groups.json``). Without them
  (or ``training_chance = false``) the model is held fixed.
- **many comparisons.** An audit judges dozens of groups; at 95% each, a fair model is
  flagged somewhere most of the time. With ``simultaneous = true`` the intervals are
  Bonferroni-simultaneous over every ``mean_score`` comparison the audit makes.

A flag needs, for every comparator present, the excess beyond the judge's bound (e.g.
below ``min_ratio``) *and* its interval excluding 1: with thousands of reports the
interval is so narrow that a few percent of miscalibration would otherwise be
"significant". A group (or its reference) whose expected escalations (the largest sum of
a comparator's probabilities over its rows) are below ``min_expected`` is too small: its
mean rests on a handful of reports and the bootstrap interval would not be trustworthy.
"""

from __future__ import annotations

import math
import zlib
from typing import Any

import numpy as np
import pandas as pd

from training.audit.config import AuditConfig, Judge
from training.audit.stats import divide, quantiles, ratio, z_value

MEAN_SCORE = "mean_score"
BUCKETS = 200
"""Random buckets the rows are split into for the bootstrap (its resampling units)."""


def buckets(rows: int, seed: int) -> np.ndarray:
    """Each row's bucket, drawn once per audit.

    From a stream of its own, so the recall judges' draws stay what they were.
    """
    drawn: np.ndarray = _rng(seed, "buckets").integers(0, BUCKETS, size=rows)
    return drawn


def bucket_sums(
    scores: list[np.ndarray], bucket: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    """``(BUCKETS, 1 + len(scores))``: each bucket's row count, then each score's sum."""
    where = bucket[rows]
    columns = [np.bincount(where, minlength=BUCKETS).astype(float)]
    columns += [np.bincount(where, weights=s[rows], minlength=BUCKETS) for s in scores]
    return np.stack(columns, axis=-1)


def means(totals: np.ndarray) -> np.ndarray:
    """Mean of each score from totals (``(..., 1 + k)``: rows, then sums → ``(..., k)``)."""
    return divide(totals[..., 1:], totals[..., :1])


def resampled(sums: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``(n, 1 + k)`` totals of ``n`` bootstrap resamples of the buckets (paired columns)."""
    weights = rng.multinomial(BUCKETS, np.full(BUCKETS, 1 / BUCKETS), size=n)
    drawn: np.ndarray = weights @ sums
    return drawn


def _rng(seed: int, name: str) -> np.random.Generator:
    """A seeded stream of its own per use, independent of the order of judging."""
    return np.random.default_rng([seed, 19, zlib.crc32(name.encode())])


def _beyond(judge: Judge, value: float) -> bool:
    return (judge.min_ratio is not None and value < judge.min_ratio) or (
        judge.max_ratio is not None and value > judge.max_ratio
    )


def _exceeds(judge: Judge, found: dict[str, float]) -> bool | None:
    """Beyond the bound and the interval excluding 1 on that side (None: undefined)."""
    excess, low, high = found["excess"], found["excess_ci_low"], found["excess_ci_high"]
    if not all(math.isfinite(v) for v in (excess, low, high)):
        return None
    side = high < 1.0 if excess < 1.0 else low > 1.0
    return bool(_beyond(judge, excess) and side)


def confidence(cfg: AuditConfig, family: int) -> float:
    """Each interval's confidence: simultaneous over ``family`` comparisons (Bonferroni)."""
    if not cfg.simultaneous or family <= 1:
        return cfg.confidence
    return 1 - (1 - cfg.confidence) / family


def _detectable(
    judge: Judge, found: list[dict[str, float]], cfg: AuditConfig, level: float
) -> float:
    """The excess nearest 1 this group could be flagged at, from the largest ``se``.

    ``exp(-z' se)`` below parity (``exp(+z' se)`` above), ``z'`` including the configured
    power; never nearer 1 than the judge's bound, which a flag also needs.
    """
    errors = [f["se_log_excess"] for f in found]
    if not errors or not all(math.isfinite(e) for e in errors):
        return math.nan  # a comparator that cannot judge: nothing can be flagged
    shift = z_value(level, cfg.detect_power) * max(errors)
    if judge.min_ratio is not None:
        return min(math.exp(-shift), judge.min_ratio)
    detectable = math.exp(shift)
    return max(detectable, judge.max_ratio) if judge.max_ratio else detectable


def _log_se(draws: np.ndarray) -> float:
    """Standard error of the log of bootstrap draws (inf when one is 0, inf or undefined)."""
    if not len(draws) or not (np.isfinite(draws) & (draws > 0)).all():
        return math.inf
    return float(np.std(np.log(draws), ddof=1))


def training_variance(expected_train: tuple[float, float] | None) -> float:
    """Variance the group's and the reference's training labels add to the log excess.

    A count with E expected is off by ~sqrt(E) by chance: its log by ~1/sqrt(E). A group
    with no expected training escalations adds nothing: the model learnt no level of its
    own from it (it scores the group by other features), so no chance of its labels.
    """
    if expected_train is None:
        return 0.0
    return sum(1 / e for e in expected_train if e > 0)


FOLLOWS_GROUP = {"oracle": False, "reference_model": True}
"""Comparators that learn from the same training labels: where they see the group (its
attribute is not among ``HIDDEN_ATTRIBUTES``) they follow the same chance, which cancels
in the excess over them."""
HIDDEN_ATTRIBUTES = frozenset({"esp", "esp_size_tier", "jurisdiction", "completeness"})
"""Attributes defined (wholly or in part) by the platform and location features the
reference model does not see."""


def chance_applies(name: str, attribute: str) -> bool:
    """Whether the training labels' chance enters the excess over comparator ``name``."""
    return not FOLLOWS_GROUP.get(name, False) or attribute in HIDDEN_ATTRIBUTES


def compare(
    judge: Judge,
    names: list[str],
    sums: tuple[np.ndarray, np.ndarray],
    cfg: AuditConfig,
    rng: np.random.Generator,
    family: int = 1,
    expected_train: tuple[float, float] | None = None,
    attribute: str = "",
) -> dict[str, Any]:
    """Model ratio, comparators' ratios and the model's excess over each, with intervals.

    ``sums``: the group's and the reference's ``bucket_sums`` over (model, *names).
    ``family``: comparisons the intervals are simultaneous over (``confidence``);
    ``expected_train``: the group's and reference's expected training escalations;
    ``attribute``: whose groups (``chance_applies``).
    """
    whole = [s.sum(axis=0) for s in sums]
    point = divide(means(whole[0]), means(whole[1]))
    draws = ratio(
        means(resampled(sums[0], cfg.bootstrap, rng)),
        means(resampled(sums[1], cfg.bootstrap, rng)),
    )
    low, high = quantiles(draws[:, 0], cfg.confidence)
    level = confidence(cfg, family)
    z = z_value(level, 0.5)
    chance = training_variance(expected_train)
    comparisons: dict[str, dict[str, Any]] = {}
    for i, name in enumerate(names, start=1):
        c_low, c_high = quantiles(draws[:, i], cfg.confidence)
        excess = float(divide(point[0], point[i]))
        own = chance if chance_applies(name, attribute) else 0.0
        se = math.sqrt(_log_se(ratio(draws[:, 0], draws[:, i])) ** 2 + own)
        defined = math.isfinite(se) and math.isfinite(excess) and excess > 0
        found = {
            "ratio": float(point[i]),
            "ci_low": c_low,
            "ci_high": c_high,
            "excess": excess,
            "excess_ci_low": math.exp(math.log(excess) - z * se) if defined else 0.0,
            "excess_ci_high": math.exp(math.log(excess) + z * se)
            if defined
            else math.inf,
            "se_log_excess": se,
            "se_training": math.sqrt(own),
        }
        comparisons[name] = found | {"exceeds": _exceeds(judge, found)}
    return {
        "value": float(means(whole[0])[0]),
        "reference_value": float(means(whole[1])[0]),
        "ratio": float(point[0]),
        "ci_low": low,
        "ci_high": high,
        "detectable_ratio": _detectable(judge, list(comparisons.values()), cfg, level),
        "confidence": level,
        "comparisons": comparisons,
    }


def expected(
    arrays: dict[str, np.ndarray], names: list[str], rows: np.ndarray
) -> float:
    """A group's expected escalations: the largest comparator's sum of probabilities."""
    return max((float(arrays[f"{n}_p"][rows].sum()) for n in names), default=0.0)


def _in_training(
    trained: dict[str, float] | None, group: str, reference: str, cfg: AuditConfig
) -> tuple[float, float] | None:
    """The group's and reference's expected training escalations (None: not counted)."""
    if not cfg.training_chance or trained is None:
        return None
    return trained.get(group, 0.0), trained.get(reference, 0.0)


def scorers(arrays: dict[str, np.ndarray]) -> list[str]:
    """Comparators whose probabilities are present (``{name}_p``), in a stable order."""
    from training.audit.config import COMPARATORS

    return [name for name in COMPARATORS if f"{name}_p" in arrays]


def judge_groups(
    judge: Judge,
    attribute: str,
    groups: pd.Series,
    order: list[str],
    reference: str,
    arrays: dict[str, np.ndarray],
    cfg: AuditConfig,
    family: int = 1,
    trained: dict[str, float] | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every group of ``attribute`` judged on ``mean_score``: (checked, too small).

    ``order``: the attribute's groups as listed in its table. ``arrays``: ``y``, the
    model's probability ``p``, each comparator's ``{name}_p`` and each row's ``bucket``
    (``buckets``). ``family``: the audit's ``mean_score`` comparisons in all
    (``confidence``). ``trained``: each group's expected escalations in the model's
    training rows (``training.audit.window.training_expected``); None: not counted. Its
    bootstrap has a seeded stream per attribute (``_rng``).
    """
    rng = _rng(cfg.seed, attribute)
    names = scorers(arrays)
    head = {"attribute": attribute, "metric": MEAN_SCORE}
    if not names:
        reason = (
            "mean_score needs a comparator with probabilities (compare_with): "
            "p_true or the reference model's probabilities"
        )
        return [], [head | {"group": "(all)", "reason": reason}]
    scores = [arrays["p"], *(arrays[f"{n}_p"] for n in names)]
    labels = groups.to_numpy()
    ref_rows = labels == reference
    ref_sums = bucket_sums(scores, arrays["bucket"], ref_rows)
    checked, too_few = [], []
    for group in (g for g in order if g != reference):
        rows = labels == group
        exact = expected(arrays, names, rows), expected(arrays, names, ref_rows)
        in_training = _in_training(trained, group, reference, cfg)
        counts = {
            "positives": int(arrays["y"][rows].sum()),
            "reference_positives": int(arrays["y"][ref_rows].sum()),
            "expected": round(exact[0], 1),
            "reference_expected": round(exact[1], 1),
        }
        if in_training is not None:
            counts["expected_train"] = round(in_training[0], 1)
        sums = (bucket_sums(scores, arrays["bucket"], rows), ref_sums)
        found = compare(judge, names, sums, cfg, rng, family, in_training, attribute)
        entry = head | {"group": str(group)} | counts
        if min(exact) < cfg.min_expected:  # the unrounded figures (9.96 is under 10)
            too_few.append(entry | {"detectable_ratio": found["detectable_ratio"]})
            continue
        verdicts = [
            c["exceeds"]
            for c in found["comparisons"].values()
            if c["exceeds"] is not None
        ]
        # every comparator present must judge: one undefined excess flags nothing
        defined = math.isfinite(found["ratio"]) and len(verdicts) == len(names)
        checked.append(
            entry
            | found
            | {
                "reference": reference,
                "min_ratio": judge.min_ratio,
                "max_ratio": judge.max_ratio,
                "judged_on": "excess",
                "defined": defined,
                "disparity": any(verdicts),
                "flagged": defined and all(verdicts),
            }
        )
    return checked, too_few
