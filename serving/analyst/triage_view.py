"""What the queue and report routes add for cases, bursts, ageing and blind review.

Blind review (issue 21) holds for analyst keys until the report is decided: no
suggested priority, probability or reasons. The ``viral_burst`` warning is added when a
report is read (queue, case and report views), with the burst's current account count:
a report scored before its file became a burst was answered without it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from serving.analyst.deps import Backend
from serving.auth import Caller
from serving.keys import Role
from serving.schemas import ScoreResponse, WarningOut
from serving.state.ageing import ageing
from serving.state.queue import View

DEFAULT_TARGETS = {1: 60, 2: 24 * 60, 3: 7 * 24 * 60}


def targets(service: Backend) -> Mapping[int, int]:
    """Per suggested priority, the service target in minutes (settings)."""
    settings = getattr(service, "settings", None)
    found = getattr(settings, "service_targets_minutes", None)
    return found if isinstance(found, Mapping) else DEFAULT_TARGETS


def hides_blind(caller: Caller) -> bool:
    """Blind review holds for analyst keys: admins (auditing) see every suggestion."""
    return caller.role == Role.ANALYST


def queue_view(caller: Caller, service: Backend) -> View:
    """The queue as this caller may see it, now."""
    return View(hides_blind(caller), targets(service), datetime.now(UTC))


def burst_warning(accounts: int) -> WarningOut:
    """The ``viral_burst`` warning, with the distinct accounts that sent the file."""
    return WarningOut(
        code="viral_burst",
        text=(
            f"Viral burst: the same file was reported from {accounts} distinct accounts "
            "(whether or not the platform marked it as a meme or viral); its reports "
            "are one entry in the case list"
        ),
    )


def report_triage(
    service: Backend,
    caller: Caller,
    kept: dict[str, Any],
    decided_at: str | None,
) -> dict[str, Any]:
    """The report view's case, burst, blind and ageing fields; its suggestion as shown."""
    response: ScoreResponse = kept["response"]
    found = service.state.triage(response.report_id)
    if found is None:  # scored before cases existed
        return {"suggestion": response, "warnings": response.warnings}
    burst = int(found["accounts"]) if found["kind"] == "burst" else None
    warnings = [*response.warnings, *([burst_warning(burst)] if burst else [])]
    decided = decided_at is not None
    hidden = hides_blind(caller) and bool(found["blind"]) and not decided
    suggestion = None if hidden else response.model_copy(update={"warnings": warnings})
    return {
        "suggestion": suggestion,
        "warnings": warnings,
        "case_id": int(found["case_id"]),
        "blind": bool(found["blind"]),
        "viral_burst": burst,
        "ageing": ageing(
            found["queued_at"],
            response.suggested_priority,
            decided_at,
            decided,
            targets(service),
            datetime.now(UTC),
        ),
    }
