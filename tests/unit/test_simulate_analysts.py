"""The simulated analysts (issue 23): capacity, noise, automation bias, blind review."""

from __future__ import annotations

import numpy as np
import pytest

from tipscore.simulate.analysts import Analysts, Entry, take
from tipscore.simulate.config import AnalystsConfig


def entry(i: int, p_true: float, suggested: int, blind: bool = False) -> Entry:
    return Entry(f"r{i}", p_true, suggested, blind, "3", "informational")


def rate(analysts: Analysts, p_true: float, n: int = 20_000) -> float:
    return float(np.mean([analysts.escalates(p_true) for _ in range(n)]))


def test_capacity_takes_the_queue_in_order_and_no_more() -> None:
    queue = [entry(i, 0.1, 3) for i in range(10)]
    assert [e.report_id for e in take(queue, 3)] == ["r0", "r1", "r2"]
    assert take(queue, 0) == []
    assert len(take(queue, 50)) == 10
    analysts = Analysts(AnalystsConfig(capacity_per_day=4))
    assert [d.report_id for d in analysts.day(queue)] == ["r0", "r1", "r2", "r3"]


def test_without_noise_judgement_escalates_at_p_true() -> None:
    analysts = Analysts(AnalystsConfig(noise=0.0, seed=1))
    observed = rate(analysts, 0.3)
    half_width = 3 * np.sqrt(0.3 * 0.7 / 20_000)
    assert abs(observed - 0.3) < half_width


def test_noise_moves_judgement_away_from_p_true() -> None:
    quiet = rate(Analysts(AnalystsConfig(noise=0.0, seed=2)), 0.01)
    noisy = rate(Analysts(AnalystsConfig(noise=2.0, seed=2)), 0.01)
    assert noisy > quiet + 0.02  # noise on the log-odds lifts a small probability


def test_full_automation_bias_accepts_every_shown_suggestion() -> None:
    analysts = Analysts(AnalystsConfig(automation_bias=1.0, noise=0.0, seed=3))
    shown = [analysts.decide(entry(i, 0.0, 1)) for i in range(200)]
    assert all(d.priority == 1 and d.biased and d.agrees for d in shown)
    assert all(d.designation == "referral" for d in shown)


def test_blind_reports_are_judged_without_the_suggestion() -> None:
    analysts = Analysts(AnalystsConfig(automation_bias=1.0, noise=0.0, seed=4))
    blind = [analysts.decide(entry(i, 0.0, 1, blind=True)) for i in range(200)]
    assert not any(d.biased for d in blind)
    assert all(d.priority == 3 and not d.agrees for d in blind)  # the history's 3


@pytest.mark.parametrize("bias", [0.0, 0.5])
def test_automation_bias_sets_the_share_of_followed_suggestions(bias: float) -> None:
    analysts = Analysts(AnalystsConfig(automation_bias=bias, noise=0.0, seed=5))
    decisions = [analysts.decide(entry(i, 0.0, 1)) for i in range(4_000)]
    followed = np.mean([d.agrees for d in decisions])
    assert abs(followed - bias) < 0.05  # p_true 0: only bias escalates a P1 suggestion


def test_not_escalated_takes_the_recorded_priority() -> None:
    analysts = Analysts(AnalystsConfig(noise=0.0, seed=6))
    recorded = Entry("r1", 0.0, 1, False, "E", "informational")
    assert analysts.decide(recorded).priority == 3
    was_p1 = Entry("r2", 0.0, 3, False, "1", "referral")
    decision = analysts.decide(was_p1)
    assert (decision.priority, decision.designation) == (2, "referral")
    assert analysts.decide(entry(3, 1.0, 3)).priority == 1
