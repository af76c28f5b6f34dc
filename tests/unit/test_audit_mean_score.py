"""The ``mean_score`` judge on synthetic scores whose answer is known.

A group the model scores at half its true probability is flagged; a group whose reports
carry little information (the model gives each of them the group's mean) is not; a tiny
miscalibration is significant but within the bound, so not flagged; groups with too few
expected escalations are reported with what they could have detected; and pooled
predictions with ``reference_probability`` are judged end to end.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from training.audit.config import (
    DEFAULT_AUDIT_CONFIG,
    AuditConfig,
    Judge,
    load_audit_config,
)
from training.audit.mean_score import (
    BUCKETS,
    bucket_sums,
    buckets,
    judge_groups,
    means,
    resampled,
)
from training.audit.predictions import audited
from training.audit.report import summary_rows
from training.audit.window import audit_frame

JUDGE = Judge(metric="mean_score", min_ratio=0.8)
CFG = AuditConfig(judge=[JUDGE], references={"jurisdiction": "AA"}, bootstrap=400)


def _truth(rng: np.random.Generator, rows: int, high_share: float) -> np.ndarray:
    """``p_true``: a few informative reports at 0.2, the rest at 0.001."""
    return np.where(rng.random(rows) < high_share, 0.2, 0.001)


def _noise(rng: np.random.Generator, rows: int) -> np.ndarray:
    return np.exp(rng.normal(-0.125, 0.5, rows))


def _arrays(
    groups: dict[str, tuple[int, float, str]], seed: int = 0
) -> tuple[pd.Series, dict[str, np.ndarray]]:
    """Rows per group: (rows, high share, how the model scores them).

    ``fair``: the model knows each report's p_true; ``half``: it scores the group at half
    of it (labels that under-record the group); ``blind``: every report gets the group's
    mean p_true (a calibrated model with no information inside the group);
    ``slightly``: 0.95 of p_true. Each model's error is a mean-one log-normal factor per
    report (calibrated on average, wrong on each report); the reference model scores
    every report at p_true times its own such factor.
    """
    rng = np.random.default_rng(seed)
    labels, truth, model = [], [], []
    for name, (rows, share, how) in groups.items():
        p = _truth(rng, rows, share)
        scale = {"fair": 1.0, "half": 0.5, "slightly": 0.95, "blind": 1.0}[how]
        noisy = scale * p * _noise(rng, rows)
        model.append(np.full(rows, p.mean()) if how == "blind" else noisy)
        labels.append(np.full(rows, name))
        truth.append(p)
    p_true = np.concatenate(truth)
    arrays = {
        "y": rng.random(len(p_true)) < p_true,
        "p": np.concatenate(model),
        "oracle_p": p_true,
        "reference_model_p": np.minimum(p_true * _noise(rng, len(p_true)), 1.0),
        "bucket": buckets(len(p_true), 7),
    }
    return pd.Series(np.concatenate(labels)), arrays


def _judge(
    groups: dict[str, tuple[int, float, str]], cfg: AuditConfig = CFG, seed: int = 0
) -> tuple[dict[str, dict], list[dict]]:  # type: ignore[type-arg]
    labels, arrays = _arrays(groups, seed)
    checked, too_few = judge_groups(
        JUDGE, "jurisdiction", labels, list(groups), "AA", arrays, cfg
    )
    return {c["group"]: c for c in checked}, too_few


def test_a_group_scored_at_half_its_truth_is_flagged() -> None:
    checked, _ = _judge({"AA": (60_000, 0.02, "fair"), "BB": (20_000, 0.02, "half")})
    row = checked["BB"]
    assert row["flagged"] and row["judged_on"] == "excess"
    for name in ("oracle", "reference_model"):
        found = row["comparisons"][name]
        assert found["excess"] == pytest.approx(0.5, rel=0.1)
        assert found["excess_ci_low"] < 0.5 < found["excess_ci_high"] < 1.0
        assert found["exceeds"] is True


def test_a_fair_group_with_little_information_is_not_flagged() -> None:
    # the model cannot rank CC's reports at all, yet it is calibrated on the group: its
    # mean is the group's true mean, so the excess is 1 whatever the group's recall
    checked, _ = _judge({"AA": (60_000, 0.02, "fair"), "CC": (20_000, 0.005, "blind")})
    row = checked["CC"]
    found = row["comparisons"]["oracle"]
    assert not row["flagged"]
    assert found["excess"] == pytest.approx(1.0, abs=0.05)
    assert found["excess_ci_low"] < 1.0 < found["excess_ci_high"]
    # the group's own ratio (case mix) is far below the bound, and is not judged
    assert row["ratio"] < 0.5


def test_a_tiny_miscalibration_is_significant_but_within_the_bound() -> None:
    checked, _ = _judge(
        {"AA": (200_000, 0.02, "fair"), "DD": (200_000, 0.02, "slightly")}
    )
    row = checked["DD"]
    found = row["comparisons"]["oracle"]
    assert found["excess_ci_high"] < 1.0  # the interval alone would flag it
    assert not row["flagged"] and found["exceeds"] is False
    assert summary_rows(
        {"checked": [row], "too_few_positives": [], "compared_with": []}
    )[0]["status"] == ("ok (excess within the bound)")


def test_interval_narrows_and_detectable_ratio_nears_parity_with_more_rows() -> None:
    # a bound near parity (0.99), so the detectable ratio is the interval's, not the bound
    near = Judge(metric="mean_score", min_ratio=0.99)
    widths, detectable = [], []
    for rows in (5_000, 50_000):
        groups = {"AA": (100_000, 0.02, "fair"), "BB": (rows, 0.02, "half")}
        labels, arrays = _arrays(groups)
        checked, _ = judge_groups(
            near, "jurisdiction", labels, list(groups), "AA", arrays, CFG
        )
        found = checked[0]["comparisons"]["oracle"]
        widths.append(found["excess_ci_high"] - found["excess_ci_low"])
        detectable.append(checked[0]["detectable_ratio"])
    assert widths[1] < widths[0] / 2
    assert detectable[0] < detectable[1] < 0.99


def test_detectable_ratio_is_never_nearer_parity_than_the_bound() -> None:
    """A flag needs the excess below min_ratio too: that bounds what can be detected."""
    checked, _ = _judge({"AA": (100_000, 0.02, "fair"), "BB": (200_000, 0.02, "half")})
    assert checked["BB"]["detectable_ratio"] == pytest.approx(JUDGE.min_ratio)
    near = Judge(metric="mean_score", min_ratio=0.99)
    groups = {"AA": (100_000, 0.02, "fair"), "BB": (200_000, 0.02, "half")}
    labels, arrays = _arrays(groups)
    loose, _ = judge_groups(
        near, "jurisdiction", labels, list(groups), "AA", arrays, CFG
    )
    assert JUDGE.min_ratio < loose[0]["detectable_ratio"] < 0.99  # the interval's


def test_too_few_is_judged_on_the_unrounded_expectation() -> None:
    """9.96 expected escalations (shown rounded as 10.0) is under min_expected = 10."""
    groups = {"AA": (60_000, 0.02, "fair"), "BB": (2_000, 0.02, "fair")}
    labels, arrays = _arrays(groups)
    rows = (labels == "BB").to_numpy()
    expected = max(
        arrays["oracle_p"][rows].sum(), arrays["reference_model_p"][rows].sum()
    )
    for name in ("p", "oracle_p", "reference_model_p"):  # BB scaled to 9.96 expected
        arrays[name] = np.where(rows, arrays[name] * 9.96 / expected, arrays[name])
    cfg = CFG.model_copy(update={"min_expected": 10.0})
    checked, too_few = judge_groups(
        JUDGE, "jurisdiction", labels, list(groups), "AA", arrays, cfg
    )
    assert checked == [] and too_few[0]["group"] == "BB"
    assert too_few[0]["expected"] == 10.0  # as shown; judged on 9.96


def test_training_chance_widens_the_interval_by_the_training_escalations() -> None:
    """1/E_train of the group and of the reference join the log excess's variance."""
    groups = {"AA": (60_000, 0.02, "fair"), "BB": (20_000, 0.02, "half")}
    labels, arrays = _arrays(groups)
    args = (JUDGE, "jurisdiction", labels, list(groups), "AA", arrays)
    held, _ = judge_groups(*args, CFG)
    trained = {"BB": 50.0, "AA": 400.0}
    widened, _ = judge_groups(*args, CFG, 1, trained)
    row = widened[0]
    found, before = row["comparisons"]["oracle"], held[0]["comparisons"]["oracle"]
    assert row["expected_train"] == 50.0
    assert found["se_training"] == pytest.approx(math.sqrt(1 / 50 + 1 / 400))
    assert found["se_log_excess"] ** 2 == pytest.approx(
        before["se_log_excess"] ** 2 + found["se_training"] ** 2, rel=1e-6
    )
    assert found["excess_ci_low"] < before["excess_ci_low"]
    assert found["excess_ci_high"] > before["excess_ci_high"]
    off = CFG.model_copy(update={"training_chance": False})
    same, _ = judge_groups(*args, off, 1, trained)
    assert same[0]["comparisons"]["oracle"]["se_training"] == 0.0
    # a group its model never saw in training: no level learnt, no chance of its labels
    unseen, _ = judge_groups(*args, CFG, 1, {"AA": 400.0})
    assert unseen[0]["comparisons"]["oracle"]["se_training"] == pytest.approx(
        math.sqrt(1 / 400)
    )
    assert unseen[0]["flagged"]


