"""The whole loop: a champion, then month after month of service, analysts and retraining.

See docs/simulation.md. Everything the run makes lives under ``--out``: the MLflow store
(``mlruns/``), the service's state folder (``state/``: keys, HMAC secret, report store),
the history as known at each month's end (``data/``), each month's decisions, audit and
drift files (``YYYY-MM/``), the service's log, and the report (``simulation.json``,
``simulation.md``, ``simulation.png``).
"""

from __future__ import annotations

import contextlib
import os
import time
import traceback
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from tipscore.simulate import steps
from tipscore.simulate.history import between
from tipscore.simulate.loop import (
    Loop,
    SimulateRequest,
    SimulationError,
    bounds,
    known_file,
    prepare,
)
from tipscore.simulate.metrics import month_figures
from tipscore.simulate.month import MonthRun
from tipscore.simulate.report import write_report
from tipscore.simulate.seed import seed_links
from tipscore.simulate.service import Service, make_keys, running, service_env
from training import registry

__all__ = ["SimulateRequest", "SimulationError", "simulate"]


def first_champion(loop: Loop) -> str | None:
    """Train on the first months, through every gate (forced, and said so, if one fails)."""
    start = loop.starts[loop.request.start_months]
    label = "start"
    history = loop.log.run(label, "known history", lambda: known_file(loop, start))
    if history is None:
        return None
    run_id = loop.log.run(
        label,
        "train champion",
        lambda: steps.retrain(history, loop.train_config, loop.train_text, None),
    )
    if run_id is None:
        return None
    result = loop.log.run(
        label,
        "promote champion",
        lambda: steps.first_promotion(run_id, loop.audit_config),
    )
    loop.candidates[label] = {"run_id": run_id, "promotion": result}
    return run_id if result is not None else None


@contextlib.contextmanager
def mlflow_store(out: Path) -> Iterator[str]:
    """The simulation's own MLflow store (every command here reads the variable)."""
    uri = f"sqlite:///{(out / 'mlruns' / 'mlflow.db').absolute()}"
    before = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = uri
    registry.configure(uri, create=True)
    try:
        yield uri
    finally:
        if before is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = before
        registry.configure(before)  # the default store again when it was unset


def simulate(request: SimulateRequest) -> dict[str, Any]:
    """Run the whole simulation; the report (also written under ``--out``)."""
    began = time.monotonic()
    loop = prepare(request)
    request.out.mkdir(parents=True, exist_ok=True)
    with mlflow_store(request.out) as store:
        if first_champion(loop) is not None:
            _serve_months(loop, store)
        report = write_report(
            loop_report(loop, time.monotonic() - began),
            loop.out,
            request.config.experiment,
        )
    return report


def _serve_months(loop: Loop, store: str) -> None:
    """Start the service on the simulation's state, then every month."""
    cfg = loop.request.config
    state = loop.out / "state"
    state.mkdir(parents=True, exist_ok=True)
    keys = make_keys(state)
    start = loop.starts[loop.request.start_months]
    seeded = loop.log.run(
        "start",
        "seed linkage",
        lambda: seed_links(loop.table, state / "hmac.key", loop.reports_db, start),
    )
    if seeded is None:
        return
    env = service_env(
        state, store, cfg.service.blind_share, loop.name, cfg.service.batch_size
    )
    log = loop.out / "service.log"
    done = 0
    try:
        with running(env, keys, cfg.service.start_timeout_s, log) as service:
            bar = tqdm(
                range(loop.request.months),
                desc="months",
                unit="month",
                disable=not loop.request.progress,
            )
            for index in bar:
                _month(loop, service, index)
                done += 1
            bar.close()
    except Exception as exc:
        _service_failed(loop, exc, done)


def _service_failed(loop: Loop, exc: Exception, done: int) -> None:
    """An error outside every step: recorded with its month, traceback and what it cost."""
    skipped = [f"{bounds(loop, i)[0]:%Y-%m}" for i in range(done, loop.request.months)]
    loop.log.steps.append(
        {
            "month": skipped[0] if skipped else "end",
            "step": "service",
            "ok": False,
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(limit=8),
            "skipped_months": skipped,
            "seconds": 0.0,
        }
    )


