"""The state store's reads of cases, bursts, review and ageing, and the case decision.

A mixin of ``StateStore`` (issue 21), kept apart so the store stays readable; it uses the
store's ``transaction()`` and ``_read()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from serving.analyst.case_schemas import (
    CaseDecisionIn,
    CaseDecisionOut,
    CasePage,
    CaseQuery,
    CaseRef,
    CaseView,
)
from serving.state import case_sql, case_views, decisions, review_stats
from serving.state.backend import Connection
from serving.state.records import DecisionRefused


class _Writes(Protocol):
    """What ``decide_case`` uses of a transaction (``serving.state.store.Transaction``)."""

    @property
    def db(self) -> Connection: ...

    def decide(self, decision: Any, key_id: str, analyst: str) -> Any: ...

    def append_audit(self, rows: Any) -> None: ...

    def set_escalated(
        self, report_id: str, escalated: bool, at: datetime | None = None
    ) -> None: ...


class CaseReads:
    """Cases, bursts, blind review and ageing: reads, and one decision for a case."""

    def transaction(self) -> AbstractContextManager[Any]:
        """The store's write transaction (``StateStore.transaction``)."""
        raise NotImplementedError

    def _read(self, snapshot: bool = False) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def decide_case(
        self, decision: CaseDecisionIn, key_id: str, analyst: str, hidden: bool = False
    ) -> CaseDecisionOut:
        """One decision for each undecided member of a case, all in one transaction.

        Each is recorded as a single decision would be (its row, audit row, escalation
        mark; the outcome rules apply to each). Raises ``NotFound``, ``DecisionRefused``.
        ``hidden``: blind review holds for the caller; ``accept`` then leaves the undecided
        blind members for a decision of their own (``left_for_blind_review``).
        """
        with self.transaction() as tx:
            case, each, left = case_views.member_decisions(tx.db, decision, hidden)
            if not each and left:
                raise DecisionRefused(
                    f"action: case {case}'s undecided reports are under blind review; "
                    "decide them by naming a priority (action 'override')"
                )
            if not each:
                raise DecisionRefused(f"case_id: case {case} has no undecided report")
            outs = []
            for single in each:
                out = tx.decide(single, key_id, analyst, hidden)
                tx.append_audit([decisions.audit_row(out)])
                tx.set_escalated(out.report_id, out.priority == 1)
                outs.append(out)
        return CaseDecisionOut(case_id=case, decisions=outs, left_for_blind_review=left)

    def cases(
        self,
        query: CaseQuery,
        targets: Mapping[int, int],
        now: datetime,
        hide_blind: bool = False,
    ) -> CasePage:
        """A page of the case list (``ValueError`` for a cursor not given out here)."""
        with self._read() as db:
            return case_views.page(db, query, targets, now, hide_blind)

    def case(
        self,
        ref: CaseRef,
        hide_blind: bool,
        targets: Mapping[int, int],
        now: datetime,
    ) -> CaseView:
        """One case with its members (raises ``NotFound``)."""
        with self._read(snapshot=True) as db:
            return case_views.view(db, ref.case_id, ref.limit, hide_blind, targets, now)

    def triage(self, report_id: str) -> dict[str, Any] | None:
        """A report's case, burst (file accounts), blind flag and queue entry time."""
        with self._read() as db:
            row = db.one(case_sql.TRIAGE_OF, (report_id,))
        return None if row is None else dict(row)

    def review_stats(
        self, model_version: str | None, targets: Mapping[int, int]
    ) -> dict[str, Any]:
        """Blind vs shown agreement and time to decision per priority (model card)."""
        with self._read() as db:
            return {
                "blind_review": review_stats.blind_agreement(db, model_version),
                "time_to_decision": review_stats.time_to_decision(db, targets),
            }

    def decision_times(
        self, targets: Mapping[int, int], now: datetime, received: tuple[int, int]
    ) -> dict[str, Any]:
        """Time to decision, undecided and overdue per priority (``tipscore monitor``)."""
        with self._read() as db:
            return review_stats.decision_times(db, targets, now, received)
