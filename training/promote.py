"""``tipscore promote``: register a run's model and move ``champion`` to it, if it passes.

Gates are a list of small objects with one ``check``; the bias-audit issue appends its own.
A failed gate stops promotion and says which and why; ``--force --reason`` promotes anyway
and records the reason on the run and on the model version.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from training import registry
from training.audit.config import AuditConfig, load_audit_config
from training.audit.job import audit_model
from training.audit.predictions import read_backtest_audit
from training.audit.report import bound, flag_summary
from training.config import TrainConfig
from training.data import History, data_sha256, load_history
from training.evaluate import model_metrics
from training.shadow.compare import shadow_frame
from training.shadow.gate import ShadowBounds, judge
from training.splits import temporal_split
from training.train import DECISION_FILES


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


def _missing_data(candidate: Candidate) -> str:
    data = candidate.params.get("data_path", "")
    if candidate.params.get("decision_files", "none") != "none":
        return (
            f"the run's data file {data} or its decision files "
            f"({candidate.params['decision_files']}) are missing or changed"
        )
    return f"the run's data file {data} is missing or changed"


def _decision_files(candidate: Candidate) -> list[Path] | None:
    """The decisions files the run included, in order (None: included, not recorded)."""
    if candidate.params.get("decision_files", "none") == "none":
        return []
    listed = registry.artifact_json(candidate.run_id, DECISION_FILES)
    if listed is None:
        return None
    return [Path(entry["path"]) for entry in listed["decision_files"]]


def _unchanged(data: Path, decisions: list[Path], logged: str | None) -> bool:
    """Whether the run's history (a file or a folder of parts) and decisions are as logged."""
    if data == Path() or not all(f.exists() for f in (data, *decisions)):
        return False
    try:
        return data_sha256(data, decisions) == logged
    except (OSError, ValueError):  # e.g. a folder whose parts are gone
        return False


def _history(candidate: Candidate) -> History | None:
    """The run's history (with its decisions), loaded once for every gate.

    None if a file is missing or changed since the run (its ``data_sha256`` differs).
    """
    if "history" not in candidate.extra:
        data = Path(candidate.params.get("data_path", ""))
        decisions = _decision_files(candidate)
        same = decisions is not None and _unchanged(
            data, decisions, candidate.tags.get("data_sha256")
        )
        candidate.extra["history"] = (
            load_history(
                data, decisions, candidate.config.history.assumed_decision_lag_days
            )
            if same and decisions is not None
            else None
        )
    history: History | None = candidate.extra["history"]  # type: ignore[assignment]
    return history


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
    history = _history(candidate)
    if history is None:
        return GateResult(
            "champion",
            False,
            f"cannot compare with champion v{version}: {_missing_data(candidate)}",
        )
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


def _flag_detail(flags: list[dict[str, Any]]) -> str:
    return "; ".join(
        f"{f['attribute']}={f['group']} {f['metric']} ratio {bound(f, 'ratio')} "
        f"[{bound(f, 'ci_low')}, {bound(f, 'ci_high')}] vs {f['reference']}"
        for f in flags
    )


def _backtest_gate(path: Path) -> GateResult:
    """The bias gate judged by an audit of pooled backtest predictions."""
    result = read_backtest_audit(path)
    flags = result["flags"]
    periods = len(result["meta"].get("periods", []))
    if flags:
        return GateResult(
            "bias_audit",
            False,
            f"flagged (backtest audit, {periods} periods): {flag_summary(flags)}; "
            + _flag_detail(flags),
        )
    return GateResult(
        "bias_audit",
        True,
        f"no group flagged by the backtest audit {path} ({periods} periods, "
        f"{len(result['checked'])} judged, {len(result['too_few_positives'])} "
        "too small to judge)",
    )


def bias_audit(candidate: Candidate) -> GateResult:
    """No group flagged by the bias audit (docs/bias-audit.md).

    On the run's test window, or, given a backtest audit (``promote --backtest-audit``),
    by the audit of pooled out-of-time predictions instead.
    """
    backtest = candidate.extra.get("backtest_audit")
    if isinstance(backtest, Path):
        return _backtest_gate(backtest)
    history = _history(candidate)
    if history is None:
        return GateResult(
            "bias_audit", False, f"cannot audit: {_missing_data(candidate)}"
        )
    cfg = candidate.extra.get("audit_config") or load_audit_config()
    with tempfile.TemporaryDirectory() as folder:
        outcome = audit_model(
            candidate.tags["model_uri"],
            history.path,
            cfg,  # type: ignore[arg-type]
            Path(folder),
            history,
            reuse=True,
        )
    flags = outcome.result["flags"]
    detail = _flag_detail(flags)
    checked, too_few = (
        len(outcome.result["checked"]),
        len(outcome.result["too_few_positives"]),
    )
    return GateResult(
        "bias_audit",
        not flags,
        f"flagged: {detail}"
        if flags
        else f"no group flagged ({checked} judged, "
        f"{too_few} too small to judge); audit logged to the run under audit/",
    )


