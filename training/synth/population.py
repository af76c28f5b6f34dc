"""Stage 1 of the generator: who reports what, when, from where — over the whole history.

These columns are drawn for all rows at once because later stages need them globally: the
arrival times order the history, and the repeat-offender accounts must be counted across
the whole history (point in time) before any report's risk can be known.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np

from features.vocab import IncidentType
from training.synth.config import GeneratorConfig, Profile

US, INTERNATIONAL, UNKNOWN = 0, 1, 2
JURISDICTIONS = ("US", "international", "unknown")
INCIDENT_TYPES = tuple(t.value for t in IncidentType)
MICROS_PER_DAY = 86_400_000_000
CONTACT_TYPES = frozenset(
    {
        IncidentType.ONLINE_ENTICEMENT.value,
        IncidentType.CHILD_SEX_TRAFFICKING.value,
        IncidentType.CHILD_SEXUAL_MOLESTATION.value,
        IncidentType.CHILD_SEX_TOURISM.value,
    }
)


@dataclass
class Population:
    """Stage-1 columns for every row (numpy arrays of length n) and their vocabularies."""

    received_us: np.ndarray  # int64 microseconds since the epoch, strictly increasing
    from_2024: np.ndarray  # bool: bundling / location / designation regime
    after_act: np.ndarray  # bool: REPORT Act regime
    public: np.ndarray  # bool
    jurisdiction: np.ndarray  # int8: US, INTERNATIONAL, UNKNOWN
    country: np.ndarray  # object: ISO code or None
    esp: np.ndarray  # int32 index into esp_names, -1 for public reports
    esp_names: list[str]
    profile: np.ndarray  # int8 index into profile_names
    profile_names: list[str]
    incident: np.ndarray  # int8 index into INCIDENT_TYPES
    batched: np.ndarray  # bool
    incident_count: np.ndarray  # int64 >= 1
    account: np.ndarray  # int64 account id, -1 when no user id is supplied
    prior_reports: np.ndarray  # int64 earlier reports on the same account in the window

    def __len__(self) -> int:
        return len(self.received_us)


def _micros(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1e6)


def arrival_times(
    rng: np.random.Generator, n: int, start: date, end: date, cfg: GeneratorConfig
) -> np.ndarray:
    """Sorted, strictly increasing receipt times; daily volume follows the year's total."""
    days = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + 1)
    years = days.astype("datetime64[Y]").astype(int) + 1970
    known = cfg.calendar.volume_by_year
    nearest = [known[min(known, key=lambda y: abs(y - int(year)))] for year in years]
    lengths = np.where(
        (years % 4 == 0) & ((years % 100 != 0) | (years % 400 == 0)), 366, 365
    )
    weights = np.asarray(nearest, dtype=np.float64) / lengths
    cdf = np.cumsum(weights) / weights.sum()
    u = np.sort(rng.random(n))
    day_index = np.minimum(np.searchsorted(cdf, u, side="right"), len(days) - 1)
    within = rng.integers(0, MICROS_PER_DAY, n)
    times = _micros(start) + day_index.astype(np.int64) * MICROS_PER_DAY + within
    times.sort()
    ramp = np.arange(n, dtype=np.int64)
    strictly: np.ndarray = np.maximum.accumulate(times - ramp) + ramp
    return strictly


def _pick(rng: np.random.Generator, probs: np.ndarray, n: int) -> np.ndarray:
    cdf = np.cumsum(probs / probs.sum())
    picked: np.ndarray = np.minimum(
        np.searchsorted(cdf, rng.random(n), side="right"), len(cdf) - 1
    )
    return picked


def draw_jurisdiction(
    rng: np.random.Generator, from_2024: np.ndarray, cfg: GeneratorConfig
) -> np.ndarray:
    """US / international / unknown by regime."""
    out = np.empty(len(from_2024), dtype=np.int8)
    for flag, shares in (
        (False, cfg.jurisdiction.before_2024),
        (True, cfg.jurisdiction.from_2024),
    ):
        rows = np.flatnonzero(from_2024 == flag)
        probs = np.array([shares[j] for j in JURISDICTIONS])
        out[rows] = _pick(rng, probs, len(rows))
    return out


