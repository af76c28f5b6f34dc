"""Runs: reading what a run recorded (once per run for its config), and logging to runs.

Training logs into the active run it opened with ``start_run``; evaluation opens a run of
its own with ``log_run``; the audit adds its files and verdict to the model's training run
with ``log_to_run``. Reads go through ``read_run`` and the artifact helpers, which say
plainly when a run or file is missing.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import mlflow

from training.config import TrainConfig
from training.registry.store import RunUnavailable, experiment_id, reading_client

CONFIG_ARTIFACT = "config.toml"
"""The training config as the run used it (its text, byte for byte)."""


@dataclass(frozen=True)
class RunRecord:
    """What a run recorded: params, tags, metrics and when it started."""

    run_id: str
    params: dict[str, str]
    tags: dict[str, str]
    metrics: dict[str, float]
    start_time_ms: int


def read_run(run_id: str) -> RunRecord:
    """The run's params, tags, metrics and start time.

    Raises:
        RunUnavailable: no such run in the tracking store (its ``code`` is MLflow's).
    """
    try:
        run = reading_client().get_run(run_id)
    except mlflow.exceptions.MlflowException as exc:
        raise RunUnavailable(
            f"no run {run_id!r} in {mlflow.get_tracking_uri()}", str(exc.error_code)
        ) from exc
    return RunRecord(
        run.info.run_id,
        dict(run.data.params),
        dict(run.data.tags),
        dict(run.data.metrics),
        int(run.info.start_time),
    )


def download_artifact(run_id: str, path: str, into: Path | None = None) -> Path | None:
    """A run's artifact as a local file (in ``into``, else a scratch folder); None if absent."""
    try:
        local = reading_client().download_artifacts(
            run_id, path, None if into is None else str(into)
        )
    except (mlflow.exceptions.MlflowException, OSError):
        return None
    return Path(local)


def artifact_json(run_id: str, path: str) -> Any | None:
    """A run's JSON artifact, parsed; None if the run has no such file."""
    local = download_artifact(run_id, path)
    try:
        return None if local is None else json.loads(local.read_text())
    except OSError:
        return None


@lru_cache(maxsize=64)
def _config_text(store: str, run_id: str) -> str:
    """The run's ``config.toml`` text, downloaded once per (store, run)."""
    local = download_artifact(run_id, CONFIG_ARTIFACT)
    if local is None:
        raise FileNotFoundError(f"run {run_id} has no {CONFIG_ARTIFACT}")
    return local.read_text()


def run_config(run_id: str) -> TrainConfig | None:
    """The training config the run logged, or None if it logged none.

    The text is downloaded once per run and process (a logged config never changes);
    promotion and the audit it runs both read it.
    """
    try:
        text = _config_text(str(mlflow.get_tracking_uri()), run_id)
    except FileNotFoundError:
        return None
    return TrainConfig.model_validate(tomllib.loads(text))


@contextmanager
def start_run(experiment: str) -> Iterator[str]:
    """Open a run in ``experiment`` (created if needed) for the ``log_*`` calls; yield its id."""
    with mlflow.start_run(experiment_id=experiment_id(experiment)) as active:
        yield str(active.info.run_id)


@contextmanager
def start_child_run(name: str) -> Iterator[str]:
    """Open a run nested in the active one (e.g. one backtest fold); yield its id.

    In the parent's experiment: MLflow would put it in the default one otherwise.
    """
    parent = mlflow.active_run()
    experiment = parent.info.experiment_id if parent is not None else None
    with mlflow.start_run(
        run_name=name, nested=True, experiment_id=experiment
    ) as active:
        yield str(active.info.run_id)


def log_params(params: dict[str, Any]) -> None:
    """Params of the active run."""
    mlflow.log_params(params)


def set_tags(tags: dict[str, Any]) -> None:
    """Tags of the active run."""
    mlflow.set_tags(tags)


def log_metrics(metrics: dict[str, float], step: int | None = None) -> None:
    """Metrics of the active run (at ``step`` for a series, e.g. per month)."""
    mlflow.log_metrics(metrics, step=step)


def log_dict(data: Any, path: str) -> None:
    """A JSON artifact of the active run."""
    mlflow.log_dict(data, path)


def log_text(text: str, path: str) -> None:
    """A text artifact of the active run."""
    mlflow.log_text(text, path)


def log_figure(figure: Any, path: str) -> None:
    """A matplotlib figure as an image artifact of the active run."""
    mlflow.log_figure(figure, path)


def log_run(experiment: str, tags: dict[str, str], metrics: dict[str, float]) -> str:
    """One run of its own in ``experiment`` with ``tags`` and ``metrics``; its id."""
    with start_run(experiment) as run_id:
        mlflow.set_tags(tags)
        mlflow.log_metrics(metrics)
    return run_id


def log_to_run(
    run_id: str,
    files: tuple[Path, ...] = (),
    folder: str | None = None,
    metrics: dict[str, float] | None = None,
    tags: dict[str, str] | None = None,
) -> None:
    """Add files (under ``folder``), metrics and tags to an existing, finished run."""
    client = reading_client()
    for path in files:
        client.log_artifact(run_id, str(path), artifact_path=folder)
    for name, number in (metrics or {}).items():
        client.log_metric(run_id, name, number)
    for key, text in (tags or {}).items():
        client.set_tag(run_id, key, text)