def test_the_chance_cancels_over_a_reference_model_that_sees_the_group() -> None:
    """The reference model learns from the same labels: over it, only hidden groups."""
    groups = {"AA": (60_000, 0.02, "fair"), "BB": (20_000, 0.02, "half")}
    labels, arrays = _arrays(groups)
    trained = {"BB": 50.0, "AA": 400.0}
    for attribute, applies in (("jurisdiction", True), ("incident_type", False)):
        rows, _ = judge_groups(
            JUDGE, attribute, labels, list(groups), "AA", arrays, CFG, 1, trained
        )
        found = rows[0]["comparisons"]
        assert found["oracle"]["se_training"] > 0
        assert (found["reference_model"]["se_training"] > 0) is applies


def test_a_fair_group_whose_training_labels_fell_short_by_chance_is_not_flagged() -> (
    None
):
    """The model learnt BB's level from 28 escalations where 40 were expected (chance):
    it scores BB at ~0.7 of its truth. Held fixed, that is "significant"; counting the
    training labels' chance (and the audit's other comparisons), it is not."""
    groups = {"AA": (400_000, 0.02, "fair"), "BB": (10_000, 0.02, "fair")}
    labels, arrays = _arrays(groups)
    bb = (labels == "BB").to_numpy()
    arrays["p"] = np.where(bb, arrays["p"] * 0.7, arrays["p"])
    args = (JUDGE, "jurisdiction", labels, list(groups), "AA", arrays)
    held, _ = judge_groups(*args, CFG)
    assert held[0]["flagged"]  # the model held fixed: a real but chance-made shortfall
    judged, _ = judge_groups(*args, CFG, 30, {"BB": 40.0, "AA": 2_000.0})
    row = judged[0]
    assert row["confidence"] == pytest.approx(1 - 0.05 / 30)
    assert not row["flagged"]
    # scored at 0.45 of its truth with 90 training escalations expected: still flagged
    arrays["p"] = np.where(bb, arrays["p"] / 0.7 * 0.45, arrays["p"])
    biased, _ = judge_groups(*args, CFG, 60, {"BB": 90.0, "AA": 2_000.0})
    assert biased[0]["flagged"]


