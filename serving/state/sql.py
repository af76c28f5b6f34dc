"""Every SQL statement of the state store, in one place.

Portable SQL with ``?`` placeholders (the connection turns them into the engine's style);
the one engine-specific expression (``{kinds}``, aggregating identifier kinds) comes from
the backend. Rows are read by the column names these statements give.
"""

from __future__ import annotations

AUDIT_COLUMNS = (
    "request_id",
    "at",
    "key_id",
    "endpoint",
    "report_id",
    "model_version",
    "probability",
    "priority",
    "reasons",
    "warnings",
)
ACCESS_COLUMNS = ("at", "key_id", "method", "route", "status", "reason")
LINK_COLUMNS = ("kind", "hash", "received_us", "report_id", "escalated")


def insert(table: str, columns: tuple[str, ...], tail: str = "") -> str:
    """An INSERT of ``columns`` into ``table`` (``tail``: ON CONFLICT, RETURNING)."""
    marks = ", ".join("?" for _ in columns)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) {tail}".strip()


def marks(n: int) -> str:
    """``?, ?, ...`` for an IN list of ``n`` values."""
    return ", ".join("?" for _ in range(n))


INSERT_AUDIT = insert("requests", AUDIT_COLUMNS)
INSERT_ACCESS = insert("access", ACCESS_COLUMNS)

SCORED_COLUMNS = (
    "report_id",
    "request_id",
    "scored_at",
    "received_at",
    "esp",
    "incident_type",
    "priority",
    "probability",
    "model_version",
    "deadline",
    "codes",
    "response",
    "flat",
)
INSERT_SCORED = insert("scored", SCORED_COLUMNS, "RETURNING seq")
UPSERT_QUEUE = insert(
    "queue",
    ("report_id", "scored_seq", "priority", "probability", "esp"),
    "ON CONFLICT (report_id) DO UPDATE SET scored_seq = excluded.scored_seq, "
    "priority = excluded.priority, probability = excluded.probability, "
    "esp = excluded.esp, decided = CASE WHEN queue.decided = 1 AND excluded.priority < "
    "(SELECT CASE WHEN d.priority < d.suggested_priority THEN d.priority "
    "ELSE d.suggested_priority END FROM decisions AS d "
    "WHERE d.seq = queue.decision_seq) THEN 0 ELSE queue.decided END",
)
"""A report scored again goes back to undecided when its new suggestion is more urgent
than its latest decision and than the suggestion that decision was made on (an analyst
who overrode a 1 down to 3 has seen the 1): nobody has seen the new priority-1 (two outside tests, session
9: it stayed decided, out of the undecided queue, never overdue). Its decisions are kept;
the next one supersedes the latest."""

QUEUE_DECIDED = "SELECT decided FROM queue WHERE report_id = ?"
QUEUE_COUNT = "SELECT COUNT(*) AS n FROM queue AS q WHERE {where}"
QUEUE_TALLY = "SELECT COALESCE(SUM(q.n), 0) AS n FROM queue_tally AS q WHERE {where}"
"""``QUEUE_COUNT`` from the tally the queue's triggers keep (the same filters)."""
QUEUE_PAGE = (
    "SELECT q.report_id, q.priority, q.probability, q.decided, s.received_at, s.esp, "
    "s.incident_type, s.model_version, s.deadline, s.codes, "
    "d.priority AS decided_priority, "
    # issue 21: case, burst, blind review, ageing (NULL for reports scored before)
    "q.rowid AS position, s.scored_at, d.decided_at, m.case_id, m.blind, "
    "m.queued_at, c.kind AS case_kind, c.accounts AS case_accounts "
    "FROM queue AS q JOIN scored AS s ON s.seq = q.scored_seq "
    "LEFT JOIN decisions AS d ON d.seq = q.decision_seq "
    "LEFT JOIN case_member AS m ON m.report_id = q.report_id "
    "LEFT JOIN cases AS c ON c.case_id = m.case_id WHERE {where} "
    "ORDER BY {order} LIMIT ?"
)
QUEUE_ORDERS = {
    "priority": "q.priority, q.probability DESC, q.report_id",
    "priority_age": "q.priority, q.rowid",
}
"""``priority_age``: first entered the queue first (a queue row keeps its rowid when a
report is scored again), read from the ``queue_age*`` indexes."""
AFTER_AGE_CURSOR = " AND (q.priority > ? OR (q.priority = ? AND q.rowid > ?))"
AFTER_CURSOR = (
    " AND (q.priority > ? OR (q.priority = ? AND (q.probability < ? OR "
    "(q.probability = ? AND q.report_id > ?))))"
)
LATEST = (
    "SELECT s.seq, s.scored_at, s.received_at, s.esp, s.incident_type, s.deadline, "
    "s.codes, s.response FROM queue AS q JOIN scored AS s ON s.seq = q.scored_seq "
    "WHERE q.report_id = ?"
)
IN_QUEUE = "SELECT report_id FROM queue WHERE report_id IN ({marks})"

