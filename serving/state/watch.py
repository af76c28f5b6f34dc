"""Reads for watching the service: served reports, recent decisions, live counts.

``tipscore monitor`` reads what the service kept (each report's latest suggestion with its
flattened metadata, analysts' latest decisions); the service's ``/metrics`` reads a few
counts of the two append-only logs, which therefore only grow (Prometheus counters).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from serving.state import sql
from serving.state.backend import Connection, Row

PUBLIC = "(public)"
"""The platform of a report sent by the public (no ESP)."""


def _plain(row: Row) -> dict[str, Any]:
    return {k: row[k] for k in row.keys()}  # noqa: SIM118 - sqlite3.Row has no iter of keys


def served(db: Connection, since: str, until: str) -> Iterator[dict[str, Any]]:
    """Reports received in ``[since, until)`` with their latest suggestion (any order).

    Each: ``report_id``, ``received_at``, ``esp``, ``priority``, ``probability``,
    ``model_version`` and ``flat``: the flattened metadata as kept, parsed, without its
    ``link_*`` lists of identifier hashes (no feature reads them, and they are most of
    a row's size).
    """
    rows = db.rows(sql.SERVED, (since, until))
    return (_served_item(row) for row in rows)  # parsed one by one as they are read


def _served_item(row: Row) -> dict[str, Any]:
    item = _plain(row)
    flat = json.loads(row["flat"])
    item["flat"] = {k: v for k, v in flat.items() if not k.startswith("link_")}
    return item


def decided_between(db: Connection, since: str, until: str) -> list[dict[str, Any]]:
    """The latest decision on each report received in ``[since, until)``, with its platform.

    Chosen by the report's receipt, like the served reports, so a window's override
    rates are those of its own reports (``received_at``, ``decided_at`` both given).
    """
    return [_plain(row) for row in db.rows(sql.DECIDED_BETWEEN, (since, until))]


@dataclass(frozen=True)
class LiveCounts:
    """Suggestions by (priority, platform) and decisions by suggested priority."""

    scored: dict[tuple[int, str], int] = field(default_factory=dict)
    decided: dict[int, int] = field(default_factory=dict)
    overridden: dict[int, int] = field(default_factory=dict)


def live_counts(db: Connection) -> LiveCounts:
    """Every suggestion and every decision recorded so far, counted."""
    scored = {
        (int(r["priority"]), PUBLIC if r["esp"] is None else str(r["esp"])): int(r["n"])
        for r in db.rows(sql.SCORED_COUNTS)
    }
    decisions = db.rows(sql.DECISION_COUNTS)
    return LiveCounts(
        scored,
        {int(r["suggested_priority"]): int(r["decided"]) for r in decisions},
        {int(r["suggested_priority"]): int(r["overridden"]) for r in decisions},
    )
