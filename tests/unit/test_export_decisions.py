"""Decisions become data: the export, its CLI, merging into a history, evaluation on it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from features.identifiers import IdentifierHasher, to_contract
from features.schema import ReportSubmission
from serving.analyst.schemas import DecisionIn, Reason
from serving.schemas import ScoreResponse
from serving.state.records import Scored
from serving.state.store import StateStore
from tests.factories import stored_response
from tests.service.conftest import submission
from tipscore.cli import app
from tipscore.export_decisions import export_decisions
from training.config import TrainConfig
from training.data import History, data_sha256, load_history
from training.data_format import PROVENANCE_COLUMNS
from training.evaluate import analyst_metrics, oracle_comparison
from training.metrics import pr_auc
from training.model import Calibration, EscalationModel, Policy
from training.synth.config import load_config
from training.synth.generate import GenerateRequest, generate
from training.validate_data import validate_history, validate_table

RAW = "raw-account-for-export"


def _response(report_id: str, priority: int) -> ScoreResponse:
    return stored_response(report_id, priority)


def _scored(
    hasher: IdentifierHasher, report_id: str, priority: int, received: str
) -> Scored:
    body = submission(report_id, received_at=f"{received}T10:00:00Z")
    body["identifiers"]["accounts"] = [RAW]
    contract = to_contract(ReportSubmission.model_validate(body), hasher)
    return Scored(contract, _response(report_id, priority), "req", None)


@pytest.fixture
def store(tmp_path: Path, hasher: IdentifierHasher) -> Path:
    """dec-0 (suggested 3) overridden twice, dec-1 (suggested 1) accepted, dec-x open."""
    path = tmp_path / "reports.db"
    reports = StateStore.open(path)
    with reports.transaction() as tx:
        tx.add_scored(
            [
                _scored(hasher, "dec-0", 3, "2024-12-02"),
                _scored(hasher, "dec-1", 1, "2024-12-01"),
                _scored(
                    hasher, "dec-x", 2, "2024-12-03"
                ),  # never decided: not exported
            ]
        )
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


@pytest.fixture
def empty_store(tmp_path: Path, hasher: IdentifierHasher) -> Path:
    path = tmp_path / "empty.db"
    reports = StateStore.open(path)
    with reports.transaction() as tx:  # scored, not decided
        tx.add_scored([_scored(hasher, "open-1", 2, "2024-12-01")])
    reports.close()
    return path


def test_export_is_a_valid_history_with_the_analysts_outcome(
    store: Path, tmp_path: Path
) -> None:
    out = tmp_path / "decisions.parquet"
    summary_ = export_decisions(store, out)
    assert (summary_.rows, summary_.overridden, summary_.escalated) == (2, 1, 1)
    assert validate_history(out)[0] == []
    table = pq.read_table(out)
    for name, kind in PROVENANCE_COLUMNS.items():
        assert table.schema.field(name).type == kind, name
    assert "p_true" not in table.column_names
    frame = table.to_pandas()
    assert frame["report_id"].tolist() == ["dec-1", "dec-0"]  # by receipt time
    latest = frame.set_index("report_id").loc["dec-0"]
    assert latest["priority"] == "2" and not latest["escalated"]
    assert latest["designation"] == "informational"
    assert latest["decision_action"] == "override"
    assert latest["decision_reason"] == "insufficient_information"
    assert latest["decision_key_id"] == "k2"
    assert latest["suggested_priority"] == 3
    assert latest["suggested_probability"] == pytest.approx(0.001)
    assert latest["suggested_by"] == "tip-escalation/7"
    assert latest["decision_at"].tzinfo is not None
    accepted = frame.set_index("report_id").loc["dec-1"]
    assert accepted["priority"] == "1" and accepted["escalated"]
    assert accepted["designation"] == "referral"
    assert accepted["decision_action"] == "accept"
    assert RAW.encode() not in out.read_bytes()
    assert len(frame["link_accounts"].iloc[0][0]) == 64  # hashed


def test_nothing_decided_writes_nothing(empty_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "decisions.parquet"
    out.write_bytes(b"an earlier export")
    assert export_decisions(empty_store, out).rows == 0
    assert out.read_bytes() == b"an earlier export"
    with pytest.raises(FileNotFoundError, match="no report store"):
        export_decisions(tmp_path / "missing.db", out)
    assert not (tmp_path / "missing.db").exists()


def test_cli_exports_and_says_what_it_wrote(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "d.parquet"
    runner = CliRunner()
    result = runner.invoke(
        app, ["export-decisions", "--out", str(out), "--reports-db", str(store)]
    )
    assert result.exit_code == 0, result.output
    assert "wrote 2 decided reports" in result.output
    assert "1 overrides" in result.output and str(out) in result.output
    checked = runner.invoke(app, ["validate-data", str(out)])
    assert checked.exit_code == 0, checked.output


def test_cli_refuses_an_empty_or_missing_store(
    empty_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "d.parquet"
    runner = CliRunner()
    empty = runner.invoke(
        app, ["export-decisions", "--out", str(out), "--reports-db", str(empty_store)]
    )
    assert empty.exit_code == 1
    assert "no decisions recorded yet" in empty.output and not out.exists()
    monkeypatch.setenv("TIPSCORE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("TIPSCORE_REPORTS_DB", raising=False)
    missing = runner.invoke(app, ["export-decisions", "--out", str(out)])
    assert missing.exit_code == 1
    assert str(tmp_path / "state" / "reports.db") in missing.output


def test_cli_help_names_the_format_and_the_default_store() -> None:
    result = CliRunner().invoke(app, ["export-decisions", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for words in (
        "--out",
        "--reports-db",
        "TIPSCORE_REPORTS_DB",
        "latest",
        "--decisions",
    ):
        assert words in text, words


def test_validate_data_checks_provenance_columns_and_ignores_others(
    store: Path, tmp_path: Path
) -> None:
    out = tmp_path / "d.parquet"
    export_decisions(store, out)
    table = pq.read_table(out).append_column("my_note", pa.array(["x", "y"]))
    assert validate_table(table)[0] == []
    index = table.column_names.index("suggested_priority")
    bad = table.set_column(index, "suggested_priority", pa.array([1, 7]))
    assert [p.column for p in validate_table(bad)[0]] == ["suggested_priority"]
    wrong = table.set_column(index, "suggested_priority", pa.array(["1", "3"]))
    problems = validate_table(wrong)[0]
    assert problems[0].column == "suggested_priority"
    assert "wrong type" in problems[0].problem


def _history(path: Path) -> Path:
    generate(
        GenerateRequest(
            3_000, 4, date(2024, 10, 1), date(2024, 12, 31), path, progress=False
        ),
        load_config(),
    )
    return path


def test_decisions_join_a_history_and_replace_its_rows(
    store: Path, tmp_path: Path
) -> None:
    history = _history(tmp_path / "h.parquet")
    out = tmp_path / "decisions.parquet"
    export_decisions(store, out)
    plain = load_history(history)
    # the first decided report is also in the history (the same report: its id and its
    # receipt time): the decision wins
    table = pq.read_table(out)
    ids = table.column("report_id").to_pylist()
    ids[0] = plain.flat["report_id"].iloc[-1]
    index = table.column_names.index("report_id")
    table = table.set_column(index, "report_id", pa.array(ids))
    received = pq.read_table(history).column("received_at").to_pylist()
    ours = pq.read_table(history).column("report_id").to_pylist().index(ids[0])
    times = table.column("received_at").to_pylist()
    times[0] = received[ours]
    at = table.column_names.index("received_at")
    field = table.schema.field("received_at")
    table = table.set_column(at, field, pa.array(times, field.type))
    table = table.take(pc.sort_indices(table, [("received_at", "ascending")]))
    pq.write_table(table, out)  # a history file is in receipt order
    decided = pq.read_table(out).to_pandas()
    decided = decided[decided["report_id"] == ids[0]].reset_index(drop=True)
    merged = load_history(history, [out])
    assert len(merged.labels) == len(plain.labels) + 1
    assert np.all(np.diff(merged.micros) >= 0)
    assert merged.analyst is not None and merged.suggested is not None
    is_decided = merged.analyst > 0
    assert int(is_decided.sum()) == 2
    assert sorted(merged.suggested[is_decided].tolist()) == [1, 3]  # by receipt time
    # no truth for analysts' rows: p_true is kept, unknown (NaN) exactly there
    assert merged.p_true is not None
    assert np.isnan(merged.p_true).tolist() == is_decided.tolist()
    assert merged.sha256 == data_sha256(history, [out]) != plain.sha256
    assert merged.decisions[0][0] == str(out)
    replaced = (merged.flat["report_id"] == decided.loc[0, "report_id"]).to_numpy()
    assert int(replaced.sum()) == 1
    assert merged.analyst[replaced][0] == int(decided.loc[0, "priority"])
    assert bool(merged.labels[replaced][0]) == bool(decided.loc[0, "escalated"])


def test_a_decisions_file_alone_is_a_history_of_decided_rows(
    store: Path, tmp_path: Path
) -> None:
    out = tmp_path / "decisions.parquet"
    export_decisions(store, out)
    loaded = load_history(out)
    assert loaded.p_true is None and loaded.decisions == ()
    assert loaded.analyst is not None and loaded.analyst.tolist() == [1, 2]
    assert loaded.suggested is not None and loaded.suggested.tolist() == [1, 3]


def test_a_missing_decisions_file_is_a_history_error(tmp_path: Path) -> None:
    from training.data import HistoryError

    history = _history(tmp_path / "h.parquet")
    with pytest.raises(HistoryError, match="no history file at"):
        load_history(history, [tmp_path / "nope.parquet"])


class _Fixed(EscalationModel):
    """A model whose calibrated probability for row i is ``p[i]`` (matrix = row ids)."""

    def __init__(self, p: np.ndarray) -> None:
        # no booster: raw scores come from ``p``; the logistic function calibrates
        super().__init__(None, Calibration((), ()), Policy(0.5, 0.2, 0.1, 0.3))
        self.p = p

    def raw_scores(self, matrix: np.ndarray) -> np.ndarray:
        p = self.p[matrix[:, 0].astype(int)]
        logit: np.ndarray = np.log(p / (1 - p))
        return logit


def _toy(p_true: np.ndarray | None, analyst: np.ndarray | None = None) -> History:
    n = 12
    labels = np.array([1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0], dtype=bool)
    return History(
        path=Path("toy"),
        sha256="",
        flat=pd.DataFrame(index=range(n)),
        matrix=np.arange(n, dtype=float)[:, None],
        labels=labels,
        p_true=p_true,
        micros=np.arange(n),
        analyst=analyst,
        suggested=None if analyst is None else np.where(analyst > 0, 3, 0),
    )


MODEL_P = np.array([0.9, 0.3, 0.1, 0.6, 0.05, 0.25, 0.7, 0.1, 0.4, 0.02, 0.8, 0.15])
TRUTH = np.array([0.8, 0.2, 0.1, 0.7, 0.1, 0.1, 0.9, 0.05, 0.3, 0.1, 0.6, 0.2])


def test_oracle_uses_only_rows_with_p_true_and_compares_on_them() -> None:
    config = TrainConfig()
    model = _Fixed(MODEL_P)
    rows = slice(4, 12)
    truth = TRUTH.copy()
    truth[[6, 10]] = np.nan  # analysts' rows in the window
    oracle, ratios = oracle_comparison(model, _toy(truth), rows, config)
    known = np.array([4, 5, 7, 8, 9, 11])
    assert oracle["reports"] == len(known)
    labels = _toy(truth).labels
    assert oracle["pr_auc"] == pytest.approx(pr_auc(labels[known], TRUTH[known]))
    assert ratios["pr_auc_ratio_to_oracle"] == pytest.approx(
        pr_auc(labels[known], MODEL_P[known]) / oracle["pr_auc"]
    )
    # complete truth: the whole window; no truth: no oracle figures
    full, _ = oracle_comparison(model, _toy(TRUTH), rows, config)
    assert full["reports"] == 8
    assert oracle_comparison(model, _toy(None), rows, config) == ({}, {})


def test_analyst_metrics_compare_the_models_priority_on_decided_rows() -> None:
    model = _Fixed(MODEL_P)
    analyst = np.zeros(12, dtype=np.int64)
    analyst[[8, 10, 11]] = [2, 1, 3]  # model says 2 (0.4), 1 (0.8), 3 (0.15)
    out = analyst_metrics(model, _toy(TRUTH, analyst), slice(6, 12))
    assert out["rows"] == 3 and out["agreement"] == 1.0 and out["kappa"] == 1.0
    assert out["recorded_override_rate"] == pytest.approx(2 / 3)  # recorded: all 3
    assert analyst_metrics(model, _toy(TRUTH, analyst), slice(0, 6)) == {"rows": 0.0}
    assert analyst_metrics(model, _toy(TRUTH), slice(0, 12)) == {}


def test_export_marks_blind_decisions(tmp_path: Path, hasher: IdentifierHasher) -> None:
    """Issue 21: a decision made under blind review is exported as such."""
    from serving.state.cases import CaseConfig, CaseEntry

    path = tmp_path / "blind.db"
    reports = StateStore.open(path)
    with reports.transaction() as tx:
        tx.add_scored(
            [
                _scored(hasher, "bl-0", 3, "2024-12-01"),
                _scored(hasher, "bl-1", 3, "2024-12-02"),
            ]
        )
        tx.maintain_cases(
            [
                CaseEntry("bl-0", 1, {}, 3, 0.001, blind=True),
                CaseEntry("bl-1", 2, {}, 3, 0.001, blind=False),
            ],
            CaseConfig(),
        )
    reports.decide(  # a blind decision names a priority (an analyst key: hidden)
        DecisionIn(
            report_id="bl-0", action="override", priority=3, reason=Reason.OTHER
        ),
        "k1",
        "A",
        hidden=True,
    )
    reports.decide(
        DecisionIn(report_id="bl-1", action="accept", reason=Reason.AGREE), "k1", "A"
    )
    reports.close()
    out = tmp_path / "decisions.parquet"
    export_decisions(path, out)
    assert validate_history(out)[0] == []
    frame = pq.read_table(out).to_pandas().set_index("report_id")
    assert bool(frame.loc["bl-0", "decision_blind"])
    assert not bool(frame.loc["bl-1", "decision_blind"])
    assert frame.loc["bl-0", "decision_action"] == "accept"  # the hidden suggestion


def test_decisions_made_with_the_suggestion_in_view_are_not_blind(
    tmp_path: Path, hasher: IdentifierHasher
) -> None:
    """An admin key's decision, or a second one once the suggestion shows, was exported
    as blind and counted so on the model card (an outside security test, session 9)."""
    from serving.state import review_stats
    from serving.state.cases import CaseConfig, CaseEntry

    path = tmp_path / "seen.db"
    reports = StateStore.open(path)
    ids = ("seen-admin", "seen-again", "seen-blind")
    with reports.transaction() as tx:
        tx.add_scored(
            [_scored(hasher, r, 3, f"2024-12-0{i + 1}") for i, r in enumerate(ids)]
        )
        tx.maintain_cases(
            [CaseEntry(r, i, {}, 3, 0.001, blind=True) for i, r in enumerate(ids)],
            CaseConfig(),
        )
    override = {"action": "override", "priority": 2, "reason": Reason.OTHER}
    reports.decide(DecisionIn(report_id="seen-admin", **override), "admin", "A")
    for report_id in ("seen-again", "seen-blind"):
        reports.decide(
            DecisionIn(report_id=report_id, **override), "k1", "B", hidden=True
        )
    again = DecisionIn(report_id="seen-again", action="accept", reason=Reason.AGREE)
    reports.decide(again, "k1", "B", hidden=True)  # the suggestion shows by now
    with reports.transaction() as tx:
        stats = review_stats.blind_agreement(tx.db, None)
    reports.close()
    out = tmp_path / "decisions.parquet"
    export_decisions(path, out)
    frame = pq.read_table(out).to_pandas().set_index("report_id")
    assert frame["decision_blind"].astype(bool).to_dict() == {
        "seen-admin": False,
        "seen-again": False,
        "seen-blind": True,
    }
    assert stats["blind"]["decided"] == 1 and stats["shown"]["decided"] == 2


@pytest.mark.parametrize("store_opener", ["sqlite", "postgresql"], indirect=True)
def test_a_report_rescored_more_urgent_than_decided_is_undecided_again(
    store_opener: Callable[[], StateStore], hasher: IdentifierHasher
) -> None:
    """Decided at 3, scored again at 1: it stayed decided, out of the undecided queue,
    its case counted decided, and no analyst saw the new 1 (two outside tests, session 9).
    """
    from serving.state.cases import CaseConfig, CaseEntry

    reports = store_opener()

    def score(priority: int) -> None:
        with reports.transaction() as tx:
            tx.add_scored([_scored(hasher, "re-1", priority, "2024-12-01")])
            tx.maintain_cases(
                [CaseEntry("re-1", 1, {}, priority, 0.5 / priority)], CaseConfig()
            )

    def undecided() -> tuple[bool, int]:
        with reports.transaction() as tx:
            row = tx.db.one("SELECT decided FROM queue WHERE report_id = 're-1'")
            case = tx.db.one(
                "SELECT c.undecided FROM cases AS c JOIN case_member AS m "
                "ON m.case_id = c.case_id WHERE m.report_id = 're-1'"
            )
        assert row is not None and case is not None
        return not row["decided"], int(case["undecided"])

    score(3)
    accept = DecisionIn(report_id="re-1", action="accept", reason=Reason.AGREE)
    reports.decide(accept, "k1", "A")
    assert undecided() == (False, 0)
    score(3)  # as urgent as decided: stays decided
    assert undecided() == (False, 0)
    score(1)
    assert undecided() == (True, 1)
    again = reports.decide(accept, "k1", "A")
    assert again.supersedes is not None and again.priority == 1
    assert undecided() == (False, 0)
    # overridden down from the 1 it was shown: scored 1 again, it stays decided (the
    # analyst saw that 1; a stranger's review)
    down = DecisionIn(
        report_id="re-1", action="override", priority=3, reason=Reason.OTHER
    )
    reports.decide(down, "k1", "A")
    score(1)
    assert undecided() == (False, 0)


def test_a_decided_report_of_another_time_under_a_history_id_is_refused(
    store: Path, tmp_path: Path
) -> None:
    """Every generated history numbers its rows from r0000000000: 870 decided reports of
    2025 silently replaced 870 history reports of 2023 (an outside test, session 9)."""
    from training.data import HistoryError

    history = _history(tmp_path / "h.parquet")
    out = tmp_path / "decisions.parquet"
    export_decisions(store, out)
    table = pq.read_table(out)
    ids = table.column("report_id").to_pylist()
    ids[0] = pq.read_table(history).column("report_id").to_pylist()[0]
    index = table.column_names.index("report_id")
    pq.write_table(table.set_column(index, "report_id", pa.array(ids)), out)
    with pytest.raises(HistoryError, match="one id space"):
        load_history(history, [out])


def test_a_reopened_blind_report_shows_its_suggestion_everywhere(
    tmp_path: Path, hasher: IdentifierHasher
) -> None:
    """Decided blind, then reopened by a more urgent re-score: the queue hid it again
    while the report view showed it and an accept was allowed (a stranger's review)."""
    from datetime import date

    from serving.analyst.schemas import QueueQuery
    from serving.state.cases import CaseConfig, CaseEntry
    from serving.state.queue import View

    reports = StateStore.open(tmp_path / "reports.db")

    def score(priority: int) -> None:
        with reports.transaction() as tx:
            tx.add_scored([_scored(hasher, "rb-1", priority, "2024-12-01")])
            tx.maintain_cases(
                [CaseEntry("rb-1", 1, {}, priority, 0.5 / priority, blind=True)],
                CaseConfig(),
            )

    score(3)
    hidden = View(hide_blind=True)
    first = reports.queue(QueueQuery(), date(2024, 12, 2), hidden).items[0]
    assert first.suggested_priority is None  # blind, never decided: hidden
    reports.decide(
        DecisionIn(report_id="rb-1", action="override", priority=2, reason=Reason.OTHER),
        "k1", "A", hidden=True,
    )  # fmt: skip
    score(1)  # more urgent than decided and shown: undecided again
    again = reports.queue(QueueQuery(), date(2024, 12, 2), hidden).items[0]
    assert again.suggested_priority == 1  # shown, as the report view shows it
    reports.close()
