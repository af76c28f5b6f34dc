"""``tipscore compare`` and promotion's ``shadow`` gate: the service's shadow answers in.

Why here: the answers come from the service's state store (serving) and are judged by
``training.shadow``; only the composition package may use both. The store is opened only
where it exists (readers never create one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from serving.state.command_store import open_for_command
from serving.state.store import StateStore
from training.shadow.compare import compare, shadow_frame
from training.shadow.report import write_comparison

EARLIEST, LATEST = "0000", "9999"
"""Bounds of ISO timestamps: every stored time sorts between them."""


@dataclass(frozen=True)
class CompareRequest:
    """One comparison: where the store is, which reports, which challenger, where to."""

    reports_db: Path
    out: Path
    since: datetime | None = None
    until: datetime | None = None
    challenger: str | None = None
    large_country_share: float = 0.03


def _iso(moment: datetime | None, default: str) -> str:
    if moment is None:
        return default
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def _open(reports_db: Path) -> StateStore:
    return open_for_command(reports_db)  # PostgreSQL when configured (issue 22)


def shadow_rows(reports_db: Path, run_id: str) -> list[dict[str, Any]]:
    """Every report's latest shadow answer of the model trained by ``run_id``."""
    store = _open(reports_db)
    try:
        return store.shadowed(EARLIEST, LATEST, run_id=run_id)
    finally:
        store.close()


def run_compare(request: CompareRequest) -> tuple[dict[str, Any], dict[str, Path]]:
    """Read, compare and write; the ``compare.json`` dict and the files' paths.

    The challenger compared is ``request.challenger`` (``NAME/VERSION``), else the one
    the service shadowed with most recently.

    Raises:
        FileNotFoundError: there is no report store at ``reports_db``.
        LookupError: nothing was ever shadowed, or not by that challenger.
    """
    store = _open(request.reports_db)
    try:
        known = store.shadow_challengers()
        chosen = request.challenger or (
            known[0]["challenger_version"] if known else None
        )
        if chosen is None or chosen not in {k["challenger_version"] for k in known}:
            seen = ", ".join(k["challenger_version"] for k in known) or "none"
            raise LookupError(
                f"no shadow answers of {chosen or 'any challenger'} in "
                f"{request.reports_db} (challengers seen: {seen})"
            )
        rows = store.shadowed(
            _iso(request.since, EARLIEST), _iso(request.until, LATEST), chosen
        )
    finally:
        store.close()
    frame = shadow_frame(rows)
    result = compare(frame, request.large_country_share)
    result["challenger"] = chosen
    result["window"] = {
        "since": _iso(request.since, "") or None,
        "until": _iso(request.until, "") or None,
    }
    return result, write_comparison(result, frame, request.out)
