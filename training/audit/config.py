"""The bias audit's settings: which metrics are judged, the bounds, the reference groups.

Kept apart from the audit so the promotion gate and the CLI validate a config before any
model or history is loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from training.audit.groups import ATTRIBUTES
from training.toml_config import ConfigFileError, load_toml_model

DEFAULT_AUDIT_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "audit.toml"
JUDGEABLE = (
    "recall_p1",
    "recall_p12",
    "precision_p1",
    "precision_p12",
    "fpr_p1",
    "fpr_p12",
)


class Judge(BaseModel):
    """A metric the audit judges, and how far from the reference a group may be."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: str = Field(pattern="^(" + "|".join(JUDGEABLE) + ")$")
    min_ratio: Annotated[float, Field(gt=0.0, le=1.0)] | None = 0.8
    max_ratio: Annotated[float, Field(ge=1.0)] | None = None

    @model_validator(mode="after")
    def _one_sided_when_only_max(self) -> Judge:
        # a judge written with only max_ratio (e.g. fpr) must not also flag groups that
        # fare *better* than the reference through the default min_ratio
        if (
            "max_ratio" in self.model_fields_set
            and "min_ratio" not in self.model_fields_set
        ):
            object.__setattr__(self, "min_ratio", None)
        return self


class AuditConfig(BaseModel):
    """Every setting of the audit (``training/configs/audit.toml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    window: str = Field(default="test", pattern="^(test|all)$")
    min_positives: Annotated[int, Field(ge=1)] = 30
    bootstrap: Annotated[int, Field(ge=50, le=10_000)] = 400
    confidence: Annotated[float, Field(gt=0.5, lt=1.0)] = 0.95
    seed: int = 7
    top_esps: Annotated[int, Field(ge=1, le=100)] = 8
    large_country_share: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.03
    judge: list[Judge] = Field(default_factory=lambda: [Judge(metric="recall_p12")])
    references: dict[str, str] = Field(
        default_factory=lambda: dict.fromkeys(ATTRIBUTES, "largest")
    )

    @field_validator("references")
    @classmethod
    def _known_attributes(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(ATTRIBUTES))
        if unknown:
            raise ValueError(
                f"unknown attribute(s) {unknown}; expected some of {list(ATTRIBUTES)}"
            )
        return value

    @field_validator("judge")
    @classmethod
    def _at_least_one(cls, value: list[Judge]) -> list[Judge]:
        if not value:
            raise ValueError("at least one [[judge]] metric is needed")
        return value


class AuditConfigError(ConfigFileError):
    """An audit config that cannot be used (a ``ValueError``); names every bad key."""


def load_audit_config(path: Path | None = None) -> AuditConfig:
    """Read and validate an audit config (the shipped default when ``path`` is None).

    Raises:
        AuditConfigError: the file cannot be read, is not TOML or fails validation.
    """
    config, _ = load_toml_model(
        path or DEFAULT_AUDIT_CONFIG, AuditConfig, AuditConfigError, "audit config"
    )
    return config