def test_simultaneous_intervals_cover_the_whole_family() -> None:
    groups = {"AA": (60_000, 0.02, "fair"), "BB": (20_000, 0.02, "half")}
    labels, arrays = _arrays(groups)
    one, _ = judge_groups(
        JUDGE, "jurisdiction", labels, list(groups), "AA", arrays, CFG
    )
    many, _ = judge_groups(
        JUDGE, "jurisdiction", labels, list(groups), "AA", arrays, CFG, family=40
    )
    a, b = one[0]["comparisons"]["oracle"], many[0]["comparisons"]["oracle"]
    assert (
        b["excess_ci_low"] < a["excess_ci_low"]
        and b["excess_ci_high"] > a["excess_ci_high"]
    )
    assert many[0]["confidence"] == pytest.approx(1 - 0.05 / 40)
    alone = CFG.model_copy(update={"simultaneous": False})
    single, _ = judge_groups(
        JUDGE, "jurisdiction", labels, list(groups), "AA", arrays, alone, family=40
    )
    assert single[0]["confidence"] == CFG.confidence


def test_interval_covers_parity_for_a_fair_model() -> None:
    # seeded repetitions of a fair model: the 95% excess interval holds 1 in about 19 of
    # 20 (16 or fewer would happen by chance about 1.6% of the time with true coverage)
    covered = 0
    for seed in range(20):
        checked, _ = _judge(
            {"AA": (30_000, 0.02, "fair"), "BB": (10_000, 0.02, "fair")}, seed=seed
        )
        found = checked["BB"]["comparisons"]["oracle"]
        covered += found["excess_ci_low"] <= 1.0 <= found["excess_ci_high"]
    assert covered >= 17


