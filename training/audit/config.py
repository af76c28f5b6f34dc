"""The bias audit's settings: which metrics are judged, the bounds, the reference groups.

Kept apart from the audit so the promotion gate and the CLI validate a config before any
model or history is loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

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
    "mean_score",
    "label_rate",
)
"""``mean_score`` (the group's mean calibrated probability) is judged only by its excess
over the comparators (``training.audit.mean_score``); ``label_rate`` (recorded escalations
over ``p_true``'s, against every other row) judges the labels, not the model
(``training.audit.label_rate``); every other metric as before."""
Comparator = Literal["reference_model", "oracle"]
COMPARATORS: tuple[Comparator, ...] = ("reference_model", "oracle")
"""What a group's ratio is compared with before it is flagged (docs/bias-audit.md)."""
DEFAULT_REGIONS: dict[str, str] = {
    **dict.fromkeys(("IN", "BD", "PK", "NP", "LK"), "South Asia"),
    **dict.fromkeys(("PH", "ID", "VN", "TH", "MY"), "Southeast Asia"),
    **dict.fromkeys(("SA", "IQ", "TR"), "Middle East"),
    **dict.fromkeys(("DZ", "EG", "MA"), "North Africa"),
    **dict.fromkeys(("NG", "KE", "ZA"), "Sub-Saharan Africa"),
    **dict.fromkeys(("MX", "CO", "BR", "AR", "PE"), "Latin America"),
    **dict.fromkeys(("GB", "DE", "FR", "ES", "IT", "UA"), "Europe"),
    **dict.fromkeys(("CA", "AU", "JP"), "North America and Pacific"),
}
"""Country (ISO code) → region for pooling; countries not listed pool as "other
international". A config's ``[regions]`` table replaces it."""


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
    compare_with: list[Comparator] = Field(default_factory=lambda: list(COMPARATORS))
    """Comparators a disparity must exceed to be flagged (each where available)."""
    reference_model_rows: Annotated[int, Field(ge=1_000)] = 200_000
    """Training rows of the reference model at most: every escalation, then a seeded
    sample of the rest (its calibration and thresholds come from the whole validation
    window, so the sample does not bias them)."""
    min_expected: Annotated[float, Field(gt=0.0)] = 10.0
    """``mean_score`` judges a group (and its reference) only with at least this many
    expected escalations (a comparator's summed probabilities over its reports);
    ``label_rate`` a group and the rest of the rows with this many (``p_true`` summed)."""
    training_chance: bool = True
    """``mean_score`` counts the chance in a group's training labels in its interval
    (needs the training rows' sums; docs/bias-audit.md, "Mean score")."""
    simultaneous: bool = True
    """``mean_score``'s and ``label_rate``'s intervals are each simultaneous over all of
    that metric's comparisons (Bonferroni)."""
    detect_power: Annotated[float, Field(ge=0.5, lt=1.0)] = 0.5
    """Power of the detectable ratio: 0.5 = the ratio whose interval just touches 1."""
    pool: dict[str, Literal["small", "region"]] = Field(default_factory=dict)
    """Attribute → how its groups are pooled before judging (training/audit/pooling.py)."""
    regions: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_REGIONS))

    @field_validator("pool")
    @classmethod
    def _known_pools(
        cls, value: dict[str, Literal["small", "region"]]
    ) -> dict[str, Literal["small", "region"]]:
        unknown = sorted(set(value) - set(ATTRIBUTES))
        if unknown:
            raise ValueError(
                f"unknown attribute(s) {unknown}; expected some of {list(ATTRIBUTES)}"
            )
        wrong = sorted(a for a, mode in value.items() if mode == "region")
        if wrong and wrong != ["jurisdiction"]:
            raise ValueError('"region" pools only jurisdiction')
        return value

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
