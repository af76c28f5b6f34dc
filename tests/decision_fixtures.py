"""Decisions on scored reports in a real state store, for the decision-rule tests.

Shared by the unit property test (every accepted decision exports to a valid history row)
and the model test (``train --decisions`` runs on such an export).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from features.identifiers import IdentifierHasher, to_contract
from features.schema import ReportSubmission
from serving.analyst.schemas import DecisionIn, Reason
from serving.state.records import DecisionRefused, Scored
from serving.state.store import StateStore
from tests.factories import stored_response
from tests.service.conftest import submission

ACTIONS = ("accept", "override")
PRIORITIES = (None, 1, 2, 3)
DESIGNATIONS = ("referral", "informational")


def scored(
    hasher: IdentifierHasher, report_id: str, suggested: int, received: str
) -> Scored:
    """A suggestion kept by the service for a synthetic report received on ``received``."""
    body = submission(report_id, received_at=f"{received}T10:00:00Z")
    contract = to_contract(ReportSubmission.model_validate(body), hasher)
    return Scored(contract, stored_response(report_id, suggested), "req", None)


def decide_all(
    path: Path,
    hasher: IdentifierHasher,
    tries: Iterable[tuple[int, dict[str, Any]]],
    received: str = "2024-12-20",
) -> list[tuple[int, dict[str, Any], bool]]:
    """Score one report per try (its suggested priority), then try its decision.

    Returns each try with whether the store accepted it (``DecisionRefused`` otherwise).
    """
    tries = list(tries)
    store = StateStore.open(path)
    try:
        with store.transaction() as tx:
            tx.add_scored(
                [
                    scored(hasher, f"t-{i}", s, received)
                    for i, (s, _) in enumerate(tries)
                ]
            )
        out = []
        for i, (suggested, fields) in enumerate(tries):
            decision = DecisionIn(report_id=f"t-{i}", reason=Reason.OTHER, **fields)
            try:
                store.decide(decision, "k1", "Analyst")
                out.append((suggested, fields, True))
            except DecisionRefused:
                out.append((suggested, fields, False))
        return out
    finally:
        store.close()


def every_try() -> list[tuple[int, dict[str, Any]]]:
    """Every suggested priority × action × priority (or none) × designation."""
    return [
        (suggested, {"action": a, "priority": p, "designation": d})
        for suggested in (1, 2, 3)
        for a in ACTIONS
        for p in PRIORITIES
        for d in DESIGNATIONS
    ]
