"""``tipscore monitor`` reports time to decision per priority (issue 21, ageing).

A store written as the service writes it (suggestions, then cases, which record when each
report entered the queue), with queue entry times set in the past and decisions made now,
so every wait is known: priority 1 waited 10, 180 and 180 minutes (target 60), one more
is undecided for 180 minutes (overdue); priority 2 waited 30 minutes, one more is
undecided for 30 (not overdue); one priority 3 report is undecided. Two reports received
after the window count nowhere.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from serving.analyst.schemas import DecisionIn, Reason
from serving.state import cases
from serving.state.cases import CaseConfig, CaseEntry
from serving.state.records import Scored
from serving.state.store import StateStore
from tests.factories import make_report, stored_response
from tipscore.cli import app
from tipscore.monitor_state import MonitorRequest, monitor
from training.monitor.config import load_monitor_config
from training.monitor.job import STATUS_FILE, Reference

IN_WINDOW, LATER = "2024-05-10T12:00:00Z", "2024-07-15T12:00:00Z"
WINDOW = ("--since", "2024-05-01", "--until", "2024-06-01")
# report id: (suggested priority, received, minutes in queue before now, decided now)
REPORTS = {
    "p1-a": (1, IN_WINDOW, 180, True),
    "p1-b": (1, IN_WINDOW, 180, True),
    "p1-c": (1, IN_WINDOW, 10, True),
    "p1-open": (1, IN_WINDOW, 180, False),
    "p2-a": (2, IN_WINDOW, 30, True),
    "p2-open": (2, IN_WINDOW, 30, False),
    "p3-open": (3, IN_WINDOW, 180, False),
    "late-open": (1, LATER, 180, False),
    "late-done": (1, LATER, 180, True),
}
TARGETS = {1: 60, 2: 1440, 3: 10080}


def _fill(path: Path) -> None:
    """Keep each report's suggestion, put it in its case ``minutes`` ago, then decide."""
    store = StateStore.open(path)
    now = datetime.now(UTC)
    try:
        for rid, (priority, received, minutes, _) in REPORTS.items():
            report = make_report(
                report_id=rid, received_at=received, incident_at="2024-05-01T08:00:00Z"
            )
            queued = (now - timedelta(minutes=minutes)).isoformat(
                timespec="milliseconds"
            )
            entry = CaseEntry(
                rid,
                int(report.received_at.timestamp() * 1_000_000),
                {"link_accounts": [rid * 8]},
                priority,
                0.1,
            )
            with store.transaction() as tx:
                tx.add_scored(
                    [Scored(report, stored_response(rid, priority), "r", None)]
                )
                cases.maintain(tx.db, [entry], CaseConfig(), queued)
        for rid, (priority, _, _, decided) in REPORTS.items():
            if decided:
                choice = DecisionIn(
                    report_id=rid,
                    action="accept",
                    designation="referral" if priority == 1 else "informational",
                    reason=Reason.OTHER,
                )
                store.decide(choice, "k1", "analyst")
    finally:
        store.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "state" / "reports.db"
    _fill(path)
    return path


def _check(times: dict, p1_target: int = 60) -> None:  # type: ignore[type-arg]
    assert set(times) == {"1", "2", "3"}
    p1, p2, p3 = times["1"], times["2"], times["3"]
    assert p1["decided"] == 3  # the decided report received later is not counted
    assert p1["median_minutes"] == pytest.approx(180, abs=1)
    assert p1["p90_minutes"] == pytest.approx(180, abs=1)
    assert p1["target_minutes"] == p1_target
    assert (p1["undecided"], p2["undecided"], p3["undecided"]) == (1, 1, 1)
    assert (p2["decided"], p3["decided"]) == (1, 0)
    assert p2["median_minutes"] == pytest.approx(30, abs=1)
    assert p2["within_target"] == 1.0 and p2["overdue"] == 0
    assert p3["median_minutes"] is None and p3["overdue"] == 0
    if p1_target == 60:
        assert p1["within_target"] == pytest.approx(1 / 3)
        assert p1["overdue"] == 1  # the undecided report received later is not counted
    else:
        assert p1["within_target"] == 1.0 and p1["overdue"] == 0


