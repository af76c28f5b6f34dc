"""Where runs and the registry live: the tracking URI, its set-up, experiments, errors.

Nothing happens at import. Entry points call ``configure()``; the default store is
``HOME/mlruns/mlflow.db`` (SQLite) with artifacts in ``HOME/mlruns/artifacts``, where HOME is
the project home (``home.project_home()``: ``TIPSCORE_HOME``, else the source checkout), so
the store does not depend on the working directory. ``MLFLOW_TRACKING_URI`` points
elsewhere, e.g. a team server; a relative SQLite path in it is made absolute against the
working directory when it is read.

Only training creates a store (``configure(create=True)``). Everything that reads one
goes through ``reading_client()`` or ``require_store()`` first, so promoting, auditing,
evaluating, scoring or serving against a store that is not there fails with
``StoreMissing`` naming the path, instead of leaving an empty ``mlflow.db`` behind.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import mlflow
from mlflow.tracking import MlflowClient

from home import MLFLOW_DB, absolute, project_home


class RegistryError(RuntimeError):
    """A model or run that cannot be found or used; says which and why."""


class RunUnavailable(RegistryError):
    """A run that cannot be read; ``code`` is MLflow's error code (for the model card)."""

    def __init__(self, message: str, code: str) -> None:
        """Keep MLflow's error code beside the message."""
        super().__init__(message)
        self.code = code


class StoreMissing(RegistryError):
    """The tracking store a reader was pointed at does not exist (nothing was created)."""


TRACKING_VARIABLE = "MLFLOW_TRACKING_URI"


def tracking_uri_origin() -> tuple[str, str]:
    """The tracking URI and, in words, where it came from (environment or default)."""
    given = os.environ.get(TRACKING_VARIABLE)
    if given:
        return absolute_uri(given), f"environment ({TRACKING_VARIABLE})"
    home = project_home()
    return f"sqlite:///{home.path / MLFLOW_DB}", f"default: HOME/{MLFLOW_DB.as_posix()}"


def tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI`` (made absolute), or ``HOME/mlruns/mlflow.db``."""
    return tracking_uri_origin()[0]


SCHEMELESS_SERVERS = frozenset({"databricks", "databricks-uc", "uc"})
"""Tracking URIs without ``://`` that name a service, not a folder."""


def _local(uri: str) -> tuple[str, str] | None:
    """(``sqlite``/``file``/``path``, the path part) of a local store URI; None otherwise."""
    if uri.startswith("sqlite:///"):
        path = uri.removeprefix("sqlite:///").partition("?")[0]
        return ("sqlite", path) if path and path != ":memory:" else None
    if uri.startswith("file:"):
        return "file", urlparse(uri).path
    if "://" in uri or uri in SCHEMELESS_SERVERS:
        return None
    return "path", uri


def absolute_uri(uri: str) -> str:
    """``uri`` with a relative local path made absolute against the working directory.

    ``sqlite:///mlruns/mlflow.db`` and a bare ``mlruns`` folder name a place relative to
    where the command runs; resolved once, here, they stay put. Servers, in-memory SQLite
    and ``file:`` URIs are returned as they are.
    """
    local = _local(uri)
    if local is None or local[0] == "file":
        return uri
    kind, path = local
    if kind == "path":
        return str(absolute(path))
    query = uri.partition("?")[2]
    return f"sqlite:///{absolute(path)}" + (f"?{query}" if query else "")


def store_path(uri: str) -> Path | None:
    """The local file (SQLite) or folder (file store) ``uri`` names; None for a server."""
    local = _local(uri)
    return None if local is None else Path(local[1])


def require_store(uri: str | None = None) -> None:
    """Raise ``StoreMissing`` if ``uri`` (default: MLflow's current one) names no local store.

    Readers call this before MLflow opens the store: SQLAlchemy would create an empty
    database in its place, and a file store its folders.
    """
    uri = uri or str(mlflow.get_tracking_uri())
    path = store_path(uri)
    if path is None or path.exists():
        return
    raise StoreMissing(
        f"no MLflow store at {path} (tracking URI {uri}); nothing was created. "
        "Train a model first (`tipscore train`), or point MLFLOW_TRACKING_URI or "
        "TIPSCORE_HOME at the store; `tipscore info` shows where tipscore looks"
    )


def reading_client() -> MlflowClient:
    """An MLflow client for a store that must already exist (``require_store``)."""
    require_store()
    return MlflowClient()


def configure(uri: str | None = None, *, create: bool = False) -> str:
    """Point MLflow's tracking and registry at ``uri`` (default: ``tracking_uri()``).

    Only ``create=True`` (training) makes the folder a new SQLite store goes in; readers
    leave the file system alone and meet ``StoreMissing`` on their first read.
    """
    uri = absolute_uri(uri or tracking_uri())
    if create and uri.startswith("sqlite:///"):
        path = store_path(uri)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
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
