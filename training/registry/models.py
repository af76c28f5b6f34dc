"""The one model in MLflow: logging it, loading it (checksum-verified), registering, aliases.

The model is logged once per training run as a pyfunc from code
(``training/model_code/escalation.py``, whose class lives in ``training.registry.pyfunc``);
a registered version records the SHA-256 of its artifact files, and a pinned version is
loaded only if its files still match.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, Schema

from features.flat import FLAT_COLUMNS
from features.linkage import LINK_FEATURES
from training.model import EscalationModel
from training.registry.resolve import ModelRef, resolve_model
from training.registry.store import RegistryError, reading_client, require_store
from training.registry.uris import parse_model_uri

MODEL_NAME = "tip-escalation"
CHAMPION = "champion"
CHALLENGER = "challenger"
"""The alias of the model the service scores in the shadows (``serving.shadow``)."""
DIGEST_TAG = "artifact_sha256"
"""Model-version tag: SHA-256 over the version's artifact files, recorded at registration."""
MODEL_CODE = Path(__file__).resolve().parents[1] / "model_code" / "escalation.py"
ROOM_DIRS = [
    str(Path(__file__).resolve().parents[2] / room) for room in ("features", "training")
]
_SIGNATURE_TYPES = {
    "string": "string",
    "string?": "string",
    "bool": "boolean",
    "int": "long",
    "timestamp": "datetime",
}


def signature() -> ModelSignature:
    """The pyfunc's input and output schema: flat report columns plus linkage features."""
    inputs = [
        ColSpec(_SIGNATURE_TYPES[kind], name, required=not kind.endswith("?"))
        for name, kind in FLAT_COLUMNS.items()
        if kind != "list"
    ]
    inputs += [ColSpec("long", d.name) for d in LINK_FEATURES]
    outputs = [
        ColSpec("double", "escalation_probability"),
        ColSpec("double", "raw_score"),
        ColSpec("long", "suggested_priority"),
    ]
    return ModelSignature(inputs=Schema(inputs), outputs=Schema(outputs))  # type: ignore[arg-type]


def pyfunc_frame(flat: pd.DataFrame) -> pd.DataFrame:
    """Flat rows in the pyfunc's input form (no link lists; times as naive UTC)."""
    wanted = [n for n, kind in FLAT_COLUMNS.items() if kind != "list"] + [
        d.name for d in LINK_FEATURES
    ]
    frame = flat[[c for c in wanted if c in flat.columns]].copy()
    for name in ("incident_at", "received_at"):
        times = pd.to_datetime(frame[name], utc=True)
        frame[name] = times.dt.tz_localize(None).astype("datetime64[us]")
    for name, kind in FLAT_COLUMNS.items():
        if kind.startswith("string") and name in frame:
            frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    return frame


