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
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from tipscore.simulate import steps
from tipscore.simulate.analysts import Analysts
from tipscore.simulate.config import SimulateConfig
from tipscore.simulate.history import between, known_at, months, read_history
from tipscore.simulate.metrics import month_figures
from tipscore.simulate.month import MonthRun
from tipscore.simulate.report import write_report
from tipscore.simulate.service import Service, make_keys, running, service_env
from training import registry
from training.audit.config import AuditConfig, load_audit_config
from training.config import TrainConfig, load_train_config

TRUTH = ("p_true", "priority", "designation", "escalated")


class SimulationError(ValueError):
    """A request the simulation cannot run (too few months, an unreadable history)."""


@dataclass(frozen=True)
class SimulateRequest:
    """What ``tipscore simulate`` was asked for."""

    history: Path
    start_months: int
    months: int
    out: Path
    config: SimulateConfig
    config_text: str
    progress: bool = True


@dataclass
class Loop:
    """The simulation's state between steps."""

    request: SimulateRequest
    train_config: TrainConfig
    train_text: str
    audit_config: AuditConfig
    table: pa.Table
    starts: list[datetime]
    analysts: Analysts
    truth: pd.DataFrame
    """Every report by id: p_true and the recorded outcome (the analysts judge by it)."""
    log: steps.StepLog = field(default_factory=steps.StepLog)
    decided_at: dict[str, datetime] = field(default_factory=dict)
    suggested: dict[str, int] = field(default_factory=dict)
    candidates: dict[str, dict[str, Any]] = field(default_factory=dict)
    """month → its candidate: run id, audit flags, and later the promotion's gates."""
    months: list[dict[str, Any]] = field(default_factory=list)

    @property
    def out(self) -> Path:
        """The simulation's folder."""
        return self.request.out

    @property
    def reports_db(self) -> Path:
        """The service's report store (the real one, in the simulation's state)."""
        return self.out / "state" / "reports.db"

    @property
    def name(self) -> str:
        """The registered model's name (the training config's)."""
        return self.train_config.registered_model


def _train_config(cfg: SimulateConfig) -> tuple[TrainConfig, str]:
    """The retraining config, with the simulation's weight overrides."""
    train_cfg, text = load_train_config(cfg.retrain.train_config)
    update = {
        key: value
        for key in ("blind_weight", "followed_suggestion_weight")
        if (value := getattr(cfg.retrain, key)) is not None
    }
    if update:
        data = train_cfg.data.model_copy(update=update)
        train_cfg = train_cfg.model_copy(update={"data": data})
        text += "\n# tipscore simulate [retrain] overrides: " + repr(update) + "\n"
    return train_cfg, text


def prepare(request: SimulateRequest) -> Loop:
    """Read the history and configs; refuse a request it cannot serve."""
    if request.out.exists() and any(request.out.iterdir()):
        raise SimulationError(
            f"--out: {request.out} is not empty (a simulation starts from a fresh "
            "state store and MLflow store); give a new folder"
        )
    if not request.history.exists():
        raise SimulationError(f"--history: no history at {request.history}")
    table = read_history(request.history)
    if "p_true" not in table.column_names:
        raise SimulationError(
            "--history: needs p_true (a synthetic history, `tipscore generate`)"
        )
    starts = months(table)
    need = request.start_months + request.months
    if len(starts) < need:
        raise SimulationError(
            f"--history spans {len(starts)} months; --start-months "
            f"{request.start_months} + --months {request.months} need {need}"
        )
    try:
        train_cfg, text = _train_config(request.config)
        audit_cfg = load_audit_config(request.config.retrain.audit_config)
    except ValueError as exc:  # a bad training or audit config names its problems
        raise SimulationError(f"--config [retrain]: {exc}") from exc
    truth = table.select(["report_id", *TRUTH]).to_pandas().set_index("report_id")
    analysts = Analysts(request.config.analysts)
    return Loop(
        request, train_cfg, text, audit_cfg, table, starts[: need + 1], analysts, truth
    )


def _bounds(loop: Loop, index: int) -> tuple[datetime, datetime]:
    """The ``index``-th simulated month's ``[start, end)``."""
    position = loop.request.start_months + index
    start = loop.starts[position]
    if position + 1 < len(loop.starts):
        return start, loop.starts[position + 1]
    return start, (pd.Timestamp(start) + pd.offsets.MonthBegin(1)).to_pydatetime()


def known_file(loop: Loop, moment: datetime) -> Path:
    """The history as known at ``moment``, written once under ``data/``."""
    path = loop.out / "data" / f"known-{moment:%Y-%m-%d}.parquet"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(known_at(loop.table, moment), path)
    return path


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
            registry.configure(before)


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
    env = service_env(state, store, cfg.service.blind_share)
    env["TIPSCORE_MODEL_URI"] = f"models:/{loop.name}@champion"
    log = loop.out / "service.log"
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
            bar.close()
    except Exception as exc:
        loop.log.steps.append(
            {
                "month": "service",
                "step": "service",
                "ok": False,
                "error": f"{type(exc).__name__}: {exc}",
                "seconds": 0.0,
            }
        )


def _month(loop: Loop, service: Service, index: int) -> None:
    """One month: its days (with the shadow week's promotion), its figures, its end."""
    start, end = _bounds(loop, index)
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
    result = steps.gates(
        pending["run_id"],
        loop.reports_db,
        loop.audit_config,
        cfg.require_shadow and cfg.shadow_days > 0,
    )
    registry.clear_alias(loop.name, registry.CHALLENGER)
    service.reload()
    return result


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
    version = steps.make_challenger(run_id, loop.name)
    service.reload()
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
