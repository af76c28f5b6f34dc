"""The ``label_rate`` judge on synthetic labels whose answer is known.

A group whose escalations are recorded at half their true rate is flagged; a fair group
whose reports carry little information is not; a recording rate the whole history shares
flags nobody; the interval is exact and simultaneous over the family; groups with too few
expected escalations are reported with what they could have detected; without ``p_true``
the audit says it cannot judge; pooled predictions are judged end to end.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import beta

from training.audit.config import DEFAULT_AUDIT_CONFIG, AuditConfig, Judge
from training.audit.groups import ATTRIBUTES
from training.audit.label_rate import (
    REST,
    detectable,
    judge_groups,
    level,
    rate_ratio,
)
from training.audit.predictions import audited
from training.audit.report import flag_summary, summary_rows
from training.audit.window import audit_frame, labelled

JUDGE = Judge(metric="label_rate", min_ratio=0.8)
CFG = AuditConfig(judge=[JUDGE], simultaneous=False)


def _arrays(
    groups: dict[str, tuple[int, float, float]], seed: int = 0
) -> tuple[pd.Series, dict[str, np.ndarray]]:
    """Rows per group: (rows, share of informative reports, recording rate).

    ``p_true`` is 0.2 for the informative reports and 0.001 for the rest; a report is
    escalated with ``p_true`` and its escalation recorded with the group's rate.
    """
    rng = np.random.default_rng(seed)
    labels, truth, recorded = [], [], []
    for name, (rows, share, rate) in groups.items():
        p = np.where(rng.random(rows) < share, 0.2, 0.001)
        escalated = rng.random(rows) < p
        recorded.append(escalated & (rng.random(rows) < rate))
        labels.append(np.full(rows, name))
        truth.append(p)
    arrays = {"y": np.concatenate(recorded), "truth": np.concatenate(truth)}
    return pd.Series(np.concatenate(labels)), arrays


def _judge(
    groups: dict[str, tuple[int, float, float]],
    cfg: AuditConfig = CFG,
    seed: int = 0,
    family: int = 1,
) -> tuple[dict[str, dict], list[dict]]:  # type: ignore[type-arg]
    labels, arrays = _arrays(groups, seed)
    checked, too_few = judge_groups(
        JUDGE, "jurisdiction", labels, list(groups), arrays, cfg, family
    )
    return {c["group"]: c for c in checked}, too_few


def test_a_group_recorded_at_half_its_rate_is_flagged() -> None:
    checked, _ = _judge(
        {
            "AA": (100_000, 0.02, 1.0),
            "BB": (60_000, 0.02, 0.5),
            "CC": (60_000, 0.02, 1.0),
        }
    )
    row = checked["BB"]
    assert row["flagged"] and row["judged_on"] == "labels" and row["reference"] == REST
    assert row["ratio"] == pytest.approx(0.5, rel=0.2)
    assert row["ci_low"] < row["ratio"] < row["ci_high"] < 1.0
    assert not checked["AA"]["flagged"] and not checked["CC"]["flagged"]


def test_a_fair_group_with_little_information_is_not_flagged() -> None:
    """Few informative reports (a low, flat p_true): its labels still match its truth."""
    checked, _ = _judge({"AA": (60_000, 0.03, 1.0), "BB": (60_000, 0.003, 1.0)}, seed=3)
    row = checked["BB"]
    assert not row["flagged"]
    assert row["ci_low"] < 1.0 < row["ci_high"]


def test_a_recording_rate_the_whole_history_shares_flags_nobody() -> None:
    checked, _ = _judge(
        {
            "AA": (60_000, 0.02, 0.6),
            "BB": (30_000, 0.02, 0.6),
            "CC": (30_000, 0.02, 0.6),
        }
    )
    assert not any(c["flagged"] for c in checked.values())
    assert all(c["value"] == pytest.approx(0.6, rel=0.2) for c in checked.values())


def test_the_interval_is_clopper_pearson_of_the_groups_share() -> None:
    """The bounds map the exact binomial bounds of the group's share to the ratio."""
    counts, expected = (37, 410), (50.0, 420.0)
    ratio, low, high = rate_ratio(counts, expected, 0.99)
    n = sum(counts)
    share_low = beta.ppf(0.005, 37, n - 37 + 1)
    share_high = beta.ppf(0.995, 37 + 1, n - 37)
    scale = expected[1] / expected[0]
    assert low == pytest.approx(share_low / (1 - share_low) * scale)
    assert high == pytest.approx(share_high / (1 - share_high) * scale)
    assert ratio == pytest.approx(37 / 410 * scale)