def log_model(model: EscalationModel, example: pd.DataFrame) -> str:
    """Log the model once, as a pyfunc from code, into the active run; return its URI."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "escalation_model"
        model.save(folder)
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=str(MODEL_CODE),
            artifacts={"model_dir": str(folder)},
            code_paths=ROOM_DIRS,
            signature=signature(),
            input_example=example,
            pip_requirements=_requirements(),
        )
    return str(info.model_uri)


def _requirements() -> list[str]:
    from importlib.metadata import version

    return [
        f"{name}=={version(name)}"
        for name in (
            "mlflow",
            "lightgbm",
            "numpy",
            "pandas",
            "pyarrow",
            "scikit-learn",
            "pydantic",
        )
    ]


def artifact_digest(folder: Path) -> str:
    """SHA-256 over every file under ``folder``: relative paths and bytes, in sorted order.

    A changed, added, removed or renamed file changes the digest.
    """
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


def _download(model_uri: str, into: str) -> Path:
    if model_uri.startswith(("runs:/", "models:/")):
        try:
            require_store()
        except RegistryError as exc:
            raise RegistryError(f"cannot load {model_uri}: {exc}") from exc
    try:
        return Path(mlflow.artifacts.download_artifacts(model_uri, dst_path=into))
    except mlflow.exceptions.MlflowException as exc:
        raise RegistryError(f"cannot load {model_uri}: {exc.message}") from exc


def load_model(model_uri: str) -> EscalationModel:
    """Load a logged or registered model (e.g. ``models:/tip-escalation/3``).

    A pinned registered version (``models:/NAME/VERSION``) is loaded only if its artifact
    files still have the digest recorded when it was registered; the bytes checked are
    the bytes loaded. Other URIs (runs, aliases) load unchecked: resolve an alias to its
    version first, as the service does.
    """
    pinned = parse_model_uri(model_uri).pinned_version
    with tempfile.TemporaryDirectory() as tmp:
        local = _download(model_uri, tmp)
        if pinned is not None:
            _verify(pinned, local, model_uri)
        try:
            pyfunc = mlflow.pyfunc.load_model(str(local))
        except mlflow.exceptions.MlflowException as exc:
            raise RegistryError(f"cannot load {model_uri}: {exc.message}") from exc
        wrapped: Any = pyfunc.unwrap_python_model()
        model: EscalationModel = wrapped.model
        return model


def _verify(pinned: tuple[str, str], local: Path, model_uri: str) -> None:
    name, version = pinned
    try:
        recorded = (
            reading_client().get_model_version(name, version).tags.get(DIGEST_TAG)
        )
    except mlflow.exceptions.MlflowException as exc:
        raise RegistryError(f"cannot load {model_uri}: {exc.message}") from exc
    if not recorded:
        raise RegistryError(
            f"refusing {model_uri}: no artifact checksum ({DIGEST_TAG}) was recorded at "
            "registration; register the run again with `tipscore promote`"
        )
    found = artifact_digest(local)
    if found != recorded:
        raise RegistryError(
            f"refusing {model_uri}: its artifact files changed after registration "
            f"(sha256 {recorded[:12]}… recorded, {found[:12]}… found); "
            "restore them or register a new version"
        )


def register(run_id: str, name: str = MODEL_NAME) -> str:
    """Register the run's logged model under ``name``; return the new version."""
    client = reading_client()
    run = client.get_run(run_id)
    model_uri = run.data.tags.get("model_uri")
    if not model_uri:
        raise RegistryError(f"run {run_id} has no logged model (tag model_uri missing)")
    version = mlflow.register_model(model_uri, name, tags={"run_id": run_id})
    client.set_model_version_tag(name, version.version, "run_id", run_id)
    with tempfile.TemporaryDirectory() as tmp:
        local = _download(f"models:/{name}/{version.version}", tmp)
        client.set_model_version_tag(
            name, version.version, DIGEST_TAG, artifact_digest(local)
        )
    return str(version.version)


def champion(name: str = MODEL_NAME) -> tuple[str, str] | None:
    """(version, run id) of the model the ``champion`` alias points to, if any."""
    try:
        ref = resolve_model(f"models:/{name}@{CHAMPION}")
    except RegistryError:
        return None
    return ref.version, ref.run_id or ""


def set_champion(name: str, version: str) -> None:
    """Move the ``champion`` alias to ``version``."""
    reading_client().set_registered_model_alias(name, CHAMPION, version)


def set_alias(name: str, alias: str, version: str) -> None:
    """Point ``alias`` (e.g. ``challenger``) at ``version`` of the registered model."""
    reading_client().set_registered_model_alias(name, alias, version)


def clear_alias(name: str, alias: str) -> bool:
    """Remove ``alias`` from the registered model; whether it was set."""
    try:
        resolve_model(f"models:/{name}@{alias}")
    except RegistryError:
        return False
    reading_client().delete_registered_model_alias(name, alias)
    return True


def tag_promotion(name: str, version: str, run_id: str, tags: dict[str, str]) -> None:
    """Record how a version was promoted, on the version and on its training run alike."""
    client = reading_client()
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)
        client.set_tag(run_id, key, value)


def load_resolved(uri: str) -> tuple[ModelRef, EscalationModel]:
    """Resolve ``uri`` and load what it names (a registry version checksum-verified).

    Raises:
        RegistryError: ``cannot load URI: why``.
    """
    try:
        ref = resolve_model(uri)
        return ref, load_model(ref.pinned_uri)
    except RegistryError as exc:
        raise RegistryError(f"cannot load {uri}: {exc}") from exc
