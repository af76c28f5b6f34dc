"""The model card in words: every metric labelled, windows as dates, the audit's reference
groups beside the ratios, and a plain notice when the training history was synthetic."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from serving import model_card as card_module
from serving.card_audit import audit_card
from serving.card_text import METRICS, metric_rows
from serving.model_card import CARD_METRICS, training_data, training_windows
from training.audit.config import AuditConfig, Judge
from training.audit.disparity import _clean, judge_attribute, reference_of
from training.audit.metrics import group_table
from training.registry import RunRecord

CSAM, ENTICEMENT = "CSAM", "enticement"


def issue_like_audit() -> dict[str, Any]:
    """An ``audit.json`` as ``run_audit`` builds it, for one attribute (incident type).

    The reference group (CSAM, 97% of reports) has a P1 recall of 0.07, enticement is
    served just as poorly: nothing is flagged, yet the reference group is served badly.
    """
    spec = {
        CSAM: (7, 93, 50, 9_550),
        ENTICEMENT: (1, 9, 5, 285),
    }  # tp, fn, fp, tn at P1
    labels, y, p = [], [], []
    for group, (tp, fn, fp, tn) in spec.items():
        for flag, score, n in (
            (1, 0.5, tp),
            (1, 0.01, fn),
            (0, 0.5, fp),
            (0, 0.01, tn),
        ):
            labels += [group] * n
            y += [flag] * n
            p += [score] * n
    y_arr, p_arr, groups = np.array(y, bool), np.array(p), pd.Series(labels)
    cfg = AuditConfig(judge=[Judge(metric="recall_p1", min_ratio=0.5)], min_positives=5)
    table = group_table(y_arr, p_arr, (0.4, 0.2), groups, None, cfg.min_positives)
    arrays = {"y": y_arr, "sel1": p_arr >= 0.4, "sel12": p_arr >= 0.2}
    checked, too_few = judge_attribute(
        "incident_type", table, arrays, groups, cfg, np.random.default_rng(0)
    )
    reference = reference_of("incident_type", table, cfg)
    rows = [
        {"attribute": "incident_type", "group": str(g)}
        | {k: _clean(v) for k, v in values.items()}
        | {"reference": g == reference}
        for g, values in table.iterrows()
    ]
    return {
        "rows": len(y_arr),
        "positives": int(y_arr.sum()),
        "thresholds": {"p1": 0.4, "p2": 0.2},
        "flags": [c for c in checked if c["flagged"]],
        "checked": checked,
        "too_few_positives": too_few,
        "groups": rows,
        "calibration": {"ece": 0.0001, "ece_above_p2": 0.21, "bins": []},
    }


def test_every_card_metric_has_a_label_and_a_meaning() -> None:
    assert set(CARD_METRICS) <= set(METRICS)
    rows = metric_rows({key: 0.5 for key in CARD_METRICS})
    assert [r["key"] for r in rows] == [k for k in METRICS if k in CARD_METRICS]
    for row in rows:
        assert row["label"] != row["key"] and "_" not in row["label"]
        assert row["meaning"].endswith(".") and row["display"] != "–"
    labels = {r["key"]: r["label"] for r in rows}
    assert labels["test_pr_auc"] == "PR-AUC (test)"
    assert "P1 and P2" in labels["test_ece_above_p2"]


def test_rates_show_as_percentages_and_missing_as_a_dash() -> None:
    rows = {r["key"]: r for r in metric_rows({"test_p1_recall": 0.074})}
    assert rows["test_p1_recall"]["display"] == "7.4%"
    assert metric_rows({}) == []


def test_reference_groups_own_recall_sits_beside_a_clean_verdict() -> None:
    out = audit_card(issue_like_audit())
    assert out["verdict"] == "No group flagged"
    (ref,) = out["reference_groups"]
    assert ref["group"] == CSAM and ref["attribute_label"] == "incident type"
    assert ref["recall_p1"] == pytest.approx(0.07)
    assert ref["share_of_reports"] == pytest.approx(9_700 / 10_000)
    (caution,) = out["cautions"]
    assert "CSAM" in caution and "0.0700" in caution and "97.0%" in caution
    (comparison,) = out["comparisons"]
    assert comparison["metric_label"] == "P1 recall"
    assert comparison["reference_value"] == pytest.approx(0.07)
    assert comparison["group_value"] == pytest.approx(0.1)
    assert out["calibration"] == {"ece": 0.0001, "ece_above_p2": 0.21}


def test_a_well_served_reference_group_gets_no_caution() -> None:
    audit = issue_like_audit()
    for group in audit["groups"]:
        group["recall_p12"] = 0.9
    assert audit_card(audit)["cautions"] == []


def _run(tags: dict[str, str], metrics: dict[str, float] | None = None) -> RunRecord:
    params = {"split.train_rows": "600", "split.valid_rows": "200"}
    params |= {"split.test_rows": "200", "decision_files": "none"}
    return RunRecord("run-1", params, tags, metrics or {}, 0)


def test_synthetic_history_gets_a_plain_notice(monkeypatch: pytest.MonkeyPatch) -> None:
    logged = {"card_summary": {"rows": "1,000", "seed": "3"}}
    monkeypatch.setattr(card_module, "artifact_json", lambda run_id, path: logged)
    data = training_data(_run({"synthetic": "true", "synthetic_evidence": "card"}))
    assert data["synthetic"] is True
    assert data["notice"].startswith("Trained on synthetic data")
    assert data["dataset_card"] == {"rows": "1,000", "seed": "3"}
    real = training_data(_run({"synthetic": "false"}))
    assert real["synthetic"] is False and "not marked synthetic" in real["notice"]


def test_older_runs_fall_back_to_the_oracle_figures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(card_module, "artifact_json", lambda run_id, path: None)
    older = training_data(_run({}, {"oracle_test_reports": 200.0}))
    assert older["synthetic"] is True and "p_true" in older["evidence"]
    assert older["dataset_card"] == {}
    unknown = training_data(_run({}))
    assert unknown["synthetic"] is None and "did not record" in unknown["notice"]


def test_windows_are_dates() -> None:
    tags = {
        "train_window": "2023-01-01T00:00:00Z .. 2024-03-31T23:59:00Z",
        "test_window": "2024-09-01 00:03:00+00:00 .. 2024-12-31 23:00:00+00:00",
    }
    windows = {w["window"]: w for w in training_windows(_run(tags))}
    assert windows["train"] == {
        "window": "train",
        "label": "training",
        "from": "2023-01-01",
        "to": "2024-03-31",
        "reports": 600,
    }
    assert (windows["test"]["from"], windows["test"]["to"]) == (
        "2024-09-01",
        "2024-12-31",
    )
    assert windows["valid"]["from"] is None and windows["valid"]["reports"] == 200
