"""Experiment configuration: one commented TOML file per experiment, validated here.

Why pydantic with ``extra="forbid"``: a misspelt key (``num_leaf``) silently ignored would
train a different model than the file says. Errors name every bad key and its problem
(``training.toml_config``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from training.decision_times import DEFAULT_ASSUMED_LAG_DAYS
from training.toml_config import ConfigFileError, load_toml_model

DEFAULT_TRAIN_CONFIG = Path(__file__).resolve().parent / "configs" / "baseline.toml"
Fraction = Annotated[float, Field(gt=0.0, lt=1.0)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SplitConfig(_Section):
    """Shares of rows (in receipt order) for the validation and test windows."""

    valid_fraction: Fraction = 0.2
    test_fraction: Fraction = 0.2

    @model_validator(mode="after")
    def _room_to_train(self) -> SplitConfig:
        if self.valid_fraction + self.test_fraction >= 0.9:
            raise ValueError(
                "valid_fraction + test_fraction must leave at least 10% to train"
            )
        return self


class ModelConfig(_Section):
    """LightGBM parameters."""

    num_leaves: Annotated[int, Field(ge=2, le=1024)] = 4
    max_depth: Annotated[int, Field(ge=-1, le=64)] = 2
    learning_rate: Annotated[float, Field(gt=0.0, le=1.0)] = 0.03
    n_estimators: Annotated[int, Field(ge=1, le=20_000)] = 5000
    early_stopping_rounds: Annotated[int, Field(ge=1)] = 200
    min_child_samples: Annotated[int, Field(ge=1)] = 100
    min_sum_hessian_in_leaf: Annotated[float, Field(ge=0.0)] = 1.0
    reg_lambda: Annotated[float, Field(ge=0.0)] = 5.0
    reg_alpha: Annotated[float, Field(ge=0.0)] = 0.0
    feature_fraction: Annotated[float, Field(gt=0.0, le=1.0)] = 0.5
    bagging_fraction: Annotated[float, Field(gt=0.0, le=1.0)] = 0.8
    bagging_freq: Annotated[int, Field(ge=0)] = 1
    cat_smooth: Annotated[float, Field(ge=0.0)] = 20.0
    min_data_per_group: Annotated[int, Field(ge=1)] = 200
    scale_pos_weight: Annotated[float, Field(gt=0.0)] = 1.0
    n_jobs: Annotated[int, Field(ge=1, le=256)] = 2


class CalibrationConfig(_Section):
    """How raw scores become probabilities."""

    method: Literal["isotonic", "none"] = "isotonic"


class PolicyConfig(_Section):
    """Queue capacities that set the priority thresholds."""

    p1_share: Fraction = 0.005
    p12_share: Fraction = 0.05

    @model_validator(mode="after")
    def _nested(self) -> PolicyConfig:
        if self.p1_share > self.p12_share:
            raise ValueError("policy.p1_share must not exceed policy.p12_share")
        return self


class EvaluationConfig(_Section):
    """Metric settings."""

    ece_bins: Annotated[int, Field(ge=2, le=100)] = 10


class GatesConfig(_Section):
    """Promotion gates."""

    max_ece: Annotated[float, Field(gt=0.0, le=1.0)] = 0.002
    champion_tolerance: Annotated[float, Field(ge=0.0, le=1.0)] = 0.02
    shadow: bool = False
    """Require the ``shadow`` gate (``training.shadow.gate``): the model was the service's
    challenger on live reports. Off by default; ``promote --require-shadow`` turns it on."""
    shadow_min_reports: Annotated[int, Field(ge=1)] = 1000
    shadow_min_decided: Annotated[int, Field(ge=0)] = 100
    shadow_min_p1_overlap: Annotated[float, Field(ge=0.0, le=1.0)] = 0.5
    shadow_analyst_tolerance: Annotated[float, Field(ge=0.0, le=1.0)] = 0.02


class DataConfig(_Section):
    """Extra training data beside the history given on the command line."""

    decisions: list[Path] = []
    """Exports of analysts' decisions (`tipscore export-decisions`): their rows join the
    history, the analyst's priority as the outcome; a decision replaces a history row with
    the same report id."""
    blind_weight: Annotated[float, Field(ge=0.0, le=1000.0)] = 1.0
    """Weight in the booster's fit of a decision made blind (the suggestion hidden until
    decided, issue 21): above 1 trusts the labels no suggestion could have swayed more."""
    followed_suggestion_weight: Annotated[float, Field(ge=0.0, le=1000.0)] = 1.0
    """Weight of a decision made with the suggestion shown and equal to it: below 1
    discounts labels that may only echo the model (automation bias); 0 removes them
    from the booster's fit only (calibration and thresholds are fitted unweighted)."""


class HistoryConfig(_Section):
    """How to read a history's decision times (``decided_at``)."""

    assumed_decision_lag_days: Annotated[float, Field(ge=0.0, le=3650.0)] = (
        DEFAULT_ASSUMED_LAG_DAYS
    )
    """For a history without ``decided_at``: each report is taken as decided this many
    days after ``received_at`` (so an escalation counts for reports arriving later than
    that). Applied in ``training.decision_times``; 0 reads labels as known on arrival."""


class TrainConfig(_Section):
    """One experiment."""

    experiment: str = "tip-escalation"
    registered_model: str = "tip-escalation"
    seed: int = 42
    split: SplitConfig = SplitConfig()
    model: ModelConfig = ModelConfig()
    calibration: CalibrationConfig = CalibrationConfig()
    policy: PolicyConfig = PolicyConfig()
    evaluation: EvaluationConfig = EvaluationConfig()
    gates: GatesConfig = GatesConfig()
    data: DataConfig = DataConfig()
    history: HistoryConfig = HistoryConfig()


class TrainConfigError(ConfigFileError):
    """A config file that cannot be used; the message names every bad key."""


def load_train_config(path: Path | None = None) -> tuple[TrainConfig, str]:
    """Read and validate an experiment config; also return its text for logging."""
    return load_toml_model(path or DEFAULT_TRAIN_CONFIG, TrainConfig, TrainConfigError)


def config_hash(text: str) -> str:
    """SHA-256 of the config file's text (logged as a tag)."""
    return hashlib.sha256(text.encode()).hexdigest()


def flatten_config(config: TrainConfig) -> dict[str, Any]:
    """``section.key`` → value, for MLflow params (paths as strings)."""
    flat: dict[str, Any] = {}
    for key, value in config.model_dump(mode="json").items():
        if isinstance(value, dict):
            flat |= {f"{key}.{k}": v for k, v in value.items()}
        else:
            flat[key] = value
    return flat
