"""The served model: loaded from the registry at start-up, swapped atomically on reload.

No silent fallback: if the champion cannot be loaded, the holder has no model, says why,
and the service is not ready. A failed reload keeps the model already serving.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import mlflow
from mlflow.tracking import MlflowClient

from training.registry import EscalationModel, RegistryError, load_model

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Served:
    """A loaded model with where it came from."""

    model: EscalationModel
    uri: str
    name: str
    version: str
    run_id: str | None


def _version(uri: str) -> tuple[str, str, str | None]:
    """(name, version, run id) behind a ``models:/NAME@ALIAS`` or ``models:/NAME/N`` URI.

    Other URIs (``runs:/ID/model``, ``models:/m-ID``) are served as "unregistered"; a
    ``runs:/`` URI names its run, so the model card and manifests can still show it.
    """
    if uri.startswith("runs:/"):
        return uri, "unregistered", uri.removeprefix("runs:/").split("/", 1)[0] or None
    if not uri.startswith("models:/") or uri.removeprefix("models:/").startswith("m-"):
        return uri, "unregistered", None
    target = uri.removeprefix("models:/")
    client = MlflowClient()
    if "@" in target:
        name, alias = target.split("@", 1)
        found = client.get_model_version_by_alias(name, alias)
    elif "/" in target:
        name, number = target.rsplit("/", 1)
        found = client.get_model_version(name, number)
    else:
        return target, "unregistered", None
    run_id = found.tags.get("run_id") or found.run_id
    return name, str(found.version), run_id


class ModelHolder:
    """Holds the current model; ``load`` replaces it only when the new one loads."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.current: Served | None = None
        self.error: str | None = None
        self._lock = threading.Lock()

    def load(self) -> Served:
        """Load the model behind ``uri``; on failure keep the current one and raise."""
        try:
            name, version, run_id = _version(self.uri)
            pinned = (
                self.uri if version == "unregistered" else f"models:/{name}/{version}"
            )
            model = load_model(pinned)
        except (RegistryError, mlflow.exceptions.MlflowException) as exc:
            message = getattr(exc, "message", str(exc))
            self.error = f"cannot load {self.uri}: {message}"
            logger.error("%s", self.error)
            raise RegistryError(self.error) from exc
        served = Served(model, self.uri, name, version, run_id)
        with self._lock:
            self.current, self.error = served, None
        logger.info("serving %s version %s", name, version)
        return served

    def get(self) -> Served:
        """The model serving now (raises if there is none)."""
        current = self.current
        if current is None:
            raise RegistryError(self.error or "no model loaded")
        return current
