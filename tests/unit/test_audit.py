"""Bias-audit pieces on hand-made data: group metrics, intervals, judging, config, page."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from training.audit.config import AuditConfig, Judge, load_audit_config
from training.audit.disparity import _cells, judge_attribute, ratio_interval
from training.audit.metrics import group_table
from training.audit.report import render_html, summary_rows, text_table
from training.registry import resolve_model

RNG = np.random.default_rng(0)


def _population(spec: dict[str, tuple[int, int, int, int]]) -> tuple[np.ndarray, ...]:
    """Rows per group from confusion cells (tp, fn, fp, tn) at the P1+P2 queue."""
    labels, y, selected = [], [], []
    for group, (tp, fn, fp, tn) in spec.items():
        for flag, chosen, n in ((1, 1, tp), (1, 0, fn), (0, 1, fp), (0, 0, tn)):
            labels += [group] * n
            y += [flag] * n
            selected += [chosen] * n
    return np.array(labels), np.array(y, bool), np.array(selected, bool)


def _judge(spec: dict[str, tuple[int, int, int, int]], cfg: AuditConfig):  # type: ignore[no-untyped-def]
    labels, y, selected = _population(spec)
    groups = pd.Series(labels)
    p = np.where(selected, 0.5, 0.01)
    table = group_table(y, p, (0.9, 0.1), groups, None, cfg.min_positives)
    arrays = {"y": y, "sel1": p >= 0.9, "sel12": selected}
    return judge_attribute("esp", table, arrays, groups, cfg, np.random.default_rng(1))


CFG = AuditConfig(
    judge=[Judge(metric="recall_p12", min_ratio=0.8)], references={"esp": "A"}
)


def test_group_table_matches_hand_counts() -> None:
    y = np.array([1, 1, 0, 0, 1, 0, 0, 0], bool)
    p = np.array([0.9, 0.2, 0.6, 0.1, 0.05, 0.7, 0.01, 0.02])
    truth = np.array([0.8, 0.4, 0.2, 0.0, 0.5, 0.3, 0.1, 0.0])
    groups = pd.Series(list("AAAABBBB"))
    table = group_table(y, p, (0.8, 0.5), groups, truth, min_positives=1)
    a, b = table.loc["A"], table.loc["B"]
    assert (a["size"], a["positives"], a["prevalence"]) == (4, 2, 0.5)
    assert a["mean_predicted"] == pytest.approx(0.45)
    assert a["recall_p1"] == 0.5 and a["recall_p12"] == 0.5
    assert a["fpr_p12"] == 0.5 and a["precision_p12"] == 0.5
    assert a["selection_rate_p12"] == 0.5
    assert b["recall_p12"] == 0.0 and b["fpr_p12"] == pytest.approx(1 / 3)
    assert math.isnan(b["precision_p1"])  # none selected: undefined, not zero
    # truth view: expected recall of true escalations in the P1+P2 queue
    assert a["truth_recall_p12"] == pytest.approx((0.8 + 0.2) / 1.4)
    assert a["mean_p_true"] == pytest.approx(0.35)
    assert a["label_rate_over_truth"] == pytest.approx(0.5 / 0.35)
    assert b["truth_recall_p12"] == pytest.approx(0.3 / 0.9)


def test_undefined_rates_are_nan_not_zero() -> None:
    y = np.array([0, 0, 1], bool)
    groups = pd.Series(["none", "none", "some"])
    table = group_table(y, np.array([0.9, 0.1, 0.9]), (0.5, 0.2), groups, None, 1)
    assert math.isnan(table.loc["none", "recall_p12"])
    assert math.isnan(table.loc["some", "fpr_p12"])


def test_ratio_interval_brackets_the_point() -> None:
    group, reference = np.array([40, 60, 10, 890]), np.array([90, 10, 10, 890])
    ratio, low, high = ratio_interval("recall_p12", group, reference, CFG, RNG)
    assert ratio == pytest.approx(0.4 / 0.9)
    assert low < ratio < high < 1.0
    same = ratio_interval("recall_p12", reference, reference, CFG, RNG)
    assert same[1] < 1.0 < same[2]


def test_cells_order() -> None:
    y = np.array([1, 1, 0, 0, 0], bool)
    s = np.array([1, 0, 1, 0, 0], bool)
    assert _cells(y, s).tolist() == [1, 1, 1, 2]


def test_clear_disparity_is_flagged() -> None:
    checked, too_few = _judge(
        {"A": (190, 10, 50, 5000), "B": (100, 100, 50, 5000)}, CFG
    )
    assert too_few == []
    (row,) = checked
    assert row["group"] == "B" and row["flagged"]
    assert row["ratio"] == pytest.approx(0.5 / 0.95)
    assert row["ci_high"] < 1.0


def test_beyond_bound_but_interval_includes_parity_is_not_flagged() -> None:
    cfg = CFG.model_copy(update={"min_positives": 5})
    checked, _ = _judge({"A": (9, 1, 5, 500), "B": (7, 3, 5, 500)}, cfg)
    (row,) = checked
    assert row["ratio"] < 0.8
    assert row["ci_high"] >= 1.0
    assert not row["flagged"]


def test_handful_of_positives_is_too_few_never_flagged() -> None:
    checked, too_few = _judge({"A": (190, 10, 50, 5000), "B": (0, 4, 50, 5000)}, CFG)
    assert checked == []
    assert too_few == [
        {
            "attribute": "esp",
            "group": "B",
            "metric": "recall_p12",
            "positives": 4,
            "reference_positives": 200,
            # issue 19: every group not judged says what it could have detected;
            # 4 escalations cannot detect any ratio, not even 0
            "detectable_ratio": None,
        }
    ]


def test_missing_reference_is_reported() -> None:
    cfg = CFG.model_copy(update={"references": {"esp": "nobody"}})
    checked, too_few = _judge({"A": (190, 10, 50, 5000)}, cfg)
    assert checked == [] and "'nobody' not present" in too_few[0]["reason"]


def test_shipped_config_loads() -> None:
    cfg = load_audit_config()
    assert {j.metric for j in cfg.judge} == {"recall_p1", "recall_p12"}
    assert cfg.references["jurisdiction"] == "largest"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[references]\nregion = "US"', "unknown attribute(s) ['region']"),
        ('[[judge]]\nmetric = "accuracy"', "judge.0.metric"),
        ("judge = []", "at least one [[judge]]"),
        ("min_positives = 0", "min_positives"),
        ("window = 'train'", "window"),
    ],
)
def test_bad_config_is_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "audit.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=re.escape(message)):
        load_audit_config(path)


def _result(group: str) -> dict:  # type: ignore[type-arg]
    row = {
        "attribute": "esp",
        "group": group,
        "metric": "recall_p12",
        "reference": "A",
        "ratio": 0.5,
        "ci_low": 0.3,
        "ci_high": 0.7,
        "min_ratio": 0.8,
        "flagged": True,
    }
    groups = [
        {"attribute": "esp", "group": g, "reference": g == "A", "size": 10.0}
        for g in ("A", group)
    ]
    return {
        "rows": 20,
        "positives": 4,
        "thresholds": {"p1": 0.5, "p2": 0.1},
        "has_truth": False,
        "flags": [row],
        "checked": [row],
        "too_few_positives": [],
        "groups": groups,
        "attribution": {
            "overall_share": 0.1,
            "rows": 20,
            "features": ["esp"],
            "by_group": {},
        },
    }


def test_page_escapes_group_names_and_inlines_plots() -> None:
    page = render_html(_result("<script>alert(1)</script>"))
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert "data:image/png;base64," in page
    assert "1 group flagged" in page


def test_summary_table_marks_flags() -> None:
    text = text_table(summary_rows(_result("B")))
    assert "FLAGGED" in text and "[0.30, 0.70]" in text


def test_run_is_resolved_from_run_uri() -> None:
    assert resolve_model("runs:/abc123/model").run_id == "abc123"
    assert resolve_model("/tmp/some/model").run_id is None


def test_every_group_metric_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "bias-audit.md").read_text()
    y = np.array([1, 0, 1, 0], bool)
    table = group_table(
        y, np.full(4, 0.5), (0.6, 0.4), pd.Series(list("AABB")), np.full(4, 0.3), 1
    )
    for column in table.columns:
        assert f"`{column}`" in doc, column


def test_cli_audit_rejects_a_bad_config_and_an_unknown_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from tipscore.cli import app

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    bad = tmp_path / "audit.toml"
    bad.write_text("bootstrap = 3")
    args = [
        "audit",
        "--model",
        "runs:/nope/model",
        "--data",
        str(tmp_path / "h.parquet"),
    ]
    args += ["--out", str(tmp_path / "out")]
    result = CliRunner().invoke(app, [*args, "--config", str(bad)])
    assert result.exit_code == 2 and "bootstrap" in result.output
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "cannot load runs:/nope/model" in result.stderr


def test_zero_reference_metric_is_undefined_not_flagged() -> None:
    cfg = AuditConfig(
        judge=[Judge(metric="fpr_p12", max_ratio=1.25)], references={"esp": "A"}
    )
    assert cfg.judge[0].min_ratio is None  # only max_ratio given: one-sided
    checked, _ = _judge({"A": (190, 10, 0, 5000), "B": (150, 50, 40, 5000)}, cfg)
    (row,) = checked
    assert row["ratio"] is None and not row["flagged"]


def test_fpr_judge_flags_only_the_side_it_names() -> None:
    cfg = AuditConfig(
        judge=[Judge(metric="fpr_p12", max_ratio=1.25)], references={"esp": "A"}
    )
    checked, _ = _judge(
        {
            "A": (190, 10, 500, 5000),
            "B": (150, 50, 100, 5000),
            "C": (150, 50, 1500, 5000),
        },
        cfg,
    )
    flagged = {c["group"] for c in checked if c["flagged"]}
    assert flagged == {"C"}
