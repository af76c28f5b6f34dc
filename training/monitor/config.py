"""The monitor's settings: periods, alert thresholds and platform size tiers.

Kept apart from the analysis so the CLI validates a config before any store is read.
Every knob is documented in ``training/configs/monitor.toml`` and ``docs/monitoring.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from training.toml_config import ConfigFileError, load_toml_model

DEFAULT_MONITOR_CONFIG = (
    Path(__file__).resolve().parents[1] / "configs" / "monitor.toml"
)
Positive = Annotated[float, Field(gt=0.0)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VolumeConfig(_Section):
    """When a platform's daily volume has jumped or collapsed."""

    jump_ratio: Annotated[float, Field(gt=1.0)] = 2.0
    collapse_ratio: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.5
    min_baseline_reports: Annotated[int, Field(ge=1)] = 50


class CompletenessConfig(_Section):
    """When a platform's share of filled fields has moved."""

    min_abs_change: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.15
    min_z: Annotated[float, Field(ge=0.0)] = 4.0
    min_reports: Annotated[int, Field(ge=1)] = 50


class DriftConfig(_Section):
    """Population stability index bands and the smallest window judged."""

    bins: Annotated[int, Field(ge=2, le=50)] = 10
    warn_psi: Positive = 0.1
    alert_psi: Positive = 0.25
    min_reports: Annotated[int, Field(ge=1)] = 200

    @model_validator(mode="after")
    def _ordered(self) -> DriftConfig:
        if self.warn_psi > self.alert_psi:
            raise ValueError("warn_psi must not exceed alert_psi")
        return self


class TierConfig(_Section):
    """Platform size tiers: mean reports per day at or above each threshold."""

    large: Positive = 100.0
    medium: Positive = 10.0

    @model_validator(mode="after")
    def _ordered(self) -> TierConfig:
        if self.medium >= self.large:
            raise ValueError("medium must be below large")
        return self


class MonitorConfig(_Section):
    """Every setting of ``tipscore monitor`` (``training/configs/monitor.toml``)."""

    recent_days: Annotated[int, Field(ge=1, le=365)] = 14
    baseline_days: Annotated[int, Field(ge=1, le=730)] = 28
    volume: VolumeConfig = VolumeConfig()
    completeness: CompletenessConfig = CompletenessConfig()
    drift: DriftConfig = DriftConfig()
    tiers: TierConfig = TierConfig()


class MonitorConfigError(ConfigFileError):
    """A monitor config that cannot be used (a ``ValueError``); names every bad key."""


def load_monitor_config(path: Path | None = None) -> tuple[MonitorConfig, str]:
    """Read and validate a monitor config (the shipped default when ``path`` is None).

    Raises:
        MonitorConfigError: the file cannot be read, is not TOML or fails validation.
    """
    return load_toml_model(
        path or DEFAULT_MONITOR_CONFIG,
        MonitorConfig,
        MonitorConfigError,
        "monitor config",
    )