def test_too_few_expected_escalations_is_reported_not_judged() -> None:
    checked, too_few = _judge({"AA": (60_000, 0.02, "fair"), "EE": (300, 0.02, "half")})
    assert "EE" not in checked
    (row,) = too_few
    assert row["group"] == "EE" and row["expected"] < CFG.min_expected
    assert math.isfinite(row["detectable_ratio"]) and row["detectable_ratio"] < 1.0
    status = summary_rows({"checked": [], "too_few_positives": [row]})[0]["status"]
    assert status.startswith("too few expected escalations")


def test_without_comparator_probabilities_it_says_so() -> None:
    labels, arrays = _arrays({"AA": (1_000, 0.02, "fair"), "BB": (1_000, 0.02, "half")})
    del arrays["oracle_p"], arrays["reference_model_p"]
    checked, too_few = judge_groups(
        JUDGE, "jurisdiction", labels, ["AA", "BB"], "AA", arrays, CFG
    )
    assert checked == [] and "reference model's probabilities" in too_few[0]["reason"]


def test_bucket_bootstrap_is_paired_and_sums_every_row() -> None:
    rng = np.random.default_rng(3)
    scores = [rng.random(10_000), rng.random(10_000)]
    rows = rng.random(10_000) < 0.3
    sums = bucket_sums(scores, buckets(10_000, 1), rows)
    assert sums.shape == (BUCKETS, 3) and sums[:, 0].sum() == rows.sum()
    assert means(sums.sum(axis=0)) == pytest.approx(
        [scores[0][rows].mean(), scores[1][rows].mean()]
    )
    drawn = resampled(sums, 50, rng)
    assert drawn.shape == (50, 3)
    # the same weights for every column: doubling a score doubles its resampled sums
    twice = resampled(
        np.column_stack([sums, 2 * sums[:, 1]]), 50, np.random.default_rng(9)
    )
    again = resampled(sums, 50, np.random.default_rng(9))
    assert twice[:, 3] == pytest.approx(2 * again[:, 1])


def _predictions(seed: int = 0) -> pd.DataFrame:
    """Pooled predictions: AA fair, BB scored at half of p_true, CC uninformative."""
    labels, arrays = _arrays(
        {
            "AA": (30_000, 0.02, "fair"),
            "BB": (10_000, 0.02, "half"),
            "CC": (10_000, 0.005, "blind"),
        },
        seed,
    )
    p = arrays["p"]
    return pd.DataFrame(
        {
            "report_id": [f"r{i}" for i in range(len(p))],
            "period": "2024-05",
            "probability": p,
            "priority": np.where(p >= 0.15, 1, np.where(p >= 0.05, 2, 3)),
            "label": arrays["y"],
            "p_true": arrays["oracle_p"],
            "esp_name": "Facebook",
            "country": labels.to_numpy(),
            "incident_type": "CSAM",
            "completeness": "user id",
            "files_viewed": "all viewed",
            "bundled": "single",
            "reference_priority": np.where(arrays["oracle_p"] >= 0.15, 1, 3),
            "reference_probability": arrays["reference_model_p"],
        }
    )


