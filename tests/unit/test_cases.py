"""Cases and viral bursts in the state store (issue 21): union, stable ids, bursts."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pytest

from features.linkage import MICROS_PER_DAY
from serving.state.cases import CaseConfig, CaseEntry
from serving.state.store import StateStore
from tests.state_backends import DatabaseError, owner_run

HOUR = 3_600_000_000
T0 = 1_700_000_000_000_000
DEFAULT = CaseConfig()


@pytest.fixture
def store(store_opener: Callable[[], StateStore]) -> StateStore:
    """A store on each engine (issue 22: SQLite and PostgreSQL)."""
    return store_opener()


def _score(
    store: StateStore,
    report_id: str,
    t: int,
    links: Mapping[str, Sequence[str]],
    priority: int = 3,
    config: CaseConfig = DEFAULT,
) -> None:
    """What the service writes for a scored report: queue and link rows, then its case."""
    with store.transaction() as tx:
        tx.db.run(
            "INSERT INTO queue (report_id, scored_seq, priority, probability) "
            "VALUES (?, 0, ?, ?)",
            (report_id, priority, 1.0 / priority),
        )
        tx.record_links([(report_id, t, links)])
        entry = CaseEntry(report_id, t, links, priority, 1.0 / priority)
        tx.maintain_cases([entry], config)


def _case_of(store: StateStore, report_id: str) -> int:
    row = store._writer.one(
        "SELECT case_id FROM case_member WHERE report_id = ?", (report_id,)
    )
    assert row is not None
    return int(row["case_id"])


def _case(store: StateStore, case_id: int) -> Mapping[str, object]:
    row = store._writer.one("SELECT * FROM cases WHERE case_id = ?", (case_id,))
    assert row is not None
    return dict(row)


def test_reports_sharing_an_account_form_one_case(store: StateStore) -> None:
    for i in range(20):
        _score(store, f"r{i}", T0 + i * HOUR, {"link_accounts": ["acct"]})
    ids = {_case_of(store, f"r{i}") for i in range(20)}
    assert len(ids) == 1
    case = _case(store, ids.pop())
    assert case["members"] == 20 and case["undecided"] == 20
    assert case["kinds"] == "link_accounts"


def test_a_merge_keeps_the_older_id_and_is_logged(store: StateStore) -> None:
    _score(store, "a", T0, {"link_accounts": ["x"]}, priority=2)
    _score(store, "b", T0 + HOUR, {"link_emails": ["e"]}, priority=1)
    older, newer = _case_of(store, "a"), _case_of(store, "b")
    assert older < newer
    _score(store, "c", T0 + 2 * HOUR, {"link_accounts": ["x"], "link_emails": ["e"]})
    assert {_case_of(store, r) for r in "abc"} == {older}
    case = _case(store, older)
    assert case["members"] == 3 and case["top_priority"] == 1
    assert case["kinds"] == "link_accounts,link_emails"
    assert _case(store, newer)["merged_into"] == older
    events = store._writer.rows("SELECT event, case_id, other_id FROM case_events")
    assert [(e["event"], e["case_id"], e["other_id"]) for e in events] == [
        ("merge", older, newer)
    ]
    with pytest.raises(DatabaseError, match="append-only"):  # even for the owner
        owner_run(store, "DELETE FROM case_events")


def test_reports_outside_the_window_do_not_link(store: StateStore) -> None:
    _score(store, "old", T0, {"link_accounts": ["x"]})
    _score(store, "new", T0 + 400 * MICROS_PER_DAY, {"link_accounts": ["x"]})
    assert _case_of(store, "old") != _case_of(store, "new")


def test_a_common_file_links_nothing(store: StateStore) -> None:
    config = CaseConfig(common_file_accounts=3, burst_accounts=1000)
    for i in range(6):
        links = {"link_accounts": [f"a{i}"], "link_file_hashes": ["meme"]}
        _score(store, f"r{i}", T0 + i * HOUR, links, config=config)
    cases = [_case_of(store, f"r{i}") for i in range(6)]
    assert len(set(cases[:3])) == 1  # before the file was common
    assert len(set(cases[3:])) == 3 and cases[0] not in cases[3:]


def test_a_burst_collects_its_reports(store: StateStore) -> None:
    config = CaseConfig(common_file_accounts=5, burst_accounts=10, burst_hours=1)
    for i in range(50):
        links = {"link_accounts": [f"a{i}"], "link_file_hashes": ["viral"]}
        _score(store, f"r{i}", T0 + i * 60_000_000, links, config=config)
    ids = {_case_of(store, f"r{i}") for i in range(50)}
    assert len(ids) == 1
    burst = _case(store, ids.pop())
    assert burst["kind"] == "burst" and burst["burst_hash"] == "viral"
    assert burst["members"] == 50 and burst["accounts"] == 50


def test_a_decision_counts_down_the_case(store: StateStore) -> None:
    from serving.state import cases

    _score(store, "a", T0, {"link_accounts": ["x"]})
    _score(store, "b", T0 + HOUR, {"link_accounts": ["x"]})
    with store.transaction() as tx:
        cases.decided(tx.db, "a")
    assert _case(store, _case_of(store, "a"))["undecided"] == 1


def test_the_blind_share_is_within_the_binomial_99_percent_interval(
    store: StateStore,
) -> None:
    """2,000 reports scored with the configured 2 %: the share chosen blind fits."""
    import random

    from scipy.stats import binom

    from serving.settings import ServingSettings
    from serving.state.cases import chosen_blind

    share = ServingSettings().blind_share
    assert share == 0.02 or share == 0.0  # the default, or the tests' own setting
    share = 0.02
    rng = random.Random(21)
    with store.transaction() as tx:
        for i in range(2000):
            tx.db.run(
                "INSERT INTO queue (report_id, scored_seq, priority, probability) "
                "VALUES (?, 0, 3, 0.1)",
                (f"b{i}",),
            )
        entries = [
            CaseEntry(f"b{i}", T0 + i, {}, 3, 0.1, chosen_blind(share, rng))
            for i in range(2000)
        ]
        tx.maintain_cases(entries, DEFAULT)
    row = store._writer.one(
        "SELECT SUM(blind) AS n, COUNT(*) AS total FROM case_member"
    )
    assert row is not None and row["total"] == 2000
    low, high = binom.interval(0.99, 2000, share)
    assert low <= row["n"] <= high
    assert not chosen_blind(0.0, rng)  # 0 turns blind review off


def test_review_stats_compare_blind_and_shown(store: StateStore) -> None:
    from serving.state import review_stats

    _score(store, "s1", T0, {}, priority=2)
    _score(store, "b1", T0 + 1, {}, priority=2)
    with store.transaction() as tx:
        # the suggestion the decisions name (PostgreSQL checks the reference)
        # its seq is the database's to give (PostgreSQL: GENERATED ALWAYS)
        made = tx.db.one(
            "INSERT INTO scored (report_id, request_id, scored_at, received_at, "
            "incident_type, priority, probability, model_version, codes, response, "
            "flat) VALUES ('s1', 'r', 'x', 'x', 'x', 2, 0.5, 'm/1', '[]', '{}', '{}') "
            "RETURNING seq"
        )
        assert made is not None
        tx.db.run("UPDATE case_member SET blind = 1 WHERE report_id = 'b1'")
        for rid, decided in (("s1", 2), ("b1", 3)):
            tx.db.run(
                "INSERT INTO decisions (decision_id, report_id, scored_seq, decided_at, "
                "key_id, analyst, action, priority, designation, reason, note, "
                "suggested_priority, model_version) VALUES (?, ?, ?, ?, 'k', 'a', "
                "'accept', ?, 'referral', 'other', '', 2, 'm/1')",
                (f"d-{rid}", rid, made["seq"], "2999-01-01T00:00:00+00:00", decided),
            )
            tx.db.run(
                "UPDATE queue SET decided = 1, decision_seq = "
                "(SELECT MAX(seq) FROM decisions) WHERE report_id = ?",
                (rid,),
            )
        stats = review_stats.blind_agreement(tx.db, None)
        times = review_stats.time_to_decision(tx.db, {2: 60})
    assert stats["shown"]["agreement_rate"] == 1.0
    assert stats["blind"]["agreement_rate"] == 0.0 and stats["gap"] == 1.0
    assert times["2"]["decided"] == 2 and times["2"]["within_target"] == 0.0
