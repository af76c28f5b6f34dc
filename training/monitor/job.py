"""A monitoring run end to end: the champion's profile, the files, the status, MLflow.

``tipscore monitor`` calls ``reference_of`` (which model, and its reference profile),
``training.monitor.analyse.analyse`` on what the service kept, then ``finish``: write
``monitor.json`` and ``monitor.html``, the service's ``monitor_status.json``, and one
MLflow run in the ``monitoring`` experiment tagged with the model version.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from training import registry
from training.monitor.profile import PROFILE_ARTIFACT, PROFILE_FORMAT
from training.monitor.report import write_monitor

logger = logging.getLogger(__name__)
EXPERIMENT = "monitoring"
STATUS_FILE = "monitor_status.json"
STATUS_FORMAT = "tipscore-monitor-status/1"
ALERT_KINDS = ("volume", "completeness", "drift", "score_drift", "priority_mix_drift")
"""Every kind of alert (``/metrics`` shows one gauge per kind, so the set is fixed)."""


@dataclass(frozen=True)
class Reference:
    """The champion (name, version, run) and its reference profile, if it has one."""

    model: dict[str, Any] | None
    profile: dict[str, Any] | None
    note: str


def reference_of(model_uri: str) -> Reference:
    """Resolve ``model_uri`` and read its run's reference profile.

    A model without a run, or a run trained before profiles were written, has none:
    drift is then skipped and the note says why.
    """
    try:
        ref = registry.resolve_model(model_uri)
    except registry.RegistryError as exc:
        return Reference(None, None, f"no model to compare with: {exc}")
    model = ref.about()
    if ref.run_id is None:
        return Reference(model, None, f"{model_uri} names no training run")
    profile = registry.artifact_json(ref.run_id, PROFILE_ARTIFACT)
    if not isinstance(profile, dict) or profile.get("format") != PROFILE_FORMAT:
        note = f"run {ref.run_id} has no {PROFILE_ARTIFACT} (trained before profiles)"
        return Reference(model, None, note)
    return Reference(model, profile, f"reference profile of run {ref.run_id}")


def status_of(result: dict[str, Any], generated_at: str) -> dict[str, Any]:
    """The small file the service reads on each scrape (docs/operations.md)."""
    kinds = {a["kind"] for a in result["alerts"]}
    return {
        "format": STATUS_FORMAT,
        "generated_at": generated_at,
        "model": result["model"],
        "periods": result["periods"],
        "alerts": len(result["alerts"]),
        "alert_kinds": {k: k in kinds for k in ALERT_KINDS},
        "drift": result["drift"]["status"],
        "platform_tiers": result["tiers"],
        "time_to_decision": result.get("time_to_decision", {}),
    }


def write_status(status: dict[str, Any], state_dir: Path) -> Path:
    """Replace ``state_dir/monitor_status.json`` atomically (a scrape never reads half).

    Owner-only (0600), as every file of the state folder (docs/security.md).
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / STATUS_FILE
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(json.dumps(status, indent=2) + "\n")
    tmp.replace(path)
    return path


def log_monitoring(result: dict[str, Any], paths: tuple[Path, Path]) -> str:
    """One run in the ``monitoring`` experiment: the files, alert counts, model tags."""
    model = result["model"] or {}
    tags = {
        "monitor": "alerts" if result["alerts"] else "no alerts",
        "model_name": str(model.get("name", "")),
        "model_version": str(model.get("version", "")),
        "model_run_id": str(model.get("run_id", "")),
        "window": f"{result['periods']['start']} .. {result['periods']['end']}",
        "drift": result["drift"]["status"],
    }
    metrics = {
        "monitor_alerts": float(len(result["alerts"])),
        "monitor_reports": float(result["reports"]),
        "monitor_decisions": float(result["decisions"]),
        **{
            f"monitor_alerts_{k}": float(sum(a["kind"] == k for a in result["alerts"]))
            for k in ALERT_KINDS
        },
    }
    run_id = registry.log_run(EXPERIMENT, tags, metrics)
    registry.log_to_run(run_id, files=paths, folder="monitor")
    return run_id


def finish(
    result: dict[str, Any], out: Path, state_dir: Path | None, log: bool = True
) -> dict[str, Any]:
    """Write the files and the status, log the run; the paths and run id written."""
    generated_at = datetime.now(UTC).isoformat(timespec="seconds")
    result["generated_at"] = generated_at
    json_path, html_path = write_monitor(result, out)
    status = (
        write_status(status_of(result, generated_at), state_dir) if state_dir else None
    )
    run_id = log_monitoring(result, (json_path, html_path)) if log else None
    return {"json": json_path, "html": html_path, "status": status, "run_id": run_id}