def test_the_store_counts_waits_and_overdue_reports_in_a_window(db: Path) -> None:
    store = StateStore.open(db)
    try:
        start = int(datetime(2024, 5, 1, tzinfo=UTC).timestamp()) * 1_000_000
        end = int(datetime(2024, 6, 1, tzinfo=UTC).timestamp()) * 1_000_000
        _check(store.decision_times(TARGETS, datetime.now(UTC), (start, end)))
        everything = store.decision_times(TARGETS, datetime.now(UTC), (0, 2**62))
        # the model card's figures are the same computation, over every report
        card = store.review_stats(None, TARGETS)["time_to_decision"]
    finally:
        store.close()
    assert everything["1"]["decided"] == 4 and everything["1"]["overdue"] == 2
    assert card["1"]["decided"] == 4
    assert card["1"]["median_minutes"] == everything["1"]["median_minutes"]


def test_monitor_json_status_and_page_carry_time_to_decision(
    db: Path, tmp_path: Path
) -> None:
    cfg, _ = load_monitor_config()
    request = MonitorRequest(
        db,
        tmp_path / "out",
        since=datetime(2024, 5, 1).date(),
        until=datetime(2024, 6, 1).date(),
        log=False,
        progress=False,
        targets=TARGETS,
    )
    result, paths = monitor(request, Reference(None, None, "none"), cfg)
    _check(result["time_to_decision"])
    _check(json.loads(paths["json"].read_text())["time_to_decision"])
    page = paths["html"].read_text()
    assert "Time to decision" in page and "overdue now" in page
    # the live status comes from a pass over the newest reports (no --until)
    live = replace(request, until=None)
    result, _ = monitor(live, Reference(None, None, "none"), cfg)
    status = json.loads((db.parent / STATUS_FILE).read_text())["time_to_decision"]
    assert status == result["time_to_decision"] and status["1"]["decided"] == 4


def test_the_command_prints_them_with_the_service_targets(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = tmp_path / "mlruns" / "mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{uri}")
    monkeypatch.setenv("TIPSCORE_SERVICE_TARGETS_MINUTES", '{"1": 240, "2": 1440}')
    args = ["monitor", "--reports-db", str(db), "--no-progress", *WINDOW]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    p1 = next(line for line in lines if line.strip().startswith("priority 1:"))
    assert "3 decided, median 3.0 h" in p1 and "100% within 4.0 h" in p1
    assert p1.endswith("1 undecided, 0 overdue")
    p3 = next(line for line in lines if line.strip().startswith("priority 3:"))
    assert "0 decided, median –" in p3 and "within –" in p3
    written = json.loads((tmp_path / "out" / "monitor.json").read_text())
    _check(written["time_to_decision"], p1_target=240)
    assert written["time_to_decision"]["3"]["target_minutes"] is None


def test_a_past_or_empty_window_leaves_the_live_status_alone(
    db: Path, tmp_path: Path
) -> None:
    """A monitor of a past window, or of one with no report, wrote "no alert" into the
    status /metrics serves, clearing a live drift alert (an outside test, session 9)."""
    cfg, _ = load_monitor_config()
    status = db.parent / STATUS_FILE
    for since, until in (
        (datetime(2024, 5, 1).date(), datetime(2024, 6, 1).date()),  # a past window
        (datetime(2030, 1, 1).date(), None),  # no report in it
    ):
        status.unlink(missing_ok=True)
        request = MonitorRequest(
            db, tmp_path / "out", since=since, until=until, log=False,
            progress=False, targets=TARGETS,
        )  # fmt: skip
        _, paths = monitor(request, Reference(None, None, "none"), cfg)
        assert paths["status"] is None and not status.exists()
