"""The simulated analysts: capacity, judgement with noise, automation bias, blind review.

Pure (no I/O), so each behaviour is tested on its own (tests/unit/test_simulate_analysts.py):

- **Capacity.** Each day they take the queue in its order (the service's: suggested
  priority, then probability) up to ``capacity_per_day`` entries; the rest wait.
- **Judgement.** A report's true escalation probability ``p_true`` (known in a synthetic
  history) with Gaussian noise of sd ``noise`` on its log-odds; they escalate with that
  probability, a fresh draw (so with no noise their labels are distributed as the
  history's). Not escalated: the priority and designation the history recorded (``E`` as
  ``3``; a recorded escalation as priority ``2``).
- **Automation bias.** With probability ``automation_bias`` they accept a shown suggestion
  whatever the report holds.
- **Blind review.** A blind report's suggestion is hidden until decided: judgement only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tipscore.simulate.config import AnalystsConfig


@dataclass(frozen=True)
class Entry:
    """A queue entry as the simulation knows it."""

    report_id: str
    p_true: float
    suggested: int
    """The service's suggestion (the simulation kept it from the scoring answer)."""
    blind: bool
    recorded_priority: str
    recorded_designation: str


@dataclass(frozen=True)
class Decision:
    """What an analyst decided, and why (for the report's agreement figures)."""

    report_id: str
    priority: int
    designation: str
    blind: bool
    suggested: int
    biased: bool
    """Accepted by automation bias, not judged."""

    @property
    def agrees(self) -> bool:
        """Decided at the suggested priority."""
        return self.priority == self.suggested


def take(queue: Sequence[Entry], capacity: int) -> list[Entry]:
    """The entries a day's capacity reaches, in the queue's order."""
    return list(queue[: max(capacity, 0)])


class Analysts:
    """The analysts of one simulation (one random stream, seeded by the config)."""

    def __init__(self, config: AnalystsConfig) -> None:
        self.config = config
        self.rng = np.random.default_rng(config.seed)

    def escalates(self, p_true: float) -> bool:
        """Judgement: escalate with the noisy probability (noise on the log-odds)."""
        p = min(max(p_true, 1e-9), 1 - 1e-9)
        logit = np.log(p / (1 - p)) + self.config.noise * self.rng.standard_normal()
        return bool(self.rng.random() < 1.0 / (1.0 + np.exp(-logit)))

    def decide(self, entry: Entry) -> Decision:
        """One entry's decision: biased acceptance (shown only), else judgement."""
        bias = self.config.automation_bias
        if not entry.blind and bias > 0 and self.rng.random() < bias:
            return self._decision(entry, entry.suggested, biased=True)
        if self.escalates(entry.p_true):
            return self._decision(entry, 1, biased=False)
        recorded = entry.recorded_priority
        priority = 3 if recorded == "E" else 2 if recorded == "1" else int(recorded)
        return self._decision(entry, priority, biased=False)

    def _decision(self, entry: Entry, priority: int, biased: bool) -> Decision:
        designation = "referral"
        if priority != 1 and not biased and entry.recorded_priority != "1":
            designation = entry.recorded_designation
        return Decision(
            entry.report_id, priority, designation, entry.blind, entry.suggested, biased
        )

    def day(self, queue: Sequence[Entry]) -> list[Decision]:
        """A day's work: the first ``capacity_per_day`` entries, each decided."""
        return [self.decide(e) for e in take(queue, self.config.capacity_per_day)]
