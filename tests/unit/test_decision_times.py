"""Decision times (issue 19): ``decided_at`` validated, drawn, exported; counts point in time."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from features.identifiers import IdentifierHasher
from features.linkage import LINK_COLUMNS, NEVER_DECIDED, history_frame_features
from serving.analyst.schemas import DecisionIn, Reason
from serving.state.store import StateStore
from tests.unit.test_export_decisions import _scored
from tipscore.export_decisions import decision_times, export_decisions
from training.config import TrainConfig
from training.data import load_history, with_decisions
from training.decision_times import (
    DECIDED_US,
    DEFAULT_ASSUMED_LAG_DAYS,
    decided_micros,
)
from training.synth.config import DecisionLag, LagDistribution, load_config
from training.synth.generate import GenerateRequest, generate
from training.validate_data import validate_history, validate_table

H = [f"{i:064x}" for i in range(4)]
T0 = pd.Timestamp("2024-01-01", tz="UTC")
DAY = pd.Timedelta(days=1)
HOUR = pd.Timedelta(hours=1)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("decided") / "h.parquet"
    cfg = load_config()
    cfg = cfg.model_copy(
        update={"escalation": cfg.escalation.model_copy(update={"base_rate": 0.03})}
    )
    generate(
        GenerateRequest(20_000, 4, date(2024, 1, 1), date(2024, 6, 30), out, False),
        cfg,
    )
    return out


def _links(frame: pd.DataFrame) -> pd.DataFrame:
    for column in LINK_COLUMNS:
        if column not in frame:
            frame[column] = [[] for _ in range(len(frame))]
    return frame


def test_an_escalation_counts_only_once_decided_before_the_report_arrives() -> None:
    """A escalated at t0, decided 3 days later: B (t0+1d) does not count it, C (t0+4d) does."""
    frame = _links(
        pd.DataFrame(
            {
                "received_at": [T0, T0 + DAY, T0 + 4 * DAY, T0 + 5 * DAY],
                "link_accounts": [[H[0]], [H[0]], [H[0]], [H[1]]],
            }
        )
    )
    escalated = np.array([True, False, False, True])
    decided = frame["received_at"] + pd.to_timedelta([3, 0, 0, 0], unit="D")
    decided_us = decided.to_numpy().astype("datetime64[us]").astype(np.int64)
    out = history_frame_features(frame, escalated, decided_us)
    assert out["hist_account_escalations_365d"].tolist() == [0, 0, 1, 0]
    assert out["hist_account_reports_365d"].tolist() == [0, 1, 2, 0]  # unchanged
    final = history_frame_features(frame, escalated)  # labels known on arrival
    assert final["hist_account_escalations_365d"].tolist() == [0, 1, 1, 0]
    exactly = decided_us.copy()
    exactly[0] = decided_us[1]  # decided at the very instant B arrived: not before it
    at_arrival = history_frame_features(frame, escalated, exactly)
    assert at_arrival["hist_account_escalations_365d"].tolist() == [0, 0, 1, 0]
    never = decided_us.copy()
    never[0] = NEVER_DECIDED
    assert history_frame_features(frame, escalated, never)[
        "hist_account_escalations_365d"
    ].tolist() == [0, 0, 0, 0]


def test_a_decision_after_the_window_ends_never_counts() -> None:
    """Decided 400 days after receipt: past the 365-day window of every later report."""
    frame = _links(
        pd.DataFrame(
            {
                "received_at": [T0, T0 + 100 * DAY, T0 + 401 * DAY],
                "link_accounts": [[H[0]], [H[0]], [H[0]]],
            }
        )
    )
    micros = frame["received_at"].to_numpy().astype("datetime64[us]").astype(np.int64)
    decided = micros + np.array([400, 0, 0]) * 86_400_000_000
    out = history_frame_features(frame, np.array([True, False, False]), decided)
    assert out["hist_account_escalations_365d"].tolist() == [0, 0, 0]


def test_lag_zero_gives_the_final_label_counts(generated: Path) -> None:
    table = pq.read_table(generated)
    frame = table.to_pandas()
    labels = frame["escalated"].to_numpy()
    micros = frame["received_at"].to_numpy().astype("datetime64[us]").astype(np.int64)
    old = history_frame_features(frame, labels)
    same = history_frame_features(
        frame, labels, decided_micros(table.drop_columns(["decided_at"]), 0.0)
    )
    real = history_frame_features(frame, labels, decided_micros(table, 1.0))
    name = "hist_account_escalations_365d"
    np.testing.assert_array_equal(same[name], old[name])
    np.testing.assert_array_equal(
        history_frame_features(frame, labels, micros)[name], old[name]
    )
    assert (real[name] <= old[name]).all()
    assert (real[name] < old[name]).any()  # the lags matter on this history


def _valid_frame(generated: Path) -> pd.DataFrame:
    return pq.read_table(generated).slice(0, 2_000).to_pandas()


def _problems(frame: pd.DataFrame) -> list[tuple[str, str, int]]:
    problems, _ = validate_table(pa.Table.from_pandas(frame, preserve_index=False))
    return [(p.column, p.problem, p.count) for p in problems]


def test_validation_names_decision_times_before_receipt(generated: Path) -> None:
    frame = _valid_frame(generated)
    assert _problems(frame) == []
    frame.loc[[3, 8], "decided_at"] = frame.loc[[3, 8], "received_at"] - HOUR
    problems, _ = validate_table(pa.Table.from_pandas(frame, preserve_index=False))
    (problem,) = problems
    assert problem.column == "decided_at"
    assert problem.problem.startswith("before received_at")
    assert (problem.count, problem.rows) == (2, [3, 8])
    assert problem.report_ids == frame["report_id"].iloc[[3, 8]].tolist()


def test_validation_allows_never_reviewed_rows_but_not_undecided_escalations(
    generated: Path,
) -> None:
    frame = _valid_frame(generated)
    calm = np.flatnonzero(~frame["escalated"].to_numpy())[:5]
    frame.loc[calm, "decided_at"] = pd.NaT
    assert _problems(frame) == []
    hot = np.flatnonzero(frame["escalated"].to_numpy())[:2]
    frame.loc[hot, "decided_at"] = pd.NaT
    ((column, problem, count),) = _problems(frame)
    assert (column, count) == ("decided_at", 2)
    assert "missing on escalated rows" in problem


def test_validation_refuses_a_decision_time_that_is_not_a_utc_timestamp(
    generated: Path, tmp_path: Path
) -> None:
    frame = _valid_frame(generated)
    frame["decided_at"] = frame["decided_at"].astype(str)
    path = tmp_path / "bad.parquet"
    frame.to_parquet(path)
    problems, _ = validate_history(path)
    ((column, problem),) = [(p.column, p.problem) for p in problems]
    assert column == "decided_at"
    assert problem.startswith("wrong type: expected timestamp[us, tz=UTC], got ")
    assert "string" in problem
    naive = _valid_frame(generated)
    naive["decided_at"] = naive["decided_at"].dt.tz_localize(None)
    naive.to_parquet(path)
    assert [p.column for p in validate_history(path)[0]] == ["decided_at"]


def test_a_history_without_decision_times_stays_valid(
    generated: Path, tmp_path: Path
) -> None:
    path = tmp_path / "old.parquet"
    pq.write_table(pq.read_table(generated).drop_columns(["decided_at"]), path)
    problems, summary = validate_history(path)
    assert problems == [] and summary is not None
    assert summary.decision_times.startswith("absent")
    _, with_column = validate_history(generated)
    assert with_column is not None
    assert with_column.decision_times.startswith("present (0 never reviewed")


def test_the_assumed_lag_is_the_configs_and_applies_in_training(
    generated: Path, tmp_path: Path
) -> None:
    assert TrainConfig().history.assumed_decision_lag_days == DEFAULT_ASSUMED_LAG_DAYS
    with pytest.raises(ValidationError, match="assumed_decision_lag_days"):
        TrainConfig.model_validate({"history": {"assumed_decision_lag_days": -1}})
    path = tmp_path / "old.parquet"
    pq.write_table(pq.read_table(generated).drop_columns(["decided_at"]), path)
    name = "hist_account_escalations_365d"
    on_arrival = load_history(path, assumed_lag_days=0.0)
    a_day = load_history(path)
    a_year = load_history(path, assumed_lag_days=365.0)
    table = pq.read_table(path)
    frame = table.to_pandas()
    final = history_frame_features(frame, frame["escalated"].to_numpy())[name]
    np.testing.assert_array_equal(on_arrival.flat[name], final)
    assert a_day.flat[name].sum() < final.sum()
    assert a_year.flat[name].sum() == 0  # decided when the window has closed
    assert a_day.decided is not None
    received = a_day.micros
    np.testing.assert_array_equal(a_day.decided - received, 86_400_000_000)


def test_decision_times_in_any_unit_resolve_to_microseconds() -> None:
    received = pa.array([1_000_000_123_456_789], pa.timestamp("ns", tz="+00:00"))
    decided = pa.array([1_000_000_999_999_999, None], pa.timestamp("ns", tz="UTC"))
    table = pa.table({"received_at": received, "decided_at": decided[:1]})
    assert decided_micros(table, 1.0).tolist() == [1_000_000_999_999]
    table = pa.table({"received_at": pa.concat_arrays([received, received])})
    table = table.append_column("decided_at", decided)
    assert decided_micros(table, 1.0).tolist() == [1_000_000_999_999, NEVER_DECIDED]
    assert (
        decided_micros(table.drop_columns(["decided_at"]), 0.5).tolist()
        == [1_000_000_123_456 + 43_200_000_000] * 2
    )


def test_each_file_of_a_history_with_decisions_keeps_its_own_times(
    generated: Path,
) -> None:
    """A decisions export carries ``decided_at``; the history it joins may not."""
    table = pq.read_table(generated)
    old = table.drop_columns(["decided_at"])
    decided = table.slice(100, 5)
    decided = decided.append_column("suggested_priority", pa.array([3] * 5, pa.int64()))
    combined = with_decisions(old, [decided], 2.0)
    ids = combined.column("report_id").to_pylist()
    got = dict(zip(ids, combined.column(DECIDED_US).to_pylist(), strict=True))
    exported = decided_micros(decided, 2.0)
    for i, report_id in enumerate(decided.column("report_id").to_pylist()):
        assert got[report_id] == exported[i]
    other = table.column("report_id")[0].as_py()
    received = table.column("received_at")[0].value
    assert got[other] == received + 2 * 86_400_000_000


def test_loaded_histories_carry_their_own_decision_times(generated: Path) -> None:
    history = load_history(generated)
    table = pq.read_table(generated)
    expected = (
        table.column("decided_at").cast(pa.int64()).to_numpy(zero_copy_only=False)
    )
    assert history.decided is not None
    np.testing.assert_array_equal(history.decided, expected)


def _drawn(tmp_path: Path, lag: DecisionLag | None = None) -> pd.DataFrame:
    cfg = load_config()
    cfg = cfg.model_copy(
        update={
            "escalation": cfg.escalation.model_copy(update={"base_rate": 0.03}),
            **({"decision_lag": lag} if lag else {}),
        }
    )
    out = tmp_path / "lags.parquet"
    generate(
        GenerateRequest(30_000, 8, date(2024, 1, 1), date(2024, 6, 30), out, False),
        cfg,
    )
    return pd.read_parquet(out)


def test_generated_lags_follow_each_outcome(tmp_path: Path) -> None:
    frame = _drawn(tmp_path)
    lag = (frame["decided_at"] - frame["received_at"]) / HOUR
    assert frame["decided_at"].notna().all()
    assert (lag > 0).all()  # never before receipt
    by_priority = lag.groupby(frame["priority"])
    medians = by_priority.median()
    assert by_priority.size().min() > 100  # every priority is drawn
    assert 2 < medians["1"] < 8  # priority 1: hours
    assert by_priority.quantile(0.95)["1"] < 24
    assert 48 < medians["2"] < 100  # days
    assert 180 < medians["3"] < 320  # a week or two
    assert 400 < medians["E"] < 650  # weeks
    assert medians["1"] < medians["2"] < medians["3"] < medians["E"]


def test_never_reviewed_shares_and_the_rule_for_escalations(tmp_path: Path) -> None:
    lag = DecisionLag(
        priority_e=LagDistribution(median_hours=504.0, never_reviewed=0.4)
    )
    frame = _drawn(tmp_path, lag)
    never = frame["decided_at"].isna()
    share = never[frame["priority"] == "E"].mean()
    assert 0.37 < share < 0.43
    assert not never[frame["priority"] != "E"].any()
    assert not never[frame["escalated"]].any()
    with pytest.raises(ValidationError, match="an escalation is a decision"):
        DecisionLag(priority_1=LagDistribution(median_hours=4.0, never_reviewed=0.1))


def test_same_seed_same_decision_times(tmp_path: Path) -> None:
    one, two = tmp_path / "a", tmp_path / "b"
    one.mkdir(), two.mkdir()
    pd.testing.assert_frame_equal(_drawn(one), _drawn(two))


def test_export_writes_when_the_escalation_took_hold(
    tmp_path: Path, hasher: IdentifierHasher
) -> None:
    path = tmp_path / "reports.db"
    store = StateStore.open(path)
    with store.transaction() as tx:
        tx.add_scored(
            [_scored(hasher, f"d-{i}", 2, f"2024-12-0{i + 1}") for i in range(3)]
        )

    def decide(report_id: str, priority: int, reason: Reason = Reason.OTHER) -> str:
        action = "override" if priority != 2 else "accept"
        decision = DecisionIn(
            report_id=report_id,
            action=action,
            priority=priority,
            designation="referral",
            reason=reason if action == "override" else Reason.AGREE,
        )
        time.sleep(0.01)  # distinct decision times (milliseconds)
        return store.decide(decision, "k", "A").decided_at

    first = decide("d-0", 1)
    decide("d-0", 1, Reason.IMMINENT_RISK)  # confirmed: still escalated since first
    decide("d-1", 1)
    then = decide("d-1", 2)  # de-escalated: settled at the later decision
    once = decide("d-2", 3)
    store.close()
    out = tmp_path / "decisions.parquet"
    export_decisions(path, out)
    assert validate_history(out)[0] == []
    frame = pd.read_parquet(out).set_index("report_id")
    assert frame["decided_at"].dt.tz is not None
    got = {
        k: v.isoformat(timespec="milliseconds") for k, v in frame["decided_at"].items()
    }
    assert got == {
        "d-0": pd.Timestamp(first).isoformat(timespec="milliseconds"),
        "d-1": pd.Timestamp(then).isoformat(timespec="milliseconds"),
        "d-2": pd.Timestamp(once).isoformat(timespec="milliseconds"),
    }


def test_exported_decision_times_are_never_before_receipt() -> None:
    """A sender's clock may run ahead: a decision seconds after arrival is not before it."""
    received = pd.Series(
        pd.to_datetime(["2030-01-01T10:30:00Z", "2024-01-01T00:00:00Z"], utc=True)
    )
    rows = [
        {"decision_at": "2030-01-01T10:00:00.000+00:00", "decision_settled_at": None},
        {
            "decision_at": "2024-01-03T00:00:00.000+00:00",
            "decision_settled_at": "2024-01-02T00:00:00.000+00:00",
        },
    ]
    got = decision_times(received, rows)
    assert got.tolist() == [
        received[0],
        pd.Timestamp("2024-01-02", tz="UTC"),
    ]
