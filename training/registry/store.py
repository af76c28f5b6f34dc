"""Where runs and the registry live: the tracking URI, its set-up, experiments, errors.

Nothing happens at import. Entry points call ``configure()``; the default store is
``sqlite:///mlruns/mlflow.db`` with artifacts in ``mlruns/artifacts`` (the plain-folder store
is deprecated in MLflow 3); ``MLFLOW_TRACKING_URI`` points elsewhere, e.g. a team server.
"""

from __future__ import annotations

import os
from pathlib import Path

import mlflow
from mlflow.tracking import MlflowClient


class RegistryError(RuntimeError):
    """A model or run that cannot be found or used; says which and why."""


class RunUnavailable(RegistryError):
    """A run that cannot be read; ``code`` is MLflow's error code (for the model card)."""

    def __init__(self, message: str, code: str) -> None:
        """Keep MLflow's error code beside the message."""
        super().__init__(message)
        self.code = code


def tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI``, or the project's SQLite store under ``mlruns/``."""
    return (
        os.environ.get("MLFLOW_TRACKING_URI")
        or f"sqlite:///{Path('mlruns').resolve()}/mlflow.db"
    )


def configure(uri: str | None = None) -> str:
    """Point MLflow's tracking and registry at ``uri`` (default: ``tracking_uri()``)."""
    uri = uri or tracking_uri()
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    # the checksum check downloads a model's files at every load: no progress bar for
    # that in the service's log (set the variable to "true" to have it back)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    return uri


def experiment_id(name: str) -> str:
    """The experiment's id, creating it (artifacts beside a SQLite store) if needed."""
    client = MlflowClient()
    found = client.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    uri = mlflow.get_tracking_uri()
    location = None
    if uri.startswith("sqlite:///"):
        location = (
            (Path(uri.removeprefix("sqlite:///")).parent / "artifacts")
            .resolve()
            .as_uri()
        )
    return str(client.create_experiment(name, artifact_location=location))
