"""The model card of the served model, read from its MLflow run and registry version.

Besides the raw figures (``windows``, ``test_metrics``, ``bias_audit``, kept as they were)
the card carries the same facts in words for a person: the metrics with labels and
meanings, the windows as dates, the audit's reference groups beside its ratios, and a
plain notice when the training history was synthetic.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from serving.card_audit import audit_card
from serving.card_text import metric_rows
from serving.model_holder import Served
from serving.schemas import ModelCard
from serving.scoring import thresholds
from training.registry import RunRecord, RunUnavailable, artifact_json, read_run

CARD_METRICS = (
    "test_pr_auc",
    "test_roc_auc",
    "test_ece",
    "test_ece_above_p2",
    "test_p1_recall",
    "test_p1_precision",
    "test_p12_recall",
    "test_p12_precision",
    "test_p1_share",
    "test_p12_share",
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
    return summary | audit_card(audit)


WINDOWS = (("train", "training"), ("valid", "validation"), ("test", "test"))
SYNTHETIC_NOTICE = (
    "Trained on synthetic data: the history this model learned from was generated "
    "(tipscore generate), not real reports. Its figures describe how it does on that "
    "generated history; how it does on real reports is not known yet."
)


def _dates(span: str | None) -> tuple[str | None, str | None]:
    """``first .. last`` receipt timestamps (a run tag) as two dates (UTC)."""
    if not span or " .. " not in span:
        return None, None
    first, last = span.split(" .. ", 1)
    return first.strip()[:10], last.strip()[:10]


def training_windows(run: RunRecord) -> list[dict[str, Any]]:
    """Training, validation and test windows with their receipt dates and sizes."""
    out = []
    for name, label in WINDOWS:
        first, last = _dates(run.tags.get(f"{name}_window"))
        rows = run.params.get(f"split.{name}_rows")
        out.append(
            {
                "window": name,
                "label": label,
                "from": first,
                "to": last,
                "reports": int(rows) if rows is not None else None,
            }
        )
    return out


def _synthetic(run: RunRecord) -> tuple[bool | None, str | None]:
    """Whether the run says its history was synthetic, and why (older runs: p_true)."""
    flag = run.tags.get("synthetic")
    if flag in ("true", "false"):
        return flag == "true", run.tags.get("synthetic_evidence")
    if run.metrics.get("oracle_test_reports", 0) > 0:
        return (
            True,
            "the run compared the model with p_true, which only generated histories have",
        )
    return None, None


def training_data(run: RunRecord) -> dict[str, Any]:
    """Synthetic or not, in a sentence, with the dataset card's summary when logged."""
    synthetic, evidence = _synthetic(run)
    decisions = run.params.get("decision_files", "none")
    out: dict[str, Any] = {
        "synthetic": synthetic,
        "evidence": evidence,
        "data_path": run.params.get("data_path"),
        "decision_files": None if decisions == "none" else decisions,
    }
    if synthetic:
        notice = SYNTHETIC_NOTICE
        if out["decision_files"]:
            notice += " Analysts' recorded decisions were added to it."
        logged = artifact_json(run.run_id, "data_provenance.json") or {}
        out["dataset_card"] = logged.get("card_summary") or {}
    elif synthetic is False:
        notice = "Trained on a history that is not marked synthetic."
    else:
        notice = "This run did not record whether its training history was synthetic."
    return out | {"notice": notice}


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
    test_metrics = {k: metrics[k] for k in CARD_METRICS if k in metrics}
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
        test_metrics=test_metrics,
        bias_audit=_audit_summary(run),
        training_data=training_data(run),
        training_windows=training_windows(run),
        metrics=metric_rows(test_metrics),
    )
