"""``tipscore promote``: register a run's model and move ``champion`` to it, if it passes.

Gates are a list of small objects with one ``check``; the bias-audit issue appends its own.
A failed gate stops promotion and says which and why; ``--force --reason`` promotes anyway
and records the reason on the run and on the model version.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import mlflow
from mlflow.tracking import MlflowClient

from training import registry
from training.config import TrainConfig
from training.data import file_sha256, load_history
from training.evaluate import model_metrics
from training.splits import temporal_split


@dataclass(frozen=True)
class GateResult:
    """The outcome of one gate."""

    gate: str
    passed: bool
    detail: str


@dataclass
class Candidate:
    """What the gates look at: the run's metrics, config and data, and the champion."""

    run_id: str
    metrics: dict[str, float]
    params: dict[str, str]
    tags: dict[str, str]
    config: TrainConfig
    registered_model: str
    extra: dict[str, object] = field(default_factory=dict)


Gate = Callable[[Candidate], GateResult]


def beats_baselines(candidate: Candidate) -> GateResult:
    """PR-AUC on the test window above both baselines'."""
    m = candidate.metrics
    model, rules, logreg = (
        m.get("test_pr_auc", math.nan),
        m.get("baseline_rules_test_pr_auc", math.nan),
        m.get("baseline_logreg_test_pr_auc", math.nan),
    )
    passed = model > rules and model > logreg
    return GateResult(
        "beats_baselines",
        passed,
        f"test PR-AUC {model:.4f} vs rules {rules:.4f}, logistic regression {logreg:.4f}",
    )


def calibrated(candidate: Candidate) -> GateResult:
    """Expected calibration error on the test window within the configured bound."""
    value, bound = (
        candidate.metrics.get("test_ece", math.nan),
        candidate.config.gates.max_ece,
    )
    return GateResult(
        "calibration", value <= bound, f"test ECE {value:.5f} (bound {bound})"
    )


def not_worse_than_champion(candidate: Candidate) -> GateResult:
    """Test PR-AUC not below the champion's on the same window, beyond the tolerance."""
    current = registry.champion(candidate.registered_model)
    if current is None:
        return GateResult("champion", True, "no champion yet")
    version, champion_run = current
    if champion_run == candidate.run_id:
        return GateResult(
            "champion", True, f"this run is already champion (version {version})"
        )
    data = Path(candidate.params.get("data_path", ""))
    if not data.is_file() or file_sha256(data) != candidate.tags.get("data_sha256"):
        return GateResult(
            "champion",
            False,
            f"cannot compare with champion v{version}: the run's data file {data} is missing or changed",
        )
    history = load_history(data)
    split = temporal_split(
        history.micros,
        candidate.config.split.valid_fraction,
        candidate.config.split.test_fraction,
    )
    model = registry.load_model(
        f"models:/{candidate.registered_model}@{registry.CHAMPION}"
    )
    theirs = model_metrics(model, history, split.test, candidate.config)["pr_auc"]
    ours, tolerance = (
        candidate.metrics["test_pr_auc"],
        candidate.config.gates.champion_tolerance,
    )
    candidate.extra["champion_test_pr_auc"] = theirs
    return GateResult(
        "champion",
        ours >= theirs - tolerance,
        f"test PR-AUC {ours:.4f} vs champion v{version} {theirs:.4f} (tolerance {tolerance})",
    )


GATES: list[Gate] = [beats_baselines, calibrated, not_worse_than_champion]
"""Every promotion gate, in order (the bias-audit issue appends its gate)."""


@dataclass(frozen=True)
class PromotionResult:
    """What happened."""

    promoted: bool
    version: str | None
    results: list[GateResult]
    forced: bool


def load_candidate(run_id: str) -> Candidate:
    """The run's metrics, params, tags and logged config."""
    client = MlflowClient()
    try:
        run = client.get_run(run_id)
    except mlflow.exceptions.MlflowException as exc:
        raise registry.RegistryError(
            f"no run {run_id!r} in {mlflow.get_tracking_uri()}"
        ) from exc
    text = Path(client.download_artifacts(run_id, "config.toml")).read_text()
    config = TrainConfig.model_validate(tomllib.loads(text))
    return Candidate(
        run_id,
        dict(run.data.metrics),
        dict(run.data.params),
        dict(run.data.tags),
        config,
        config.registered_model,
    )


def promote(
    run_id: str, force: bool = False, reason: str | None = None
) -> PromotionResult:
    """Check every gate; register and move ``champion`` when all pass (or when forced)."""
    if force and not (reason and reason.strip()):
        raise ValueError(
            "--force needs --reason: a promotion past a failed gate must say why"
        )
    candidate = load_candidate(run_id)
    results = [gate(candidate) for gate in GATES]
    passed = all(r.passed for r in results)
    if not passed and not force:
        return PromotionResult(False, None, results, False)
    version = registry.register(run_id, candidate.registered_model)
    client = MlflowClient()
    failed = ", ".join(r.gate for r in results if not r.passed)
    tags = {
        "promotion": "forced" if not passed else "gates passed",
        "gates_failed": failed or "none",
    }
    if force:
        tags["promotion_reason"] = reason or ""
    for key, value in tags.items():
        client.set_model_version_tag(candidate.registered_model, version, key, value)
        client.set_tag(run_id, key, value)
    registry.set_champion(candidate.registered_model, version)
    return PromotionResult(True, version, results, force and not passed)
