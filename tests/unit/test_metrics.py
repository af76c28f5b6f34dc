"""Metrics on hand-worked cases, ties at the queue boundary included."""

from __future__ import annotations

import math

import numpy as np
import pytest

from training.metrics import (
    HIGHER_IS_BETTER,
    analyst_agreement,
    brier,
    capacity_threshold,
    ece,
    log_loss,
    pr_auc,
    queue_metrics,
    roc_auc,
    summary,
)

Y = np.array([1, 0, 1, 0], dtype=bool)
S = np.array([0.9, 0.8, 0.7, 0.1])


def test_pr_auc_hand_worked() -> None:
    # positives at ranks 1 and 3: precision 1/1 and 2/3, averaged
    assert pr_auc(Y, S) == pytest.approx((1 + 2 / 3) / 2)


def test_pr_auc_with_ties_uses_one_threshold_per_score() -> None:
    assert pr_auc(
        np.array([1, 0, 0], bool), np.array([0.5, 0.5, 0.1])
    ) == pytest.approx(0.5)


def test_roc_auc_counts_ties_half() -> None:
    assert roc_auc(Y, S) == pytest.approx(3 / 4)
    assert roc_auc(np.array([1, 0], bool), np.array([0.3, 0.3])) == pytest.approx(0.5)


def test_undefined_metrics_are_nan() -> None:
    assert math.isnan(pr_auc(np.zeros(3, bool), np.ones(3)))
    assert math.isnan(roc_auc(np.ones(3, bool), np.ones(3)))


def test_log_loss_and_brier() -> None:
    p = np.array([0.8, 0.4, 0.5, 0.0])
    expected = -(np.log(0.8) + np.log(0.6) + np.log(0.5) + np.log(1.0)) / 4
    assert log_loss(Y, p) == pytest.approx(expected)
    assert brier(Y, p) == pytest.approx((0.04 + 0.16 + 0.25 + 0.0) / 4)
    assert np.isfinite(log_loss(np.array([1], bool), np.array([0.0])))


def test_log_loss_and_brier_of_a_one_class_window_or_no_rows() -> None:
    no = np.zeros(2, bool)
    p = np.array([0.1, 0.3])
    assert log_loss(no, p) == pytest.approx(-(np.log(0.9) + np.log(0.7)) / 2)
    assert brier(no, p) == pytest.approx((0.01 + 0.09) / 2)
    assert brier(~no, p) == pytest.approx((0.81 + 0.49) / 2)
    assert math.isnan(log_loss(no[:0], p[:0])) and math.isnan(brier(no[:0], p[:0]))


def test_ece_over_equal_mass_bins() -> None:
    p = np.array([0.1, 0.1, 0.9, 0.9])
    y = np.array([0, 0, 1, 0], bool)
    # two bins: |0.1 - 0| and |0.9 - 0.5|, each half the reports
    assert ece(y, p, bins=2) == pytest.approx((0.1 + 0.4) / 2)
    assert ece(y, np.array([0.0, 0.0, 0.5, 0.5]), bins=2) == pytest.approx(0.0)


def test_queue_includes_every_tie_at_the_threshold() -> None:
    scores = np.array([0.9, 0.5, 0.5, 0.1])
    labels = np.array([0, 1, 0, 1], bool)
    q = queue_metrics(labels, scores, 0.5)
    assert q == {"share": 0.75, "recall": 0.5, "precision": 1 / 3}


def test_capacity_threshold_leaves_an_overflowing_tie_group_out() -> None:
    scores = np.array([0.9, 0.8, 0.8, 0.8, 0.1])
    assert capacity_threshold(scores, 0.2) == 0.9  # one slot: the top score
    assert (
        capacity_threshold(scores, 0.4) == 0.9
    )  # two slots: the 0.8 tie (3) would overflow
    assert capacity_threshold(scores, 0.8) == 0.8  # four slots: the tie fits
    assert capacity_threshold(scores, 1.0) == 0.1
    assert capacity_threshold(np.array([0.5, 0.5]), 0.5) == math.inf
    assert capacity_threshold(scores, 0.1) == math.inf


def test_capacity_threshold_never_exceeds_its_share() -> None:
    rng = np.random.default_rng(0)
    scores = np.round(rng.random(1_000), 2)
    for share in (0.005, 0.05, 0.3):
        threshold = capacity_threshold(scores, share)
        assert (scores >= threshold).mean() <= share


def test_summary_keys_have_a_direction() -> None:
    keys = set(summary(Y, S, (0.85, 0.5)))
    assert keys - {"positives", "reports"} <= set(HIGHER_IS_BETTER)


def test_analyst_agreement_counts_and_chance_corrects() -> None:
    model = np.array([1, 2, 3, 3, 2])
    analyst = np.array([1, 2, 3, 2, 2])
    recorded = np.array([1, 3, 3, 3, 2])
    out = analyst_agreement(model, analyst, recorded)
    assert out["rows"] == 5 and out["agreement"] == pytest.approx(0.8)
    # chance agreement: P(1) 0.2*0.2 + P(2) 0.4*0.6 + P(3) 0.4*0.2 = 0.36
    assert out["kappa"] == pytest.approx((0.8 - 0.36) / (1 - 0.36))
    assert out["recorded_override_rate"] == pytest.approx(0.4)


def test_analyst_kappa_is_unweighted_and_bounded() -> None:
    analyst = np.array([1, 2, 3, 1])
    perfect = analyst_agreement(analyst, analyst, analyst)
    assert perfect["kappa"] == 1.0 and perfect["recorded_override_rate"] == 0.0
    # P1 for P3 counts as much as P1 for P2: unweighted
    near = analyst_agreement(np.array([2, 2, 3, 1]), analyst, analyst)
    far = analyst_agreement(np.array([3, 2, 3, 1]), analyst, analyst)
    assert near["kappa"] == pytest.approx(far["kappa"])
    # both only ever say one priority: agreement is total, kappa undefined
    same = analyst_agreement(np.array([3, 3]), np.array([3, 3]), np.array([2, 3]))
    assert same["agreement"] == 1.0 and math.isnan(same["kappa"])
    assert same["recorded_override_rate"] == 0.5


def test_analyst_agreement_without_rows_or_with_mismatched_shapes() -> None:
    assert analyst_agreement(np.array([]), np.array([]), np.array([])) == {"rows": 0.0}
    with pytest.raises(ValueError, match="differ in shape"):
        analyst_agreement(np.array([1, 2]), np.array([1]), np.array([1]))
