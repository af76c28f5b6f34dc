"""The one state store: a batch or a decision commits once, all or nothing; rows by name.

On both engines (``store_opener``: SQLite and a real PostgreSQL, issue 22).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest

from features.identifiers import IdentifierHasher, to_contract
from features.linkage import MICROS_PER_DAY
from features.schema import ReportSubmission
from serving.analyst.schemas import DecisionIn, QueueQuery, Reason
from serving.schemas import WarningOut
from serving.scoring import audit_rows, link_records
from serving.state.records import DecisionRefused, NotFound, Scored
from serving.state.store import StateStore, Transaction
from tests.factories import stored_response
from tests.service.conftest import submission
from tests.state_backends import IntegrityError, owner_run
from tests.state_backends import counts as table_counts

TABLES = ("requests", "scored", "decisions", "queue", "link")
TODAY = date(2024, 12, 10)


def _scored(hasher: IdentifierHasher, report_id: str, priority: int) -> Scored:
    body = submission(report_id, received_at="2024-12-02T10:00:00Z")
    body["identifiers"]["accounts"] = ["one-shared-account"]
    contract = to_contract(ReportSubmission.model_validate(body), hasher)
    response = stored_response(
        report_id, priority, [WarningOut(code="files_not_viewed", text="t")]
    )
    return Scored(contract, response, f"req-{report_id}", date(2024, 12, 20))


def _keep(store: StateStore, entries: list[Scored]) -> None:
    """What the service does with a scored batch: one transaction."""
    store.record_scored(
        [
            row
            for e in entries
            for row in audit_rows([e.response], e.request_id, "k1", "/score")
        ],
        entries,
        link_records([e.report for e in entries]),
    )


def counts(store: StateStore) -> dict[str, int]:
    return table_counts(store, TABLES)


@pytest.fixture
def store(store_opener: Callable[[], StateStore]) -> StateStore:
    return store_opener()


def test_a_failure_in_the_middle_of_a_batch_leaves_no_row_anywhere(
    store: StateStore,
    hasher: IdentifierHasher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Audit rows and suggestions were written when the linkage write failed."""
    entries = [_scored(hasher, f"a-{i}", 2) for i in range(5)]

    def broken(self: Transaction, reports: Any, escalated: bool = False) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    with monkeypatch.context() as patch:
        patch.setattr(Transaction, "record_links", broken)
        with pytest.raises(sqlite3.OperationalError):
            _keep(store, entries)
    assert counts(store) == dict.fromkeys(TABLES, 0)
    _keep(store, entries)  # the retry writes each row exactly once
    after = counts(store)
    assert (after["requests"], after["scored"], after["queue"]) == (5, 5, 5)
    assert after["link"] > 0 and after["decisions"] == 0


def test_reads_never_see_a_transaction_before_it_commits(
    store: StateStore, hasher: IdentifierHasher
) -> None:
    with store.transaction() as tx:
        tx.add_scored([_scored(hasher, "pending", 1)])
        assert store.in_queue(["pending"]) == set()
        assert store.queue(QueueQuery(), TODAY).total == 0
    assert store.in_queue(["pending"]) == {"pending"}


