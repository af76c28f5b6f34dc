"""Reading cases: the case list (keyset-paged), one case with its members, a case decision.

A blind member not yet decided shows no suggestion, probability or reasons when the
caller asks for blind review to hold (``hide_blind``: analyst keys).
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from serving.analyst.case_schemas import (
    Burst,
    CaseDecisionIn,
    CaseItem,
    CaseMember,
    CasePage,
    CaseQuery,
    CaseReason,
    CaseView,
    SharedIdentifier,
)
from serving.analyst.schemas import DecisionIn, DecisionOut
from serving.state import case_sql as q
from serving.state import sql
from serving.state.ageing import ageing
from serving.state.backend import Connection, Row
from serving.state.records import DecisionRefused, NotFound

PREFIX = 10
"""Characters of a hash shown: enough to tell identifiers apart, not to look one up."""
Targets = Mapping[int, int]


def _iso(us: int) -> str:
    return datetime.fromtimestamp(us / 1e6, UTC).isoformat()


def case_item(row: Row, targets: Targets, now: datetime) -> CaseItem:
    """One ``cases`` row as the case list shows it."""
    undecided = int(row["undecided"])
    burst = row["burst_hash"]
    return CaseItem(
        case_id=int(row["case_id"]),
        kind=row["kind"],
        members=int(row["members"]),
        undecided=undecided,
        decided=undecided == 0,
        top_priority=int(row["top_priority"]),
        top_probability=float(row["top_probability"]),
        oldest_received_at=_iso(int(row["oldest_us"])),
        newest_received_at=_iso(int(row["newest_us"])),
        linked_by=sorted(k.removeprefix("link_") for k in row["kinds"].split(",") if k),
        burst=(
            Burst(file_hash_prefix=burst[:PREFIX], accounts=int(row["accounts"]))
            if burst
            else None
        ),
        ageing=ageing(
            row["queued_at"],
            int(row["top_priority"]),
            None,
            undecided == 0,
            targets,
            now,
        ),
    )


def _cursor(order: str, item: CaseItem) -> str:
    second: Any = item.top_probability if order == "priority" else item.ageing.queued_at
    raw = json.dumps([order, item.top_priority, second, item.case_id]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _uncursor(cursor: str, order: str) -> tuple[int, Any, int]:
    """A cursor's position (``ValueError`` for one not given out for this order)."""
    bad = ValueError("cursor: not a cursor this service gave out for this order")
    try:
        kind, priority, second, case_id = json.loads(base64.urlsafe_b64decode(cursor))
    except (ValueError, TypeError) as exc:
        raise bad from exc
    ok_second = (
        type(second) in (int, float) and 0.0 <= second <= 1.0
        if order == "priority"
        else isinstance(second, str)
        and len(second) <= 64
        and second.isascii()  # a time as the service writes it; no lone surrogate
        and second.isprintable()
    )
    if not (
        kind == order
        and type(priority) is int
        and 1 <= priority <= 3
        and ok_second
        and type(case_id) is int
        and 1 <= case_id < 2**62
    ):
        raise bad
    return priority, second, case_id


def _hiding(db: Connection, item: CaseItem, hide_blind: bool) -> CaseItem:
    """The item as the caller sees it: no ``top_probability`` while a member is blind.

    A one-member case's top probability is its member's, hidden under blind review (an
    outside security test, session 9). ``top_priority`` stays: it is the band the case's
    place in the list shows anyway (docs/analyst.md, "Limits").
    """
    if not hide_blind or db.one(q.BLIND_UNDECIDED, (item.case_id,)) is None:
        return item
    return item.model_copy(update={"top_probability": None})


def page(
    db: Connection,
    query: CaseQuery,
    targets: Targets,
    now: datetime,
    hide_blind: bool = False,
) -> CasePage:
    """A page of the case list, highest suggested priority first."""
    where, params = "", list[Any]()
    if query.priority is not None:
        where, params = " AND c.top_priority = ?", [query.priority]
    if query.decided is not None:
        where += " AND c.undecided = 0" if query.decided else " AND c.undecided > 0"
    if query.kind is not None:
        where += " AND c.kind = ?"
        params.append(query.kind)
    counted = db.one(q.CASES_COUNT.format(where=where), params)
    order, after = q.CASE_ORDERS[query.order]
    if query.cursor:
        p, second, case_id = _uncursor(query.cursor, query.order)
        where += after
        params += [p, p, second, second, case_id]
    rows = db.rows(
        q.CASES_PAGE.format(where=where, order=order), [*params, query.limit + 1]
    )
    items = [case_item(r, targets, now) for r in rows[: query.limit]]
    more = len(rows) > query.limit
    return CasePage(
        items=[_hiding(db, item, hide_blind) for item in items],
        total=int(counted["n"]) if counted else 0,
        next_cursor=_cursor(query.order, items[-1]) if more and items else None,
    )


def resolve(db: Connection, case_id: int) -> Row:
    """A case's row, following merges to the case it is part of now (``NotFound``)."""
    row = db.one(q.CASE_ROW, (case_id,))
    for _ in range(1000):  # a chain of merges, each into an older case
        if row is None:
            raise NotFound(str(case_id))
        if row["merged_into"] is None:
            return row
        row = db.one(q.CASE_ROW, (row["merged_into"],))
    raise NotFound(str(case_id))


