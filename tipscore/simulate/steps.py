"""The steps around a simulated month, each recorded: ok, or failed with its error.

``StepLog.run`` runs one step and keeps its outcome (and how long it took), so a failed
step is reported with its error and the loop goes on where it can; the command exits 1
when any step failed. The steps call the same functions the commands do: train, audit,
challenger (registry alias + ``/admin/reload``), promote (every gate, the shadow gate
reading the service's store), export-decisions, monitor.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from tipscore.export_decisions import export_decisions
from tipscore.shadow_state import shadow_rows
from tipscore.simulate.history import with_simulated_times
from training import registry
from training.audit.config import AuditConfig
from training.audit.job import audit_model
from training.config import TrainConfig
from training.promote import PromotionResult, promote
from training.train import train

T = TypeVar("T")


@dataclass
class StepLog:
    """Every step's outcome, in order."""

    steps: list[dict[str, Any]] = field(default_factory=list)

    def run(self, month: str, name: str, step: Callable[[], T]) -> T | None:
        """Run ``step``; record it; None (and the error) if it raised."""
        began = time.monotonic()
        record: dict[str, Any] = {"month": month, "step": name, "ok": True}
        try:
            return step()
        except Exception as exc:
            record |= {
                "ok": False,
                "error": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc(limit=8),
            }
            return None
        finally:
            record["seconds"] = round(time.monotonic() - began, 2)
            self.steps.append(record)

    @property
    def failed(self) -> list[dict[str, Any]]:
        """The steps that failed."""
        return [s for s in self.steps if not s["ok"]]


def retrain(
    history: Path, config: TrainConfig, text: str, decisions: Path | None
) -> str:
    """Train on the known history (and the decisions); the run id."""
    if decisions is not None:
        data = config.data.model_copy(update={"decisions": [decisions]})
        config = config.model_copy(update={"data": data})
    return train(history, config, text, progress=False).run_id


def audit(run_id: str, history: Path, cfg: AuditConfig, out: Path) -> list[str]:
    """Audit the candidate on the known history's test window; the flagged groups."""
    outcome = audit_model(f"runs:/{run_id}/model", history, cfg, out)
    return [
        f"{f['attribute']}={f['group']} {f['metric']}" for f in outcome.result["flags"]
    ]


def drift(
    reports_db: Path, out: Path, span: tuple[datetime, datetime], name: str
) -> list[str]:
    """``tipscore monitor`` on the month's reports against the champion; its alerts."""
    from tipscore.monitor_state import MonitorRequest, monitor
    from training.monitor.config import load_monitor_config
    from training.monitor.job import reference_of

    cfg, _ = load_monitor_config(None)
    reference = reference_of(f"models:/{name}@champion")
    request = MonitorRequest(
        reports_db, out / "monitor", span[0].date(), span[1].date(), False, False
    )
    result, _ = monitor(request, reference, cfg)
    return [f"{a['kind']}: {a['message']}" for a in result["alerts"]]


def export(reports_db: Path, out: Path, times: dict[str, datetime]) -> int:
    """Export every decision so far, at its simulated time; the rows written."""
    raw = out.with_name(out.stem + "-wallclock.parquet")
    summary = export_decisions(reports_db, raw)
    if summary.rows == 0:
        raise RuntimeError("no decision recorded yet: nothing to export")
    rows = with_simulated_times(raw, times, out)
    raw.unlink()
    return rows


def make_challenger(run_id: str, name: str) -> str:
    """Register the run's model and point the ``challenger`` alias at it; the version."""
    version = registry.register(run_id, name)
    registry.set_alias(name, registry.CHALLENGER, version)
    return version


def _outcome(result: PromotionResult) -> dict[str, Any]:
    return {
        "promoted": result.promoted,
        "forced": result.forced,
        "version": result.version,
        "gates": {
            g.gate: {"passed": g.passed, "detail": g.detail} for g in result.results
        },
        "failed": [g.gate for g in result.results if not g.passed],
    }


def first_promotion(run_id: str, cfg: AuditConfig) -> dict[str, Any]:
    """The first champion through every gate; forced, with the reason, if one fails.

    The loop needs a champion to serve; a failed gate here is reported, not hidden.
    """
    result = promote(run_id, audit_config=cfg)
    if not result.promoted:
        failed = ", ".join(g.gate for g in result.results if not g.passed)
        reason = f"tipscore simulate: the first champion (failed: {failed})"
        result = promote(run_id, force=True, reason=reason, audit_config=cfg)
    return _outcome(result)


def gates(
    run_id: str, reports_db: Path, cfg: AuditConfig, require_shadow: bool
) -> dict[str, Any]:
    """Every promotion gate; ``champion`` moved when all pass. What each gate said."""
    result = promote(
        run_id,
        audit_config=cfg,
        shadow_rows=partial(shadow_rows, reports_db),
        require_shadow=require_shadow,
    )
    return _outcome(result)
