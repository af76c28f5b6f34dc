"""One simulated month, day by day: reports to the service, then a day of analysts' work.

Each day's reports go to ``POST /score_batch`` (real HTTP, the real state store) in
receipt order; the answers are kept (the served probability and priority, per report).
Then the analysts take the undecided queue in its order up to their capacity and decide
each entry through ``POST /decide``: a blind entry with its priority (its suggestion
hidden), a shown one as ``accept`` when they decide the suggested priority, else
``override``. Undecided reports stay in the queue for the next day.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from tqdm import tqdm

from tipscore.simulate.analysts import Analysts, Decision, Entry
from tipscore.simulate.service import Service
from tipscore.simulate.submissions import submission

DAY = timedelta(days=1)
END_OF_DAY = DAY - timedelta(microseconds=1)


@dataclass
class MonthLog:
    """What one month's days produced (the metrics read it)."""

    served: dict[str, tuple[float, int, str]] = field(default_factory=dict)
    """report id → (probability, priority, model version) as the service answered."""
    decisions: list[Decision] = field(default_factory=list)
    decided_at: dict[str, datetime] = field(default_factory=dict)
    """report id → the simulated moment it was decided (the end of its day)."""
    blind: set[str] = field(default_factory=set)
    """Reports the service chose for blind review (as the queue showed them)."""


def decision_body(decision: Decision) -> dict[str, Any]:
    """The ``/decide`` body for a decision (blind: always the priority, never ``accept``)."""
    body: dict[str, Any] = {
        "report_id": decision.report_id,
        "designation": decision.designation,
    }
    if decision.agrees and not decision.blind:
        return body | {"action": "accept", "reason": "agree_with_suggestion"}
    return body | {
        "action": "override",
        "priority": decision.priority,
        "reason": "model_missed_context",
    }


class MonthRun:
    """The days of one month against one running service."""

    def __init__(
        self,
        service: Service,
        analysts: Analysts,
        truth: pd.DataFrame,
        batch: int,
        suggested: dict[str, int],
    ) -> None:
        self.service, self.analysts, self.batch = service, analysts, batch
        self.truth = truth
        """Every report of the history by id: p_true and the recorded outcome."""
        self.suggested = suggested
        """Every report scored so far (all months) → the priority it was suggested."""
        self.log = MonthLog()

    def score(self, rows: pd.DataFrame) -> None:
        """Send a day's reports in batches; keep each answer."""
        records = rows.to_dict("records")
        for i in range(0, len(records), self.batch):
            chunk = [submission(r) for r in records[i : i + self.batch]]
            for answer in self.service.score(chunk):
                report_id, priority = answer["report_id"], answer["suggested_priority"]
                self.log.served[report_id] = (
                    float(answer["escalation_probability"]),
                    int(priority),
                    str(answer["model_version"]),
                )
                self.suggested[report_id] = int(priority)

    def entry(self, item: dict[str, Any]) -> Entry | None:
        """A queue item as the analysts see it (None: not a report of this history)."""
        report_id = item["report_id"]
        if report_id not in self.truth.index:
            return None
        row = self.truth.loc[report_id]
        suggested = item.get("suggested_priority") or self.suggested.get(report_id, 3)
        return Entry(
            report_id,
            float(row["p_true"]),
            int(suggested),
            bool(item.get("blind", False)),
            str(row["priority"]),
            str(row["designation"]),
        )

    def decide(self, day: datetime) -> None:
        """A day's capacity of the queue, decided through the API."""
        capacity = self.analysts.config.capacity_per_day
        items = self.service.queue(capacity) if capacity else []
        entries = [e for e in map(self.entry, items) if e is not None]
        for decision in self.analysts.day(entries):
            self.service.decide(decision_body(decision))
            self.log.decisions.append(decision)
            self.log.decided_at[decision.report_id] = day + END_OF_DAY
            if decision.blind:
                self.log.blind.add(decision.report_id)

    def days(
        self,
        rows: pd.DataFrame,
        start: datetime,
        end: datetime,
        after_day: Callable[[int], None],
        progress: bool,
    ) -> MonthLog:
        """Every day of ``[start, end)``: score, decide, then ``after_day(index)``."""
        received = pd.DatetimeIndex(rows["received_at"])
        count = (end - start).days
        bar = tqdm(
            range(count),
            desc=f"{start:%Y-%m} days",
            unit="day",
            leave=False,
            disable=not progress,
        )
        for index in bar:
            day = start + index * DAY
            mask = (received >= day) & (received < day + DAY)
            self.score(rows[mask])
            self.decide(day)
            after_day(index)
            bar.set_postfix(decided=len(self.log.decisions))
        bar.close()
        return self.log
