"""Case upkeep at scale (issue 21, speed): exact figures, bounded case views.

A burst taking members out of a case keeps the case's figures exact: the case is not
recounted when the members that left held none of its extremes (its
figures go down by what left); it is when one may have (the only top-priority member,
the oldest or newest receipt). Either way the figures equal a full recount. The case
view lists the first ``limit`` merged case ids and counts them all.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime

import pytest

from serving.analyst.case_schemas import CaseRef
from serving.state import case_sql, cases
from serving.state.cases import CaseConfig, CaseEntry
from serving.state.store import StateStore

HOUR, MINUTE = 3_600_000_000, 60_000_000
T0 = 1_700_000_000_000_000
CONFIG = CaseConfig(common_file_accounts=1, burst_accounts=10, burst_hours=1)
PRIORITIES = (2, 3, 1, 3, 3, 2)  # b0 .. b5, an hour apart; b2 alone at priority 1


@pytest.fixture
def store() -> Iterator[StateStore]:
    s = StateStore.open(":memory:")
    yield s
    s.close()


def _score(
    store: StateStore, rid: str, t: int, links: Mapping[str, Sequence[str]], p: int
) -> None:
    with store.transaction() as tx:
        tx.db.run(
            "INSERT INTO queue (report_id, scored_seq, priority, probability) "
            "VALUES (?, 0, ?, ?)",
            (rid, p, 1.0 / p + t % 7 / 1000),
        )
        tx.record_links([(rid, t, links)])
        entry = CaseEntry(rid, t, links, p, 1.0 / p + t % 7 / 1000)
        tx.maintain_cases([entry], CONFIG)


def _row(store: StateStore, case: int) -> dict[str, object]:
    row = store._writer.one(case_sql.CASE_ROW, (case,))
    assert row is not None
    return {c: row[c] for c in case_sql.SUMMARY}


@pytest.mark.parametrize(
    ("carrier", "decided", "expect_top"),
    [
        ("b3", False, 1),  # a middle member: counted down, not recounted
        ("b4", True, 1),  # a decided one: the undecided count stays
        ("b2", False, 2),  # the only priority 1: the top falls to 2
        ("b5", False, 1),  # the newest receipt
        ("b0", False, 1),  # the oldest receipt
    ],
)
def test_a_case_losing_a_member_to_a_burst_matches_a_recount(
    store: StateStore, carrier: str, decided: bool, expect_top: int
) -> None:
    for i, p in enumerate(PRIORITIES):
        rid = f"b{i}"
        links = {"link_accounts": ["x", rid]}
        if rid == carrier:
            links["link_file_hashes"] = ["viral"]
        _score(store, rid, T0 + i * HOUR, links, p)
    case = int(store._writer.one(case_sql.MEMBER_OF, ("b0",))["case_id"])  # type: ignore[index]
    if decided:
        with store.transaction() as tx:
            tx.db.run("UPDATE queue SET decided = 1 WHERE report_id = ?", (carrier,))
            cases.decided(tx.db, carrier)
    start = T0 + int(carrier[1]) * HOUR
    for j in range(1, 11):  # ten more accounts send the file within the hour: a burst
        links = {"link_accounts": [f"s{j}"], "link_file_hashes": ["viral"]}
        _score(store, f"s{j}", start + j * MINUTE, links, 3)
    burst = store._writer.one(case_sql.MEMBER_OF, (carrier,))
    assert burst is not None and int(burst["case_id"]) != case
    kept = _row(store, case)
    with store.transaction() as tx:
        assert cases.refresh(tx.db, case)
    assert kept == _row(store, case)
    assert kept["members"] == 5 and kept["top_priority"] == expect_top
    assert kept["undecided"] == 5  # a decided carrier took no undecided one along


def test_the_case_view_lists_the_first_merges_and_counts_them_all(
    store: StateStore,
) -> None:
    for i in range(5):  # five cases, then one report linking them all: four merges
        _score(store, f"m{i}", T0 + i * HOUR, {"link_accounts": [f"a{i}"]}, 3)
    every = {"link_accounts": [f"a{i}" for i in range(5)]}
    _score(store, "all", T0 + 6 * HOUR, every, 3)
    case = int(store._writer.one(case_sql.MEMBER_OF, ("all",))["case_id"])  # type: ignore[index]
    now = datetime.now(UTC)
    view = store.case(CaseRef(case_id=case, limit=2), False, {}, now)
    assert len(view.merged_from) == 2 and view.merged_total == 4
    assert view.merged_from == sorted(view.merged_from)  # in merge order
    whole = store.case(CaseRef(case_id=case), False, {}, now)
    assert len(whole.merged_from) == 4 and whole.merged_total == 4
    assert whole.merged_from[:2] == view.merged_from
