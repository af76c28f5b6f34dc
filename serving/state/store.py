"""``StateStore``: the service's one store, with one ``transaction()`` for every write.

A scored batch (its audit rows, suggestions, queue rows and linkage records) and a
decision (its row, its audit row and the linkage escalation mark) each commit once, all or
nothing: a failure anywhere leaves no row of it in any table, so a retry never writes
anything twice. Reads see committed rows only. Nothing here names an engine: that is the
backend's (``serving.state.backend``); the SQL is in ``serving.state.sql``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from features.flat import flatten
from features.linkage import MICROS_PER_DAY
from serving.analyst.schemas import DecisionIn, DecisionOut, QueuePage, QueueQuery
from serving.private import DIR_MODE
from serving.schemas import ScoreResponse
from serving.state import (
    case_sql,
    case_views,
    cases,
    decisions,
    linkage,
    queue,
    shadow,
    sql,
    watch,
)
from serving.state.backend import Backend, Connection, SqliteBackend
from serving.state.case_store import CaseReads
from serving.state.records import LinkRecord, NotFound, Scored

REACHABLE_CHECK_S = 1.0
"""How long ``StateStore.reachable``'s answer is kept (a load balancer polls often)."""


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value


class Transaction:
    """The writes of one transaction; obtained from ``StateStore.transaction()`` only."""

    def __init__(self, db: Connection) -> None:
        self._db = db

    @property
    def db(self) -> Connection:
        """The transaction's connection, for a one-off migration (``serving.state.esp_names``)."""
        return self._db

    def append_audit(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Audit-log rows (ids, times, scores, reasons' feature names; no raw identifier)."""
        self._db.many(
            sql.INSERT_AUDIT,
            [
                [
                    json.dumps(r[c]) if c in ("reasons", "warnings") else r.get(c)
                    for c in sql.AUDIT_COLUMNS
                ]
                for r in rows
            ],
        )

    def append_access(self, rows: Sequence[Sequence[Any]]) -> None:
        """Access-log rows, in ``sql.ACCESS_COLUMNS`` order (``serving.access``)."""
        self._db.many(sql.INSERT_ACCESS, rows)

    def add_scored(self, entries: Sequence[Scored]) -> list[int]:
        """Keep suggestions and point the queue at each report's newest; their ``seq``s."""
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        seqs: list[int] = []
        for e in entries:
            r, report = e.response, e.report
            values = {
                "report_id": r.report_id,
                "request_id": e.request_id,
                "scored_at": now,
                "received_at": _iso(report.received_at),
                "esp": report.esp,
                "incident_type": report.incident_type,
                "priority": r.suggested_priority,
                "probability": r.escalation_probability,
                "model_version": f"{r.model_name}/{r.model_version}",
                "deadline": e.deadline.isoformat() if e.deadline else None,
                "codes": json.dumps([w.code for w in r.warnings]),
                "response": r.model_dump_json() if e.text is None else e.text,
                "flat": json.dumps({k: _iso(v) for k, v in flatten(report).items()}),
            }
            row = self._db.one(
                sql.INSERT_SCORED, [values[c] for c in sql.SCORED_COLUMNS]
            )
            assert row is not None  # RETURNING gives one row
            seqs.append(int(row["seq"]))
            self._db.run(
                sql.UPSERT_QUEUE,
                (r.report_id, row["seq"], r.suggested_priority,
                 r.escalation_probability, report.esp),
            )  # fmt: skip
        return seqs

    def add_shadow(
        self, answers: Sequence[shadow.ShadowAnswer], scored_seqs: Sequence[int]
    ) -> None:
        """The challenger's answers beside the suggestions kept as ``scored_seqs``."""
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        shadow.insert(self._db, answers, scored_seqs, now)

    def record_links(
        self, reports: Sequence[LinkRecord], escalated: bool = False
    ) -> None:
        """Remember reports' hashes so later reports link to them (idempotent)."""
        self._db.many(sql.INSERT_LINK, linkage.link_rows(reports, escalated))

    def set_escalated(
        self, report_id: str, escalated: bool, at: datetime | None = None
    ) -> None:
        """Record an analyst's escalation decision for a report's linkage rows.

        Escalated: the minute it took hold (``at``, default now; kept through further
        priority-1 decisions, ``sql.SET_ESCALATED``); later reports count it only when
        received after it, as training does.
        """
        self._db.run(
            sql.SET_ESCALATED,
            (int(escalated), linkage.escalation_minute(at), report_id),
        )

    def decide(
        self, decision: DecisionIn, key_id: str, analyst: str, hidden: bool = False
    ) -> DecisionOut:
        """A decision on the report's newest suggestion (append-only).

        A report under blind review is decided without seeing the suggestion, so its
        decision names a priority ("override"); one equal to the hidden suggestion is
        recorded as accepting it (the analyst agreed). ``hidden``: blind review holds for
        the caller (an analyst key), who may then not ``accept`` an undecided blind
        report (``case_views.blind_decision``).
        """
        decision = case_views.blind_decision(self._db, decision, hidden)
        was = self._db.one(sql.QUEUE_DECIDED, (decision.report_id,))
        out = decisions.record(self._db, decision, key_id, analyst)
        if was is not None and not was["decided"]:  # its case: one undecided fewer
            cases.decided(self._db, out.report_id)  # (a first, or after a re-score)
        if out.supersedes is None and not hidden:
            # decided first with the suggestion in view: not reviewed blind
            self._db.run(case_sql.NOT_BLIND, (out.report_id,))
        return out

    def maintain_cases(
        self, entries: Sequence[cases.CaseEntry], config: cases.CaseConfig
    ) -> None:
        """Put scored reports in their cases and bursts (after their queue and link rows)."""
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        cases.maintain(self._db, entries, config, now)

    def migrated(self, source: str) -> int | None:
        """Rows copied from an older file named ``source`` (None: not copied yet)."""
        row = self._db.one(sql.MIGRATED, (source,))
        return None if row is None else int(row["rows"])

    def copy_rows(self, insert: str, rows: Sequence[Sequence[Any]]) -> None:
        """Rows of an older file, with one of ``serving.state.sql``'s INSERTs."""
        self._db.many(insert, rows)

    def mark_migrated(self, source: str, table: str, rows: int) -> None:
        """Record that an older file's rows were copied (with them, in this transaction)."""
        at = datetime.now(UTC).isoformat(timespec="milliseconds")
        self._db.run(sql.INSERT_MIGRATED, (source, table, rows, at))


class StateStore(CaseReads):
    """Audit log, suggestions, decisions, queue and linkage in one database.

    The case, burst, blind-review and ageing reads and the case decision are
    ``CaseReads``' (``serving.state.case_store``).
    """

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._writer = Connection(backend.connect(), backend)
        try:
            for statement in backend.ddl():
                self._writer.run(statement)
        except BaseException:  # e.g. a PostgreSQL database not migrated yet
            self._writer.close()
            raise
        # reads: one connection per thread (the service's scoring worker, the analyst
        # routes' threads), so a long analyst query never makes scoring wait for a lock
        self._local = threading.local()
        self._readers: list[tuple[threading.Thread, Connection]] = []
        self._readers_lock = threading.Lock()
        self._closed = threading.Event()
        self._checked: tuple[float, bool] = (-REACHABLE_CHECK_S, True)  # (when, answer)

    @classmethod
    def open(cls, path: Path | str) -> StateStore:
        """The SQLite store at ``path`` (created with its folder on first use)."""
        if str(path) != ":memory:":
            # a new folder is owner-only; an existing one is the caller's to narrow
            Path(path).parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        return cls(SqliteBackend(path))

    def close(self) -> None:
        """Close the connections."""
        if not self._closed.is_set():
            self._closed.set()
            with self._readers_lock:
                for _, reader in self._readers:
                    reader.close()
                self._readers.clear()
            self._writer.close()

    @classmethod
    def connect(cls, url: str | None, path: Path | str) -> StateStore:
        """The store named by a database URL (PostgreSQL), else the SQLite file ``path``."""
        if url:
            from serving.state.pg_backend import PgBackend, is_postgres

            if not is_postgres(url):
                raise ValueError(
                    "TIPSCORE_DATABASE_URL: only postgresql://... URLs are supported "
                    "(leave it unset for the SQLite file in the state folder)"
                )
            return cls(PgBackend(url))
        return cls.open(path)

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One write transaction: committed when the block ends, rolled back if it raises.

        Inside ``exclusive()`` (same thread) it is that transaction's, committed with it.
        """
        db = self._writer
        with db.lock:
            if getattr(self._local, "writing", False):
                yield Transaction(db)  # the enclosing exclusive() commits or rolls back
                return
            # a connection lost since (a database restart): replaced, never mid-transaction
            self._reopen_if_broken(db)
            db.run(self.backend.begin_write)
            self._local.writing = True
            try:
                for statement in self.backend.write_lock:
                    db.run(statement)
                yield Transaction(db)
                db.commit()  # raises if the database rolled it back instead
            except BaseException:
                # also when COMMIT failed: never leave the writer inside a transaction;
                # the error that stopped it is the one raised
                with suppress(Exception):
                    db.run("ROLLBACK")
                raise
            finally:
                self._local.writing = False

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the write lock from a scored batch's linkage read to its commit.

        Where several processes write one database (PostgreSQL replicas), a batch's
        linkage counts and case placement must see every report committed before it,
        and none may commit in between: the batch's ``transaction()`` starts here (and
        takes the lock) and commits when this block ends. On SQLite one process owns the
        file and its scoring lock already orders batches: nothing is held early.
        """
        if not self.backend.write_lock:
            yield
            return
        with self.transaction():
            yield

    def _reader(self) -> Connection:
        """This thread's reading connection (the writer's for an in-memory database)."""
        if self.backend.shares_one_connection:
            return self._writer
        reader: Connection | None = getattr(self._local, "reader", None)
        if reader is None:
            reader = Connection(self.backend.connect(), self.backend)
            with self._readers_lock:
                if self._closed.is_set():
                    reader.close()
                    raise RuntimeError("the state store is closed")
                self._prune_readers()
                self._readers.append((threading.current_thread(), reader))
            self._local.reader = reader
        return reader

    def _reopen_if_broken(self, db: Connection) -> None:
        """A new connection for a lost one, unless the store was closed (then an error)."""
        if db.broken and self._closed.is_set():
            raise RuntimeError("the state store is closed")
        db.reopen_if_broken()

    def _prune_readers(self) -> None:
        """Close the readers of threads that have ended (under ``_readers_lock``).

        AnyIO retires idle worker threads and starts new ones, each opening a reader:
        kept open, they added up (on PostgreSQL each is a server connection counted
        against ``max_connections`` by every replica). A thread that ended uses its
        reader no more, so at most one reader per live thread stays open.
        """
        alive: list[tuple[threading.Thread, Connection]] = []
        for thread, reader in self._readers:
            if thread.is_alive():
                alive.append((thread, reader))
            else:
                with suppress(Exception):
                    reader.close()
        self._readers[:] = alive

    @contextmanager
    def _read(self, snapshot: bool = False) -> Iterator[Connection]:
        db = self._reader()
        with db.lock:
            self._reopen_if_broken(db)
            if not snapshot:
                yield db
                return
            db.run(self.backend.begin_snapshot)
            try:
                yield db
            finally:
                db.run("COMMIT")

    def reachable(self) -> bool:
        """Whether the database answers (``/readyz``): a ``SELECT 1`` at most once a second.

        On PostgreSQL a replica whose database is down or failing over answers every
        request with an error: it reports itself not ready, so a load balancer takes it
        out until the database is back. SQLite is a local file: always reachable.
        """
        if self.backend.name == "sqlite":
            return True
        now = time.monotonic()
        if now - self._checked[0] < REACHABLE_CHECK_S:
            return self._checked[1]
        try:
            with self._read() as db:
                db.one("SELECT 1")
            ok = True
        except Exception:  # any failure (refused, lost, timed out): not reachable
            ok = False
        self._checked = (now, ok)
        return ok

    def record_scored(
        self,
        audit: Sequence[Mapping[str, Any]],
        scored: Sequence[Scored],
        links: Sequence[LinkRecord],
    ) -> None:
        """A scored batch in one transaction: audit rows, suggestions, queue, linkage."""
        with self.transaction() as tx:
            tx.append_audit(audit)
            tx.add_scored(scored)
            tx.record_links(links)

    def decide(
        self, decision: DecisionIn, key_id: str, analyst: str, hidden: bool = False
    ) -> DecisionOut:
        """Record a decision, its audit row and its linkage escalation mark at once.

        Priority 1 marks the report escalated in the linkage rows, so later reports count
        it. Raises ``NotFound`` or ``DecisionRefused`` (nothing is written then).
        ``hidden``: blind review holds for the caller (``Transaction.decide``).
        """
        with self.transaction() as tx:
            out = tx.decide(decision, key_id, analyst, hidden)
            tx.append_audit([decisions.audit_row(out)])
            tx.set_escalated(out.report_id, out.priority == 1)
        return out

    def queue(
        self, query: QueueQuery, today: date, view: queue.View | None = None
    ) -> QueuePage:
        """A page of the queue (``ValueError`` for a cursor not given out here)."""
        with self._read() as db:
            return queue.page(db, query, today, view)

    def latest(self, report_id: str) -> dict[str, Any]:
        """The newest suggestion kept for a report (raises ``NotFound``)."""
        with self._read() as db:
            row = db.one(sql.LATEST, (report_id,))
        if row is None:
            raise NotFound(report_id)
        out = {k: row[k] for k in ("seq", "scored_at", "received_at", "esp")}
        return {
            **out,
            "incident_type": row["incident_type"],
            "deadline": row["deadline"],
            "codes": json.loads(row["codes"]),
            "response": ScoreResponse.model_validate_json(row["response"]),
        }

    def in_queue(self, report_ids: Sequence[str]) -> set[str]:
        """Which of these report ids have been scored here."""
        ids, found = list(report_ids), set[str]()
        with self._read() as db:
            for start in range(0, len(ids), linkage.CHUNK):
                chunk = ids[start : start + linkage.CHUNK]
                query = sql.IN_QUEUE.format(marks=sql.marks(len(chunk)))
                found.update(r["report_id"] for r in db.rows(query, chunk))
        return found

    def decisions(self, report_id: str) -> list[DecisionOut]:
        """Every decision on a report, newest first."""
        with self._read() as db:
            rows = db.rows(sql.DECISIONS, (report_id,))
        return [decisions.decision_out(r) for r in rows]

    def decided(self) -> Iterator[dict[str, Any]]:
        """Each decided report's latest decision with the flattened report it was made on.

        Rows in order of receipt: what ``export-decisions`` writes as training data.
        """
        with self._read() as db:
            rows = db.rows(sql.DECIDED)
        for row in rows:
            yield {
                **json.loads(row["flat"]),
                **{k: row[k] for k in row.keys() if k != "flat"},  # noqa: SIM118
            }

    def override_rates(self, model_version: str | None = None) -> dict[str, Any]:
        """How often analysts' latest decisions differ from the suggestion.

        Overall, by suggested priority and by ESP; only for ``model_version`` if given.
        """
        where, params = (
            ("WHERE d.model_version = ?", [model_version])
            if model_version
            else ("", [])
        )
        with self._read() as db:
            overall = db.one(sql.OVERRIDES.format(where=where), params)
            by_priority = db.rows(sql.OVERRIDES_BY_PRIORITY.format(where=where), params)
            by_esp = db.rows(sql.OVERRIDES_BY_ESP.format(where=where), params)

        def rate(row: Mapping[str, Any] | None) -> dict[str, Any]:
            count, overridden = (
                (int(row["decided"]), int(row["overridden"])) if row else (0, 0)
            )
            return {
                "decided": count,
                "overridden": overridden,
                "override_rate": overridden / count if count else None,
            }

        return {
            "model_version": model_version,
            **rate(overall),
            "by_suggested_priority": {str(r["cell"]): rate(r) for r in by_priority},
            "by_esp": {r["cell"]: rate(r) for r in by_esp},
        }

    def served(self, since: str, until: str) -> Iterator[dict[str, Any]]:
        """Reports received in ``[since, until)`` (ISO UTC), each with its latest suggestion."""
        with self._read() as db:
            return watch.served(db, since, until)

    def decided_between(self, since: str, until: str) -> list[dict[str, Any]]:
        """The latest decision on each report received in ``[since, until)`` (ISO UTC)."""
        with self._read() as db:
            return watch.decided_between(db, since, until)

    def live_counts(self) -> watch.LiveCounts:
        """Suggestions and decisions made so far, in a few counts (``/metrics``)."""
        with self._read() as db:
            return watch.live_counts(db)

    def shadowed(
        self,
        since: str,
        until: str,
        challenger: str | None = None,
        run_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Reports with the challenger's answer beside the champion's (``state.shadow``)."""
        with self._read() as db:
            return shadow.shadowed(db, since, until, challenger, run_id)

    def shadow_challengers(self) -> list[dict[str, Any]]:
        """The challengers shadowed here, the latest first, with their answer counts."""
        with self._read() as db:
            return shadow.challengers(db)

    def lookup_batch(
        self, reports: Sequence[LinkRecord], within_batch: bool = True
    ) -> list[dict[str, int]]:
        """Linkage features of ``(report_id, received_us, links)`` scored together.

        As if the reports had arrived one by one: each counts the store's earlier reports
        and, by the same definition (other reports, received in ``[t - W, t)``), the
        batch's own earlier reports that the store does not hold yet. Those are not
        decided yet, so they add nothing to escalation counts. One snapshot for all.
        """
        with self._read(snapshot=True) as db:
            # a lone report has no earlier batch report to count: no need to ask
            alone = len(reports) < 2
            stored = (
                linkage.stored_ids(db, reports) if within_batch and not alone else None
            )
            batch = linkage.BatchIndex(reports, stored)
            return [linkage.lookup(db, t, links, batch) for _, t, links in reports]

    def lookup(
        self, received_us: int, links: Mapping[str, Sequence[str]]
    ) -> dict[str, int]:
        """The linkage features of one report received at ``received_us``."""
        return self.lookup_batch([("\x00", received_us, links)], within_batch=False)[0]

    def linked_to(self, report_id: str, limit: int = 50) -> list[dict[str, Any]]:
        """Earlier reports (past year) sharing a hashed identifier with this one.

        Newest first, each with the identifier kinds it shares (``link_accounts`` ...),
        its receipt time (microseconds) and whether it was recorded as escalated.
        """
        query = sql.LINKED_TO.format(kinds=self.backend.kinds_agg)
        with self._read() as db:
            rows = db.rows(query, (365 * MICROS_PER_DAY, report_id, limit))
        return [linkage.linked(r) for r in rows]
