"""``tipscore monitor``'s composition: the service's store in, a monitoring pass out.

Why here: the rows come from the service's state store (serving) and are judged by the
monitor (training); only the composition package may use both. The store is opened for
reading only where it exists (readers never create one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from serving.state.command_store import open_for_command
from training.monitor.analyse import analyse, window
from training.monitor.config import MonitorConfig
from training.monitor.job import Reference, finish
from training.monitor.load import decisions_frame, served_frame

STEPS = ("read the store", "analyse", "write and log")
EARLIEST, LATEST = "0000", "9999"
"""Bounds of ISO timestamps: every stored time sorts between them."""


@dataclass(frozen=True)
class MonitorRequest:
    """One monitoring pass: where the store is, which days, where the files go."""

    reports_db: Path
    out: Path
    since: date | None = None
    until: date | None = None
    log: bool = True
    progress: bool = True
    targets: Mapping[int, int] | None = None
    """Service targets in minutes per priority (None: the service settings' default)."""


def _iso(day: date | None, default: str) -> str:
    if day is None:
        return default
    return datetime.combine(day, time(), tzinfo=UTC).isoformat()


def _us(day: date) -> int:
    """Midnight (UTC) of ``day`` in microseconds, as ``case_member.received_us``."""
    moment = datetime.combine(day, time(), tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000


def _targets(request: MonitorRequest) -> Mapping[int, int]:
    if request.targets is not None:
        return request.targets
    from serving.settings import ServingSettings  # the service's environment

    return ServingSettings().service_targets_minutes


def monitor(
    request: MonitorRequest, reference: Reference, cfg: MonitorConfig
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read, analyse, write and log one pass; the ``monitor.json`` dict and the paths.

    Raises:
        FileNotFoundError: there is no report store at ``reports_db``.
    """
    store = open_for_command(request.reports_db)  # PostgreSQL when configured
    bar = tqdm(
        total=len(STEPS), desc="monitor", unit="step", disable=not request.progress
    )
    bar.set_postfix_str(STEPS[0])
    try:
        rows = store.served(_iso(request.since, EARLIEST), _iso(request.until, LATEST))
        served = served_frame(rows)
        span = window(served, request.since, request.until, cfg)
        decided = store.decided_between(
            _iso(span.start, EARLIEST), _iso(span.end, LATEST)
        )
        times = store.decision_times(
            _targets(request), datetime.now(UTC), (_us(span.start), _us(span.end))
        )
    finally:
        store.close()
    bar.update()
    bar.set_postfix_str(STEPS[1])
    result = analyse(
        served, decisions_frame(decided), span, reference.profile, reference.model, cfg
    )
    result["reference"] = reference.note
    result["time_to_decision"] = times
    if reference.profile is None:  # say why there is no profile to compare with
        result["drift"]["reason"] = reference.note
    bar.update()
    bar.set_postfix_str(STEPS[2])
    # the live status (/metrics, the alert rules) only from a pass over the newest
    # reports: a past window (--until), or one holding no report, said "no alert" and
    # cleared a live drift alert (an outside test, session 9)
    live = request.until is None and result["reports"] > 0
    state_dir = request.reports_db.parent if live else None
    paths = finish(result, request.out, state_dir, log=request.log)
    bar.update()
    bar.close()
    return result, paths