def _decision(row: Row) -> DecisionOut | None:
    if row["decision_id"] is None:
        return None
    fields = {
        k: row[k]
        for k in DecisionOut.model_fields
        if k not in ("priority", "report_id")
    }
    return DecisionOut(**fields, priority=row["d_priority"], report_id=row["report_id"])


def member(
    row: Row, hide_blind: bool, targets: Targets, now: datetime, burst: bool = False
) -> CaseMember:
    """A member as the case view shows it; blind and undecided: no suggestion.

    A burst's members carry the ``viral_burst`` warning code.
    """
    decided, blind = bool(row["decided"]), bool(row["blind"])
    hidden = (
        hide_blind and blind and row["decided_at"] is None
    )  # until its first decision
    response = json.loads(row["response"])
    reasons = [
        CaseReason(feature=c["feature"], text=c["text"], contribution=c["contribution"])
        for c in response["explanation"]["contributions"][:3]
    ]
    decision = _decision(row)
    return CaseMember(
        report_id=row["report_id"],
        received_at=row["received_at"],
        esp=row["esp"],
        incident_type=row["incident_type"],
        suggested_priority=None if hidden else int(row["priority"]),
        escalation_probability=None if hidden else float(row["probability"]),
        summary=[] if hidden else list(response.get("summary") or []),
        reasons=[] if hidden else reasons,
        warnings=[*json.loads(row["codes"]), *(["viral_burst"] if burst else [])],
        blind=blind,
        decided=decided,
        decision=decision,
        ageing=ageing(
            row["queued_at"],
            int(row["priority"]),
            decision.decided_at if decision else None,
            decided,
            targets,
            now,
        ),
    )


def shared(db: Connection, report_ids: Sequence[str]) -> list[SharedIdentifier]:
    """Identifiers shared by two or more of these reports, most shared first (50)."""
    counts: Counter[tuple[str, str]] = Counter()
    ids = list(report_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = db.rows(q.LINKS_OF.format(marks=sql.marks(len(chunk))), chunk)
        counts.update((r["kind"], r["hash"]) for r in rows)
    common = [(key, n) for key, n in counts.most_common() if n > 1][:50]
    return [
        SharedIdentifier(
            kind=kind.removeprefix("link_"), hash_prefix=value[:PREFIX], reports=n
        )
        for (kind, value), n in common
    ]


def view(
    db: Connection,
    case_id: int,
    limit: int,
    hide_blind: bool,
    targets: Targets,
    now: datetime,
) -> CaseView:
    """One case: its figures, its members (highest priority first), what they share."""
    row = resolve(db, case_id)
    current = int(row["case_id"])
    rows = db.rows(q.MEMBERS, (current, limit))
    burst = row["kind"] == "burst"
    members = [member(r, hide_blind, targets, now, burst) for r in rows]
    merged = [int(r["other_id"]) for r in db.rows(q.MERGED_FROM, (current, limit))]
    total = db.one(q.MERGED_COUNT, (current,)) if len(merged) == limit else None
    return CaseView(
        case=_hiding(db, case_item(row, targets, now), hide_blind),
        requested_case_id=case_id,
        members=members,
        members_shown=len(members),
        shared=shared(db, [m.report_id for m in members]),
        merged_from=merged,
        merged_total=int(total["n"]) if total else len(merged),
    )


def member_decisions(
    db: Connection, decision: CaseDecisionIn, hidden: bool = False
) -> tuple[int, list[DecisionIn], list[str]]:
    """The case (resolved), one decision per undecided member, and the members left.

    With blind review ``hidden`` from the caller, ``accept`` leaves the case's undecided
    blind members undecided (their ids are the third value): accepting them would accept
    suggestions the analyst was not shown. Raises ``NotFound``.
    """
    case = int(resolve(db, decision.case_id)["case_id"])
    out, left = [], []
    for row in db.rows(q.UNDECIDED_MEMBERS, (case,)):
        if hidden and decision.action == "accept" and row["blind"]:
            left.append(str(row["report_id"]))
            continue
        same = decision.action == "override" and decision.priority == row["priority"]
        out.append(
            DecisionIn(
                report_id=row["report_id"],
                action="accept" if same else decision.action,
                priority=None if same else decision.priority,
                designation=decision.designation,
                reason=decision.reason,
                note=decision.note,
            )
        )
    return case, out, left


def blind_decision(db: Connection, decision: DecisionIn, hidden: bool) -> DecisionIn:
    """A decision on a blind report as blind review records it.

    An override to the hidden suggestion is accepting it (the analyst agreed). With the
    suggestion ``hidden`` from the caller (an analyst key) and the report not decided
    yet, ``accept`` is refused: it would accept a priority the analyst was not shown, and
    the answer would show it (an outside security test). The refusal says how to decide
    and nothing of the suggestion.
    """
    member = db.one(q.MEMBER_OF, (decision.report_id,))
    if member is None or not member["blind"]:
        return decision
    target = db.one(sql.DECISION_TARGET, (decision.report_id,))
    if target is None:
        return decision
    if decision.action == "accept":
        if hidden and target["previous"] is None:
            raise DecisionRefused(
                "action: this report is under blind review and its suggestion is not "
                "shown until it is decided; decide it by naming a priority "
                "(action 'override' with priority 1, 2 or 3)"
            )
        return decision
    if target["suggested"] != decision.priority:
        return decision
    return decision.model_copy(update={"action": "accept", "priority": None})
