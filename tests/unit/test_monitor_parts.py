"""The monitor's pure parts: PSI, volume and completeness alerts, tiers, the profile."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from training.monitor.completeness import share_alert, z_statistic
from training.monitor.config import (
    CompletenessConfig,
    DriftConfig,
    MonitorConfigError,
    TierConfig,
    VolumeConfig,
    load_monitor_config,
)
from training.monitor.drift import band, drift_alerts, feature_drift, psi, score_drift
from training.monitor.overrides import size_tier
from training.monitor.periods import periods
from training.monitor.profile import (
    binned_shares,
    numeric_edges,
    profiled_features,
    reference_profile,
)
from training.monitor.volume import daily_volume, volume_alerts

START = date(2024, 1, 1)
SPAN = periods(START, START + timedelta(days=42), 14, 28)


def test_psi_is_zero_for_equal_shares_and_known_for_a_shift() -> None:
    assert psi([0.5, 0.5], [0.5, 0.5]) == 0.0
    expected = (0.7 - 0.5) * math.log(0.7 / 0.5) + (0.3 - 0.5) * math.log(0.3 / 0.5)
    assert psi([0.5, 0.5], [0.7, 0.3]) == pytest.approx(expected)
    assert psi([0.5, 0.5], [0.7, 0.3]) == pytest.approx(psi([0.7, 0.3], [0.5, 0.5]))


def test_psi_of_an_empty_bin_is_finite_and_large() -> None:
    value = psi([0.5, 0.5, 0.0], [0.0, 0.5, 0.5])
    assert math.isfinite(value) and value > 1.0


def test_psi_refuses_bins_that_do_not_match() -> None:
    with pytest.raises(ValueError, match="3 reference bins but 2"):
        psi([0.2, 0.3, 0.5], [0.5, 0.5])


def test_bands_follow_the_config() -> None:
    cfg = DriftConfig(warn_psi=0.1, alert_psi=0.25)
    assert [band(v, cfg) for v in (0.05, 0.1, 0.3)] == ["ok", "warn", "alert"]


def test_quantile_bins_hold_equal_shares_and_merge_ties() -> None:
    values = np.arange(1000, dtype=float)
    edges = numeric_edges(values, 10)
    assert len(edges) == 9
    assert binned_shares(values, edges) == pytest.approx([0.1] * 10, abs=0.002)
    assert numeric_edges(np.zeros(100), 10) == [0.0]


def _daily(counts: dict[str, list[int]]) -> pd.DataFrame:
    rows = [
        {"day": START + timedelta(days=i), "platform": p}
        for p, per_day in counts.items()
        for i, n in enumerate(per_day)
        for _ in range(n)
    ]
    return daily_volume(pd.DataFrame(rows), SPAN.start, SPAN.end)


def test_a_tripled_and_a_collapsed_platform_alert_a_steady_one_does_not() -> None:
    daily = _daily(
        {
            "A": [10] * 28 + [30] * 14,
            "B": [10] * 28 + [3] * 14,
            "C": [10] * 28 + [12] * 14,
        }
    )
    alerts = volume_alerts(daily, SPAN, VolumeConfig())
    assert [(a["platform"], a["direction"]) for a in alerts] == [
        ("A", "jump"),
        ("B", "collapse"),
    ]
    assert alerts[0]["ratio"] == pytest.approx(3.0)


def test_a_small_platform_is_not_judged_on_volume() -> None:
    daily = _daily({"tiny": [1] * 28 + [5] * 14})  # 28 baseline reports < 50
    assert volume_alerts(daily, SPAN, VolumeConfig()) == []
    assert volume_alerts(daily, SPAN, VolumeConfig(min_baseline_reports=20)) != []


def test_days_without_reports_count_as_zero() -> None:
    daily = _daily({"A": [0] * 10 + [5] * 32})
    assert len(daily) == 42 and int(daily["A"].iloc[0]) == 0


def test_a_share_that_halves_is_an_alert_noise_is_not() -> None:
    cfg = CompletenessConfig()
    assert share_alert((0.6, 280), (0.3, 140), cfg) is not None
    assert share_alert((0.6, 280), (0.55, 140), cfg) is None  # small change
    assert share_alert((0.6, 20), (0.1, 20), cfg) is None  # too few reports
    rise = share_alert((0.2, 1000), (0.5, 1000), cfg)
    assert rise is not None and rise["z"] > 0


def test_the_z_statistic_is_symmetric_and_zero_without_spread() -> None:
    assert z_statistic(0.5, 100, 0.6, 100) == pytest.approx(
        -z_statistic(0.6, 100, 0.5, 100)
    )
    assert z_statistic(0.0, 100, 0.0, 100) == 0.0


def test_size_tiers_by_reports_per_day() -> None:
    cfg = TierConfig(large=100, medium=10)
    assert [size_tier(v, cfg) for v in (500, 100, 50, 10, 9.9)] == [
        "large",
        "large",
        "medium",
        "medium",
        "small",
    ]


def _columns(
    rng: np.random.Generator, n: int, shift: float = 0.0
) -> dict[str, np.ndarray]:
    out = {}
    for f in profiled_features():
        if f.kind == "category":
            out[f.name] = rng.integers(0, len(f.categories), n)
        elif f.kind == "bool":
            out[f.name] = rng.random(n) < 0.5
        else:
            out[f.name] = rng.normal(shift, 1.0, n)
    return out


def test_drift_against_a_profile_finds_shifted_features_only() -> None:
    rng = np.random.default_rng(1)
    probabilities = rng.random(5000)
    priorities = rng.choice([1, 2, 3], 5000, p=[0.05, 0.15, 0.8])
    profile = reference_profile(_columns(rng, 5000), (probabilities, priorities))
    cfg = DriftConfig()
    same = feature_drift(profile, _columns(rng, 5000), cfg)
    assert all(r["status"] == "ok" for r in same)
    shifted = feature_drift(profile, _columns(rng, 5000, shift=1.5), cfg)
    numeric = {f.name for f in profiled_features() if f.kind in ("int", "float")}
    assert {r["feature"] for r in shifted if r["status"] == "alert"} == numeric
    scores = score_drift(profile, rng.random(5000) ** 3, np.full(5000, 3), cfg)
    kinds = {a["kind"] for a in drift_alerts(same, scores)}
    assert kinds == {"score_drift", "priority_mix_drift"}
    assert "hist_account_reports_30d" in profile["excluded"]


def test_the_shipped_config_loads_and_a_bad_one_names_every_key(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cfg, _ = load_monitor_config()
    assert cfg.recent_days == 14 and cfg.volume.jump_ratio == 2.0
    bad = tmp_path / "monitor.toml"
    bad.write_text("recent_days = 0\n[volume]\njump_ratio = 0.5\nnope = 1\n")
    with pytest.raises(MonitorConfigError) as caught:
        load_monitor_config(bad)
    assert len(caught.value.problems) == 3
