"""What the model card reports about review (issue 21): blind agreement, decision times.

- **Blind vs shown**: how often the analysts' latest decision keeps the suggested
  priority on reports reviewed blind (the suggestion hidden until decided) and on the
  others. The gap estimates how much analysts follow the model rather than the report.
- **Time to decision** per suggested priority: from entering the queue to the first
  decision (median, 90th percentile, share within the service target).
  ``tipscore monitor`` reports the same figures for its window (reports received in it),
  with the undecided reports and those overdue now (``decision_times``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from statistics import median, quantiles
from typing import Any

from serving.state import case_sql as q
from serving.state.backend import Connection


def blind_agreement(db: Connection, model_version: str | None) -> dict[str, Any]:
    """Agreement with the suggestion on blind and on shown reports, and the gap."""
    where, params = (
        ("WHERE d.model_version = ?", [model_version]) if model_version else ("", [])
    )
    cells = {"blind": (0, 0), "shown": (0, 0)}
    for row in db.rows(q.BLIND_AGREEMENT.format(where=where), params):
        name = "blind" if row["blind"] else "shown"
        cells[name] = (int(row["decided"]), int(row["agreed"]))

    def rate(cell: tuple[int, int]) -> dict[str, Any]:
        decided, agreed = cell
        return {
            "decided": decided,
            "agreed": agreed,
            "agreement_rate": agreed / decided if decided else None,
        }

    out: dict[str, Any] = {name: rate(cell) for name, cell in cells.items()}
    blind, shown = out["blind"]["agreement_rate"], out["shown"]["agreement_rate"]
    out["gap"] = None if blind is None or shown is None else shown - blind
    return out


def time_to_decision(
    db: Connection,
    targets: Mapping[int, int],
    received: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """Per suggested priority: decided reports, median and p90 minutes, within target.

    ``received``: only reports received in ``[since, until)`` (microseconds; the
    monitor's window); None: every report (the model card).
    """
    rows = (
        db.rows(q.FIRST_DECISIONS)
        if received is None
        else db.rows(q.FIRST_DECISIONS_RECEIVED, received)
    )
    waits: dict[int, list[float]] = {}
    for row in rows:
        if row["first_at"] is None:
            continue
        start = datetime.fromisoformat(row["queued_at"])
        minutes = (datetime.fromisoformat(row["first_at"]) - start).total_seconds() / 60
        waits.setdefault(int(row["priority"]), []).append(max(0.0, minutes))
    out: dict[str, Any] = {}
    for priority in (1, 2, 3):
        found = sorted(waits.get(priority, []))
        target = targets.get(priority)
        out[str(priority)] = {
            "decided": len(found),
            "median_minutes": round(median(found), 2) if found else None,
            "p90_minutes": (
                round(quantiles(found, n=10)[-1], 2) if len(found) > 1 else None
            ),
            "target_minutes": target,
            "within_target": (
                sum(m <= target for m in found) / len(found)
                if found and target is not None
                else None
            ),
        }
    return out


def decision_times(
    db: Connection,
    targets: Mapping[int, int],
    now: datetime,
    received: tuple[int, int],
) -> dict[str, Any]:
    """``time_to_decision`` for reports received in ``received``, with the queue now.

    Beside each priority's decision times: ``undecided`` (reports still waiting) and
    ``overdue`` (of those, waiting longer than the priority's target; as the queue's
    ``ageing.overdue``). Only reports queued since cases were kept (issue 21) count.
    """
    out = time_to_decision(db, targets, received)
    for priority, figures in out.items():
        target = targets.get(int(priority))
        cutoff = "" if target is None else _iso(now - timedelta(minutes=target))
        row = db.one(q.OVERDUE, (cutoff, int(priority), *received))
        figures["undecided"] = int(row["undecided"]) if row else 0
        figures["overdue"] = int(row["overdue"]) if row else 0
    return out


def _iso(moment: datetime) -> str:
    """As ``case_member.queued_at`` is written (UTC, milliseconds), so text compares."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")
