"""Issue 23 (review pt 2): the service's linkage store starts with the known history.

A first simulated day's reports, looked up in the seeded store by the service's own code,
get the linkage features training computes for them over the history.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from features.identifiers import IdentifierHasher, to_contract
from features.linkage import LINK_FEATURES, history_frame_features
from features.schema import ReportSubmission
from serving.intake import load_or_create_key
from serving.scoring import link_records
from serving.state.store import StateStore
from tipscore.simulate.history import between, known_at, months, read_history
from tipscore.simulate.seed import seed_links
from tipscore.simulate.submissions import submission
from training.decision_times import DECIDED_US, with_decision_times
from training.synth.config import load_config
from training.synth.generate import GenerateRequest, generate


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("seed") / "h.parquet"
    generate(
        GenerateRequest(3_000, 5, date(2024, 1, 1), date(2024, 3, 31), path, False),
        load_config(),
    )
    return path


def _training(
    table: pa.Table, day_end: datetime, start: datetime
) -> dict[str, np.ndarray]:
    """Training's linkage features over the history as known at the first day's end."""
    known = with_decision_times(known_at(table, day_end, None, start), 0.0)
    flat = {
        c: known.column(c) for c in ["received_at", *{d.column for d in LINK_FEATURES}]
    }
    escalated = np.asarray(known.column("escalated").to_numpy(zero_copy_only=False))
    decided = np.asarray(known.column(DECIDED_US).to_numpy(zero_copy_only=False))
    features = history_frame_features(flat, escalated, decided)
    ids = known.column("report_id").to_pylist()
    return {
        name: dict(zip(ids, values, strict=True)) for name, values in features.items()
    }


def test_first_day_served_links_equal_trainings(history: Path, tmp_path: Path) -> None:
    table = read_history(history)
    start = months(table)[2]
    day_end = start + timedelta(days=1)
    key_file, db = tmp_path / "hmac.key", tmp_path / "reports.db"
    seeded = seed_links(table, key_file, db, start)
    assert seeded == len(between(table, start - timedelta(days=365), start))
    first_day = between(table, start, day_end).to_pylist()
    assert len(first_day) >= 10
    hasher = IdentifierHasher(load_or_create_key(key_file))
    reports = [
        to_contract(ReportSubmission.model_validate(submission(r)), hasher)
        for r in first_day
    ]
    escalated = [
        r
        for r in known_at(table, start).to_pylist()
        if r["escalated"] and r["link_accounts"]
    ]
    assert escalated
    store = StateStore.open(db)
    try:
        served = store.lookup_batch(link_records(reports))
        # an escalation decided before the start is counted as one by the store
        again = to_contract(
            ReportSubmission.model_validate(submission(escalated[-1])), hasher
        )
        ((_, _, links),) = link_records([again])
        later = store.lookup(link_records(reports)[0][1], links)
    finally:
        store.close()
    assert later["hist_account_escalations_365d"] >= 1
    training = _training(table, day_end, start)
    linked = 0
    for row, answer in zip(first_day, served, strict=True):
        for d in LINK_FEATURES:
            assert answer[d.name] == training[d.name][row["report_id"]], (d.name, row)
        linked += answer["hist_account_reports_365d"] > 0
    assert linked > 0  # the known history is seen


def test_without_seeding_the_first_day_sees_nothing(
    history: Path, tmp_path: Path
) -> None:
    """The failure the seeding fixes: an empty store misses every earlier report."""
    table = read_history(history)
    start = months(table)[2]
    first_day = between(table, start, start + timedelta(days=1)).to_pylist()
    hasher = IdentifierHasher(b"simulation-test-key-32-bytes-lng")
    reports = [
        to_contract(ReportSubmission.model_validate(submission(r)), hasher)
        for r in first_day
    ]
    store = StateStore.open(tmp_path / "empty.db")
    try:
        served = store.lookup_batch(link_records(reports))
    finally:
        store.close()
    training = _training(table, start + timedelta(days=1), start)
    assert any(
        a["hist_account_reports_365d"]
        != training["hist_account_reports_365d"][r["report_id"]]
        for r, a in zip(first_day, served, strict=True)
    )
    assert datetime.now(UTC) > start  # the generated months are in the past
