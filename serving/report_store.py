"""Scored reports and analysts' decisions: the analyst queue and the next training data.

SQLite (WAL, ``synchronous=FULL``), beside the audit log. Three tables:

- ``scored``: every suggestion the service made, append-only (triggers refuse UPDATE and
  DELETE): the response as sent, the queue columns, and the report's flattened metadata
  with hashed identifiers only (what ``export-decisions`` turns into training rows);
- ``decisions``: every analyst decision, append-only; a later decision on a report
  supersedes the earlier one but never erases it;
- ``queue``: one row per report pointing at its latest suggestion and decision — an index
  kept in step with the two logs (rebuildable from them), so the queue pages fast with
  100,000 reports.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from features.flat import flatten
from features.schema import TipReport
from serving.analyst.schemas import (
    Badges,
    DecisionIn,
    DecisionOut,
    QueueItem,
    QueuePage,
    QueueQuery,
)
from serving.schemas import ScoreResponse
from serving.sqlite_db import open_durable

SCHEMA = """
CREATE TABLE IF NOT EXISTS scored (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id TEXT NOT NULL,
    request_id TEXT NOT NULL,
    scored_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    esp TEXT,
    incident_type TEXT NOT NULL,
    priority INTEGER NOT NULL,
    probability REAL NOT NULL,
    model_version TEXT NOT NULL,
    deadline TEXT,
    codes TEXT NOT NULL,
    response TEXT NOT NULL,
    flat TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS decisions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    decision_id TEXT NOT NULL UNIQUE,
    report_id TEXT NOT NULL,
    scored_seq INTEGER NOT NULL REFERENCES scored (seq),
    decided_at TEXT NOT NULL,
    key_id TEXT NOT NULL,
    analyst TEXT NOT NULL,
    action TEXT NOT NULL,
    priority INTEGER NOT NULL,
    designation TEXT NOT NULL,
    reason TEXT NOT NULL,
    note TEXT NOT NULL,
    suggested_priority INTEGER NOT NULL,
    model_version TEXT NOT NULL,
    supersedes TEXT
);
CREATE INDEX IF NOT EXISTS decisions_by_report ON decisions (report_id, seq);
CREATE TABLE IF NOT EXISTS queue (
    report_id TEXT PRIMARY KEY,
    scored_seq INTEGER NOT NULL,
    decision_seq INTEGER,
    priority INTEGER NOT NULL,
    probability REAL NOT NULL,
    esp TEXT,
    decided INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS queue_order ON queue (priority, probability DESC, report_id);
CREATE INDEX IF NOT EXISTS queue_esp ON queue (esp, priority, probability DESC, report_id);
CREATE INDEX IF NOT EXISTS queue_decided
    ON queue (decided, priority, probability DESC, report_id);
CREATE TRIGGER IF NOT EXISTS scored_no_update BEFORE UPDATE ON scored
BEGIN SELECT RAISE(ABORT, 'scored reports are append-only'); END;
CREATE TRIGGER IF NOT EXISTS scored_no_delete BEFORE DELETE ON scored
BEGIN SELECT RAISE(ABORT, 'scored reports are append-only'); END;
CREATE TRIGGER IF NOT EXISTS decisions_no_update BEFORE UPDATE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;
CREATE TRIGGER IF NOT EXISTS decisions_no_delete BEFORE DELETE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;
"""

QUEUE_COLUMNS = (
    "q.report_id, q.priority, q.probability, q.decided, s.received_at, s.esp, "
    "s.incident_type, s.model_version, s.deadline, s.codes, d.priority"
)


class NotFound(LookupError):
    """No scored report has this id."""


class DecisionRefused(ValueError):
    """A decision that contradicts itself (e.g. an override to the suggested priority)."""


@dataclass(frozen=True)
class Scored:
    """One suggestion to keep: the report (hashed identifiers) and the response sent."""

    report: TipReport
    response: ScoreResponse
    request_id: str
    deadline: date | None


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value


def _cursor(priority: int, probability: float, report_id: str) -> str:
    raw = json.dumps([priority, probability, report_id]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _uncursor(cursor: str) -> tuple[int, float, str]:
    try:
        priority, probability, report_id = json.loads(base64.urlsafe_b64decode(cursor))
        return int(priority), float(probability), str(report_id)
    except (ValueError, TypeError) as exc:
        raise ValueError("cursor: not a cursor this service gave out") from exc


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


class ReportStore:
    """Keeps suggestions and decisions; answers the queue, report views and exports."""

    def __init__(self, path: Path | str) -> None:
        self._db = open_durable(path, SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def add(self, entries: Sequence[Scored]) -> None:
        """Keep suggestions (one transaction) and point the queue at the newest."""
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for e in entries:
                    self._add_one(e, now)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _add_one(self, e: Scored, now: str) -> None:
        r, report = e.response, e.report
        flat = {k: _iso(v) for k, v in flatten(report).items()}
        cursor = self._db.execute(
            "INSERT INTO scored (report_id, request_id, scored_at, received_at, esp, "
            "incident_type, priority, probability, model_version, deadline, codes, "
            "response, flat) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                r.report_id,
                e.request_id,
                now,
                _iso(report.received_at),
                report.esp,
                report.incident_type,
                r.suggested_priority,
                r.escalation_probability,
                f"{r.model_name}/{r.model_version}",
                e.deadline.isoformat() if e.deadline else None,
                json.dumps([w.code for w in r.warnings]),
                r.model_dump_json(),
                json.dumps(flat),
            ),
        )
        self._db.execute(
            "INSERT INTO queue (report_id, scored_seq, priority, probability, esp) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (report_id) DO UPDATE SET "
            "scored_seq = excluded.scored_seq, priority = excluded.priority, "
            "probability = excluded.probability, esp = excluded.esp",
            (
                r.report_id,
                cursor.lastrowid,
                r.suggested_priority,
                r.escalation_probability,
                report.esp,
            ),
        )

    def queue(self, query: QueueQuery, today: date) -> QueuePage:
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
        filters = " AND ".join(where) or "1"
        total = self._db.execute(
            f"SELECT COUNT(*) FROM queue AS q WHERE {filters}", params
        ).fetchone()[0]
        page_where, page_params = filters, list(params)
        if query.cursor:
            p, prob, rid = _uncursor(query.cursor)
            page_where += (
                " AND (q.priority > ? OR (q.priority = ? AND (q.probability < ? OR "
                "(q.probability = ? AND q.report_id > ?))))"
            )
            page_params += [p, p, prob, prob, rid]
        rows = self._db.execute(
            f"SELECT {QUEUE_COLUMNS} FROM queue AS q "
            "JOIN scored AS s ON s.seq = q.scored_seq "
            "LEFT JOIN decisions AS d ON d.seq = q.decision_seq "
            f"WHERE {page_where} "
            "ORDER BY q.priority, q.probability DESC, q.report_id LIMIT ?",
            [*page_params, query.limit + 1],
        ).fetchall()
        items = [self._item(row, today) for row in rows[: query.limit]]
        more = len(rows) > query.limit
        last = items[-1] if items and more else None
        return QueuePage(
            items=items,
            total=total,
            next_cursor=(
                _cursor(
                    last.suggested_priority, last.escalation_probability, last.report_id
                )
                if last
                else None
            ),
        )

    @staticmethod
    def _item(row: tuple[Any, ...], today: date) -> QueueItem:
        (rid, priority, prob, decided, received, esp, kind, version, deadline, codes,
         decided_priority) = row  # fmt: skip
        return QueueItem(
            report_id=rid,
            received_at=received,
            esp=esp,
            incident_type=kind,
            suggested_priority=priority,
            escalation_probability=prob,
            model_version=version,
            badges=badges(json.loads(codes), deadline, today),
            decided=bool(decided),
            decided_priority=decided_priority,
        )

    def latest(self, report_id: str) -> dict[str, Any]:
        """The newest suggestion kept for a report (raises ``NotFound``)."""
        row = self._db.execute(
            "SELECT s.seq, s.scored_at, s.received_at, s.esp, s.incident_type, "
            "s.deadline, s.codes, s.response FROM queue AS q "
            "JOIN scored AS s ON s.seq = q.scored_seq WHERE q.report_id = ?",
            (report_id,),
        ).fetchone()
        if row is None:
            raise NotFound(report_id)
        names = ("seq", "scored_at", "received_at", "esp", "incident_type")
        out = dict(zip(names, row[:5], strict=True))
        out["deadline"], out["codes"] = row[5], json.loads(row[6])
        out["response"] = ScoreResponse.model_validate_json(row[7])
        return out

    def in_queue(self, report_ids: Sequence[str]) -> set[str]:
        """Which of these report ids have been scored here."""
        found: set[str] = set()
        ids = list(report_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            rows = self._db.execute(
                f"SELECT report_id FROM queue WHERE report_id IN ({marks})", chunk
            )
            found.update(r[0] for r in rows)
        return found

    def decide(self, decision: DecisionIn, key_id: str, analyst: str) -> DecisionOut:
        """Record a decision on the report's newest suggestion (append-only)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                out = self._decide(decision, key_id, analyst)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return out

    def _decide(self, decision: DecisionIn, key_id: str, analyst: str) -> DecisionOut:
        row = self._db.execute(
            "SELECT q.scored_seq, s.priority, s.model_version, d.decision_id "
            "FROM queue AS q JOIN scored AS s ON s.seq = q.scored_seq "
            "LEFT JOIN decisions AS d ON d.seq = q.decision_seq WHERE q.report_id = ?",
            (decision.report_id,),
        ).fetchone()
        if row is None:
            raise NotFound(decision.report_id)
        scored_seq, suggested, version, previous = row
        if decision.action == "accept":
            if decision.priority not in (None, suggested):
                raise DecisionRefused(
                    f"priority: accepting keeps the suggested priority {suggested}; "
                    "use action 'override' to set another"
                )
            priority = suggested
        else:
            if decision.priority is None:
                raise DecisionRefused(
                    "priority: an override needs a priority (1, 2 or 3)"
                )
            if decision.priority == suggested:
                raise DecisionRefused(
                    f"priority: {suggested} is the suggestion; use action 'accept'"
                )
            priority = decision.priority
        out = DecisionOut(
            decision_id=uuid.uuid4().hex,
            report_id=decision.report_id,
            decided_at=datetime.now(UTC).isoformat(timespec="milliseconds"),
            analyst=analyst,
            key_id=key_id,
            action=decision.action,
            priority=priority,
            designation=decision.designation,
            reason=decision.reason.value,
            note=decision.note,
            suggested_priority=suggested,
            model_version=version,
            supersedes=previous,
        )
        cursor = self._db.execute(
            "INSERT INTO decisions (decision_id, report_id, scored_seq, decided_at, "
            "key_id, analyst, action, priority, designation, reason, note, "
            "suggested_priority, model_version, supersedes) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                out.decision_id,
                out.report_id,
                scored_seq,
                out.decided_at,
                out.key_id,
                out.analyst,
                out.action,
                out.priority,
                out.designation,
                out.reason,
                out.note,
                out.suggested_priority,
                out.model_version,
                out.supersedes,
            ),
        )
        self._db.execute(
            "UPDATE queue SET decided = 1, decision_seq = ? WHERE report_id = ?",
            (cursor.lastrowid, decision.report_id),
        )
        return out

    def decisions(self, report_id: str) -> list[DecisionOut]:
        """Every decision on a report, newest first."""
        rows = self._db.execute(
            "SELECT decision_id, report_id, decided_at, analyst, key_id, action, "
            "priority, designation, reason, note, suggested_priority, model_version, "
            "supersedes FROM decisions WHERE report_id = ? ORDER BY seq DESC",
            (report_id,),
        )
        names = list(DecisionOut.model_fields)
        return [DecisionOut(**dict(zip(names, r, strict=True))) for r in rows]

    def decided(self) -> Iterator[dict[str, Any]]:
        """Each decided report's latest decision with the flattened report it was made on.

        Rows in order of receipt: what ``export-decisions`` writes as training data.
        """
        cursor = self._db.execute(
            "SELECT s.flat, s.probability, d.decided_at, d.priority, d.designation, "
            "d.reason, d.action, d.suggested_priority, d.model_version, d.key_id "
            "FROM queue AS q JOIN decisions AS d ON d.seq = q.decision_seq "
            "JOIN scored AS s ON s.seq = d.scored_seq ORDER BY s.received_at, q.report_id"
        )
        for row in cursor:
            flat = json.loads(row[0])
            yield {
                **flat,
                "suggested_probability": row[1],
                "decision_at": row[2],
                "decision_priority": row[3],
                "decision_designation": row[4],
                "decision_reason": row[5],
                "decision_action": row[6],
                "suggested_priority": row[7],
                "suggested_by": row[8],
                "decision_key_id": row[9],
            }

    def override_rates(self, model_version: str | None = None) -> dict[str, Any]:
        """How often analysts' latest decisions differ from the suggestion.

        Overall, by suggested priority and by ESP; only for ``model_version`` if given.
        """
        where, params = "", []
        if model_version:
            where, params = "WHERE d.model_version = ?", [model_version]
        base = (
            "FROM queue AS q JOIN decisions AS d ON d.seq = q.decision_seq "
            f"JOIN scored AS s ON s.seq = d.scored_seq {where}"
        )
        cells = "COUNT(*), COALESCE(SUM(d.priority != d.suggested_priority), 0)"

        def rate(count: int, overridden: int) -> dict[str, Any]:
            return {
                "decided": count,
                "overridden": overridden,
                "override_rate": overridden / count if count else None,
            }

        overall = self._db.execute(f"SELECT {cells} {base}", params).fetchone()
        by_priority = self._db.execute(
            f"SELECT d.suggested_priority, {cells} {base} "
            "GROUP BY d.suggested_priority ORDER BY 1",
            params,
        ).fetchall()
        by_esp = self._db.execute(
            f"SELECT COALESCE(s.esp, '(public)'), {cells} {base} GROUP BY 1 ORDER BY 1",
            params,
        ).fetchall()
        return {
            "model_version": model_version,
            **rate(*overall),
            "by_suggested_priority": {str(p): rate(c, o) for p, c, o in by_priority},
            "by_esp": {esp: rate(c, o) for esp, c, o in by_esp},
        }
