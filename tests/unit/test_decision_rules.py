"""Decisions consistent by construction: the API refuses exactly what validate-data refuses.

The outcome rules live once (``features.outcome``); the state store checks a decision by
them and ``validate-data`` checks a history by them. The property: every decision the
store accepts exports (``export-decisions``) to a history that ``validate-data`` accepts,
and every outcome the rules refuse is one ``validate-data`` refuses too.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, get_args

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.identifiers import IdentifierHasher
from features.outcome import (
    DESIGNATIONS,
    OUTCOME_RULES,
    allowed_designations,
    decision_outcome,
    decision_problems,
)
from serving.analyst.schemas import DecisionIn, Reason
from serving.state.records import DecisionRefused
from serving.state.store import StateStore
from tests.decision_fixtures import (
    ACTIONS,
    PRIORITIES,
    decide_all,
    every_try,
    scored,
)
from tipscore.export_decisions import export_decisions
from training.validate_data import validate_history, validate_table

HASHER = IdentifierHasher(b"test-secret-key-0123456789abcdef")


def test_a_priority_1_decision_must_be_a_referral() -> None:
    assert decision_problems(1, "informational") == [
        "designation: a priority-1 decision must be 'referral' "
        "(an escalation is always actionable)"
    ]
    assert decision_problems(1, "referral") == []
    assert decision_problems(2, "informational") == []
    assert decision_problems(3, "nonsense") == [
        "designation: must be one of ['referral', 'informational']"
    ]
    assert allowed_designations(1) == ["referral"]
    assert allowed_designations(2) == allowed_designations(3) == list(DESIGNATIONS)


def test_the_api_offers_the_designations_the_rules_know() -> None:
    field = DecisionIn.model_fields["designation"]
    assert get_args(field.annotation) == DESIGNATIONS


def test_the_store_refuses_a_contradiction_naming_the_field(tmp_path: Path) -> None:
    store = StateStore.open(tmp_path / "r.db")
    try:
        with store.transaction() as tx:
            tx.add_scored(
                [
                    scored(HASHER, "p3", 3, "2024-12-01"),
                    scored(HASHER, "p1", 1, "2024-12-01"),
                ]
            )
        cases: list[dict[str, Any]] = [
            {"report_id": "p3", "action": "override", "priority": 1},
            # accepting a priority-1 suggestion
            {"report_id": "p1", "action": "accept"},
        ]
        for fields in cases:
            decision = DecisionIn(
                designation="informational", reason=Reason.OTHER, **fields
            )
            with pytest.raises(DecisionRefused, match=r"^designation: a priority-1"):
                store.decide(decision, "k1", "A")
            assert store.decisions(fields["report_id"]) == []
    finally:
        store.close()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    tries=st.lists(
        st.tuples(
            st.sampled_from((1, 2, 3)),
            st.fixed_dictionaries(
                {
                    "action": st.sampled_from(ACTIONS),
                    "priority": st.sampled_from(PRIORITIES),
                    "designation": st.sampled_from(DESIGNATIONS),
                    "note": st.text(
                        alphabet=st.characters(categories=("L", "Zs")), max_size=40
                    ),
                }
            ),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_every_accepted_decision_exports_to_a_valid_history(
    tries: list[tuple[int, dict[str, Any]]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path, out = Path(folder) / "r.db", Path(folder) / "d.parquet"
        results = decide_all(path, HASHER, tries)
        accepted = [t for t in results if t[2]]
        summary = export_decisions(path, out)
        assert summary.rows == len(accepted)
        if accepted:
            problems, _ = validate_history(out)
            assert problems == []
        for suggested, fields, ok in results:
            priority = fields["priority"] or suggested
            if (fields["action"] == "override") == (priority == suggested):
                assert not ok  # contradicts its action (priority: ...)
            else:
                assert ok == (decision_problems(priority, fields["designation"]) == [])


def test_what_the_rules_refuse_validate_data_refuses(tmp_path: Path) -> None:
    """The converse: an outcome the API refuses is one no history may hold."""
    path, out = tmp_path / "r.db", tmp_path / "d.parquet"
    results = decide_all(path, HASHER, every_try())
    assert any(ok for *_, ok in results) and not all(ok for *_, ok in results)
    export_decisions(path, out)
    table = pq.read_table(out).slice(0, 1)
    for priority in (1, 2, 3):
        for designation in DESIGNATIONS:
            outcome = decision_outcome(priority, designation)
            row = table
            for name, value in (
                ("escalated", pa.array([outcome.escalated])),
                ("priority", pa.array([outcome.priority])),
                ("designation", pa.array([outcome.designation])),
            ):
                row = row.set_column(row.column_names.index(name), name, value)
            problems, _ = validate_table(row)
            refused = decision_problems(priority, designation)
            assert bool(problems) == bool(refused), (priority, designation)
            assert [p.problem for p in problems] == [
                r.history_problem
                for r in OUTCOME_RULES
                if r.broken(outcome) and r.field in {x.split(":")[0] for x in refused}
            ]


def test_validate_data_words_are_unchanged(tmp_path: Path) -> None:
    path, out = tmp_path / "r.db", tmp_path / "d.parquet"
    decide_all(path, HASHER, [(3, {"action": "override", "priority": 1})])
    export_decisions(path, out)
    table = pq.read_table(out)
    index = table.column_names.index("designation")
    bad = table.set_column(index, "designation", pa.array(["informational"]))
    (problem,) = validate_table(bad)[0]
    assert (problem.column, problem.problem) == (
        "escalated",
        "escalated rows must be designated 'referral'",
    )
