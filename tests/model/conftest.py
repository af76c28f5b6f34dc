"""A trained model on generated history, in a temporary MLflow store (once per session).

The history is the default synthetic regime (0.18% escalations) at 1,000,000 rows, the size
the quality claims are made for: ~360 positives in the test window.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from training.config import load_train_config
from training.synth.config import load_config
from training.synth.generate import GenerateRequest, generate
from training.train import TrainResult, train


@dataclass
class Trained:
    data: Path
    result: TrainResult
    store: str


def history_file(path: Path, rows: int, seed: int, rate: float | None = None) -> Path:
    cfg = load_config()
    if rate is not None:
        cfg = cfg.model_copy(
            update={"escalation": cfg.escalation.model_copy(update={"base_rate": rate})}
        )
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


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory, mlflow_store: str) -> Trained:
    data = history_file(
        tmp_path_factory.mktemp("train") / "history.parquet", 1_000_000, seed=1
    )
    config, text = load_train_config()
    return Trained(data, train(data, config, text, progress=False), mlflow_store)
