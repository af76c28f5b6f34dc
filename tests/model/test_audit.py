"""The bias audit on trained models: a label-biased region is flagged, a fair history is not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from tests.model.conftest import Trained
from tipscore.cli import app
from training import registry
from training.audit.config import load_audit_config
from training.audit.job import AuditOutcome, audit_model


def _audit(model: Trained, out: Path) -> AuditOutcome:
    registry.configure(model.store)
    return audit_model(
        model.result.model_uri, model.data, load_audit_config(), out, reuse=True
    )


@pytest.fixture(scope="module")
def fair_audit(
    trained: Trained, tmp_path_factory: pytest.TempPathFactory
) -> AuditOutcome:
    return _audit(trained, tmp_path_factory.mktemp("fair-audit"))


@pytest.fixture(scope="module")
def biased_audit(
    biased: Trained, tmp_path_factory: pytest.TempPathFactory
) -> AuditOutcome:
    return _audit(biased, tmp_path_factory.mktemp("biased-audit"))


def _group(result: dict[str, Any], attribute: str, group: str) -> dict[str, Any]:
    return next(
        g
        for g in result["groups"]
        if g["attribute"] == attribute and g["group"] == group
    )


def test_knob_off_nothing_is_flagged(fair_audit: AuditOutcome) -> None:
    result = fair_audit.result
    assert result["flags"] == []
    # not vacuous: groups were judged on both queues, and small ones were set aside
    assert {c["metric"] for c in result["checked"]} == {"recall_p1", "recall_p12"}
    assert len(result["checked"]) >= 20
    assert result["too_few_positives"]


def test_small_groups_are_reported_too_few_never_flagged(
    fair_audit: AuditOutcome,
) -> None:
    result = fair_audit.result
    judged = {(c["attribute"], c["group"]) for c in result["checked"]}
    small = [
        g for g in result["groups"] if 0 < g["positives"] < 30 and not g["reference"]
    ]
    assert small, "the default history has groups with a handful of escalations"
    too_few = {(t["attribute"], t["group"]) for t in result["too_few_positives"]}
    for group in small:
        key = (group["attribute"], group["group"])
        assert key in too_few and key not in judged
        assert group["pr_auc"] is None  # not computed on a handful of positives


def test_label_biased_region_is_flagged_on_recall(biased_audit: AuditOutcome) -> None:
    flags = biased_audit.result["flags"]
    india = [
        f for f in flags if f["attribute"] == "jurisdiction" and f["group"] == "IN"
    ]
    assert india, flags
    assert all(f["metric"].startswith("recall") for f in india)
    assert all(f["ci_high"] < 1.0 and f["ratio"] < 0.8 for f in india)
    other_countries = {
        f["group"] for f in flags if f["attribute"] == "jurisdiction"
    } - {"IN"}
    assert other_countries == set()


def test_truth_view_shows_the_labels_are_biased(biased_audit: AuditOutcome) -> None:
    result = biased_audit.result
    assert result["has_truth"]
    india = _group(result, "jurisdiction", "IN")
    reference = next(
        g
        for g in result["groups"]
        if g["attribute"] == "jurisdiction" and g["reference"]
    )
    # labels escalate India at ~0.3 of its true rate; the reference's labels match truth
    assert 0.15 < india["label_rate_over_truth"] < 0.5
    assert 0.85 < reference["label_rate_over_truth"] < 1.15
    # and the model learned it: it predicts India far below its true rate
    assert india["mean_predicted"] < 0.6 * india["mean_p_true"]
    assert india["truth_recall_p12"] < reference["truth_recall_p12"]


def test_audit_files_are_logged_and_self_contained(
    biased: Trained, biased_audit: AuditOutcome
) -> None:
    saved = json.loads(biased_audit.json_path.read_text())
    for flag in saved["flags"]:
        assert {"attribute", "group", "metric", "ratio", "ci_low", "ci_high"} <= set(
            flag
        )
    assert saved["groups"] and "recall_p12" in saved["groups"][0]
    page = biased_audit.html_path.read_text()
    assert "data:image/png;base64," in page
    assert "http://" not in page and "https://" not in page and "<script" not in page
    registry.configure(biased.store)
    logged = {
        a.path for a in MlflowClient().list_artifacts(biased.result.run_id, "audit")
    }
    assert logged == {"audit/audit.json", "audit/audit.html"}
    run = MlflowClient().get_run(biased.result.run_id)
    assert run.data.metrics["audit_flags"] == len(saved["flags"])


def test_cli_audit_prints_summary_and_fails_on_flag(
    biased: Trained, tmp_path: Path
) -> None:
    registry.configure(biased.store)
    args = ["audit", "--model", f"runs:/{biased.result.run_id}/model"]
    args += ["--data", str(biased.data), "--out", str(tmp_path / "audit")]
    result = CliRunner().invoke(app, [*args, "--fail-on-flag"])
    assert result.exit_code == 1, result.output
    assert "FLAGGED" in result.stdout and "jurisdiction" in result.stdout
    assert "jurisdiction=IN" in result.stderr
    assert (tmp_path / "audit" / "audit.html").is_file()


def test_promote_refuses_a_flagged_model_unless_forced(
    biased: Trained, own_store: str
) -> None:
    run_id = biased.result.run_id
    refused = CliRunner().invoke(app, ["promote", "--run", run_id])
    assert refused.exit_code == 1, refused.output
    assert "[FAIL] bias_audit: flagged:" in refused.stdout
    assert "jurisdiction=IN" in refused.stdout
    reason = "IN labels under review; audit accepted by the safeguarding lead"
    forced = CliRunner().invoke(
        app, ["promote", "--run", run_id, "--force", "--reason", reason]
    )
    assert forced.exit_code == 0, forced.output
    client = MlflowClient()
    version = client.get_model_version_by_alias("tip-escalation", "champion")
    assert version.tags["promotion_reason"] == reason
    assert "bias_audit" in version.tags["gates_failed"]
    assert client.get_run(run_id).data.tags["promotion_reason"] == reason
