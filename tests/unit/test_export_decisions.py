"""Decisions become data: export format, latest decision wins, merge into a history, agreement."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from features.identifiers import IdentifierHasher, to_contract
from features.schema import ReportSubmission
from serving.analyst_schemas import DecisionIn, Reason
from serving.report_store import ReportStore, Scored
from serving.schemas import Explanation, ScoreResponse, Thresholds
from tests.service.conftest import submission
from tipscore.export_decisions import export_decisions
from training.data import load_history
from training.metrics import analyst_agreement
from training.synth.config import load_config
from training.synth.generate import GenerateRequest, generate
from training.validate_data import validate_table

LIMITS = Thresholds(p1=0.05, p2=0.004, p1_share=0.005, p12_share=0.05, policy="test")


def _response(report_id: str, priority: int) -> ScoreResponse:
    return ScoreResponse(
        report_id=report_id,
        escalation_probability={1: 0.2, 2: 0.01, 3: 0.001}[priority],
        suggested_priority=priority,
        thresholds=LIMITS,
        model_name="tip-escalation",
        model_version="7",
        explanation=Explanation(base_value=-8, raw_score=-5, note="", contributions=[]),
        warnings=[],
    )


@pytest.fixture
def store(tmp_path: Path, hasher: IdentifierHasher) -> Path:
    path = tmp_path / "reports.db"
    reports = ReportStore(path)
    entries = []
    for i, (suggested, received) in enumerate([(3, "2024-12-02"), (1, "2024-12-01")]):
        body = submission(f"dec-{i}", received_at=f"{received}T10:00:00Z")
        body["identifiers"]["accounts"] = ["raw-account-for-export"]
        contract = to_contract(ReportSubmission.model_validate(body), hasher)
        entries.append(Scored(contract, _response(f"dec-{i}", suggested), "req", None))
    entries.append(  # scored but never decided: not exported
        Scored(
            to_contract(ReportSubmission.model_validate(submission("dec-x")), hasher),
            _response("dec-x", 2),
            "req",
            None,
        )
    )
    reports.add(entries)
    reports.decide(
        DecisionIn(
            report_id="dec-0", action="override", priority=1, reason=Reason.OTHER
        ),
        "k1",
        "A",
    )
    reports.decide(  # supersedes the override: this one counts
        DecisionIn(
            report_id="dec-0",
            action="override",
            priority=2,
            designation="informational",
            reason=Reason.INSUFFICIENT_INFORMATION,
        ),
        "k2",
        "B",
    )
    reports.decide(
        DecisionIn(report_id="dec-1", action="accept", reason=Reason.AGREE), "k1", "A"
    )
    reports.close()
    return path


def test_export_is_a_valid_history_with_the_analysts_outcome(
    store: Path, tmp_path: Path
) -> None:
    out = tmp_path / "decisions.parquet"
    summary = export_decisions(store, out)
    assert (summary.rows, summary.overridden, summary.escalated) == (2, 1, 1)
    table = pq.read_table(out)
    problems, _ = validate_table(table)
    assert problems == []
    frame = table.to_pandas()
    assert frame["report_id"].tolist() == ["dec-1", "dec-0"]  # by receipt time
    latest = frame.set_index("report_id").loc["dec-0"]
    assert latest["priority"] == "2" and not latest["escalated"]
    assert latest["designation"] == "informational"
    assert latest["decision_reason"] == "insufficient_information"
    assert latest["decision_key_id"] == "k2"
    assert latest["suggested_priority"] == 3
    assert latest["suggested_by"] == "tip-escalation/7"
    accepted = frame.set_index("report_id").loc["dec-1"]
    assert accepted["priority"] == "1" and accepted["escalated"]
    assert accepted["decision_action"] == "accept"
    assert b"raw-account-for-export" not in out.read_bytes()
    assert len(frame["link_accounts"].iloc[0][0]) == 64  # hashed


def test_decisions_join_a_history_and_replace_its_rows(
    store: Path, tmp_path: Path
) -> None:
    history = tmp_path / "h.parquet"
    generate(
        GenerateRequest(
            3_000, 4, date(2024, 10, 1), date(2024, 12, 31), history, progress=False
        ),
        load_config(),
    )
    out = tmp_path / "decisions.parquet"
    export_decisions(store, out)
    # the same report id in both: the decision wins
    plain = load_history(history)
    table = pq.read_table(out)
    ids = table.column("report_id").to_pylist()
    ids[0] = plain.flat["report_id"].iloc[-1]
    index = table.column_names.index("report_id")
    pq.write_table(table.set_column(index, "report_id", pa.array(ids)), out)
    frame = pq.read_table(out).to_pandas()
    merged = load_history(history, [out])
    assert len(merged.labels) == len(plain.labels) + 1
    assert merged.p_true is None  # no truth for analysts' rows: no oracle figures
    assert merged.analyst is not None and merged.suggested is not None
    assert int((merged.analyst > 0).sum()) == 2
    assert np.all(np.diff(merged.micros) >= 0)
    assert merged.sha256 != plain.sha256 and merged.decisions[0][0] == str(out)
    replaced = merged.flat["report_id"] == frame.loc[0, "report_id"]
    assert int(replaced.sum()) == 1
    assert merged.analyst[replaced.to_numpy()][0] == int(frame.loc[0, "priority"])


def test_agreement_counts_and_chance_corrects() -> None:
    model = np.array([1, 2, 3, 3, 2])
    analyst = np.array([1, 2, 3, 2, 2])
    recorded = np.array([1, 3, 3, 3, 2])
    out = analyst_agreement(model, analyst, recorded)
    assert out["rows"] == 5 and out["agreement"] == pytest.approx(0.8)
    # expected agreement by chance: 0.2*0.2 + 0.4*0.6 + 0.4*0.2 = 0.36
    assert out["kappa"] == pytest.approx((0.8 - 0.36) / (1 - 0.36))
    assert out["recorded_override_rate"] == pytest.approx(0.4)
    assert analyst_agreement(np.array([]), np.array([]), np.array([])) == {"rows": 0.0}