def test_pooled_predictions_are_judged_on_mean_score() -> None:
    rows, notes = audited(_predictions())
    assert notes["reference_probability"] is True
    cfg = CFG.model_copy(
        update={
            "judge": [Judge(metric="recall_p12"), JUDGE],
            "large_country_share": 0.01,
        }
    )
    result = audit_frame(rows, cfg)
    flagged = {(f["group"], f["metric"]) for f in result["flags"]}
    assert ("BB", "mean_score") in flagged
    assert not any(g == "CC" and m == "mean_score" for g, m in flagged)
    judged = [c for c in result["checked"] if c["metric"] == "mean_score"]
    assert {c["attribute"] for c in judged} >= {"jurisdiction"}
    assert all(set(c["comparisons"]) == {"oracle", "reference_model"} for c in judged)


def test_pooled_config_is_the_default_plus_mean_score_and_label_rate() -> None:
    default = load_audit_config()
    pooled = load_audit_config(DEFAULT_AUDIT_CONFIG.with_name("audit_pooled.toml"))
    assert [j.metric for j in pooled.judge] == [
        *(j.metric for j in default.judge),
        "mean_score",
        "label_rate",
    ]
    assert pooled.model_dump(exclude={"judge"}) == default.model_dump(exclude={"judge"})


def test_a_flag_needs_every_comparators_verdict() -> None:
    """One comparator's excess undefined (its ratio is 0/0): nothing is flagged on the other's."""
    groups = {"AA": (60_000, 0.02, "fair"), "BB": (20_000, 0.02, "half")}
    labels, arrays = _arrays(groups)
    arrays["reference_model_p"] = np.zeros_like(arrays["reference_model_p"])
    checked, _ = judge_groups(
        JUDGE, "jurisdiction", labels, list(groups), "AA", arrays, CFG
    )
    row = {c["group"]: c for c in checked}["BB"]
    assert (
        row["comparisons"]["oracle"]["exceeds"] is True
    )  # the oracle alone would flag
    assert row["comparisons"]["reference_model"]["exceeds"] is None
    assert not row["flagged"] and not row["defined"]


def test_pooled_predictions_count_each_folds_training_escalations(
    tmp_path: Path,
) -> None:
    """training_groups.json beside the predictions: each fold's sums, mapped to groups."""
    import json

    from training.audit.predictions import PredictionsError, audit_predictions

    frame = _predictions()
    frame["period"] = np.where(np.arange(len(frame)) % 2 == 0, "2024-05", "2024-06")
    folder = tmp_path / "bt"
    folder.mkdir()
    frame.to_parquet(folder / "predictions.parquet")
    cfg = CFG.model_copy(update={"judge": [JUDGE], "large_country_share": 0.01})
    plain = audit_predictions(folder, cfg, tmp_path / "a").result
    assert plain["training_chance"] is False
    sums = {  # BB held 20 expected escalations in May's training, 80 in June's
        "2024-05": {"country": {"AA": 400.0, "BB": 20.0, "ZZ": 9.0}},
        "2024-06": {"country": {"AA": 400.0, "BB": 80.0}},
    }
    (folder / "training_groups.json").write_text(json.dumps(sums))
    result = audit_predictions(folder, cfg, tmp_path / "b").result
    assert result["training_chance"] is True and result["meta"]["training_groups"]
    (row,) = [
        c
        for c in result["checked"]
        if c["metric"] == "mean_score" and c["group"] == "BB"
    ]
    # half of BB's rows in each fold: 1/E = 0.5/20 + 0.5/80, E = 32
    assert row["expected_train"] == pytest.approx(32.0, rel=0.05)
    # a fold whose training never held BB adds no chance: June's 80 alone
    no_may = {"2024-05": {"country": {"AA": 400.0}}, "2024-06": sums["2024-06"]}
    (folder / "training_groups.json").write_text(json.dumps(no_may))
    result = audit_predictions(folder, cfg, tmp_path / "e").result
    (row,) = [
        c
        for c in result["checked"]
        if c["metric"] == "mean_score" and c["group"] == "BB"
    ]
    assert row["expected_train"] == pytest.approx(80.0)
    # an audit without mean_score neither reads nor needs the file
    (folder / "training_groups.json").write_text("[1, 2]")
    recall = cfg.model_copy(update={"judge": [Judge(metric="recall_p12")]})
    assert (
        audit_predictions(folder, recall, tmp_path / "f").result["training_chance"]
        is False
    )
    (folder / "training_groups.json").write_text(
        json.dumps({"2024-05": sums["2024-05"]})
    )
    with pytest.raises(PredictionsError, match="no training sums for period"):
        audit_predictions(folder, cfg, tmp_path / "c")
    (folder / "training_groups.json").write_text("[1, 2]")
    with pytest.raises(PredictionsError, match=r"training_groups\.json: not"):
        audit_predictions(folder, cfg, tmp_path / "d")


