"""The simulation's config: analysts, the service, retraining (one TOML file, validated).

Why pydantic with ``extra="forbid"`` (as every config here): a misspelt knob silently
ignored would simulate something other than the file says. Loaded by the one loader,
``training.toml_config``, which names every bad key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from training.toml_config import ConfigFileError, load_toml_model

DEFAULT_SIMULATE_CONFIG = (
    Path(__file__).resolve().parents[2] / "training" / "configs" / "simulate.toml"
)
Share = Annotated[float, Field(ge=0.0, le=1.0)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AnalystsConfig(_Section):
    """How the simulated analysts work (``tipscore.simulate.analysts``)."""

    capacity_per_day: Annotated[int, Field(ge=1, le=1_000_000)] = 300
    """Reports decided per simulated day, taken from the queue in its order."""
    noise: Annotated[float, Field(ge=0.0, le=10.0)] = 0.5
    """Standard deviation of the noise on the log-odds of ``p_true`` they judge by."""
    automation_bias: Share = 0.0
    """Probability of accepting a shown suggestion whatever the report holds."""
    seed: int = 7


class ServiceConfig(_Section):
    """The real service the reports go to."""

    blind_share: Share = 0.02
    """Share of scored reports chosen for blind review (``TIPSCORE_BLIND_SHARE``)."""
    batch_size: Annotated[int, Field(ge=1, le=1000)] = 500
    """Reports per ``POST /score_batch`` call."""
    start_timeout_s: Annotated[float, Field(gt=0.0, le=3600.0)] = 180.0


class RetrainConfig(_Section):
    """What happens at each month's end."""

    train_config: Path | None = None
    """Experiment config of every training (default: training/configs/baseline.toml);
    relative paths are taken against this file's folder."""
    audit_config: Path | None = None
    """Audit config of the audit step and the bias gate (default: audit.toml)."""
    blind_weight: Annotated[float, Field(ge=0.0, le=1000.0)] | None = None
    """Overrides the training config's ``[data] blind_weight`` (None: keep it)."""
    followed_suggestion_weight: Annotated[float, Field(ge=0.0, le=1000.0)] | None = None
    """Overrides ``[data] followed_suggestion_weight`` (None: keep it)."""
    shadow_days: Annotated[int, Field(ge=0, le=28)] = 7
    """Days of the next month the candidate is the service's challenger before the gates."""
    require_shadow: bool = True
    """Judge the shadow gate (``promote --require-shadow``) when it was shadowed."""
    monitor: bool = True
    """Run ``tipscore monitor``'s drift check on each month."""


class SimulateConfig(_Section):
    """One simulation."""

    analysts: AnalystsConfig = AnalystsConfig()
    service: ServiceConfig = ServiceConfig()
    retrain: RetrainConfig = RetrainConfig()
    experiment: str = "simulation"
    """MLflow experiment of the simulation's parent run."""


class SimulateConfigError(ConfigFileError):
    """A simulation config that cannot be used; the message names every bad key."""


def load_simulate_config(path: Path | None = None) -> tuple[SimulateConfig, str]:
    """Read and validate a simulation config (default: training/configs/simulate.toml).

    Relative paths in ``[retrain]`` are made absolute against the file's folder.
    """
    source = (path or DEFAULT_SIMULATE_CONFIG).absolute()
    cfg, text = load_toml_model(
        source, SimulateConfig, SimulateConfigError, "simulation config"
    )
    retrain = cfg.retrain
    paths = {
        name: source.parent / value
        for name in ("train_config", "audit_config")
        if (value := getattr(retrain, name)) is not None and not value.is_absolute()
    }
    if paths:
        cfg = cfg.model_copy(update={"retrain": retrain.model_copy(update=paths)})
    return cfg, text
