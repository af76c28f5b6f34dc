"""One audit end to end: resolve the model's run, load the history, audit, write, log.

Used by ``tipscore audit`` and by the promotion gate, so both judge a model the same way.
The audit files go to the model's own MLflow run (under ``audit/``) when the model URI
leads back to a run, which every model ``tipscore train`` logs does.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from training import registry
from training.audit.config import AuditConfig
from training.audit.reference import fit_reference_model
from training.audit.report import write_audit
from training.audit.window import run_audit
from training.config import TrainConfig, load_train_config
from training.data import History, HistoryError, file_sha256, load_history
from training.model import EscalationModel
from training.splits import Split, temporal_split

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


def run_config(run_id: str | None) -> TrainConfig:
    """The training config the run logged (its split defines "test"); else the default."""
    if run_id is not None:
        logged = registry.run_config(run_id)
        if logged is not None:
            return logged
        logger.warning("run %s has no config.toml; using the default split", run_id)
    return load_train_config()[0]


def _split(history: History, train_cfg: TrainConfig) -> Split:
    split = train_cfg.split
    return temporal_split(history.micros, split.valid_fraction, split.test_fraction)


def audit_rows(history: History, cfg: AuditConfig, train_cfg: TrainConfig) -> slice:
    """The rows the audit judges: the latest (test) window, or every row."""
    if cfg.window == "all":
        return slice(0, len(history.labels))
    return _split(history, train_cfg).test


def reference_model(
    history: History, cfg: AuditConfig, train_cfg: TrainConfig
) -> EscalationModel | None:
    """The model without platform and location features, fitted on the run's windows."""
    if "reference_model" not in cfg.compare_with:
        return None
    return fit_reference_model(
        train_cfg, history, _split(history, train_cfg), cfg.reference_model_rows
    )


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
    run_id = _run_of(model_uri)
    key = audit_key(cfg, history.sha256 if history else file_sha256(data))
    if reuse and run_id is not None:
        cached = _cached(run_id, key, out)
        if cached is not None:
            return cached
    history = history or load_history(data)
    train_cfg = run_config(run_id)
    rows = audit_rows(history, cfg, train_cfg)
    result = run_audit(
        model,
        history,
        rows,
        cfg,
        reference_model(history, cfg, train_cfg),
        _split(history, train_cfg).train,
    )
    result["meta"] = {
        "model_uri": model_uri,
        "run_id": run_id,
        "data_path": str(data),
        "data_sha256": history.sha256,
        "source": "window",
        "window": cfg.window,
        "audit_key": key,
        "audited_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    json_path, html_path = write_audit(result, out)
    if run_id is not None:
        _log(run_id, result, (json_path, html_path), key)
    return AuditOutcome(result, json_path, html_path, run_id)


def _run_of(model_uri: str) -> str | None:
    """The run that logged the model (the registry's resolver), if it can be found."""
    try:
        return registry.resolve_model(model_uri).run_id
    except registry.RegistryError:
        return None


def _cached(run_id: str, key: str, out: Path) -> AuditOutcome | None:
    if registry.read_run(run_id).tags.get("audit_key") != key:
        return None
    out.mkdir(parents=True, exist_ok=True)
    paths = [
        registry.download_artifact(run_id, f"audit/{name}", out)
        for name in ("audit.json", "audit.html")
    ]
    if paths[0] is None or paths[1] is None:
        return None
    result = json.loads(paths[0].read_text())
    logger.info("reusing the audit logged to run %s (same config and data)", run_id)
    return AuditOutcome(result, paths[0], paths[1], run_id)


def _log(
    run_id: str, result: dict[str, Any], paths: tuple[Path, Path], key: str
) -> None:
    registry.log_to_run(
        run_id,
        files=paths,
        folder="audit",
        metrics={"audit_flags": len(result["flags"])},
        tags={"audit": "flagged" if result["flags"] else "no flags", "audit_key": key},
    )
