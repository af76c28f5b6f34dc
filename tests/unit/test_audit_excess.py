"""Issue 19's audit on synthetic prediction frames whose truth is known.

A disparity is flagged only in excess of what the reference model and the oracle show on
the same rows; undefined and infinite figures print as such; nothing warns; the detectable
ratio moves toward parity as positives grow; pooled predictions are audited from a folder.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tipscore.cli import app
from training.audit.config import AuditConfig, Judge
from training.audit.disparity import judge_attribute, ratio_interval
from training.audit.groups import PREDICTION_GROUP_COLUMNS
from training.audit.metrics import group_table
from training.audit.predictions import (
    AUDIT_COLUMNS,
    PREDICTION_COLUMNS,
    PredictionsError,
    audited,
    load_predictions,
    read_backtest_audit,
)
from training.audit.reference import HIDDEN_COLUMNS, hidden, training_rows
from training.audit.report import flag_summary, render_html, summary_rows, text_table
from training.audit.stats import (
    cells,
    detectable_ratio,
    draw,
    metric_from_cells,
    quantiles,
    ratio,
    z_value,
)
from training.audit.window import audit_frame
from training.promote import _backtest_gate

CFG = AuditConfig(
    judge=[Judge(metric="recall_p12", min_ratio=0.8)],
    references={"jurisdiction": "AA"},
    bootstrap=400,
)


def _country(
    rng: np.random.Generator,
    code: str,
    rows: int,
    high_share: float,
    low_p: float,
    model_recall: float = 0.95,
) -> pd.DataFrame:
    """Reports of one country with known ``p_true``; queues built from it.

    ``high_share`` of the reports have p_true 0.65 (the oracle's P1 queue at the 0.6
    threshold), the rest ``low_p`` (never queued by the oracle). The reference model
    queues the high ones as the oracle does (95%); the audited model queues them with
    ``model_recall`` (0.95: as well as the reference; lower: it neglects the country).
    """
    high = rng.random(rows) < high_share
    p_true = np.where(high, 0.65, low_p)
    label = rng.random(rows) < p_true
    model = high & (rng.random(rows) < model_recall)
    reference = high & (rng.random(rows) < 0.95)
    return pd.DataFrame(
        {
            "report_id": [f"{code}-{i}" for i in range(rows)],
            "period": np.where(np.arange(rows) % 2 == 0, "2024-05", "2024-06"),
            "probability": np.where(model, 0.6, 0.01),
            "priority": np.where(model, 1, 3),
            "label": label,
            "p_true": p_true,
            "esp_name": "Facebook",
            "country": code,
            "incident_type": "CSAM",
            "completeness": "user id",
            "files_viewed": "all viewed",
            "bundled": "single",
            "reference_priority": np.where(reference, 1, 3),
        }
    )


def _frame(seed: int = 0) -> pd.DataFrame:
    """AA: the reference. BB: the model recalls it at 0.45 of AA's rate (its fault).
    CC: its escalations carry less information (most come from low-p_true reports), so
    the oracle and the reference model recall fewer of them too (not the model's fault)."""
    rng = np.random.default_rng(seed)
    return pd.concat(
        [
            _country(rng, "AA", 15_000, 0.05, 0.005),
            _country(rng, "BB", 6_000, 0.05, 0.005, model_recall=0.95 * 0.45),
            _country(rng, "CC", 6_000, 0.02, 0.02),
        ],
        ignore_index=True,
    )


def _by_group(result: dict, group: str) -> dict:  # type: ignore[type-arg]
    return next(
        c
        for c in result["checked"]
        if c["attribute"] == "jurisdiction" and c["group"] == group
    )


@pytest.fixture(scope="module")
def result() -> dict:  # type: ignore[type-arg]
    rows, _ = audited(_frame())
    return audit_frame(rows, CFG)


def test_columns_are_public_and_ordered() -> None:
    assert PREDICTION_COLUMNS == (
        "report_id",
        "period",
        "probability",
        "priority",
        "label",
        "p_true",
    )
    assert AUDIT_COLUMNS == PREDICTION_COLUMNS + PREDICTION_GROUP_COLUMNS


def test_injected_under_recall_is_flagged(result: dict) -> None:  # type: ignore[type-arg]
    row = _by_group(result, "BB")
    assert row["ratio"] == pytest.approx(0.45, abs=0.06)
    assert row["ci_high"] < 1.0 and row["flagged"]
    for name in ("reference_model", "oracle"):
        comparison = row["comparisons"][name]
        assert comparison["ratio"] == pytest.approx(1.0, abs=0.1)
        assert comparison["excess_ci_high"] < 1.0 and comparison["exceeds"]
    assert result["compared_with"] == ["oracle", "reference_model"]


def test_lower_recall_shared_by_oracle_and_reference_is_not_flagged(
    result: dict,  # type: ignore[type-arg]
) -> None:
    row = _by_group(result, "CC")
    # the model's recall of CC is far below AA's, as it would have been flagged before
    assert row["ratio"] < 0.8 and row["ci_high"] < 1.0 and row["disparity"]
    # ... but the oracle and the reference model show the same ratio: not the model's
    assert row["comparisons"]["oracle"]["ratio"] < 0.8
    assert row["comparisons"]["reference_model"]["ratio"] < 0.8
    assert not row["flagged"]
    assert {f["group"] for f in result["flags"]} == {"BB"}
    status = {r["group"]: r["status"] for r in summary_rows(result)}
    assert status["CC"] == "shared with reference model and oracle (not flagged)"


def test_a_group_no_model_could_recall_is_not_flagged() -> None:
    """DD's escalations all come from reports below every queue's threshold: the model,
    the reference model and the oracle queue none of them (ratio 0 for all three).

    An independent generator's fair history had such a country (IN, 0 of 31 escalations
    in P1): its excesses, 0 / 0, were left out as undefined, no comparator was left, and
    the plain rule flagged it on a degenerate [0, 0] interval.
    """
    rng = np.random.default_rng(3)
    frame = pd.concat(
        [_frame(), _country(rng, "DD", 3_000, 0.0, 0.012)], ignore_index=True
    )
    rows, _ = audited(frame)
    row = _by_group(audit_frame(rows, CFG), "DD")
    assert row["positives"] >= 30 and row["ratio"] == 0.0
    assert {c["ratio"] for c in row["comparisons"].values()} == {0.0}
    assert [c["exceeds"] for c in row["comparisons"].values()] == [False, False]
    assert not row["flagged"]


def test_a_share_of_zero_has_an_honest_interval() -> None:
    """0 of 31 escalations queued against 3 of 150: no evidence of a disparity."""
    group = np.array([0, 31, 0, 1_000])  # tp, fn, fp, tn
    reference = np.array([3, 147, 0, 5_000])
    point, low, high = ratio_interval(
        "recall_p1", group, reference, CFG, np.random.default_rng(0)
    )
    assert point == 0.0 and low == 0.0
    assert high > 1.0  # the bootstrap alone gave [0, 0]
    # away from the boundary the bootstrap interval stands as it was: the same draws
    # through the same quantiles, not widened
    inner_group = np.array([10, 21, 0, 1_000])
    inner = ratio_interval(
        "recall_p1", inner_group, reference, CFG, np.random.default_rng(0)
    )
    rng = np.random.default_rng(0)
    ours, theirs = (draw(c, CFG.bootstrap, rng) for c in (inner_group, reference))
    plain = quantiles(
        ratio(
            metric_from_cells("recall_p1", ours), metric_from_cells("recall_p1", theirs)
        ),
        CFG.confidence,
    )
    assert inner[1:] == plain


def test_without_comparators_the_case_mix_is_flagged_as_before() -> None:
    rows, _ = audited(_frame())
    plain = audit_frame(rows, CFG.model_copy(update={"compare_with": []}))
    assert {f["group"] for f in plain["flags"]} == {"BB", "CC"}


def test_undefined_and_infinite_print_forms() -> None:
    labels = np.array(["A"] * 200 + ["B"] * 100 + ["C"] * 100)
    y = np.ones(400, bool)
    y[::10] = False
    selected = np.zeros(400, bool)
    selected[[1, 2]] = True  # the reference A recalls 2 of 180 escalations
    selected[200:250] = True  # B: about half
    groups = pd.Series(labels)
    cfg = AuditConfig(
        judge=[Judge(metric="recall_p12", min_ratio=0.8)],
        references={"esp": "A"},
        min_positives=5,
    )
    p = np.where(selected, 0.5, 0.01)
    table = group_table(y, p, (0.9, 0.1), groups, None, 5)
    arrays = {"y": y, "sel1": p >= 0.9, "sel12": selected}
    checked, _ = judge_attribute(
        "esp", table, arrays, groups, cfg, np.random.default_rng(0)
    )
    b = next(c for c in checked if c["group"] == "B")
    assert b["infinite"] == ["ci_high"] and b["ci_high"] is None
    zero = np.zeros(400, bool)
    undefined, _ = judge_attribute(
        "esp", table, arrays | {"sel12": zero}, groups, cfg, np.random.default_rng(0)
    )
    result = {"checked": checked + undefined, "too_few_positives": []}
    text = text_table(summary_rows(result))
    b_line = next(line for line in text.splitlines() if line.split()[1] == "B")
    assert "∞]" in b_line
    undefined_lines = [line for line in text.splitlines()[1:] if "undefined" in line]
    assert len(undefined_lines) == 2  # B and C against a reference recalling nothing
    for line in undefined_lines:
        assert line.rstrip().endswith("undefined") and " ok" not in line
    assert "–" not in text


def test_nothing_warns_on_degenerate_groups(recwarn: pytest.WarningsRecorder) -> None:
    frame = _frame().iloc[:12_000].copy()
    frame.loc[frame.index[:50], "country"] = "ZZ"  # a handful, maybe no escalation
    frame.loc[frame.index[:50], "label"] = False
    frame.loc[frame.index[50:80], "incident_type"] = "enticement"
    frame.loc[frame.index[50:80], "label"] = True  # no negatives at all
    frame.loc[frame.index[80:100], "country"] = None
    frame["priority"] = np.where(frame["priority"] == 1, 2, 3)  # empty P1 queue
    cfg = CFG.model_copy(
        update={
            "judge": [Judge(metric=m) for m in ("recall_p1", "recall_p12")]
            + [Judge(metric="fpr_p1", max_ratio=1.25)],
            "min_positives": 1,
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rows, _ = audited(frame)
        result = audit_frame(rows, cfg)
        text_table(summary_rows(result))
        render_html(result | {"attribution": None})
        json.dumps(result, allow_nan=False)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_detectable_ratio_moves_toward_parity_as_positives_grow() -> None:
    z = z_value(0.95, 0.5)
    reference = np.array([800, 200, 0, 10_000])  # recall 0.8 on 1,000 escalations
    found = []
    for positives in (30, 100, 300, 1_000, 10_000):
        group = np.array([positives // 2, positives - positives // 2, 0, 10_000])
        found.append(detectable_ratio("recall_p12", group, reference, z))
    # the smallest detectable disparity (1 - ratio) shrinks as positives grow
    distances = [1 - r for r in found]
    assert distances == sorted(distances, reverse=True)
    assert len(set(distances)) == len(distances)
    assert 0.15 < distances[0] < 0.6 and distances[-1] < 0.1
    tiny = np.array([0, 4, 0, 100])
    assert np.isnan(detectable_ratio("recall_p12", tiny, reference, z))


def test_detectable_ratio_is_where_the_bootstrap_bound_reaches_parity() -> None:
    reference = np.array([1_600, 400, 0, 50_000])  # recall 0.8
    positives = 400
    mdr = detectable_ratio("recall_p12", np.array([200, 200, 0, 9]), reference, 1.96)
    tp = round(mdr * 0.8 * positives)
    group = np.array([tp, positives - tp, 0, 10_000])
    cfg = AuditConfig(bootstrap=4_000)
    _, _, high = ratio_interval(
        "recall_p12", group, reference, cfg, np.random.default_rng(3)
    )
    assert high == pytest.approx(1.0, abs=0.03)


def test_pooling_small_countries_by_region() -> None:
    frame = _frame()
    rng = np.random.default_rng(5)
    small = frame.sample(1_500, random_state=1).index
    frame.loc[small, "country"] = rng.choice(["BD", "PK"], size=len(small))
    frame.loc[frame.sample(100, random_state=2).index, "country"] = "NP"
    cfg = CFG.model_copy(
        update={"pool": {"jurisdiction": "small"}, "min_positives": 40}
    )
    rows, _ = audited(frame)
    result = audit_frame(rows, cfg)
    groups = {g["group"] for g in result["groups"] if g["attribute"] == "jurisdiction"}
    assert "NP" not in groups and "other South Asia" in groups
    assert {"AA", "BB", "CC"} <= groups
    regional = audit_frame(
        rows,
        cfg.model_copy(
            update={
                "pool": {"jurisdiction": "region"},
                "references": {"jurisdiction": "other international"},
            }
        ),
    )
    named = {g["group"] for g in regional["groups"] if g["attribute"] == "jurisdiction"}
    assert named == {"South Asia", "other international"}


def test_bad_pool_is_named() -> None:
    with pytest.raises(ValueError, match="pools only jurisdiction"):
        AuditConfig(pool={"esp": "region"})
    with pytest.raises(ValueError, match="unknown attribute"):
        AuditConfig(pool={"country": "small"})


def test_predictions_are_validated(tmp_path: Path) -> None:
    with pytest.raises(PredictionsError, match="no Parquet"):
        load_predictions(tmp_path / "none")
    frame = _frame().drop(columns=["country"])
    frame.to_parquet(tmp_path / "part-0.parquet")
    with pytest.raises(PredictionsError, match=r"missing column\(s\) \['country'\]"):
        load_predictions(tmp_path)


def test_cli_audits_pooled_predictions_and_the_gate_reads_them(tmp_path: Path) -> None:
    folder = tmp_path / "predictions"
    folder.mkdir()
    frame = _frame()
    for i, (_, part) in enumerate(frame.groupby("period")):
        part.drop(columns=["reference_priority"]).to_parquet(folder / f"p{i}.parquet")
    config = tmp_path / "audit.toml"
    config.write_text(
        '[[judge]]\nmetric = "recall_p12"\n[references]\njurisdiction = "AA"\n'
    )
    out = tmp_path / "audit"
    args = ["audit", "--predictions", str(folder), "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--config", str(config), "--fail-on-flag"])
    assert result.exit_code == 1, result.output
    assert "2 periods of pooled predictions" in result.stdout
    assert "disparities compared with: oracle" in result.stdout
    assert "flagged: jurisdiction=BB [recall_p12]" in result.stderr
    gate = _backtest_gate(out)
    assert not gate.passed and "jurisdiction=BB [recall_p12]" in gate.detail
    saved = json.loads((out / "audit.json").read_text())
    assert saved["meta"]["source"] == "predictions" and saved["attribution"] is None
    both = CliRunner().invoke(app, [*args, "--data", str(folder)])
    assert both.exit_code == 2 and "--predictions" in both.output


def test_gate_refuses_a_window_audit(tmp_path: Path) -> None:
    (tmp_path / "audit.json").write_text(json.dumps({"meta": {"source": "window"}}))
    with pytest.raises(ValueError, match="not an audit of pooled predictions"):
        read_backtest_audit(tmp_path)


def test_flag_summary_names_each_once() -> None:
    flags = [
        {"attribute": "jurisdiction", "group": "IN", "metric": "recall_p1"},
        {"attribute": "jurisdiction", "group": "IN", "metric": "recall_p12"},
        {"attribute": "jurisdiction", "group": "PK", "metric": "recall_p12"},
        {"attribute": "esp", "group": "X", "metric": "recall_p12"},
    ]
    assert flag_summary(flags) == (
        "jurisdiction=IN [recall_p1, recall_p12], PK [recall_p12]; esp=X [recall_p12]"
    )


def test_reference_model_never_sees_platform_or_location() -> None:
    matrix = np.ones((3, 65))
    blind = hidden(matrix)
    assert np.isnan(blind[:, list(HIDDEN_COLUMNS)]).all()
    assert len(HIDDEN_COLUMNS) == 4 and matrix.sum() == 3 * 65  # input untouched
    labels = np.zeros(1_000, bool)
    labels[::100] = True
    rows = training_rows(labels, slice(0, 1_000), 200, seed=1)
    assert len(rows) == 200 and labels[rows].sum() == 10
    assert (np.diff(rows) > 0).all()
    assert cells(labels, labels).tolist() == [10, 0, 0, 990]


def test_promote_refuses_an_unreadable_backtest_audit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    args = ["promote", "--run", "abc", "--backtest-audit", str(tmp_path / "none")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "cannot read the backtest audit" in result.stderr
