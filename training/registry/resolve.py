"""One answer to "which model is this URI, and which run trained it?".

The service's model holder, the model card, ``tipscore score``, the audit and promotion all
ask here, so they agree on every form: ``models:/NAME@ALIAS`` and ``models:/NAME/N`` become
the registry version (and its run); ``models:/m-ID`` and ``runs:/ID/model`` are
"unregistered" but still name their run (a logged model's run where MLflow knows it).
"""

from __future__ import annotations

from dataclasses import dataclass

import mlflow

from training.registry.store import RegistryError, reading_client, require_store
from training.registry.uris import parse_model_uri

UNREGISTERED = "unregistered"


@dataclass(frozen=True)
class ModelRef:
    """A model URI resolved: registered name and version (or "unregistered"), and run."""

    uri: str
    name: str
    version: str
    run_id: str | None

    @property
    def pinned_uri(self) -> str:
        """``models:/NAME/VERSION`` for a registry version (what is loaded), else ``uri``."""
        if self.version == UNREGISTERED:
            return self.uri
        return f"models:/{self.name}/{self.version}"

    def about(self) -> dict[str, str | None]:
        """The model as manifests record it (uri, name, version, run id)."""
        return {
            "uri": self.uri,
            "name": self.name,
            "version": self.version,
            "run_id": self.run_id,
        }


def resolve_model(uri: str) -> ModelRef:
    """The registry version and training run behind ``uri``.

    Raises:
        RegistryError: a ``models:/NAME@ALIAS`` or ``models:/NAME/N`` the registry does
            not know (MLflow's message).
    """
    parsed = parse_model_uri(uri)
    if parsed.kind == "run":
        return ModelRef(uri, uri, UNREGISTERED, parsed.name or None)
    if parsed.kind == "logged":
        return ModelRef(uri, uri, UNREGISTERED, _logged_model_run(parsed.name))
    if parsed.kind == "name":
        return ModelRef(uri, parsed.name, UNREGISTERED, None)
    if parsed.kind == "other":
        return ModelRef(uri, uri, UNREGISTERED, None)
    client = reading_client()
    try:
        if parsed.kind == "alias":
            found = client.get_model_version_by_alias(parsed.name, parsed.ref)
        else:
            found = client.get_model_version(parsed.name, parsed.ref)
    except mlflow.exceptions.MlflowException as exc:
        raise RegistryError(exc.message) from exc
    run_id = found.tags.get("run_id") or found.run_id
    return ModelRef(uri, parsed.name, str(found.version), run_id or None)


def _logged_model_run(model_id: str) -> str | None:
    """The run that logged MLflow 3's logged model ``model_id``, if MLflow knows it."""
    require_store()
    try:
        found = mlflow.get_logged_model(model_id).source_run_id
    except mlflow.exceptions.MlflowException:
        return None
    return str(found) if found else None
