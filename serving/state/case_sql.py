"""The SQL of cases, bursts, ageing and blind review (``serving.state.cases``).

Portable SQL with ``?`` placeholders, as ``serving.state.sql``; kept apart so the case
statements read together.
"""

from __future__ import annotations

from serving.state.sql import insert

SUMMARY = (
    "members",
    "undecided",
    "top_priority",
    "top_probability",
    "oldest_us",
    "newest_us",
    "queued_at",
    "kinds",
)
NEW_CASE = insert(
    "cases",
    ("created_at", "kind", "burst_hash", "accounts", *SUMMARY),
    "RETURNING case_id",
)
CASE_ROW = "SELECT * FROM cases WHERE case_id = ?"
SET_SUMMARY = (
    "UPDATE cases SET "
    + ", ".join(f"{c} = ?" for c in SUMMARY)
    + (" WHERE case_id = ?")
)
SET_MERGED = (
    "UPDATE cases SET merged_into = ?, members = 0, undecided = 0 WHERE case_id = ?"
)
SET_ACCOUNTS = "UPDATE cases SET accounts = ? WHERE case_id = ?"
RECOMPUTE = (
    "SELECT COUNT(*) AS members, COALESCE(SUM(1 - q.decided), 0) AS undecided, "
    "MIN(q.priority) AS top_priority, MAX(q.probability) AS top_probability, "
    "MIN(m.received_us) AS oldest_us, MAX(m.received_us) AS newest_us, "
    "MIN(m.queued_at) AS queued_at "
    "FROM case_member AS m JOIN queue AS q ON q.report_id = m.report_id "
    "WHERE m.case_id = ?"
)
MEMBER_OF = "SELECT case_id, blind FROM case_member WHERE report_id = ?"
ADD_MEMBER = insert(
    "case_member",
    (
        "report_id",
        "case_id",
        "received_us",
        "queued_at",
        "blind",
        "priority",
        "probability",
    ),
)
RESCORED = "UPDATE case_member SET priority = ?, probability = ? WHERE report_id = ?"
MOVE_MEMBERS = "UPDATE case_member SET case_id = ? WHERE case_id = ?"
MOVE_MEMBER = "UPDATE case_member SET case_id = ? WHERE report_id = ?"
NEAR_CASES = (
    "SELECT h.case_id FROM case_hash AS h JOIN cases AS c ON c.case_id = h.case_id "
    "WHERE h.kind = ? AND h.hash = ? AND h.min_us <= ? AND h.max_us >= ? "
    "AND c.merged_into IS NULL AND c.kind = 'linked'"
)
UPSERT_HASH = insert(
    "case_hash",
    ("kind", "hash", "case_id", "min_us", "max_us"),
    "ON CONFLICT (kind, hash, case_id) DO UPDATE SET "
    "min_us = CASE WHEN excluded.min_us < case_hash.min_us "
    "THEN excluded.min_us ELSE case_hash.min_us END, "
    "max_us = CASE WHEN excluded.max_us > case_hash.max_us "
    "THEN excluded.max_us ELSE case_hash.max_us END",
)
HASHES_OF = "SELECT kind, hash, min_us, max_us FROM case_hash WHERE case_id = ?"
DROP_HASHES = "DELETE FROM case_hash WHERE case_id = ?"
FILE_ACCOUNT = "SELECT last_us FROM file_account WHERE hash = ? AND account = ?"
ADD_FILE_ACCOUNT = insert("file_account", ("hash", "account", "last_us"))
SET_FILE_ACCOUNT = "UPDATE file_account SET last_us = ? WHERE hash = ? AND account = ?"
RECENT_ACCOUNTS = (
    "SELECT COUNT(*) AS n FROM (SELECT 1 FROM file_account WHERE hash = ? "
    "AND last_us >= ? AND last_us <= ? LIMIT ?) AS recent"
)
ALL_ACCOUNTS = "SELECT COUNT(*) AS n FROM file_account WHERE hash = ?"
BURST_OF = "SELECT case_id FROM cases WHERE burst_hash = ? AND merged_into IS NULL"
FILE_REPORTS = (
    "SELECT DISTINCT m.report_id, m.case_id, m.received_us, m.queued_at, "
    "q.priority, q.probability, q.decided FROM link AS l "
    "JOIN case_member AS m ON m.report_id = l.report_id "
    "JOIN queue AS q ON q.report_id = m.report_id "
    "WHERE l.kind = 'link_file_hashes' AND l.hash = ? "
    "AND l.received_us >= ? AND l.received_us <= ? "
    "ORDER BY m.report_id"  # the burst's events in one order on every engine
)
HAS_PRIORITY = (
    "SELECT 1 AS found FROM case_member WHERE case_id = ? AND priority = ? LIMIT 1"
)
EVENT = insert("case_events", ("at", "event", "case_id", "other_id", "report_id"))
ONE_DECIDED = (
    "UPDATE cases SET undecided = undecided - 1 WHERE undecided > 0 AND case_id = "
    "(SELECT case_id FROM case_member WHERE report_id = ?)"
)
CASES_FROM = "FROM cases AS c WHERE c.merged_into IS NULL{where}"
CASES_COUNT = "SELECT COUNT(*) AS n " + CASES_FROM
CASES_PAGE = "SELECT c.* " + CASES_FROM + " ORDER BY {order} LIMIT ?"
CASE_ORDERS = {
    "priority": (
        "c.top_priority, c.top_probability DESC, c.case_id",
        " AND (c.top_priority > ? OR (c.top_priority = ? AND (c.top_probability < ? "
        "OR (c.top_probability = ? AND c.case_id > ?))))",
    ),
    "priority_age": (
        "c.top_priority, c.queued_at, c.case_id",
        " AND (c.top_priority > ? OR (c.top_priority = ? AND (c.queued_at > ? "
        "OR (c.queued_at = ? AND c.case_id > ?))))",
    ),
}
"""Per order: ORDER BY, and the keyset condition after a cursor (p, p, v, v, id)."""
BLIND_UNDECIDED = (
    "SELECT 1 AS one FROM case_member AS m JOIN queue AS q ON q.report_id = m.report_id "
    "WHERE m.case_id = ? AND m.blind = 1 AND q.decision_seq IS NULL LIMIT 1"
)
"""Whether a case has a member still under blind review (its probability is hidden)."""
MEMBERS = (
    "SELECT m.report_id, m.blind, m.queued_at, q.priority, q.probability, q.decided, "
    "s.received_at, s.esp, s.incident_type, s.codes, s.response, "
    "d.decision_id, d.decided_at, d.analyst, d.key_id, d.action, "
    "d.priority AS d_priority, d.designation, d.reason, d.note, "
    "d.suggested_priority, d.model_version, d.supersedes "
    "FROM (SELECT report_id, blind, queued_at, priority, probability "
    "FROM case_member WHERE case_id = ? "
    "ORDER BY priority, probability DESC, report_id LIMIT ?) AS m "
    "JOIN queue AS q ON q.report_id = m.report_id "
    "JOIN scored AS s ON s.seq = q.scored_seq "
    "LEFT JOIN decisions AS d ON d.seq = q.decision_seq "
    "ORDER BY m.priority, m.probability DESC, m.report_id"
)
LINKS_OF = (  # ordered: ties among the most shared keep one order on every engine
    "SELECT kind, hash FROM link WHERE report_id IN ({marks}) ORDER BY kind, hash"
)
MERGED_FROM = (
    "SELECT other_id FROM case_events WHERE case_id = ? AND event = 'merge' ORDER BY seq "
    "LIMIT ?"
)
MERGED_COUNT = (
    "SELECT COUNT(*) AS n FROM case_events WHERE case_id = ? AND event = 'merge'"
)
UNDECIDED_MEMBERS = (
    "SELECT m.report_id, q.priority, m.blind FROM case_member AS m "
    "JOIN queue AS q ON q.report_id = m.report_id "
    "WHERE m.case_id = ? AND q.decided = 0 ORDER BY m.report_id"
)
TRIAGE_OF = (
    "SELECT m.case_id, m.blind, m.queued_at, c.kind, c.accounts, c.burst_hash "
    "FROM case_member AS m JOIN cases AS c ON c.case_id = m.case_id "
    "WHERE m.report_id = ?"
)
_BLIND = "CASE WHEN d.supersedes IS NULL THEN COALESCE(m.blind, 0) ELSE 0 END"
"""A latest decision made blind: the report's first, its suggestion hidden (``DECIDED``)."""
BLIND_AGREEMENT = (
    f"SELECT {_BLIND} AS blind, COUNT(*) AS decided, "
    "COALESCE(SUM(CASE WHEN d.priority = d.suggested_priority THEN 1 ELSE 0 END), 0) "
    "AS agreed FROM queue AS q JOIN decisions AS d ON d.seq = q.decision_seq "
    "LEFT JOIN case_member AS m ON m.report_id = q.report_id {where} "
    f"GROUP BY {_BLIND}"
)
NOT_BLIND = "UPDATE case_member SET blind = 0 WHERE report_id = ? AND blind = 1"
"""A blind report first decided by a key that sees its suggestion was not reviewed blind."""
FIRST_DECISIONS = (
    "SELECT q.priority AS priority, m.queued_at, "
    "(SELECT MIN(e.decided_at) FROM decisions AS e WHERE e.report_id = q.report_id) "
    "AS first_at FROM queue AS q JOIN case_member AS m ON m.report_id = q.report_id "
    "WHERE q.decided = 1"
)
FIRST_DECISIONS_RECEIVED = (
    FIRST_DECISIONS + " AND m.received_us >= ? AND m.received_us < ?"
)
"""The same, for reports received in ``[since, until)`` (``tipscore monitor``'s window)."""
OVERDUE = (
    "SELECT COUNT(*) AS undecided, "
    "COALESCE(SUM(CASE WHEN m.queued_at < ? THEN 1 ELSE 0 END), 0) AS overdue "
    "FROM queue AS q JOIN case_member AS m ON m.report_id = q.report_id "
    "WHERE q.decided = 0 AND q.priority = ? AND m.received_us >= ? AND m.received_us < ?"
)
"""Per suggested priority: undecided reports, and those queued before the cutoff (ISO
text as ``case_member.queued_at`` is written, so text order is time order)."""
