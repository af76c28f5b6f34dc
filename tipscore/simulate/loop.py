"""The simulation's request and state: what was asked, what is known, where files go.

``prepare`` reads the history and the configs once and refuses a request the loop cannot
serve (a used ``--out``, too few months, no ``p_true``, a bad training or audit config)
before anything runs; ``known_file`` writes the history as known at a moment (label
timing: ``tipscore.simulate.history.known_at``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tipscore.simulate import steps
from tipscore.simulate.analysts import Analysts
from tipscore.simulate.config import SimulateConfig
from tipscore.simulate.history import known_at, months, read_history
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
    if request.out.exists() and not request.out.is_dir():
        raise SimulationError(f"--out: {request.out} is a file; give a new folder")
    if request.out.exists() and any(request.out.iterdir()):
        raise SimulationError(
            f"--out: {request.out} is not empty (a simulation starts from a fresh "
            "state store and MLflow store); give a new folder"
        )
    if not request.history.exists():
        raise SimulationError(f"--history: no history at {request.history}")
    try:
        table = read_history(request.history)
        starts = months(table)
    except (OSError, KeyError, ValueError, pa.ArrowException) as exc:
        raise SimulationError(
            f"--history: cannot read {request.history} as a history: {exc}"
        ) from exc
    if "p_true" not in table.column_names:
        raise SimulationError(
            "--history: needs p_true (a synthetic history, `tipscore generate`)"
        )
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


def bounds(loop: Loop, index: int) -> tuple[datetime, datetime]:
    """The ``index``-th simulated month's ``[start, end)``."""
    position = loop.request.start_months + index
    start = loop.starts[position]
    if position + 1 < len(loop.starts):
        return start, loop.starts[position + 1]
    return start, (pd.Timestamp(start) + pd.offsets.MonthBegin(1)).to_pydatetime()


def known_file(loop: Loop, moment: datetime) -> Path:
    """The history as known at ``moment``, written once under ``data/``.

    Reports received from the first simulated month on keep no generator outcome: their
    labels are the simulated analysts' decisions (the export the retraining joins).
    """
    path = loop.out / "data" / f"known-{moment:%Y-%m-%d}.parquet"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        simulated_from = loop.starts[loop.request.start_months]
        pq.write_table(known_at(loop.table, moment, None, simulated_from), path)
    return path
