"""Parity (issue 19): a history replayed through the service's state store, with each decision
recorded at its ``decided_at``, gets exactly the ``hist_*`` features training computes.

The service path is the store's own: ``lookup_batch`` for the reports scored together
(what ``serving.scoring.Scorer.links`` calls), ``record_links`` once they are scored
(``Scorer.record``) and ``set_escalated`` when an analyst decides (what
``StateStore.decide`` does to the linkage rows). The training paths are ``load_history``
(one machine) and the Dask shuffle's functions (``shuffled_links``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from features.linkage import LINK_COLUMNS, LINK_FEATURES, NEVER_DECIDED, to_micros
from serving.state.records import LinkRecord
from serving.state.store import StateStore
from training.dask.shuffle import input_columns, shuffled_links
from training.data import load_history
from training.decision_times import decided_micros
from training.partitions import history_parts, part_columns, read_part
from training.synth.config import DecisionLag, LagDistribution, load_config
from training.synth.generate import GenerateRequest, generate

ARRIVE, DECIDE = 0, 1  # at the same instant a report is scored before a decision counts
BATCH = 40


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Many escalations on repeat accounts, decided hours to weeks after arrival."""
    cfg = load_config()
    lag = DecisionLag(
        priority_1=LagDistribution(median_hours=48.0, sigma=1.5),
        priority_e=LagDistribution(median_hours=504.0, never_reviewed=0.3),
    )
    cfg = cfg.model_copy(
        update={
            "escalation": cfg.escalation.model_copy(update={"base_rate": 0.05}),
            "decision_lag": lag,
        }
    )
    out = tmp_path_factory.mktemp("parity") / "h.parquet"
    generate(
        GenerateRequest(6_000, 11, date(2024, 1, 1), date(2024, 4, 30), out, False),
        cfg.model_copy(update={"chunk_rows": 1_500}),  # several row groups: Dask parts
    )
    return out


def _events(micros: np.ndarray, decided: np.ndarray) -> list[tuple[int, int, int]]:
    arrivals = [(int(t), ARRIVE, i) for i, t in enumerate(micros)]
    decisions = [
        (int(d), DECIDE, i) for i, d in enumerate(decided) if d != NEVER_DECIDED
    ]
    return sorted(arrivals + decisions)


def service_features(table: pa.Table, decided: np.ndarray) -> dict[str, np.ndarray]:
    """Replay arrivals and decisions in time order through a fresh state store.

    Consecutive arrivals with no decision between them are scored as one batch (as the
    service's batcher may), then recorded; a decision marks the report escalated or not.
    """
    store = StateStore.open(":memory:")
    micros = to_micros(table.column("received_at").to_pandas())
    ids = table.column("report_id").to_pylist()
    links = {c: table.column(c).to_pylist() for c in LINK_COLUMNS}
    escalated = table.column("escalated").to_pylist()
    found: dict[str, list[int]] = {d.name: [0] * len(ids) for d in LINK_FEATURES}
    pending: list[tuple[int, LinkRecord]] = []

    def score(batch: Sequence[tuple[int, LinkRecord]]) -> None:
        records = [record for _, record in batch]
        for (i, _), features in zip(batch, store.lookup_batch(records), strict=True):
            for name, value in features.items():
                found[name][i] = value
        with store.transaction() as tx:
            tx.record_links(records)

    for at, kind, i in _events(micros, decided):
        if kind == ARRIVE:
            record = (ids[i], int(micros[i]), {c: links[c][i] for c in LINK_COLUMNS})
            pending.append((i, record))
            if len(pending) == BATCH:
                score(pending)
                pending = []
            continue
        if pending:
            score(pending)
            pending = []
        with store.transaction() as tx:
            # at its decision time: the service keeps it (a later report counts it
            # only when received after it, as training does)
            when = datetime.fromtimestamp(at / 1e6, UTC)
            tx.set_escalated(ids[i], bool(escalated[i]), when)
    if pending:
        score(pending)
    store.close()
    return {name: np.array(values, dtype=np.int64) for name, values in found.items()}


def _assert_same(got: dict[str, np.ndarray], expected: dict[str, np.ndarray]) -> None:
    for d in LINK_FEATURES:
        np.testing.assert_array_equal(got[d.name], expected[d.name], err_msg=d.name)


def test_service_and_training_agree_on_every_hist_feature(history: Path) -> None:
    table = pq.read_table(history)
    decided = decided_micros(table, 1.0)  # the column is there: the lag is unused
    assert (decided == NEVER_DECIDED).sum() > 100  # never-reviewed reports exist
    served = service_features(table, decided)
    loaded = load_history(history)
    trained = {d.name: loaded.flat[d.name].to_numpy() for d in LINK_FEATURES}
    _assert_same(served, trained)
    name = "hist_account_escalations_365d"
    final = served_with_labels_on_arrival(table)
    assert served[name].sum() > 30  # escalations are counted ...
    assert (served[name] < final[name]).sum() > 10  # ... and the lags matter


def served_with_labels_on_arrival(table: pa.Table) -> dict[str, np.ndarray]:
    """The skew issue 19 removed: every escalation known the moment it arrived."""
    micros = to_micros(table.column("received_at").to_pandas())
    return service_features(table, micros)


def test_the_dask_shuffle_agrees_with_the_service(history: Path) -> None:
    table = pq.read_table(history)
    served = service_features(table, decided_micros(table, 1.0))
    parts = history_parts(history)
    assert len(parts) > 1
    tables = [read_part(p, input_columns(part_columns(p))) for p in parts]
    per_part = shuffled_links(tables, buckets=3)
    shuffled = {
        d.name: np.concatenate([links[d.name] for links in per_part])
        for d in LINK_FEATURES
    }
    _assert_same(shuffled, served)


@pytest.mark.parametrize("lag_days", [0.0, 2.5])
def test_a_history_without_decision_times_agrees_at_the_assumed_lag(
    history: Path, tmp_path: Path, lag_days: float
) -> None:
    path = tmp_path / "old.parquet"
    table = pq.read_table(history).drop_columns(["decided_at"])
    pq.write_table(table, path)
    micros = to_micros(table.column("received_at").to_pandas())
    served = service_features(table, micros + round(lag_days * 86_400_000_000))
    loaded = load_history(path, assumed_lag_days=lag_days)
    _assert_same(
        served, {d.name: loaded.flat[d.name].to_numpy() for d in LINK_FEATURES}
    )