ShadowRows = Callable[[str], list[dict[str, object]]]
"""The service's kept shadow answers of the model trained by a run (``tipscore promote``
reads them from the state store: training does not open the service's store itself)."""


def shadowed(candidate: Candidate) -> GateResult:
    """Shadowed on live reports enough, its P1 queue and analysts' view close enough.

    Off unless ``[gates] shadow = true`` in the run's config or ``--require-shadow``
    (docs/model.md, "Shadow gate").
    """
    gates = candidate.config.gates
    if not (gates.shadow or candidate.extra.get("require_shadow")):
        return GateResult(
            "shadow", True, "not required (gates.shadow is off; --require-shadow)"
        )
    reader: ShadowRows | None = candidate.extra.get("shadow_rows")  # type: ignore[assignment]
    if reader is None:
        return GateResult(
            "shadow",
            False,
            "no report store to read the shadow answers from (--reports-db)",
        )
    bounds = ShadowBounds(
        gates.shadow_min_reports,
        gates.shadow_min_decided,
        gates.shadow_min_p1_overlap,
        gates.shadow_analyst_tolerance,
    )
    try:
        rows = reader(candidate.run_id)
    except FileNotFoundError as exc:
        return GateResult("shadow", False, f"cannot read the shadow answers: {exc}")
    passed, detail = judge(shadow_frame(rows), bounds)
    return GateResult("shadow", passed, detail)


GATES: list[Gate] = [
    beats_baselines,
    calibrated,
    not_worse_than_champion,
    bias_audit,
    shadowed,
]
"""Every promotion gate, in order."""


@dataclass(frozen=True)
class PromotionResult:
    """What happened."""

    promoted: bool
    version: str | None
    results: list[GateResult]
    forced: bool


def load_candidate(run_id: str) -> Candidate:
    """The run's metrics, params, tags and logged config.

    Raises:
        RegistryError: no such run, or the run logged no config.
    """
    run = registry.read_run(run_id)
    config = registry.run_config(run_id)
    if config is None:
        raise registry.RegistryError(
            f"run {run_id} has no {registry.CONFIG_ARTIFACT}: not a `tipscore train` run"
        )
    return Candidate(
        run_id, run.metrics, run.params, run.tags, config, config.registered_model
    )


def promote(
    run_id: str,
    force: bool = False,
    reason: str | None = None,
    audit_config: AuditConfig | None = None,
    shadow_rows: ShadowRows | None = None,
    require_shadow: bool = False,
    backtest_audit: Path | None = None,
) -> PromotionResult:
    """Check every gate; register and move ``champion`` when all pass (or when forced).

    ``shadow_rows`` reads the service's shadow answers for the ``shadow`` gate;
    ``require_shadow`` turns that gate on whatever the run's config says.
    ``backtest_audit``: an ``audit.json`` of pooled backtest predictions (or its folder)
    that the bias gate judges by instead of auditing the test window.

    Raises:
        ValueError: ``force`` without a reason; an unreadable backtest audit.
    """
    if force and not (reason and reason.strip()):
        raise ValueError(
            "--force needs --reason: a promotion past a failed gate must say why"
        )
    if backtest_audit is not None:
        read_backtest_audit(backtest_audit)  # refuse a bad file before any gate runs
    candidate = load_candidate(run_id)
    if backtest_audit is not None:
        candidate.extra["backtest_audit"] = backtest_audit
    if audit_config is not None:
        candidate.extra["audit_config"] = audit_config
    candidate.extra["shadow_rows"] = shadow_rows
    candidate.extra["require_shadow"] = require_shadow
    results = [gate(candidate) for gate in GATES]
    passed = all(r.passed for r in results)
    if not passed and not force:
        return PromotionResult(False, None, results, False)
    version = registry.register(run_id, candidate.registered_model)
    failed = ", ".join(r.gate for r in results if not r.passed)
    tags = {
        "promotion": "forced" if not passed else "gates passed",
        "gates_failed": failed or "none",
    }
    if force:
        tags["promotion_reason"] = reason or ""
    registry.tag_promotion(candidate.registered_model, version, run_id, tags)
    registry.set_champion(candidate.registered_model, version)
    return PromotionResult(True, version, results, force and not passed)
