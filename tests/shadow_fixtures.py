"""A report store holding shadow answers by plan: the compare and gate tests' input.

Each planned report is kept as the service keeps it (``add_scored`` then ``add_shadow`` in
one transaction) and, if the plan says so, decided by an analyst, so the tests read the
rows through the store's own query.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from features.identifiers import IdentifierHasher, to_contract
from features.schema import ReportSubmission
from serving.analyst.schemas import DecisionIn, Reason
from serving.state.records import Scored
from serving.state.shadow import ShadowAnswer
from serving.state.store import StateStore
from tests.factories import stored_response
from tests.service.conftest import submission

HASHER = IdentifierHasher(b"shadow-test-key-0123456789abcdef")
RUN = "run-challenger"


@dataclass(frozen=True)
class Planned:
    """One report: who sent it, what each model said, what the analyst decided."""

    report_id: str
    champion: int
    challenger: int
    decided: int | None = None
    esp: str = "Snapchat"
    country: str = "US"
    incident_type: str = "Online Enticement of Children for Sexual Acts"


def keep(path: Path, plan: list[Planned], version: str = "tip-escalation/2") -> None:
    """Keep every planned report with both answers (and its decision) in the store."""
    store = StateStore.open(path)
    try:
        for p in plan:
            body = submission(
                p.report_id,
                esp=p.esp,
                incident_type=p.incident_type,
                location={"country_code": p.country, "source": "supplied"},
            )
            report = to_contract(ReportSubmission.model_validate(body), HASHER)
            scored = Scored(report, stored_response(p.report_id, p.champion), "r", None)
            answer = ShadowAnswer(
                p.report_id, "r", "tip-escalation/7", version, RUN,
                {1: 0.3, 2: 0.02, 3: 0.0005}[p.challenger], p.challenger,
            )  # fmt: skip
            with store.transaction() as tx:
                tx.add_shadow([answer], tx.add_scored([scored]))
            if p.decided is not None:
                store.decide(_decision(p), "k", "analyst")
    finally:
        store.close()


def _decision(p: Planned) -> DecisionIn:
    if p.decided == p.champion:
        return DecisionIn(report_id=p.report_id, action="accept", reason=Reason.OTHER)
    return DecisionIn(
        report_id=p.report_id,
        action="override",
        priority=p.decided,
        reason=Reason.OTHER,
    )