def test_the_interval_covers_parity_for_fair_labels() -> None:
    """Over many fair histories the 95% interval holds 1 at least about 95% of the time."""
    covered = 0
    for seed in range(400):
        labels, arrays = _arrays(
            {"AA": (4_000, 0.02, 1.0), "BB": (2_000, 0.02, 1.0)}, seed
        )
        rows = (labels == "BB").to_numpy()
        counts = int(arrays["y"][rows].sum()), int(arrays["y"][~rows].sum())
        expected = arrays["truth"][rows].sum(), arrays["truth"][~rows].sum()
        _, low, high = rate_ratio(counts, expected, 0.95)
        covered += low <= 1.0 <= high
    assert covered / 400 >= 0.93


def test_the_detectable_ratio_is_where_the_exact_interval_touches_parity() -> None:
    """A group recording exactly the detectable share has an upper bound of 1."""
    cfg = CFG
    judge = Judge(metric="label_rate", min_ratio=0.9)
    rest = (1000, 1000.0)
    found = detectable(judge, 60.0, rest, cfg, 0.999)
    assert 0.3 < found < 0.9
    _, _, high = rate_ratio((found * 60.0, 1000), (60.0, 1000.0), 0.999)
    assert high == pytest.approx(1.0, abs=1e-6)
    # fewer expected escalations: only a larger shortfall can be seen
    assert detectable(judge, 20.0, rest, cfg, 0.999) < found
    # a rest that records 60% of its truth: the group's count is judged against that
    assert detectable(judge, 60.0, (600, 1000.0), cfg, 0.999) < found


def test_rate_ratio_at_the_edges() -> None:
    ratio, low, high = rate_ratio((0, 50), (10.0, 50.0), 0.95)
    assert ratio == 0.0 and low == 0.0 and 0.0 < high < math.inf
    ratio, low, high = rate_ratio((20, 0), (10.0, 50.0), 0.95)
    assert ratio == math.inf and high == math.inf and low > 0.0
    assert all(math.isnan(v) for v in rate_ratio((0, 0), (10.0, 50.0), 0.95))
    # equal rates: the point is 1 and the interval holds it
    ratio, low, high = rate_ratio((20, 100), (10.0, 50.0), 0.95)
    assert ratio == pytest.approx(1.0) and low < 1.0 < high


def test_simultaneous_intervals_widen_with_the_family() -> None:
    groups = {"AA": (60_000, 0.02, 1.0), "BB": (20_000, 0.02, 0.7)}
    cfg = CFG.model_copy(update={"simultaneous": True})
    alone, _ = _judge(groups, cfg, family=1)
    many, _ = _judge(groups, cfg, family=40)
    assert many["BB"]["confidence"] == pytest.approx(1 - 0.05 / 40)
    assert level(cfg, 40) == many["BB"]["confidence"]
    assert many["BB"]["ci_low"] < alone["BB"]["ci_low"]
    assert many["BB"]["ci_high"] > alone["BB"]["ci_high"]
    assert many["BB"]["detectable_ratio"] < alone["BB"]["detectable_ratio"]


