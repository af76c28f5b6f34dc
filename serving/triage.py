"""What the scoring path adds for the queue's triage: case entries and blind choice.

``TipScoring._score_jobs`` calls ``case_entries`` in the scoring transaction, after the
suggestions and linkage rows are written (``serving.state.cases`` keeps the cases).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from features.schema import TipReport
from serving.schemas import ScoreResponse
from serving.scoring import link_records
from serving.state.cases import CaseEntry, chosen_blind

RANDOM = random.SystemRandom()
"""Blind review is chosen with the system's randomness: no seed an analyst could know."""


def case_entries(
    reports: Sequence[TipReport],
    responses: Sequence[ScoreResponse],
    blind_share: float,
    rng: random.Random = RANDOM,
) -> list[CaseEntry]:
    """Each scored report's case entry, blind with probability ``blind_share``."""
    return [
        CaseEntry(
            report_id=report_id,
            received_us=received_us,
            links=links,
            priority=response.suggested_priority,
            probability=response.escalation_probability,
            blind=chosen_blind(blind_share, rng),
        )
        for (report_id, received_us, links), response in zip(
            link_records(reports), responses, strict=True
        )
    ]
