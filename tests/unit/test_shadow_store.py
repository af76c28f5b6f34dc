"""The ``shadow`` table: kept with its scored batch, append-only, read with decisions."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from features.identifiers import IdentifierHasher, to_contract
from features.schema import ReportSubmission
from serving.analyst.schemas import DecisionIn, Reason
from serving.state.records import Scored
from serving.state.shadow import ShadowAnswer
from serving.state.store import StateStore
from tests.factories import stored_response
from tests.service.conftest import submission
from tests.state_backends import DatabaseError, owner_run


def _scored(hasher: IdentifierHasher, report_id: str, priority: int) -> Scored:
    body = submission(report_id, received_at="2024-12-02T10:00:00Z")
    contract = to_contract(ReportSubmission.model_validate(body), hasher)
    return Scored(contract, stored_response(report_id, priority, []), "r", None)


def _answer(report_id: str, priority: int, version: str = "m/2") -> ShadowAnswer:
    return ShadowAnswer(report_id, "r", "m/1", version, "run-2", 0.5, priority)


@pytest.fixture
def store(store_opener: Callable[[], StateStore]) -> Iterator[StateStore]:
    opened = store_opener()  # SQLite and PostgreSQL (issue 22)
    yield opened
    opened.close()


def test_shadow_answers_are_read_beside_the_champion_and_the_decision(
    store: StateStore, hasher: IdentifierHasher
) -> None:
    entries = [_scored(hasher, f"s-{i}", 2) for i in range(3)]
    with store.transaction() as tx:
        seqs = tx.add_scored(entries)
        tx.add_shadow([_answer(f"s-{i}", 1 + i % 2) for i in range(3)], seqs)
    with store.transaction() as tx:  # s-0 scored again: its latest answers are read
        seqs = tx.add_scored([_scored(hasher, "s-0", 3)])
        tx.add_shadow([_answer("s-0", 3)], seqs)
    store.decide(
        DecisionIn(report_id="s-1", action="override", priority=1, reason=Reason.OTHER),
        "k",
        "analyst",
    )
    rows = {r["report_id"]: r for r in store.shadowed("2024-01-01", "2025-01-01")}
    assert set(rows) == {"s-0", "s-1", "s-2"}
    assert (rows["s-0"]["champion_priority"], rows["s-0"]["challenger_priority"]) == (
        3,
        3,
    )
    assert rows["s-1"]["decision_priority"] == 1
    assert rows["s-2"]["decision_priority"] is None
    assert rows["s-1"]["esp"] == "Snapchat"  # the flattened report is there too
    assert store.shadowed("2025-01-01", "2026-01-01") == []
    assert store.shadowed("2024-01-01", "2025-01-01", challenger="m/9") == []
    assert len(store.shadowed("2024-01-01", "2025-01-01", run_id="run-2")) == 3
    assert store.shadow_challengers() == [
        {"challenger_version": "m/2", "challenger_run_id": "run-2", "answers": 4}
    ]


def test_shadow_answers_are_append_only(
    store: StateStore, hasher: IdentifierHasher
) -> None:
    with store.transaction() as tx:
        seqs = tx.add_scored([_scored(hasher, "a-1", 2)])
        tx.add_shadow([_answer("a-1", 1)], seqs)
    for statement in ("UPDATE shadow SET priority = 3", "DELETE FROM shadow"):
        # the trigger refuses even the database's owner (PostgreSQL: the service's
        # role is refused before, by its privileges)
        with pytest.raises(DatabaseError, match="append-only"):
            owner_run(store, statement)


def test_a_failed_batch_keeps_no_shadow_answer(
    store: StateStore, hasher: IdentifierHasher
) -> None:
    def batch() -> None:
        with store.transaction() as tx:
            seqs = tx.add_scored([_scored(hasher, "f-1", 2)])
            tx.add_shadow([_answer("f-1", 1)], seqs)
            raise RuntimeError("the linkage write failed")

    with pytest.raises(RuntimeError):
        batch()
    assert store.shadowed("2024-01-01", "2025-01-01") == []
    assert store.shadow_challengers() == []