def test_not_flagged_status_names_only_the_comparators_it_significantly_exceeds() -> (
    None
):
    """Beyond the bound over both, significant over the oracle only: only it is named."""
    comparison = {"ratio": 1.0, "ci_low": 0.9, "ci_high": 1.1}
    row = {
        "attribute": "jurisdiction",
        "group": "BB",
        "metric": "mean_score",
        "reference": "AA",
        "ratio": 0.5,
        "ci_low": 0.4,
        "ci_high": 0.6,
        "min_ratio": 0.8,
        "max_ratio": None,
        "judged_on": "excess",
        "defined": True,
        "disparity": True,
        "flagged": False,
        "detectable_ratio": 0.7,
        "comparisons": {
            "oracle": comparison
            | {"excess": 0.6, "excess_ci_low": 0.5, "excess_ci_high": 0.7}
            | {"exceeds": True},
            "reference_model": comparison
            | {"excess": 0.7, "excess_ci_low": 0.4, "excess_ci_high": 1.2}
            | {"exceeds": False},
        },
    }
    result = {"checked": [row], "too_few_positives": [], "compared_with": []}
    assert summary_rows(result)[0]["status"] == "excess only over oracle (not flagged)"


def test_window_audit_counts_each_groups_own_training_escalations() -> None:
    """Training rows are grouped by the audited rows' map and summed (not scaled)."""
    rows, _ = audited(_predictions())
    cfg = CFG.model_copy(update={"judge": [JUDGE], "large_country_share": 0.01})
    base = rows.base
    # the training window: BB's reports held 40 expected escalations, AA's 400, and a
    # country the audited rows never show (its rows belong to no group)
    training = pd.concat(
        [
            base[base["country"] == "BB"].head(400).assign(expected=0.1),
            base[base["country"] == "AA"].head(4000).assign(expected=0.1),
            base.head(50).assign(country="ZZ", expected=1.0),
        ],
        ignore_index=True,
    )
    rows.training = training
    result = audit_frame(rows, cfg)
    assert result["training_chance"] is True
    (row,) = [
        c
        for c in result["checked"]
        if c["metric"] == "mean_score" and c["group"] == "BB"
    ]
    assert row["expected_train"] == pytest.approx(40.0)
    assert row["comparisons"]["oracle"]["se_training"] == pytest.approx(
        math.sqrt(1 / 40 + 1 / 400)
    )


def test_a_missing_group_source_is_kept_as_its_own_value() -> None:
    """Training sums keyed by source value: a missing country must not be dropped."""
    from training.audit.groups import MISSING, source_values

    column = pd.Series(["IN", None, np.nan, "US"], dtype=object)
    values = source_values(column)
    assert values.tolist() == ["IN", MISSING, MISSING, "US"]
    sums = pd.Series([1.0, 2.0, 3.0, 4.0]).groupby(values).sum()
    assert sums.sum() == 10.0 and sums[MISSING] == 5.0
