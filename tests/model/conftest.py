"""A trained model on generated history, in a temporary MLflow store (once per session).

The history is the default synthetic regime (0.18% escalations) at 1,000,000 rows, the size
the quality claims are made for: ~750 escalations in the 200,000-row test window (its
latest months run above the 0.18% average).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from training import registry
from training.config import load_train_config
from training.synth.config import LabelBias, load_config
from training.synth.generate import GenerateRequest, generate
from training.train import TrainResult, train


@dataclass
class Trained:
    data: Path
    result: TrainResult
    store: str


def history_file(
    path: Path,
    rows: int,
    seed: int,
    rate: float | None = None,
    label_bias: list[LabelBias] | None = None,
) -> Path:
    cfg = load_config()
    if rate is not None:
        cfg = cfg.model_copy(
            update={"escalation": cfg.escalation.model_copy(update={"base_rate": rate})}
        )
    if label_bias is not None:
        cfg = cfg.model_copy(update={"label_bias": label_bias})
    generate(
        GenerateRequest(
            rows, seed, date(2023, 1, 1), date(2024, 12, 31), path, progress=False
        ),
        cfg,
    )
    return path


@pytest.fixture(scope="session")
def mlflow_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("mlruns")
    uri = f"sqlite:///{folder}/mlflow.db"
    patch = pytest.MonkeyPatch()
    patch.setenv("MLFLOW_TRACKING_URI", uri)
    yield uri
    patch.undo()


@pytest.fixture
def own_store(
    mlflow_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A private copy of the session's MLflow store, for a test that promotes.

    Promotion registers versions and moves the ``champion`` alias; each promoting test
    does it in its own copy, so none depends on which test promoted before it. The copy
    holds the session's runs (their artifacts stay where they are, read through the
    absolute locations the runs record); the session store is never promoted into.
    """
    target = tmp_path / "mlflow.db"
    source = sqlite3.connect(mlflow_store.removeprefix("sqlite:///"))
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        source.close()
        copy.close()
    uri = f"sqlite:///{target}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    registry.configure(uri)
    yield uri
    registry.configure(mlflow_store)


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory, mlflow_store: str) -> Trained:
    data = history_file(
        tmp_path_factory.mktemp("train") / "history.parquet", 1_000_000, seed=1
    )
    config, text = load_train_config()
    return Trained(data, train(data, config, text, progress=False), mlflow_store)


@pytest.fixture(scope="session")
def biased(tmp_path_factory: pytest.TempPathFactory, mlflow_store: str) -> Trained:
    """A model trained on history whose labels under-escalate India (factor 0.3).

    The escalation rate is raised to 1% so that one country holds enough escalations in a
    120,000-row test window to be judged (at the real 0.18% India has ~30 even before the
    bias; the audit calls that too few); p_true is untouched by the knob.
    """
    data = history_file(
        tmp_path_factory.mktemp("biased") / "history.parquet",
        600_000,
        seed=2,
        rate=0.01,
        label_bias=[LabelBias(attribute="country", group="IN", factor=0.3)],
    )
    config, text = load_train_config()
    return Trained(data, train(data, config, text, progress=False), mlflow_store)
