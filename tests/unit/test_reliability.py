"""Calibration where decisions are made: the restricted ECE and the region-aware bins."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from training.metrics import ece, ece_above, summary
from training.reliability import calibration_summary, reliability_bins, wilson


def _miscalibrated_at_the_top(
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    """100,000 well-calibrated reports at 0.1% and 1,000 'P1' reports said 30%, true 5%."""
    rng = np.random.default_rng(seed)
    bulk_p = np.full(100_000, 0.001)
    top_p = np.full(1_000, 0.30)
    p = np.concatenate([bulk_p, top_p])
    y = np.concatenate([rng.random(100_000) < 0.001, rng.random(1_000) < 0.05])
    return y, p, (0.25, 0.2)


def test_overall_ece_is_tiny_but_the_restricted_ece_is_large() -> None:
    y, p, (_, p2) = _miscalibrated_at_the_top()
    overall = ece(y, p)
    above = ece_above(y, p, p2)
    assert overall < 0.005
    assert above == pytest.approx(0.25, abs=0.03)
    assert above > 40 * overall


def test_restricted_ece_is_nan_when_no_report_is_above() -> None:
    y, p, _ = _miscalibrated_at_the_top()
    assert math.isnan(ece_above(y, p, 0.9))
    assert math.isnan(ece_above(y, p, math.inf))


def test_restricted_ece_is_small_when_the_top_is_calibrated() -> None:
    rng = np.random.default_rng(1)
    p = np.concatenate([np.full(50_000, 0.001), np.full(5_000, 0.3)])
    y = rng.random(len(p)) < p
    assert ece_above(y, p, 0.2) < 0.03


def test_summary_logs_the_restricted_ece_next_to_the_overall() -> None:
    y, p, thresholds = _miscalibrated_at_the_top()
    out = summary(y, p, thresholds)
    assert out["ece_above_p2"] == pytest.approx(ece_above(y, p, thresholds[1]))
    assert out["ece"] == pytest.approx(ece(y, p))


def test_bins_cover_the_p1_and_p2_regions() -> None:
    rng = np.random.default_rng(2)
    p = np.concatenate(
        [rng.uniform(0.0005, 0.01, 20_000), rng.uniform(0.03, 0.06, 300), [0.1] * 80]
    )
    y = rng.random(len(p)) < p
    thresholds = (0.06, 0.03)
    rows = reliability_bins(y, p, thresholds)
    regions = [r["region"] for r in rows]
    assert regions.count("P1") >= 1 and regions.count("P2") == 4
    assert max(r["upper"] for r in rows) == pytest.approx(0.1)
    assert all(r["lower"] >= 0.06 for r in rows if r["region"] == "P1")
    assert all(0.03 <= r["mean_predicted"] < 0.06 for r in rows if r["region"] == "P2")
    assert sum(r["reports"] for r in rows) == len(p)
    assert sum(r["escalations"] for r in rows) == int(y.sum())
    # ten plain equal-mass bins never reach the P2 region (the failure this fixes)
    top_decile = np.sort(p)[-len(p) // 10 :]
    assert top_decile.mean() < 0.03


def test_bins_skip_empty_regions_and_order_by_probability() -> None:
    p = np.linspace(0.001, 0.02, 100)
    y = np.zeros(100, dtype=bool)
    rows = reliability_bins(y, p, (math.inf, math.inf), bins=(5, 4, 4))
    assert [r["region"] for r in rows] == ["P3"] * 5
    means = [r["mean_predicted"] for r in rows]
    assert means == sorted(means)
    with pytest.raises(ValueError, match="shape"):
        reliability_bins(y[:3], p, (0.5, 0.1))


def test_wilson_interval_holds_the_rate_and_narrows_with_size() -> None:
    low, high = wilson(5, 100)
    assert low < 0.05 < high
    wide = high - low
    low, high = wilson(50, 1000)
    assert high - low < wide
    assert wilson(0, 10)[0] == 0.0
    assert all(math.isnan(v) for v in wilson(0, 0))


def test_audit_page_shows_calibration_in_the_decision_regions() -> None:
    from tests.unit.test_audit import _result
    from training.audit.report import render_html

    y, p, thresholds = _miscalibrated_at_the_top()
    result = _result("B") | {"calibration": calibration_summary(y, p, thresholds)}
    result["thresholds"] = {"p1": thresholds[0], "p2": thresholds[1]}
    page = render_html(result)
    assert "Calibration where decisions are made" in page
    above = result["calibration"]["ece_above_p2"]
    assert f"{above:.4f}" in page and above > 0.2
    assert (
        page.count("data:image/png;base64,") == 2
    )  # the ratio plot and the reliability
    json.dumps(result, allow_nan=False)  # audit.json stays strict JSON


def test_calibration_summary_is_strict_json_without_reports_above() -> None:
    y, p, _ = _miscalibrated_at_the_top()
    out = calibration_summary(y, p, (math.inf, math.inf))
    assert out["ece_above_p2"] is None and out["ece"] is not None
    assert {b["region"] for b in out["bins"]} == {"P3"}
    json.dumps(out, allow_nan=False)
