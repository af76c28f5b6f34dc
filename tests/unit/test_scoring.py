"""The model object owns scoring: one method for every number, one choice of reasons.

``EscalationModel.scores`` must give exactly what the formulae it replaced gave (raw score
from the booster, probability from the calibration, priority from the policy, TreeSHAP
from LightGBM), and ``top_reasons`` exactly the reasons the service picked one report at a
time before (ties in feature order, a row's list ending at its first zero).
"""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest

from features.extract import model_input
from features.spec import FEATURE_SPEC
from serving.explain import Contribution, LazyRow, described, sentence
from tests.factories import make_report, report_columns
from training.model import Calibration, EscalationModel, Policy, top_reasons

FEATURES = len(FEATURE_SPEC)


@pytest.fixture(scope="module")
def model() -> EscalationModel:
    """A small booster on random rows of the model's width, calibrated, with thresholds."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(400, FEATURES))
    y = (x[:, 0] + 0.5 * x[:, 3] + rng.normal(scale=0.5, size=400)) > 0.8
    booster = lgb.train(
        {"objective": "binary", "num_leaves": 7, "verbosity": -1, "num_threads": 1},
        lgb.Dataset(x, y.astype(np.float64)),
        num_boost_round=15,
    )
    calibration = Calibration((-2.0, -0.5, 1.0, 2.5), (0.02, 0.1, 0.4, 0.9))
    return EscalationModel(booster, calibration, Policy(0.4, 0.1, 0.05, 0.2))


def test_scores_equal_the_formulae_they_replace(model: EscalationModel) -> None:
    matrix = np.random.default_rng(1).normal(size=(200, FEATURES))
    scores = model.scores(matrix, explain=True)
    raw = np.asarray(model.booster.predict(matrix, raw_score=True))
    probability = model.calibration.apply(raw)
    shap = np.asarray(model.booster.predict(matrix, pred_contrib=True))
    np.testing.assert_array_equal(scores.raw, raw)
    np.testing.assert_array_equal(scores.probability, probability)
    np.testing.assert_array_equal(scores.priority, model.policy.priority(probability))
    assert scores.priority.dtype == np.int64
    assert set(scores.priority.tolist()) == {1, 2, 3}  # every branch of the policy
    assert scores.contributions is not None
    np.testing.assert_array_equal(scores.contributions, shap)
    np.testing.assert_array_equal(scores.base_value, shap[:, -1])
    np.testing.assert_array_equal(scores.feature_contributions, shap[:, :-1])
    np.testing.assert_allclose(scores.contributions.sum(axis=1), raw, atol=1e-9)


def test_scores_without_explain_have_no_contributions(model: EscalationModel) -> None:
    matrix = np.random.default_rng(2).normal(size=(5, FEATURES))
    scores = model.scores(matrix)
    assert scores.contributions is None
    np.testing.assert_array_equal(scores.raw, model.scores(matrix, explain=True).raw)
    with pytest.raises(ValueError, match="explain=True"):
        scores.reasons(3)


def test_predict_is_scores_of_the_feature_path(model: EscalationModel) -> None:
    # the model's width is the spec's, so real rows go through model_input unchanged
    columns = report_columns([make_report(), make_report(report_id="r-2", esp="x")])
    scores = model.scores(model_input(columns).matrix)
    frame = model.predict(columns)
    np.testing.assert_array_equal(frame["raw_score"], scores.raw)
    np.testing.assert_array_equal(frame["escalation_probability"], scores.probability)
    np.testing.assert_array_equal(frame["suggested_priority"], scores.priority)


def old_selection(shap_row: np.ndarray, top_n: int) -> list[tuple[int, float]]:
    """The service's per-report choice before ``top_reasons`` (serving/explain.py)."""
    order = np.argsort(-np.abs(shap_row[:-1]), kind="stable")[:top_n]
    out = []
    for position in order:
        value = float(shap_row[position])
        if value == 0.0:
            break
        out.append((int(position), value))
    return out


def tied_contributions(seed: int, rows: int = 300) -> np.ndarray:
    """Contributions drawn from a few values: many ties in magnitude, and many zeros."""
    rng = np.random.default_rng(seed)
    levels = np.array([0.0, 0.0, 0.5, -0.5, 1.0, -1.0, 0.25, 2.0, -2.0])
    shap = rng.choice(levels, size=(rows, FEATURES + 1))
    shap[: rows // 10, :-1] = 0.0  # some rows without any reason
    shap[rows // 10 : rows // 5, :-1] = rng.normal(size=(rows // 10, FEATURES))
    return shap


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("top_n", [0, 1, 3, 5, FEATURES + 2])
def test_top_reasons_match_the_old_per_row_choice(seed: int, top_n: int) -> None:
    shap = tied_contributions(seed)
    top = top_reasons(shap, top_n)
    for i, shap_row in enumerate(shap):
        positions, values = top.row(i)
        chosen = [(int(p), float(v)) for p, v in zip(positions, values, strict=True)]
        assert chosen == old_selection(shap_row, top_n), i
    assert top.kept.sum(axis=1).tolist() == top.count.tolist()


def test_ties_keep_feature_order_and_a_zero_ends_the_list() -> None:
    shap = np.zeros((1, FEATURES + 1))
    shap[0, [4, 1, 7]] = [-1.0, 1.0, 0.5]
    shap[0, -1] = -3.0  # the base value is never a reason
    top = top_reasons(shap, 5)
    positions, values = top.row(0)
    assert positions.tolist() == [1, 4, 7]
    assert values.tolist() == [1.0, -1.0, 0.5]


def old_top_contributions(
    columns: dict[str, np.ndarray], shap_row: np.ndarray, index: int, top_n: int
) -> list[Contribution]:
    """``serving.explain.top_contributions`` as the service called it before."""
    row = LazyRow(columns, index)
    out = []
    for position, value in old_selection(shap_row, top_n):
        name = FEATURE_SPEC[position].name
        out.append(Contribution(name, row[name], value, sentence(name, row, value)))
    return out


def test_the_services_reasons_are_unchanged() -> None:
    reports = [make_report(report_id=f"r-{i}", esp=e) for i, e in enumerate("ab")]
    columns = model_input(report_columns(reports * 50)).columns
    shap = tied_contributions(5, rows=100)
    top = top_reasons(shap, 5)
    for i in range(len(shap)):
        assert described(columns, i, *top.row(i)) == old_top_contributions(
            columns, shap[i], i, 5
        )
