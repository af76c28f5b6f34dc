"""The analyst queue's paging (an opaque cursor), its items and their badges."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from serving.analyst.schemas import Badges, QueueItem, QueuePage, QueueQuery
from serving.state import sql
from serving.state.backend import Connection, Row


def cursor_of(priority: int, probability: float, report_id: str) -> str:
    """The cursor of a page that ends at this queue position."""
    raw = json.dumps([priority, probability, report_id]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def uncursor(cursor: str) -> tuple[int, float, str]:
    """The queue position a cursor names (``ValueError`` for one not given out here).

    Each value is checked as ``cursor_of`` writes it: a priority 1-3, a probability in
    [0, 1] and a report id of at most 64 characters. A crafted cursor holding an integer
    of 2^63 or more once reached SQLite, which cannot bind it (a 500).
    """
    try:
        priority, probability, report_id = json.loads(base64.urlsafe_b64decode(cursor))
    except (ValueError, TypeError) as exc:
        raise ValueError("cursor: not a cursor this service gave out") from exc
    if not (
        type(priority) is int
        and 1 <= priority <= 3
        and type(probability) in (int, float)
        and 0.0 <= probability <= 1.0
        and isinstance(report_id, str)
        and len(report_id) <= 64
    ):
        raise ValueError("cursor: not a cursor this service gave out")
    return priority, float(probability), report_id


def badges(codes: Sequence[str], deadline: str | None, today: date) -> Badges:
    """Badges from a suggestion's warning codes; days left counted from ``today``."""
    left = (date.fromisoformat(deadline) - today).days if deadline else None
    return Badges(
        files_not_viewed="files_not_viewed" in codes,
        preservation_deadline=deadline,
        preservation_days_left=left,
        likely_informational="likely_informational" in codes,
        linked_reports="linked_reports" in codes,
    )


def item(row: Row, today: date) -> QueueItem:
    """One queue row as the analyst page shows it."""
    return QueueItem(
        report_id=row["report_id"],
        received_at=row["received_at"],
        esp=row["esp"],
        incident_type=row["incident_type"],
        suggested_priority=row["priority"],
        escalation_probability=row["probability"],
        model_version=row["model_version"],
        badges=badges(json.loads(row["codes"]), row["deadline"], today),
        decided=bool(row["decided"]),
        decided_priority=row["decided_priority"],
    )


def page(db: Connection, query: QueueQuery, today: date) -> QueuePage:
    """A page of the queue: priority 1 first, then by probability, then report id."""
    where: list[str] = []
    params: list[Any] = []
    for column, value in (
        ("q.priority", query.priority),
        ("q.esp", query.esp),
        ("q.decided", None if query.decided is None else int(query.decided)),
    ):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    filters = " AND ".join(where) or "1 = 1"
    counted = db.one(sql.QUEUE_COUNT.format(where=filters), params)
    total = int(counted["n"]) if counted else 0
    page_where, page_params = filters, list(params)
    if query.cursor:
        p, prob, rid = uncursor(query.cursor)
        page_where += sql.AFTER_CURSOR
        page_params += [p, p, prob, prob, rid]
    rows = db.rows(
        sql.QUEUE_PAGE.format(where=page_where), [*page_params, query.limit + 1]
    )
    items = [item(row, today) for row in rows[: query.limit]]
    last = items[-1] if items and len(rows) > query.limit else None
    return QueuePage(
        items=items,
        total=total,
        next_cursor=(
            cursor_of(
                last.suggested_priority, last.escalation_probability, last.report_id
            )
            if last
            else None
        ),
    )
