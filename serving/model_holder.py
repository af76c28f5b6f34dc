"""The served model: loaded from the registry at start-up, swapped atomically on reload.

No silent fallback: if the champion cannot be loaded, the holder has no model, says why,
and the service is not ready. A failed reload keeps the model already serving. Any error
while loading counts (not only the registry's): the service stays up, not ready, instead of
crashing at start, and a reload answers 409 instead of 500.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from training.registry import EscalationModel, RegistryError, load_model, resolve_model

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
    """(name, version, run id) behind ``uri``: the registry's one resolver.

    ``models:/NAME@ALIAS`` and ``models:/NAME/N`` give their registry version; other URIs
    (``runs:/ID/model``, ``models:/m-ID``) are served as "unregistered" but still name
    their run, so the model card and manifests can show it.
    """
    ref = resolve_model(uri)
    return ref.name, ref.version, ref.run_id


def _reason(exc: Exception) -> str:
    """Why a load failed, in one line: the registry's message, else the error's type and text.

    A model can pass its checksum and still fail to load (files broken before they were
    registered, a library that cannot read them): LightGBM, pickle, import and OS errors
    are load failures as much as the registry's own, and must not crash the service.
    """
    if isinstance(exc, RegistryError):
        return str(getattr(exc, "message", exc))
    # the open /readyz shows this reason: the error's type only, never its text (which may
    # hold file paths); the whole error is logged where the load is attempted
    logger.error("model load failed: %s", " ".join(str(exc).split())[:2000])
    return f"the model's files could not be loaded ({type(exc).__name__})"


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
        except Exception as exc:
            self.error = f"cannot load {self.uri}: {_reason(exc)}"
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
