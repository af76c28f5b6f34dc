"""The queue's tally equals a count of the queue under every filter (issue 21, speed).

The queue page's ``total`` is read from ``queue_tally``, which triggers keep as reports
are scored, scored again, decided and renamed; a store kept before the tally is counted
once when it opens.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from itertools import product
from pathlib import Path

from serving.analyst.schemas import DecisionIn, QueueQuery, Reason
from serving.state.records import Scored
from serving.state.store import StateStore
from tests.factories import make_report, stored_response

ESPS = ("Discord", "TikTok", None)


def _scored(rid: str, priority: int, esp: str | None) -> Scored:
    report = make_report(report_id=rid, esp=esp)
    return Scored(report, stored_response(rid, priority), "req", None)


def _check(store: StateStore) -> None:
    """Every filter's total (from the tally) against a count of the queue itself."""
    db = store._reader()
    for priority, esp, decided in product(
        (None, 1, 2, 3), (None, "Discord", "TikTok"), (None, True, False)
    ):
        query = QueueQuery(priority=priority, esp=esp, decided=decided, limit=1)
        where, params = ["1 = 1"], []
        for column, value in (("priority", priority), ("esp", esp)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if decided is not None:
            where.append(f"decided = {int(decided)}")
        row = db.one(
            f"SELECT COUNT(*) AS n FROM queue WHERE {' AND '.join(where)}", params
        )
        assert row is not None
        page = store.queue(query, make_report().received_at.date())
        assert page.total == row["n"], (priority, esp, decided)


def test_the_tally_follows_scoring_rescoring_decisions_and_renames(
    store_opener: Callable[[], StateStore],
) -> None:
    """On both engines (PostgreSQL keeps the tally by its own trigger: revision 0002)."""
    rng = random.Random(5)
    store = store_opener()
    try:
        for round_ in range(3):  # new reports, and earlier ones scored again
            batch = [
                _scored(f"r{rng.randrange(60)}", rng.randint(1, 3), rng.choice(ESPS))
                for _ in range(40)
            ]
            with store.transaction() as tx:
                tx.add_scored(list({s.report.report_id: s for s in batch}.values()))
            _check(store)
            for rid in rng.sample(sorted({s.report.report_id for s in batch}), 8):
                row = store._reader().one(
                    "SELECT priority FROM queue WHERE report_id = ?", (rid,)
                )
                assert row is not None
                top = row["priority"] == 1
                decision = DecisionIn(
                    report_id=rid,
                    action="accept",
                    designation="referral" if top else "informational",
                    reason=Reason.OTHER,
                )
                store.decide(decision, "k1", f"analyst{round_}")
            _check(store)
        with store.transaction() as tx:  # as the ESP-name migration renames
            tx.db.run("UPDATE queue SET esp = ? WHERE esp = ?", ("TikTok", "Discord"))
        _check(store)
        gone = store._reader().one(
            "SELECT COUNT(*) AS n FROM queue_tally WHERE esp = 'Discord'"
        )
        assert gone is not None and gone["n"] == 0  # the old name is kept nowhere
    finally:
        store.close()


def test_a_store_kept_before_the_tally_is_counted_when_it_opens(
    tmp_path: Path,
) -> None:
    path = tmp_path / "reports.db"
    store = StateStore.open(path)
    with store.transaction() as tx:
        tx.add_scored([_scored(f"o{i}", 1 + i % 3, ESPS[i % 3]) for i in range(30)])
        for name in ("queue_tally_in", "queue_tally_change", "queue_tally_out"):
            tx.db.run(f"DROP TRIGGER {name}")
        tx.db.run("DROP TABLE queue_tally")  # as before the tally existed
        tx.add_scored([_scored(f"n{i}", 1 + i % 3, ESPS[i % 2]) for i in range(9)])
    store.close()
    again = StateStore.open(path)
    try:
        _check(again)
        assert again.queue(QueueQuery(), make_report().received_at.date()).total == 39
        with again.transaction() as tx:  # counted once: the triggers carry on
            tx.add_scored([_scored("late", 2, None)])
        _check(again)
    finally:
        again.close()