DECISION_TARGET = (
    "SELECT q.scored_seq, s.priority AS suggested, s.model_version, s.scored_at, "
    "d.decision_id AS previous FROM queue AS q JOIN scored AS s ON s.seq = q.scored_seq "
    "LEFT JOIN decisions AS d ON d.seq = q.decision_seq WHERE q.report_id = ?"
)
DECISION_COLUMNS = (
    "decision_id",
    "report_id",
    "scored_seq",
    "decided_at",
    "key_id",
    "analyst",
    "action",
    "priority",
    "designation",
    "reason",
    "note",
    "suggested_priority",
    "model_version",
    "supersedes",
)
INSERT_DECISION = insert("decisions", DECISION_COLUMNS, "RETURNING seq")
MARK_DECIDED = "UPDATE queue SET decided = 1, decision_seq = ? WHERE report_id = ?"
DECISIONS = (
    "SELECT decision_id, report_id, decided_at, analyst, key_id, action, priority, "
    "designation, reason, note, suggested_priority, model_version, supersedes "
    "FROM decisions WHERE report_id = ? ORDER BY seq DESC"
)
ESCALATED_CASE = "CASE WHEN {t}.priority = 1 THEN 1 ELSE 0 END"
ESCALATION_SETTLED = (
    "(SELECT MIN(e.decided_at) FROM decisions AS e WHERE e.report_id = q.report_id "
    "AND e.seq > COALESCE((SELECT MAX(c.seq) FROM decisions AS c "
    "WHERE c.report_id = q.report_id AND "
    + ESCALATED_CASE.format(t="c") + " != " + ESCALATED_CASE.format(t="d")
    + "), 0))"
)  # fmt: skip
"""When the latest decision's escalation mark took hold: the first decision of the run
of decisions that agree with the latest on priority 1 or not (``link.escalated`` has
held that value since; ``export-decisions`` writes it as ``decided_at``)."""
DECIDED = (
    "SELECT s.flat, s.probability AS suggested_probability, "
    "d.decided_at AS decision_at, d.priority AS decision_priority, "
    "d.designation AS decision_designation, d.reason AS decision_reason, "
    "d.action AS decision_action, d.suggested_priority, d.model_version AS suggested_by, "
    "d.key_id AS decision_key_id, " + ESCALATION_SETTLED + " AS decision_settled_at, "
    # blind: the report's first decision, made while its suggestion was hidden (a
    # later one was made with it in view; case_member.blind is cleared when the first
    # is made by a key that sees it: serving.state.store.Transaction.decide)
    "CASE WHEN d.supersedes IS NULL THEN COALESCE((SELECT m.blind FROM case_member "
    "AS m WHERE m.report_id = q.report_id), 0) ELSE 0 END AS decision_blind "
    "FROM queue AS q JOIN decisions AS d ON d.seq = q.decision_seq "
    "JOIN scored AS s ON s.seq = d.scored_seq ORDER BY s.received_at, q.report_id"
)
OVERRIDES_FROM = (
    "FROM queue AS q JOIN decisions AS d ON d.seq = q.decision_seq "
    "JOIN scored AS s ON s.seq = d.scored_seq {where}"
)
OVERRIDE_CELLS = (
    "COUNT(*) AS decided, COALESCE(SUM(CASE WHEN d.priority != d.suggested_priority "
    "THEN 1 ELSE 0 END), 0) AS overridden"
)
OVERRIDES = "SELECT " + OVERRIDE_CELLS + " " + OVERRIDES_FROM
OVERRIDES_BY_PRIORITY = (
    "SELECT d.suggested_priority AS cell, " + OVERRIDE_CELLS + " " + OVERRIDES_FROM
    + " GROUP BY d.suggested_priority ORDER BY d.suggested_priority"
)  # fmt: skip
OVERRIDES_BY_ESP = (
    "SELECT COALESCE(s.esp, '(public)') AS cell, " + OVERRIDE_CELLS + " "
    + OVERRIDES_FROM + " GROUP BY COALESCE(s.esp, '(public)') ORDER BY cell"
)  # fmt: skip