def draw_country(
    rng: np.random.Generator, jurisdiction: np.ndarray, cfg: GeneratorConfig
) -> np.ndarray:
    """ISO codes: US for US reports; the per-country table for international ones."""
    named = cfg.countries.shares
    rest = max(cfg.countries.international_total - sum(named.values()), 0.0)
    others = cfg.countries.other_countries
    codes = [*named, *others]
    probs = np.array([*named.values(), *([rest / len(others)] * len(others))])
    country = np.full(len(jurisdiction), None, dtype=object)
    country[jurisdiction == US] = "US"
    international = np.flatnonzero(jurisdiction == INTERNATIONAL)
    country[international] = np.asarray(codes, dtype=object)[
        _pick(rng, probs, len(international))
    ]
    return country


def esp_universe(cfg: GeneratorConfig) -> tuple[list[str], np.ndarray]:
    """Every ESP name and its overall share: named, low-quality, and a Zipf tail."""
    named = dict(cfg.esp.overall)
    for name in cfg.esp.us:
        named.setdefault(name, 0.0)
    low = [n for n in cfg.esp.low_quality if n not in named]
    tail_total = max(cfg.esp.tail_share - cfg.esp.low_quality_tail_share, 0.0)
    ranks = np.arange(1, cfg.esp.tail_count + 1, dtype=np.float64)
    tail = ranks**-cfg.esp.tail_zipf_exponent
    tail = tail / tail.sum() * tail_total
    names = [
        *named,
        *low,
        *(f"Small ESP {i:03d}" for i in range(1, cfg.esp.tail_count + 1)),
    ]
    shares = np.array(
        [
            *named.values(),
            *([cfg.esp.low_quality_tail_share / max(len(low), 1)] * len(low)),
            *tail,
        ]
    )
    return names, shares


def esp_probabilities(
    cfg: GeneratorConfig, names: list[str], overall: np.ndarray, us_share: float
) -> tuple[np.ndarray, np.ndarray]:
    """ESP mix for US and for non-US reports, so that their mixture keeps the overall mix."""
    us = np.array([cfg.esp.us.get(n, 0.0) for n in names])
    listed = us.sum()
    unlisted = overall * (us == 0)
    us = us + unlisted / unlisted.sum() * max(1.0 - listed, 0.0)
    non_us = np.clip(
        (overall / overall.sum() - us_share * us) / (1.0 - us_share), 0.0, None
    )
    return us / us.sum(), non_us / non_us.sum()


def draw_esp(
    rng: np.random.Generator,
    jurisdiction: np.ndarray,
    public: np.ndarray,
    received_us: np.ndarray,
    cfg: GeneratorConfig,
) -> tuple[np.ndarray, list[str]]:
    """ESP index per row (-1 for public reports); the new ESP only after its start date."""
    names, overall = esp_universe(cfg)
    us_p, non_us_p = esp_probabilities(
        cfg, names, overall, cfg.jurisdiction.from_2024["US"]
    )
    new = names.index(cfg.esp.new_esp) if cfg.esp.new_esp in names else None
    active = received_us >= _micros(cfg.esp.new_esp_start)
    esp = np.full(len(jurisdiction), -1, dtype=np.int32)
    for is_us in (True, False):
        for is_active in (True, False):
            probs = (us_p if is_us else non_us_p).copy()
            if new is not None and not is_active:
                probs[new] = 0.0
            rows = np.flatnonzero(
                ~public & ((jurisdiction == US) == is_us) & (active == is_active)
            )
            esp[rows] = _pick(rng, probs, len(rows))
    return esp, names


def profile_of(cfg: GeneratorConfig, names: list[str]) -> tuple[np.ndarray, list[str]]:
    """Reporting-practice profile index per ESP (``default`` unless listed)."""
    profile_names = list(cfg.profiles)
    lookup = {
        esp: profile_names.index(p)
        for p, prof in cfg.profiles.items()
        for esp in prof.esps
    }
    return np.array(
        [lookup.get(n, profile_names.index("default")) for n in names], dtype=np.int8
    ), profile_names


def profile_table(
    cfg: GeneratorConfig, profile_names: list[str], field: str
) -> np.ndarray:
    """One profile field as an array indexed by profile (for vectorised lookups)."""
    profiles: list[Profile] = [cfg.profiles[p] for p in profile_names]
    return np.array([getattr(p, field) or 0.0 for p in profiles], dtype=np.float64)
