"""Time in queue against per-priority service targets (issue 21, ageing)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from serving.analyst.schemas import QueueAgeing as Ageing


def ageing(
    queued_at: str,
    priority: int | None,
    decided_at: str | None,
    decided: bool,
    targets: Mapping[int, int],
    now: datetime,
) -> Ageing:
    """How long an entry waited: until now, or until its decision once decided.

    Overdue: undecided and waiting longer than its priority's target. A decided entry
    without a known decision time (a whole case) counts its wait as 0 minutes.
    """
    start = datetime.fromisoformat(queued_at)
    if decided:
        end = datetime.fromisoformat(decided_at) if decided_at else start
    else:
        end = now
    minutes = max(0.0, (end - start).total_seconds() / 60)
    target = targets.get(priority) if priority is not None else None
    return Ageing(
        queued_at=queued_at,
        waiting_minutes=round(minutes, 2),
        target_minutes=target,
        overdue=bool(not decided and target is not None and minutes > target),
    )
