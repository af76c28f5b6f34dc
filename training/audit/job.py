"""One audit end to end: resolve the model's run, load the history, audit, write, log.

Used by ``tipscore audit`` and by the promotion gate, so both judge a model the same way.
The audit files go to the model's own MLflow run (under ``audit/``) when the model URI
leads back to a run, which every model ``tipscore train`` logs does.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mlflow
from mlflow.tracking import MlflowClient

from training import registry
from training.audit.config import AuditConfig
from training.audit.disparity import run_audit
from training.audit.report import write_audit
from training.config import TrainConfig, load_train_config
from training.data import History, HistoryError, file_sha256, load_history
from training.splits import temporal_split

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuditOutcome:
    """The audit's result dict, where it was written, and the run it was logged to."""

    result: dict[str, Any]
    json_path: Path
    html_path: Path
    run_id: str | None

    @property
    def flagged(self) -> bool:
        """Whether any group was flagged."""
        return bool(self.result["flags"])


def resolve_run_id(model_uri: str) -> str | None:
    """The MLflow run that logged the model behind ``model_uri``, if it can be found.

    Understands ``runs:/ID/...``, ``models:/NAME@ALIAS``, ``models:/NAME/VERSION`` and
    ``models:/m-ID`` (a logged model of MLflow 3).
    """
    if model_uri.startswith("runs:/"):
        return model_uri.removeprefix("runs:/").split("/", 1)[0]
    if not model_uri.startswith("models:/"):
        return None
    client = MlflowClient()
    try:
        target = model_uri.removeprefix("models:/").strip("/")
        if target.startswith("m-") and "/" not in target and "@" not in target:
            return mlflow.get_logged_model(target).source_run_id
        if "@" in target:
            name, alias = target.split("@", 1)
            version = client.get_model_version_by_alias(name, alias)
        else:
            name, number = target.rsplit("/", 1)
            version = client.get_model_version(name, number)
        found = version.tags.get("run_id") or version.run_id
        return str(found) if found else None
    except (mlflow.exceptions.MlflowException, ValueError):
        return None


def run_config(run_id: str | None) -> TrainConfig:
    """The training config the run logged (its split defines "test"); else the default."""
    if run_id is not None:
        try:
            path = MlflowClient().download_artifacts(run_id, "config.toml")
            return TrainConfig.model_validate(tomllib.loads(Path(path).read_text()))
        except (mlflow.exceptions.MlflowException, OSError):
            logger.warning("run %s has no config.toml; using the default split", run_id)
    return load_train_config()[0]


def audit_rows(history: History, cfg: AuditConfig, train_cfg: TrainConfig) -> slice:
    """The rows the audit judges: the latest (test) window, or every row."""
    if cfg.window == "all":
        return slice(0, len(history.labels))
    split = train_cfg.split
    return temporal_split(
        history.micros, split.valid_fraction, split.test_fraction
    ).test


def audit_key(cfg: AuditConfig, data_sha256: str) -> str:
    """Identifies an audit's inputs besides the model: its config and its data."""
    text = json.dumps(cfg.model_dump(), sort_keys=True) + data_sha256
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def audit_model(
    model_uri: str,
    data: Path,
    cfg: AuditConfig,
    out: Path,
    history: History | None = None,
    reuse: bool = False,
) -> AuditOutcome:
    """Audit ``model_uri`` on ``data``; write ``out/audit.{json,html}``; log them to its run.

    With ``reuse``, an audit already logged to the run with the same config and data is
    read back instead of recomputed (the audit is deterministic: seeded bootstrap).

    Raises:
        RegistryError: the model cannot be loaded.
        HistoryError: the history cannot be read.
    """
    model = registry.load_model(model_uri)
    if history is None and not data.exists():  # a file, or a folder of parts
        raise HistoryError(f"no history file at {data}")
    run_id = resolve_run_id(model_uri)
    key = audit_key(cfg, history.sha256 if history else file_sha256(data))
    if reuse and run_id is not None:
        cached = _cached(run_id, key, out)
        if cached is not None:
            return cached
    history = history or load_history(data)
    rows = audit_rows(history, cfg, run_config(run_id))
    result = run_audit(model, history, rows, cfg)
    result["meta"] = {
        "model_uri": model_uri,
        "run_id": run_id,
        "data_path": str(data),
        "data_sha256": history.sha256,
        "window": cfg.window,
        "audit_key": key,
        "audited_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    json_path, html_path = write_audit(result, out)
    if run_id is not None:
        _log(run_id, result, (json_path, html_path), key)
    return AuditOutcome(result, json_path, html_path, run_id)


def _cached(run_id: str, key: str, out: Path) -> AuditOutcome | None:
    client = MlflowClient()
    if client.get_run(run_id).data.tags.get("audit_key") != key:
        return None
    out.mkdir(parents=True, exist_ok=True)
    paths = [
        Path(client.download_artifacts(run_id, f"audit/{name}", str(out)))
        for name in ("audit.json", "audit.html")
    ]
    result = json.loads(paths[0].read_text())
    logger.info("reusing the audit logged to run %s (same config and data)", run_id)
    return AuditOutcome(result, paths[0], paths[1], run_id)


def _log(
    run_id: str, result: dict[str, Any], paths: tuple[Path, Path], key: str
) -> None:
    client = MlflowClient()
    for path in paths:
        client.log_artifact(run_id, str(path), artifact_path="audit")
    client.log_metric(run_id, "audit_flags", len(result["flags"]))
    client.set_tag(run_id, "audit", "flagged" if result["flags"] else "no flags")
    client.set_tag(run_id, "audit_key", key)