def test_a_decision_commits_with_its_audit_row_and_escalation_mark(
    store: StateStore,
    hasher: IdentifierHasher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _keep(store, [_scored(hasher, "d-1", 3), _scored(hasher, "d-2", 3)])
    before = counts(store)
    decision = DecisionIn(
        report_id="d-1", action="override", priority=1, reason=Reason.OTHER
    )

    def broken(self: Transaction, report_id: str, escalated: bool) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    with monkeypatch.context() as patch:
        patch.setattr(Transaction, "set_escalated", broken)
        with pytest.raises(sqlite3.OperationalError):
            store.decide(decision, "k2", "Analyst")
    assert counts(store) == before
    assert store.decisions("d-1") == []
    with pytest.raises(DecisionRefused):  # refused: nothing written either
        store.decide(decision.model_copy(update={"priority": 3}), "k2", "Analyst")
    with pytest.raises(NotFound):
        store.decide(decision.model_copy(update={"report_id": "nope"}), "k2", "A")
    assert counts(store) == before
    # decided on 2024-12-03 (the clock the mark is stamped with, pinned)
    from serving.state import linkage

    decided = linkage.escalation_minute(datetime(2024, 12, 3, tzinfo=UTC))
    monkeypatch.setattr(linkage, "escalation_minute", lambda at=None: decided)
    store.decide(decision, "k2", "Analyst")
    after = counts(store)
    assert (after["decisions"], after["requests"]) == (1, before["requests"] + 1)
    links = link_records([_scored(hasher, "later", 3).report])[0]
    later = store.lookup(links[1] + 2 * MICROS_PER_DAY, links[2])
    assert later["hist_account_escalations_365d"] == 1  # d-1 counts as escalated now
    # a report received before the decision does not count it (as training does not)
    earlier = store.lookup(links[1] + 1, links[2])
    assert earlier["hist_account_escalations_365d"] == 0


def test_rows_are_read_by_name_into_the_right_fields(
    store: StateStore, hasher: IdentifierHasher
) -> None:
    """Every field read back equals what was written (none swapped or shifted)."""
    first, second = _scored(hasher, "n-1", 3), _scored(hasher, "n-2", 2)
    _keep(store, [first, second])
    out = store.decide(
        DecisionIn(
            report_id="n-1",
            action="override",
            priority=2,
            designation="informational",
            reason=Reason.INSUFFICIENT_INFORMATION,
            note="looked twice",
        ),
        "key-9",
        "Analyst Nine",
    )
    assert store.decisions("n-1") == [out]
    assert out.suggested_priority == 3 and out.model_version == "tip-escalation/7"
    kept = store.latest("n-1")
    assert kept["response"] == first.response
    assert (kept["esp"], kept["incident_type"]) == (
        "Snapchat",
        first.report.incident_type,
    )
    assert (kept["deadline"], kept["codes"]) == ("2024-12-20", ["files_not_viewed"])
    assert kept["received_at"].startswith("2024-12-02T10:00:00")
    items = {i.report_id: i for i in store.queue(QueueQuery(), TODAY).items}
    one, two = items["n-1"], items["n-2"]
    assert (one.suggested_priority, one.decided, one.decided_priority) == (3, True, 2)
    assert one.escalation_probability == pytest.approx(0.001)
    assert one.badges.files_not_viewed and one.badges.preservation_days_left == 10
    assert (two.decided, two.decided_priority, two.model_version) == (
        False,
        None,
        "tip-escalation/7",
    )
    (row,) = list(store.decided())
    assert row["report_id"] == "n-1" and row["esp"] == "Snapchat"
    assert (row["decision_priority"], row["suggested_priority"]) == (2, 3)
    assert (row["decision_designation"], row["decision_key_id"]) == (
        "informational",
        "key-9",
    )
    assert row["decision_reason"] == "insufficient_information"
    assert (row["decision_action"], row["suggested_by"]) == (
        "override",
        "tip-escalation/7",
    )
    assert row["suggested_probability"] == pytest.approx(0.001)
    rates = store.override_rates("tip-escalation/7")
    assert (rates["decided"], rates["overridden"], rates["override_rate"]) == (
        1,
        1,
        1.0,
    )
    assert rates["by_suggested_priority"] == {
        "3": {"decided": 1, "overridden": 1, "override_rate": 1.0}
    }
    assert set(rates["by_esp"]) == {"Snapchat"}
    assert store.linked_to("n-2") == []  # received at the same instant: not earlier


def test_queue_pages_by_cursor_without_gaps_or_repeats(
    store: StateStore, hasher: IdentifierHasher
) -> None:
    _keep(store, [_scored(hasher, f"p-{i}", 1 + i % 3) for i in range(7)])
    seen, cursor = [], None
    while True:
        page = store.queue(QueueQuery(limit=3, cursor=cursor), TODAY)
        assert page.total == 7
        seen += [i.report_id for i in page.items]
        if (cursor := page.next_cursor) is None:
            break
    assert sorted(seen) == sorted(f"p-{i}" for i in range(7)) and len(seen) == 7
    with pytest.raises(ValueError, match="cursor"):
        store.queue(QueueQuery(cursor="bm90IGEgY3Vyc29y"), TODAY)


def test_a_failed_commit_leaves_the_store_usable(
    store: StateStore, hasher: IdentifierHasher
) -> None:
    """A deferred constraint that fails at COMMIT: rolled back, the next write works."""
    owner_run(  # a test-only check that fires only when committing
        store,
        "CREATE TABLE IF NOT EXISTS gate (x INTEGER REFERENCES scored (seq) "
        "DEFERRABLE INITIALLY DEFERRED)",
    )
    if store.backend.name == "sqlite":
        store._writer.run("PRAGMA foreign_keys = ON")
    else:
        owner_run(store, "GRANT INSERT ON gate TO PUBLIC")

    def write() -> None:
        with store.transaction() as tx:
            tx.add_scored([_scored(hasher, "c-1", 2)])
            store._writer.run("INSERT INTO gate VALUES (999)")

    with pytest.raises(IntegrityError):
        write()
    assert counts(store)["scored"] == 0
    _keep(store, [_scored(hasher, "c-2", 2)])
    assert store.in_queue(["c-1", "c-2"]) == {"c-2"}


def test_a_long_read_in_one_thread_does_not_hold_up_reads_in_another(
    store: StateStore,
) -> None:
    import threading

    inside, release = threading.Event(), threading.Event()

    def long_analyst_read() -> None:
        with store._read(snapshot=True):  # e.g. a queue page over many rows
            inside.set()
            release.wait(10)

    reader = threading.Thread(target=long_analyst_read)
    reader.start()
    try:
        assert inside.wait(10)
        done = threading.Event()
        other = threading.Thread(target=lambda: (store.in_queue(["x"]), done.set()))
        other.start()
        # the scoring thread's linkage reads go on while the analyst read is open
        assert done.wait(5), "a read waited for another thread's read"
        other.join()
    finally:
        release.set()
        reader.join()
        store.close()


def test_readers_of_threads_that_ended_are_closed(store: StateStore) -> None:
    """AnyIO retires idle worker threads and starts new ones: their readers must not pile up.

    Before, every thread that ever read kept its connection open (4 → 16 over 5
    rounds); on PostgreSQL each one is a server connection.
    """
    import threading

    for _ in range(5):
        threads = [
            threading.Thread(target=store.in_queue, args=(["x"],)) for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    store.in_queue(["x"])  # this thread's reader: the ended threads' are closed now
    assert len(store._readers) == 1
    store.close()


def test_reports_linked_at_one_instant_are_listed_in_one_order(
    store: StateStore,
) -> None:
    """Ties in receipt time were listed in whatever order the engine met them."""
    t = 1_700_000_000_000_000
    with store.transaction() as tx:
        tx.record_links(
            [(rid, t, {"link_accounts": ["tied"]}) for rid in ("z-1", "b-1", "m-1")]
        )
        tx.record_links([("me", t + 1, {"link_accounts": ["tied"]})])
    linked = store.linked_to("me")
    assert [r["report_id"] for r in linked] == ["b-1", "m-1", "z-1"]
    store.close()
