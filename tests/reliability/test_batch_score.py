"""Rescoring a partitioned history: local and Dask agree with training; a lost worker loses
and doubles nothing."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil
import pytest

from serving.model_holder import ModelHolder
from tipscore.batch_score import (
    local_cluster,
    score_dask,
    score_local,
    write_month_parts,
)
from training.data import load_history
from training.registry import EscalationModel
from training.synth.config import load_config
from training.synth.generate import GenerateRequest, generate


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("rescore")
    single = root / "history.parquet"
    generate(
        GenerateRequest(
            30_000, 8, date(2024, 1, 1), date(2024, 6, 30), single, progress=False
        ),
        load_config(),
    )
    write_month_parts(single, root / "parts")
    return single, root / "parts"


@pytest.fixture(scope="module")
def model() -> EscalationModel:
    return ModelHolder("models:/tip-escalation@champion").load().model


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    client = local_cluster(2)
    yield client
    client.close()
    client.cluster.close()


def _read(folder: Path) -> pd.DataFrame:
    return pd.concat(
        [pd.read_parquet(p) for p in sorted(folder.glob("scored-*.parquet"))],
        ignore_index=True,
    )


def test_month_parts_are_the_file_split_in_order(history: tuple[Path, Path]) -> None:
    single, parts = history
    whole = pd.read_parquet(single)
    joined = pd.concat([pd.read_parquet(p) for p in sorted(parts.glob("*.parquet"))])
    assert len(list(parts.glob("*.parquet"))) == 6
    assert joined["report_id"].tolist() == whole["report_id"].tolist()


def test_local_rescoring_equals_the_training_pipeline(
    history: tuple[Path, Path], model: EscalationModel, tmp_path: Path
) -> None:
    single, parts = history
    summary = score_local(model, parts, tmp_path / "out", progress=False)
    scored = _read(tmp_path / "out")
    reference = load_history(single)
    expected = model.calibration.apply(model.raw_scores(reference.matrix))
    assert summary.rows == len(scored) == len(expected)
    assert scored["report_id"].tolist() == reference.flat["report_id"].tolist()
    np.testing.assert_allclose(
        scored["escalation_probability"], expected, rtol=0, atol=1e-12
    )
    np.testing.assert_array_equal(
        scored["suggested_priority"], model.policy.priority(expected)
    )
    first = scored.iloc[0]
    total = first["base_value"] + sum(first["reason_contributions"])
    assert len(first["reason_features"]) == 5
    assert abs(first["reason_contributions"][0]) >= abs(
        first["reason_contributions"][-1]
    )
    assert total == pytest.approx(first["raw_score"], abs=2.0)  # top 5 of all features


def test_dask_rescoring_equals_local(
    history: tuple[Path, Path], model: EscalationModel, cluster: Any, tmp_path: Path
) -> None:
    _, parts = history
    score_local(model, parts, tmp_path / "local", progress=False)
    summary = score_dask(model, parts, tmp_path / "dask", cluster, progress=False)
    assert summary.parts == 6
    pd.testing.assert_frame_equal(_read(tmp_path / "dask"), _read(tmp_path / "local"))


def test_a_killed_worker_loses_and_doubles_nothing(
    history: tuple[Path, Path], model: EscalationModel, cluster: Any, tmp_path: Path
) -> None:
    _, parts = history
    score_local(model, parts, tmp_path / "local", progress=False)
    pids = list(cluster.run(os.getpid).values())
    killed: list[int] = []

    def kill_one() -> None:
        os.kill(pids[0], signal.SIGKILL)
        killed.append(pids[0])

    score_dask(
        model, parts, tmp_path / "dask", cluster, progress=False, on_submitted=kill_one
    )
    assert (killed and not psutil.pid_exists(killed[0])) or psutil.Process(
        killed[0]
    ).status() == "zombie"
    scored = _read(tmp_path / "dask")
    assert scored["report_id"].is_unique
    assert not list((tmp_path / "dask").glob(".*.tmp"))  # no half-written part left
    pd.testing.assert_frame_equal(scored, _read(tmp_path / "local"))