def _month(loop: Loop, service: Service, index: int) -> None:
    """One month: its days (with the shadow week's promotion), its figures, its end."""
    start, end = bounds(loop, index)
    label = f"{start:%Y-%m}"
    rows = between(loop.table, start, end).to_pandas()
    run = MonthRun(
        service,
        loop.analysts,
        loop.truth,
        loop.request.config.service.batch_size,
        loop.suggested,
    )
    pending = loop.candidates.get(f"{loop.months[-1]['month']}" if loop.months else "")
    shadow_days = loop.request.config.retrain.shadow_days

    def after_day(day: int) -> None:
        if pending and pending.get("challenger") and day == max(shadow_days - 1, 0):
            pending["promotion"] = loop.log.run(
                label, "promote candidate", lambda: _promote(loop, service, pending)
            )

    loop.log.run(
        label,
        "serve days",
        lambda: run.days(rows, start, end, after_day, loop.request.progress),
    )
    loop.decided_at |= run.log.decided_at
    figures = month_figures(rows, run.log)
    record: dict[str, Any] = {"month": label, **figures}
    if loop.request.config.retrain.monitor:
        record["drift_alerts"] = loop.log.run(
            label,
            "monitor",
            lambda: steps.drift(
                loop.reports_db, loop.out / label, (start, end), loop.name
            ),
        )
    loop.months.append(record)
    _month_end(loop, service, label, end, last=index == loop.request.months - 1)


def _promote(loop: Loop, service: Service, pending: dict[str, Any]) -> dict[str, Any]:
    """The candidate's gates after its shadow week; the champion reloaded if promoted."""
    cfg = loop.request.config.retrain
    try:
        return steps.gates(
            pending["run_id"],
            loop.reports_db,
            loop.audit_config,
            cfg.require_shadow and cfg.shadow_days > 0,
        )
    finally:  # shadowed once only, whatever the gates did
        registry.clear_alias(loop.name, registry.CHALLENGER)
        service.reload()


def _month_end(
    loop: Loop, service: Service, label: str, end: datetime, last: bool
) -> None:
    """Export, retrain, audit and make the candidate the challenger (not after the last)."""
    decisions = loop.out / label / "decisions.parquet"
    exported = loop.log.run(
        label,
        "export decisions",
        lambda: steps.export(loop.reports_db, decisions, loop.decided_at),
    )
    if last:
        return
    history = loop.log.run(label, "known history", lambda: known_file(loop, end))
    if history is None:
        return
    run_id = loop.log.run(
        label,
        "retrain",
        lambda: steps.retrain(
            history,
            loop.train_config,
            loop.train_text,
            decisions if exported else None,
        ),
    )
    if run_id is None:
        return
    candidate: dict[str, Any] = {"run_id": run_id}
    loop.candidates[label] = candidate
    candidate["audit_flags"] = loop.log.run(
        label,
        "audit",
        lambda: steps.audit(
            run_id, history, loop.audit_config, loop.out / label / "audit"
        ),
    )
    candidate["challenger"] = loop.log.run(
        label, "shadow candidate", lambda: _challenger(loop, service, run_id)
    )


def _challenger(loop: Loop, service: Service, run_id: str) -> str:
    """The candidate as the challenger; a failure unless the service now shadows it."""
    version = steps.make_challenger(run_id, loop.name)
    shadow = service.reload().get("shadow") or {}
    if not shadow.get("active") or str(shadow.get("model_version")) != str(version):
        registry.clear_alias(loop.name, registry.CHALLENGER)
        service.reload()
        raise RuntimeError(
            f"the service does not shadow version {version}: "
            f"{shadow.get('reason') or shadow}"
        )
    return version


def loop_report(loop: Loop, seconds: float) -> dict[str, Any]:
    """The run's report: every month's figures, candidates, gates and steps."""
    for record in loop.months:
        candidate = loop.candidates.get(record["month"], {})
        record["candidate"] = candidate.get("run_id")
        record["audit_flags"] = candidate.get("audit_flags")
        record["promotion"] = candidate.get("promotion")
    request = loop.request
    return {
        "history": str(request.history),
        "start_months": request.start_months,
        "months_simulated": request.months,
        "config": request.config.model_dump(mode="json"),
        "config_text": request.config_text,
        "first_champion": loop.candidates.get("start"),
        "months": loop.months,
        "steps": loop.log.steps,
        "failed": loop.log.failed,
        "seconds": round(seconds, 1),
    }