INSERT_LINK = insert("link", LINK_COLUMNS, "ON CONFLICT DO NOTHING")
LINK_STORED_IDS = "SELECT DISTINCT report_id FROM link WHERE report_id IN ({marks})"
LINK_COUNT = (
    "COALESCE(SUM(CASE WHEN received_us >= ?{escalated} THEN 1 ELSE 0 END), 0) AS n{i}"
)
LINK_COUNTS = (
    "SELECT {sums} FROM link WHERE kind = ? AND hash = ? "
    "AND received_us >= ? AND received_us < ?"
)
LINK_COUNTS_IN = (
    "SELECT hash, {sums} FROM link WHERE kind = ? AND hash IN ({marks}) "
    "AND received_us >= ? AND received_us < ? GROUP BY hash"
)
LINKED_TO = (
    "SELECT o.report_id, {kinds} AS kinds, MAX(o.received_us) AS received_us, "
    "MAX(o.escalated) AS escalated FROM link AS me JOIN link AS o "
    "ON o.kind = me.kind AND o.hash = me.hash AND o.report_id != me.report_id "
    "AND o.received_us < me.received_us AND o.received_us >= me.received_us - ? "
    "WHERE me.report_id = ? GROUP BY o.report_id "
    "ORDER BY MAX(o.received_us) DESC, o.report_id LIMIT ?"
)
SET_ESCALATED = (
    "UPDATE link SET escalated = CASE WHEN ? = 0 THEN 0 WHEN escalated > 0 "
    "THEN escalated ELSE ? END WHERE report_id = ?"
)
"""``link.escalated``: 0 not escalated; else the minute (since the epoch, rounded up) the
report's escalation took hold — the first of the run of priority-1 decisions, as
``ESCALATION_SETTLED`` dates it for training; 1 for rows marked before the minute was
kept (time unknown: counted for every later report, as before)."""
ESCALATED_BEFORE = " AND escalated > 0 AND (escalated = 1 OR escalated <= ?)"
"""An escalation counts for a report received after it took hold (``?``: the report's
receipt minute, rounded down): training counts ``decided_at < received_at``; the service
counted every escalation on file, also those decided after a backlogged report's
receipt (an outside test, session 9)."""

MIGRATED = "SELECT rows FROM migrated WHERE source = ?"
INSERT_MIGRATED = insert("migrated", ("source", "source_table", "rows", "at"))

# monitoring (``tipscore monitor``) and the service's live figures (``/metrics``)
SERVED = (
    "SELECT s.report_id, s.received_at, s.esp, s.priority, s.probability, "
    "s.model_version, s.flat FROM queue AS q JOIN scored AS s ON s.seq = q.scored_seq "
    "WHERE s.received_at >= ? AND s.received_at < ?"
)  # unordered: sorting the wide rows cost more than the reading
DECIDED_BETWEEN = (
    "SELECT s.received_at, d.decided_at, d.suggested_priority, d.priority, d.action, "
    "d.model_version, COALESCE(s.esp, '(public)') AS platform "
    "FROM queue AS q JOIN decisions AS d ON d.seq = q.decision_seq "
    "JOIN scored AS s ON s.seq = d.scored_seq "
    "WHERE s.received_at >= ? AND s.received_at < ? ORDER BY s.received_at"
)
SCORED_COUNTS = "SELECT priority, esp, COUNT(*) AS n FROM scored GROUP BY priority, esp"  # on the covering index scored_by_priority (grouping by an expression is 6x slower)
DECISION_COUNTS = (
    "SELECT suggested_priority, COUNT(*) AS decided, COALESCE(SUM(CASE WHEN "
    "priority != suggested_priority THEN 1 ELSE 0 END), 0) AS overridden "
    "FROM decisions GROUP BY suggested_priority"
)

# shadow scoring (``serving.shadow``; read by ``tipscore compare`` and promotion's gate)
SHADOW_COLUMNS = (
    "report_id",
    "request_id",
    "scored_seq",
    "scored_at",
    "champion_version",
    "challenger_version",
    "challenger_run_id",
    "probability",
    "priority",
)
INSERT_SHADOW = insert("shadow", SHADOW_COLUMNS)
SHADOWED = (
    "SELECT h.seq, h.report_id, h.scored_at, h.champion_version, h.challenger_version, "
    "h.challenger_run_id, h.probability AS challenger_probability, "
    "h.priority AS challenger_priority, s.probability AS champion_probability, "
    "s.priority AS champion_priority, s.received_at, s.flat, "
    "d.priority AS decision_priority, d.decided_at "
    "FROM shadow AS h JOIN scored AS s ON s.seq = h.scored_seq "
    "LEFT JOIN queue AS q ON q.report_id = h.report_id "
    "LEFT JOIN decisions AS d ON d.seq = q.decision_seq "
    "WHERE h.seq IN (SELECT MAX(x.seq) FROM shadow AS x WHERE {where} "
    "GROUP BY x.report_id) "
    "AND s.received_at >= ? AND s.received_at < ? ORDER BY s.received_at, h.report_id"
)
"""Each report's latest shadow answer (of the challenger chosen by ``{where}``) with the
champion's suggestion it shadowed and the analyst's latest decision on the report."""
SHADOW_CHALLENGERS = (
    "SELECT challenger_version, challenger_run_id, COUNT(*) AS n, "
    "MAX(seq) AS last_seq FROM shadow "
    "GROUP BY challenger_version, challenger_run_id ORDER BY last_seq DESC"
)
