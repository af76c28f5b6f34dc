"""The analyst queue's paging (an opaque cursor), its items and their badges."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from serving.analyst.schemas import Badges, QueueItem, QueuePage, QueueQuery
from serving.state import sql
from serving.state.ageing import ageing
from serving.state.backend import Connection, Row


def cursor_of(priority: int, probability: float, report_id: str) -> str:
    """The cursor of a page that ends at this queue position."""
    raw = json.dumps([priority, probability, report_id]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def uncursor(cursor: str) -> tuple[int, float, str]:
    """The queue position a cursor names (``ValueError`` for one not given out here).

    Each value is checked as ``cursor_of`` writes it: a priority 1-3, a probability in
    [0, 1] and a report id of at most 64 printable ASCII characters. A crafted cursor
    holding an integer of 2^63 or more once reached SQLite, which cannot bind it (a 500);
    one holding a lone surrogate (U+D800) was answered with the codec's message.
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
        and report_id.isascii()  # report ids are; a lone surrogate cannot be bound
        and report_id.isprintable()
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


def item(row: Row, today: date, view: View | None = None) -> QueueItem:
    """One queue row as the analyst page shows it.

    With a ``view`` (issue 21): its case, burst, blind flag and ageing; a blind report
    not yet decided shows no suggestion when the view hides them (analyst keys).
    """
    view = view or View()
    decided, blind = bool(row["decided"]), bool(row["blind"])
    # hidden until its first decision, as the report view does (a report decided and
    # then reopened by a more urgent re-score has shown its suggestion already)
    hidden = view.hide_blind and blind and row["decided_at"] is None
    burst = row["case_kind"] == "burst"
    return QueueItem(
        report_id=row["report_id"],
        received_at=row["received_at"],
        esp=row["esp"],
        incident_type=row["incident_type"],
        suggested_priority=None if hidden else row["priority"],
        escalation_probability=None if hidden else row["probability"],
        model_version=row["model_version"],
        badges=badges(json.loads(row["codes"]), row["deadline"], today),
        decided=decided,
        decided_priority=row["decided_priority"],
        case_id=row["case_id"],
        viral_burst=int(row["case_accounts"]) if burst else None,
        blind=blind,
        ageing=ageing(
            row["queued_at"] or row["scored_at"],
            row["priority"],
            row["decided_at"],
            decided,
            view.targets,
            view.now or datetime.now(UTC),
        ),
    )


@dataclass(frozen=True)
class View:
    """Who reads the queue and when: blind review held, service targets, the time."""

    hide_blind: bool = False
    targets: Mapping[int, int] = field(default_factory=dict)
    now: datetime | None = None


def age_cursor(priority: int, position: int) -> str:
    """The cursor of a page in ``priority_age`` order that ends at this position."""
    raw = json.dumps(["age", priority, position]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def unage_cursor(cursor: str) -> tuple[int, int]:
    """The position an age cursor names (``ValueError`` for one not given out here)."""
    bad = ValueError("cursor: not a cursor this service gave out for this order")
    try:
        tag, priority, position = json.loads(base64.urlsafe_b64decode(cursor))
    except (ValueError, TypeError) as exc:
        raise bad from exc
    if not (
        tag == "age"
        and type(priority) is int
        and 1 <= priority <= 3
        and type(position) is int
        and 0 <= position < 2**62
    ):
        raise bad
    return priority, position


def page(
    db: Connection, query: QueueQuery, today: date, view: View | None = None
) -> QueuePage:
    """A page of the queue: priority 1 first, then by probability, then report id.

    Or (``order="priority_age"``) priority 1 first, then the longest waiting.
    """
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
    counted = db.one(sql.QUEUE_TALLY.format(where=filters), params)
    total = int(counted["n"]) if counted else 0
    page_where, page_params = filters, list(params)
    by_age = query.order == "priority_age"
    if query.cursor and by_age:
        p, position = unage_cursor(query.cursor)
        page_where += sql.AFTER_AGE_CURSOR
        page_params += [p, p, position]
    elif query.cursor:
        p, prob, rid = uncursor(query.cursor)
        page_where += sql.AFTER_CURSOR
        page_params += [p, p, prob, prob, rid]
    text = sql.QUEUE_PAGE.format(where=page_where, order=sql.QUEUE_ORDERS[query.order])
    rows = db.rows(text, [*page_params, query.limit + 1])
    items = [item(row, today, view) for row in rows[: query.limit]]
    last = rows[query.limit - 1] if items and len(rows) > query.limit else None
    return QueuePage(items=items, total=total, next_cursor=_next(last, by_age))


def _next(last: Row | None, by_age: bool) -> str | None:
    """The cursor after the page's last row (from the row: the item may hide it)."""
    if last is None:
        return None
    if by_age:
        return age_cursor(last["priority"], last["position"])
    return cursor_of(last["priority"], last["probability"], last["report_id"])
