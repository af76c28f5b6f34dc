"""An analyst's decision: the rule that checks it, its rows, and its audit-log entry."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from features.outcome import decision_problems
from serving.analyst.schemas import DecisionIn, DecisionOut
from serving.state import sql
from serving.state.backend import Connection, Row
from serving.state.records import DecisionRefused, NotFound, Rescored


def decided_priority(decision: DecisionIn, suggested: int) -> int:
    """The priority a decision sets; refuses one that contradicts its action."""
    if decision.action == "accept":
        if decision.priority not in (None, suggested):
            raise DecisionRefused(
                f"priority: accepting keeps the suggested priority {suggested}; "
                "use action 'override' to set another"
            )
        return suggested
    if decision.priority is None:
        raise DecisionRefused("priority: an override needs a priority (1, 2 or 3)")
    if decision.priority == suggested:
        raise DecisionRefused(
            f"priority: {suggested} is the suggestion; use action 'accept'"
        )
    return decision.priority


def checked_priority(decision: DecisionIn, suggested: int) -> int:
    """The priority a decision sets, once it is known to make a valid history row.

    The outcome rules are the training data's own (``features.outcome``), so a decision
    recorded here always exports to a row ``tipscore validate-data`` accepts.
    """
    priority = decided_priority(decision, suggested)
    problems = decision_problems(priority, decision.designation)
    if problems:
        raise DecisionRefused(problems[0])
    return priority


def record(
    db: Connection, decision: DecisionIn, key_id: str, analyst: str
) -> DecisionOut:
    """Write a decision on the report's newest suggestion; point the queue at it.

    Runs inside the caller's transaction (raises ``NotFound``, ``DecisionRefused``).
    """
    target = db.one(sql.DECISION_TARGET, (decision.report_id,))
    if target is None:
        raise NotFound(decision.report_id)
    seen = decision.seen_scored_at
    if seen is not None and seen != target["scored_at"]:
        # scored again since the analyst looked (an outside security test, session 9:
        # an accept of the priority 3 on screen was recorded as accepting a new 1)
        raise Rescored(
            f"seen_scored_at: {decision.report_id!r} was scored again at "
            f"{target['scored_at']}, after the suggestion you saw; open it again and decide"
        )
    out = DecisionOut(
        decision_id=uuid.uuid4().hex,
        report_id=decision.report_id,
        decided_at=datetime.now(UTC).isoformat(timespec="milliseconds"),
        analyst=analyst,
        key_id=key_id,
        action=decision.action,
        priority=checked_priority(decision, target["suggested"]),
        designation=decision.designation,
        reason=decision.reason.value,
        note=decision.note,
        suggested_priority=target["suggested"],
        model_version=target["model_version"],
        supersedes=target["previous"],
    )
    values = {**out.model_dump(), "scored_seq": target["scored_seq"]}
    inserted = db.one(sql.INSERT_DECISION, [values[c] for c in sql.DECISION_COLUMNS])
    assert inserted is not None  # RETURNING gives one row
    db.run(sql.MARK_DECIDED, (inserted["seq"], decision.report_id))
    return out


def audit_row(out: DecisionOut) -> dict[str, Any]:
    """The audit-log entry of a decision (no score; the action and reason as reasons)."""
    return {
        "request_id": out.decision_id,
        "at": out.decided_at,
        "key_id": out.key_id,
        "endpoint": "/decide",
        "report_id": out.report_id,
        "model_version": out.model_version,
        "probability": None,
        "priority": out.priority,
        "reasons": [{"decision": out.action, "reason": out.reason}],
        "warnings": [],
    }


def decision_out(row: Row) -> DecisionOut:
    """A ``decisions`` row as the API returns it."""
    return DecisionOut(**{name: row[name] for name in DecisionOut.model_fields})
