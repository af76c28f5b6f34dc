"""The outcome contract: which priority and designation a report's outcome may have.

Why here: one set of rules decides both whether a history row is valid (``tipscore
validate-data``, in training) and whether the analyst API may record a decision (serving),
because a decision becomes a history row (``tipscore export-decisions``). ``features`` is
the one room both may import, so the rules live here once; each rule is one predicate
that works on single values (a decision) and on pandas columns (a history) alike, with
the words each side uses for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PRIORITIES = ("1", "2", "3", "E")
"""The clearinghouse's priorities (``1`` imminent danger = escalated)."""
DESIGNATIONS = ("referral", "informational")
ESCALATED_PRIORITY = "1"
"""The priority an escalated report has, and the one an analyst escalates with."""


@dataclass(frozen=True)
class Outcome:
    """A report's outcome as the history columns hold it (values or pandas columns)."""

    escalated: Any
    priority: Any
    designation: Any


@dataclass(frozen=True)
class OutcomeRule:
    """One rule: the outcomes it refuses, in a history's words and in a decision's."""

    column: str
    """The history column ``validate-data`` names."""
    history_problem: str
    field: str
    """The decision field the analyst API names."""
    decision_problem: str
    broken: Callable[[Outcome], Any]
    """True where the outcome breaks the rule (element-wise for columns)."""


OUTCOME_RULES: tuple[OutcomeRule, ...] = (
    OutcomeRule(
        column="escalated",
        history_problem="escalated rows must have priority '1'",
        field="priority",
        decision_problem="an escalation is a priority-1 decision",
        broken=lambda o: o.escalated & (o.priority != ESCALATED_PRIORITY),
    ),
    OutcomeRule(
        column="escalated",
        history_problem="escalated rows must be designated 'referral'",
        field="designation",
        decision_problem="a priority-1 decision must be 'referral' (an escalation "
        "is always actionable)",
        broken=lambda o: o.escalated & (o.designation != "referral"),
    ),
)
"""Every rule between the outcome columns (the values' own ranges are checked apart)."""


def decision_outcome(priority: int, designation: str) -> Outcome:
    """The history outcome an analyst's decision becomes: priority 1 is an escalation."""
    text = str(priority)
    return Outcome(text == ESCALATED_PRIORITY, text, designation)


def decision_problems(priority: int, designation: str) -> list[str]:
    """Why a decision's outcome would be refused as history (``field: problem`` each).

    Empty when the decision exports to a row ``validate-data`` accepts.
    """
    outcome = decision_outcome(priority, designation)
    problems = []
    if outcome.priority not in PRIORITIES:
        problems.append(f"priority: must be one of {list(PRIORITIES)}")
    if designation not in DESIGNATIONS:
        problems.append(f"designation: must be one of {list(DESIGNATIONS)}")
    problems += [
        f"{rule.field}: {rule.decision_problem}"
        for rule in OUTCOME_RULES
        if rule.broken(outcome)
    ]
    return problems


def allowed_designations(priority: int) -> list[str]:
    """The designations a decision may take at this priority (what the page offers)."""
    return [d for d in DESIGNATIONS if not decision_problems(priority, d)]