def test_too_few_expected_escalations_is_reported_not_judged() -> None:
    checked, too_few = _judge(
        {"AA": (60_000, 0.02, 1.0), "BB": (1_600, 0.02, 1.0), "CC": (60_000, 0.02, 1.0)}
    )
    assert "BB" not in checked
    (row,) = too_few
    assert row["group"] == "BB" and row["expected"] < CFG.min_expected
    assert 0.0 < row["detectable_ratio"] <= JUDGE.min_ratio  # type: ignore[operator]
    assert (
        "too few expected escalations"
        in summary_rows({"checked": [], "too_few_positives": [row]})[0]["status"]
    )


@pytest.mark.parametrize("missing", [1.0, 0.25])
def test_without_p_true_on_every_row_it_is_said_once(missing: float) -> None:
    """No ``p_true``, or some rows without it: not judged. The rows without it are no
    random sample (``tipscore simulate`` replaces the decided reports with the analysts'
    rows; the undecided ones keep ``p_true`` with labels not known yet), so judging the
    rest would blame fair labels (docs/bias-audit.md, "Label rate")."""
    frame = _predictions()
    gone = np.random.default_rng(3).random(len(frame)) < missing
    rows, notes = audited(frame.assign(p_true=frame["p_true"].mask(gone)))
    assert notes["p_true_missing"] == int(gone.sum())
    result = audit_frame(rows, CFG)
    (said,) = [t for t in result["too_few_positives"] if t["metric"] == "label_rate"]
    assert said["group"] == "(all)" and "needs p_true" in said["reason"]
    assert not result["checked"] and "label_rate_family" not in result


def test_a_missing_reference_group_does_not_stop_the_label_judge() -> None:
    rows, _ = audited(_predictions())
    cfg = CFG.model_copy(update={"references": {"jurisdiction": "ZZ"}})
    result = audit_frame(rows, cfg)
    judged = {c["group"] for c in result["checked"] if c["attribute"] == "jurisdiction"}
    assert judged == {"AA", "BB", "CC"}
    assert not any(t["group"] == "(reference)" for t in result["too_few_positives"])
    both = cfg.model_copy(update={"judge": [Judge(metric="recall_p12"), JUDGE]})
    result = audit_frame(rows, both)
    assert any(
        t["group"] == "(reference)" and t["attribute"] == "jurisdiction"
        for t in result["too_few_positives"]
    )


def _predictions(seed: int = 0) -> pd.DataFrame:
    """Pooled predictions of a fair model on labels that under-record country BB."""
    labels, arrays = _arrays(
        {
            "AA": (30_000, 0.02, 1.0),
            "BB": (15_000, 0.02, 0.45),
            "CC": (15_000, 0.005, 1.0),
        },
        seed,
    )
    p_true = arrays["truth"]
    return pd.DataFrame(
        {
            "report_id": [f"r{i}" for i in range(len(p_true))],
            "period": "2024-05",
            "probability": p_true,
            "priority": np.where(p_true >= 0.15, 1, 3),
            "label": arrays["y"],
            "p_true": p_true,
            "esp_name": "Facebook",
            "country": labels.to_numpy(),
            "incident_type": "CSAM",
            "completeness": "user id",
            "files_viewed": "all viewed",
            "bundled": "single",
        }
    )


def test_pooled_predictions_flag_the_under_recorded_country_only() -> None:
    from training.audit.config import load_audit_config

    rows, _ = audited(_predictions())
    pooled = load_audit_config(DEFAULT_AUDIT_CONFIG.with_name("audit_pooled.toml"))
    cfg = pooled.model_copy(update={"large_country_share": 0.01})
    result = audit_frame(rows, cfg)
    flagged = [f for f in result["flags"] if f["metric"] == "label_rate"]
    assert [(f["attribute"], f["group"]) for f in flagged] == [("jurisdiction", "BB")]
    assert "jurisdiction=BB [" in flag_summary(result["flags"])
    groups = labelled(rows, cfg)
    assert result["label_rate_family"] == sum(groups[a].nunique() for a in ATTRIBUTES)
    printed = [
        r
        for r in summary_rows(result)
        if r["metric"] == "label_rate" and r["group"] == "BB"
    ]
    assert printed[0]["vs"] == REST and printed[0]["status"] == "FLAGGED"
