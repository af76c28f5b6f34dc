"""Stage 1, continued: incident types, bundles, repeat-offender accounts and their history.

The point-in-time account history (``prior_reports``: earlier reports on the same hashed
account within the window, strictly before this one) is what makes repeat offending
observable. The escalation model uses it, so only a model with linkage features can reach
the oracle.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from training.synth.config import GeneratorConfig
from training.synth.population import (
    INCIDENT_TYPES,
    MICROS_PER_DAY,
    US,
    Population,
    _micros,
    _pick,
    arrival_times,
    draw_country,
    draw_esp,
    draw_jurisdiction,
    profile_of,
    profile_table,
)

MAX_REPORTS_PER_ACCOUNT = 500
CSAM = INCIDENT_TYPES.index(
    "Child Pornography (possession, manufacture, and distribution)"
)


def _mix(shares: dict[str, float]) -> np.ndarray:
    return np.array([shares.get(t, 0.0) for t in INCIDENT_TYPES])


def incident_mixes(
    cfg: GeneratorConfig, us_share: float
) -> dict[tuple[bool, bool], np.ndarray]:
    """Incident-type mix by (after the Act, US); non-US keeps the overall mix after mixing."""
    mix = cfg.incident_type
    after, before, us_after = (
        _mix(mix.after_act),
        _mix(mix.before_act),
        _mix(mix.us_after_act),
    )
    ratio = np.divide(before, after, out=np.ones_like(before), where=after > 0)
    us_before = us_after * ratio
    mixes = {}
    for is_after, overall, us in ((True, after, us_after), (False, before, us_before)):
        us = us / us.sum()
        non_us = np.clip(
            (overall / overall.sum() - us_share * us) / (1 - us_share), 1e-9, None
        )
        mixes[(is_after, True)] = us
        mixes[(is_after, False)] = non_us / non_us.sum()
    return mixes


def draw_incident(
    rng: np.random.Generator,
    after_act: np.ndarray,
    jurisdiction: np.ndarray,
    cfg: GeneratorConfig,
) -> np.ndarray:
    """Incident type index per row, by REPORT Act regime and US / non-US."""
    mixes = incident_mixes(cfg, cfg.jurisdiction.from_2024["US"])
    out = np.empty(len(after_act), dtype=np.int8)
    for (is_after, is_us), probs in mixes.items():
        rows = np.flatnonzero((after_act == is_after) & ((jurisdiction == US) == is_us))
        out[rows] = _pick(rng, probs, len(rows))
    return out


def draw_bundles(
    rng: np.random.Generator, pop: Population, cfg: GeneratorConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Batched viral reports from 2024: CSAM from ESPs; mean incidents per report as M12."""
    eligible = pop.from_2024 & ~pop.public & (pop.incident == CSAM)
    batched = eligible & (rng.random(len(pop)) < cfg.bundling.bundle_share)
    count = np.ones(len(pop), dtype=np.int64)
    n_2024, n_batched = int(pop.from_2024.sum()), int(batched.sum())
    if n_batched:
        extra = (cfg.bundling.mean_incidents_from_2024 - 1.0) * n_2024 / n_batched
        lam = max(extra - 1.0, 0.0)
        count[batched] = 2 + rng.poisson(lam, n_batched)
    return batched, count


def assign_accounts(
    rng: np.random.Generator, pop: Population, cfg: GeneratorConfig
) -> np.ndarray:
    """Account id per row with a supplied user id (-1 otherwise); accounts stay on one ESP.

    Reports per account follow a truncated Zipf law, so most accounts appear once and a few
    repeat offenders appear many times.
    """
    has_user_id = profile_table(cfg, pop.profile_names, "user_id")[pop.profile]
    with_account = ~pop.public & ~pop.batched & (rng.random(len(pop)) < has_user_id)
    account = np.full(len(pop), -1, dtype=np.int64)
    next_id = 0
    for esp in np.unique(pop.esp[with_account]):
        rows = np.flatnonzero(with_account & (pop.esp == esp))
        sizes = np.minimum(
            rng.zipf(cfg.history.zipf_exponent, len(rows)), MAX_REPORTS_PER_ACCOUNT
        )
        owners = np.repeat(np.arange(len(sizes)), sizes)[: len(rows)]
        account[rows] = next_id + rng.permutation(owners)
        next_id += len(sizes)
    return account


def prior_counts(
    account: np.ndarray, received_us: np.ndarray, window_days: int
) -> np.ndarray:
    """Earlier reports on the same account within the window, strictly before each report.

    Rows must be in receipt order with strictly increasing times, so a row's index is its
    time rank and the window's start is a rank found by binary search.
    """
    counts = np.zeros(len(account), dtype=np.int64)
    rows = np.flatnonzero(account >= 0)
    if not len(rows):
        return counts
    n = len(account)
    window_start = np.searchsorted(
        received_us, received_us - window_days * MICROS_PER_DAY
    )
    keys = account[rows] * n + rows
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = account[rows] * n + window_start[rows]
    position = np.empty(len(rows), dtype=np.int64)
    position[order] = np.arange(len(rows))
    counts[rows] = position - np.searchsorted(sorted_keys, starts, side="left")
    return counts


def build_population(
    n: int, seed: int, start: date, end: date, cfg: GeneratorConfig
) -> Population:
    """Draw every stage-1 column for ``n`` reports received between ``start`` and ``end``."""
    rng = np.random.default_rng([seed, 1])
    received = arrival_times(rng, n, start, end, cfg)
    from_2024 = received >= _micros(cfg.calendar.bundling_start)
    after_act = received >= _micros(cfg.calendar.report_act_date)
    public = rng.random(n) < cfg.reporter.public_share
    jurisdiction = draw_jurisdiction(rng, from_2024, cfg)
    esp, names = draw_esp(rng, jurisdiction, public, received, cfg)
    profiles, profile_names = profile_of(cfg, names)
    unknown_rate = profile_table(cfg, profile_names, "unknown_location")[
        profiles[np.maximum(esp, 0)]
    ]
    jurisdiction[~public & (rng.random(n) < unknown_rate)] = 2
    pop = Population(
        received_us=received,
        from_2024=from_2024,
        after_act=after_act,
        public=public,
        jurisdiction=jurisdiction,
        country=draw_country(rng, jurisdiction, cfg),
        esp=esp,
        esp_names=names,
        profile=np.where(
            esp >= 0, profiles[np.maximum(esp, 0)], profile_names.index("default")
        ).astype(np.int8),
        profile_names=profile_names,
        incident=draw_incident(rng, after_act, jurisdiction, cfg),
        batched=np.zeros(n, dtype=bool),
        incident_count=np.ones(n, dtype=np.int64),
        account=np.full(n, -1, dtype=np.int64),
        prior_reports=np.zeros(n, dtype=np.int64),
    )
    pop.batched, pop.incident_count = draw_bundles(rng, pop, cfg)
    pop.account = assign_accounts(rng, pop, cfg)
    pop.prior_reports = prior_counts(pop.account, received, cfg.history.window_days)
    return pop
