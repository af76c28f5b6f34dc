"""Cases and viral bursts, kept in step with the queue as reports are scored (issue 21).

A case is a union of reports linked by a shared hashed identifier (account, email, phone,
IP, device, file hash) received within the linkage window of each other (365 days, as
the linkage features). Maintained incrementally, in the scoring transaction: a new
report joins the case(s) its identifiers point to; when it links several, they merge
into the oldest (smallest id, so ids stay stable) and the merge is logged
(``case_events``). Every report is in exactly one case (alone, a case of one).

A file hash that more than ``common_file_accounts`` accounts sent (within the linkage
window) links nothing more: a meme is not an offender. A file hash that at least
``burst_accounts`` distinct accounts sent within ``burst_hours`` is a **burst**: its
reports in that window move into one burst case, and every later report carrying it
joins the burst rather than a linked case. A file hash, once a burst, stays one.

The window is applied per identifier to the receipt span of the case's reports that
carry it: exact for reports arriving in order; a report arriving out of order between
two far-apart reports of one case may join it though it is within the window of neither.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from features.linkage import LINK_COLUMNS, MICROS_PER_DAY
from serving.state import case_sql as q
from serving.state.backend import Connection

FILES, ACCOUNTS = "link_file_hashes", "link_accounts"
MICROS_PER_HOUR = 3_600_000_000


@dataclass(frozen=True)
class CaseConfig:
    """How cases and bursts are formed (``ServingSettings`` carries the values)."""

    window_days: int = 365
    common_file_accounts: int = 10
    burst_accounts: int = 20
    burst_hours: float = 24.0
    accounts_per_report: int = 5

    @property
    def window_us(self) -> int:
        """The linkage window in microseconds."""
        return self.window_days * MICROS_PER_DAY

    @property
    def burst_us(self) -> int:
        """The burst window in microseconds."""
        return int(self.burst_hours * MICROS_PER_HOUR)


@dataclass(frozen=True)
class CaseEntry:
    """One scored report, as case maintenance needs it."""

    report_id: str
    received_us: int
    links: Mapping[str, Sequence[str]]
    priority: int
    probability: float
    blind: bool = False


def chosen_blind(share: float, rng: random.Random) -> bool:
    """Whether a newly scored report is reviewed blind (chosen at random, ``share``)."""
    return share > 0 and rng.random() < share


def maintain(
    db: Connection, entries: Sequence[CaseEntry], config: CaseConfig, now: str
) -> None:
    """Put each scored report in its case (in the caller's transaction).

    Runs after the reports' queue and link rows are written. A report scored again
    stays in its case; the case's figures follow its new suggestion.
    """
    for entry in entries:
        member = db.one(q.MEMBER_OF, (entry.report_id,))
        if member is not None:
            db.run(q.RESCORED, (entry.priority, entry.probability, entry.report_id))
            refresh(db, int(member["case_id"]))
            continue
        _place(db, entry, config, now)


def _unique(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _place(db: Connection, e: CaseEntry, config: CaseConfig, now: str) -> None:
    files = _unique(e.links.get(FILES, ()))
    accounts = _unique(e.links.get(ACCOUNTS, ()))[: config.accounts_per_report]
    fresh = _note_accounts(db, files, accounts, e.received_us)
    burst = _burst(db, files, fresh, e, config, now)
    if burst is not None:
        _add(db, burst, e, now, {FILES})
        return
    found, kinds, pairs = _linked(db, e, files, config)
    if not found:
        case = _new_case(db, e, now, "linked", None, 0)
    else:
        case = min(found)
        for other in sorted(found - {case}):
            _merge(db, case, other, e.report_id, now)
    _add(db, case, e, now, kinds)
    t = e.received_us
    db.many(q.UPSERT_HASH, [(kind, value, case, t, t) for kind, value in pairs])


def _note_accounts(
    db: Connection, files: Sequence[str], accounts: Sequence[str], t: int
) -> set[str]:
    """Record which accounts sent which files; the files that gained an account."""
    fresh: set[str] = set()
    for value in files:
        for account in accounts:
            row = db.one(q.FILE_ACCOUNT, (value, account))
            if row is None:
                db.run(q.ADD_FILE_ACCOUNT, (value, account, t))
                fresh.add(value)
            elif int(row["last_us"]) < t:
                db.run(q.SET_FILE_ACCOUNT, (t, value, account))
    return fresh


def _recent_accounts(db: Connection, value: str, t: int, span: int, cap: int) -> int:
    row = db.one(q.RECENT_ACCOUNTS, (value, t - span, t + span, cap))
    return int(row["n"]) if row else 0


def _burst(
    db: Connection,
    files: Sequence[str],
    fresh: set[str],
    e: CaseEntry,
    config: CaseConfig,
    now: str,
) -> int | None:
    """The burst this report belongs to (joined, or declared now), else None."""
    for value in files:
        row = db.one(q.BURST_OF, (value,))
        if row is not None:
            case = int(row["case_id"])
            if value in fresh:
                db.run(
                    "UPDATE cases SET accounts = accounts + 1 WHERE case_id = ?",
                    (case,),
                )
            return case
    k = config.burst_accounts
    for value in files:
        if _recent_accounts(db, value, e.received_us, config.burst_us, k) >= k:
            return _declare(db, value, e, config, now)
    return None


def _declare(
    db: Connection, value: str, e: CaseEntry, config: CaseConfig, now: str
) -> int:
    """A new burst of file ``value``: its reports within the burst window move in."""
    counted = db.one(q.ALL_ACCOUNTS, (value,))
    burst = _new_case(db, e, now, "burst", value, int(counted["n"]) if counted else 0)
    t, span = e.received_us, config.burst_us
    left: dict[int, list[Any]] = {}
    for row in db.rows(q.FILE_REPORTS, (value, t - span, t + span)):
        old = int(row["case_id"])
        db.run(q.MOVE_MEMBER, (burst, row["report_id"]))
        db.run(q.EVENT, (now, "burst", burst, old, row["report_id"]))
        left.setdefault(old, []).append(row)
    for old in sorted(left):
        if not _lost(db, old, left[old]):  # emptied: its id resolves to the burst
            db.run(q.SET_MERGED, (burst, old))
            db.run(q.DROP_HASHES, (old,))
    refresh(db, burst)
    return burst


def _lost(db: Connection, case: int, gone: Sequence[Mapping[str, Any]]) -> bool:
    """A case's figures once ``gone`` moved out; False if it has no member left.

    The counts go down by what left; the members are recounted (``refresh``) only when
    one that left may have held an extreme (the top priority, probability, receipt or
    queue entry), so a case of hundreds of thousands is not re-read per burst.
    """
    row = db.one(q.CASE_ROW, (case,))
    assert row is not None
    s = _summary(row)
    top = s["top_priority"]
    held = any(
        g["probability"] >= s["top_probability"]
        or g["received_us"] in (s["oldest_us"], s["newest_us"])
        or g["queued_at"] <= s["queued_at"]
        for g in gone
    )
    if any(g["priority"] <= top for g in gone):
        held = held or db.one(q.HAS_PRIORITY, (case, top)) is None
    if held or s["members"] <= len(gone):
        return refresh(db, case)
    s["members"] -= len(gone)
    s["undecided"] = max(0, s["undecided"] - sum(not g["decided"] for g in gone))
    _write(db, case, s)
    return True


def _common(db: Connection, value: str, t: int, config: CaseConfig) -> bool:
    """Whether a file hash was sent by too many accounts to link reports."""
    cap = config.common_file_accounts
    return _recent_accounts(db, value, t, config.window_us, cap + 1) > cap


def _linked(
    db: Connection, e: CaseEntry, files: Sequence[str], config: CaseConfig
) -> tuple[set[int], set[str], list[tuple[str, str]]]:
    """The cases this report links to, the kinds that link it, the identifiers it adds."""
    t, span = e.received_us, config.window_us
    found: set[int] = set()
    kinds: set[str] = set()
    pairs: list[tuple[str, str]] = []
    for kind in LINK_COLUMNS:
        for value in _unique(e.links.get(kind, ())):
            if kind == FILES and _common(db, value, t, config):
                continue
            pairs.append((kind, value))
            rows = db.rows(q.NEAR_CASES, (kind, value, t + span, t - span))
            if rows:
                kinds.add(kind)
                found.update(int(r["case_id"]) for r in rows)
    return found, kinds, pairs


def _new_case(
    db: Connection, e: CaseEntry, now: str, kind: str, burst: str | None, accounts: int
) -> int:
    t = e.received_us
    summary = (0, 0, e.priority, e.probability, t, t, now, "")
    row = db.one(q.NEW_CASE, (now, kind, burst, accounts, *summary))
    assert row is not None  # RETURNING gives one row
    return int(row["case_id"])


def _kinds(text: str) -> set[str]:
    return {k for k in text.split(",") if k}


def _summary(row: Mapping[str, Any]) -> dict[str, Any]:
    return {c: row[c] for c in q.SUMMARY}


def _write(db: Connection, case: int, s: Mapping[str, Any]) -> None:
    db.run(q.SET_SUMMARY, (*(s[c] for c in q.SUMMARY), case))


def _add(db: Connection, case: int, e: CaseEntry, now: str, kinds: set[str]) -> None:
    """The report joins ``case``; the case's figures take it in (no re-read of members)."""
    db.run(
        q.ADD_MEMBER,
        (
            e.report_id,
            case,
            e.received_us,
            now,
            int(e.blind),
            e.priority,
            e.probability,
        ),
    )
    row = db.one(q.CASE_ROW, (case,))
    assert row is not None
    s = _summary(row)
    first = s["members"] == 0
    s["members"] += 1
    s["undecided"] += 1
    s["top_priority"] = e.priority if first else min(s["top_priority"], e.priority)
    s["top_probability"] = (
        e.probability if first else max(s["top_probability"], e.probability)
    )
    s["oldest_us"] = min(s["oldest_us"], e.received_us)
    s["newest_us"] = max(s["newest_us"], e.received_us)
    s["queued_at"] = min(s["queued_at"], now)
    s["kinds"] = ",".join(sorted(_kinds(s["kinds"]) | kinds))
    _write(db, case, s)


def _merge(db: Connection, keep: int, other: int, report_id: str, now: str) -> None:
    """Case ``other`` joins the older case ``keep``, which keeps its id."""
    a, b = db.one(q.CASE_ROW, (keep,)), db.one(q.CASE_ROW, (other,))
    assert a is not None
    assert b is not None
    s, o = _summary(a), _summary(b)
    s["members"] += o["members"]
    s["undecided"] += o["undecided"]
    s["top_priority"] = min(s["top_priority"], o["top_priority"])
    s["top_probability"] = max(s["top_probability"], o["top_probability"])
    s["oldest_us"] = min(s["oldest_us"], o["oldest_us"])
    s["newest_us"] = max(s["newest_us"], o["newest_us"])
    s["queued_at"] = min(s["queued_at"], o["queued_at"])
    s["kinds"] = ",".join(sorted(_kinds(s["kinds"]) | _kinds(o["kinds"])))
    db.run(q.MOVE_MEMBERS, (keep, other))
    hashes = db.rows(q.HASHES_OF, (other,))
    db.many(
        q.UPSERT_HASH,
        [(h["kind"], h["hash"], keep, h["min_us"], h["max_us"]) for h in hashes],
    )
    db.run(q.DROP_HASHES, (other,))
    db.run(q.SET_MERGED, (keep, other))
    _write(db, keep, s)
    db.run(q.EVENT, (now, "merge", keep, other, report_id))


def refresh(db: Connection, case: int) -> bool:
    """Recount a case's figures from its members; False if it has none left."""
    row = db.one(q.RECOMPUTE, (case,))
    if row is None or not row["members"]:
        return False
    current = db.one(q.CASE_ROW, (case,))
    assert current is not None
    figures = {c: row[c] for c in q.SUMMARY if c != "kinds"}
    _write(db, case, {**figures, "kinds": current["kinds"]})
    return True


def decided(db: Connection, report_id: str) -> None:
    """A report's first decision: its case has one undecided member fewer."""
    db.run(q.ONE_DECIDED, (report_id,))
