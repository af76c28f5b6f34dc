"""The model card of the served model, read from its MLflow run and registry version."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from serving.model_holder import Served
from serving.schemas import ModelCard
from serving.scoring import thresholds
from training.registry import RunRecord, RunUnavailable, artifact_json, read_run

CARD_METRICS = (
    "test_pr_auc",
    "test_roc_auc",
    "test_ece",
    "test_p1_recall",
    "test_p1_precision",
    "test_p12_recall",
    "test_pr_auc_ratio_to_oracle",
    "baseline_rules_test_pr_auc",
    "baseline_logreg_test_pr_auc",
)


def _audit_summary(run: RunRecord) -> dict[str, Any]:
    tags = run.tags
    summary: dict[str, Any] = {
        "status": tags.get("audit", "not audited"),
        "flags": int(run.metrics.get("audit_flags", 0)),
        "promotion": tags.get("promotion"),
        "promotion_reason": tags.get("promotion_reason"),
    }
    audit = artifact_json(run.run_id, "audit/audit.json")
    if audit is None:
        return summary
    summary["flagged_groups"] = [
        {
            k: f[k]
            for k in ("attribute", "group", "metric", "ratio", "ci_low", "ci_high")
        }
        for f in audit["flags"]
    ]
    summary["groups_judged"] = len(audit["checked"])
    summary["groups_too_small"] = len(audit["too_few_positives"])
    return summary


def model_card(served: Served) -> ModelCard:
    """Version, training run, window, test metrics and bias audit of the served model."""
    base: dict[str, Any] = {
        "model_name": served.name,
        "model_version": served.version,
        "model_uri": served.uri,
        "run_id": served.run_id,
        "thresholds": thresholds(served),
        "feature_spec_version": served.model.spec_version,
    }
    if served.run_id is None:
        return ModelCard(
            **base,
            trained_at=None,
            data_sha256=None,
            windows={},
            test_metrics={},
            bias_audit={"status": "unknown: no run"},
        )
    try:
        run = read_run(served.run_id)
    except RunUnavailable as exc:
        return ModelCard(
            **base,
            trained_at=None,
            data_sha256=None,
            windows={},
            test_metrics={},
            bias_audit={"status": f"unknown: run unavailable ({exc.code})"},
        )
    params, tags, metrics = run.params, run.tags, run.metrics
    return ModelCard(
        **base,
        trained_at=datetime.fromtimestamp(run.start_time_ms / 1000, UTC).isoformat(),
        data_sha256=tags.get("data_sha256"),
        windows={
            "rows": {
                k.removeprefix("split.").removesuffix("_rows"): int(v)
                for k, v in params.items()
                if k.startswith("split.") and k.endswith("_rows")
            },
            "test_window": tags.get("test_window"),
            "data_path": params.get("data_path"),
        },
        test_metrics={k: metrics[k] for k in CARD_METRICS if k in metrics},
        bias_audit=_audit_summary(run),
    )
