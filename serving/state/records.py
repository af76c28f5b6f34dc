"""What the store takes in and the errors it raises (shared by its modules and callers)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from features.schema import TipReport
from serving.schemas import ScoreResponse

LinkRecord = tuple[str, int, Mapping[str, Sequence[str]]]
"""One report for linkage: ``(report_id, received_us, hashes by link_* column)``."""


class NotFound(LookupError):
    """No scored report has this id."""


class DecisionRefused(ValueError):
    """A decision that contradicts itself (e.g. an override to the suggested priority)."""


class Rescored(DecisionRefused):
    """A decision on a suggestion that is no longer the report's newest (re-scored)."""


@dataclass(frozen=True)
class Scored:
    """One suggestion to keep: the report (hashed identifiers) and the response sent."""

    report: TipReport
    response: ScoreResponse
    request_id: str
    deadline: date | None
    text: str | None = None
    """``response.model_dump_json()`` when the caller made it already (it sends the same)."""
