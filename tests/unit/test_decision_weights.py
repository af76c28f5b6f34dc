"""Issue 21 point 4: training can weight blind decisions and followed suggestions."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from features.extract import CATEGORICAL_INDEX
from features.spec import FEATURE_NAMES
from training.config import DataConfig, TrainConfig
from training.data import load_history
from training.fit import fit_booster, fit_model
from training.synth.config import load_config
from training.synth.generate import GenerateRequest, generate
from training.weights import (
    BLIND,
    FOLLOWED,
    NOT_DECIDED,
    OVERRIDDEN,
    review_kinds,
    sample_weights,
)


def test_review_kinds_tell_blind_followed_and_overridden_apart() -> None:
    table = pa.table(
        {
            "suggested_priority": [0, 1, 2, 3, 3],
            "priority": ["1", "1", "3", "3", "2"],
            "decision_blind": [False, False, False, True, None],
        }
    )
    kinds = review_kinds(table).tolist()
    assert kinds == [NOT_DECIDED, FOLLOWED, OVERRIDDEN, BLIND, OVERRIDDEN]
    assert review_kinds(pa.table({"priority": ["1"]})).tolist() == [NOT_DECIDED]


def test_weights_are_one_unless_asked_and_follow_the_kinds() -> None:
    kinds = np.array([NOT_DECIDED, BLIND, FOLLOWED, OVERRIDDEN], dtype=np.int8)
    assert sample_weights(kinds, 1.0, 1.0) is None
    assert sample_weights(None, 5.0, 0.0) is None
    weights = sample_weights(kinds, 5.0, 0.0)
    assert weights is not None
    assert weights.tolist() == [1.0, 5.0, 0.0, 1.0]


def test_config_refuses_negative_weights() -> None:
    assert DataConfig().blind_weight == 1.0
    with pytest.raises(ValidationError, match="blind_weight"):
        DataConfig(blind_weight=-1.0)
    with pytest.raises(ValidationError, match="followed_suggestion_weight"):
        DataConfig.model_validate({"followed_suggestion_weight": -0.5})


def test_load_history_keeps_each_decisions_rows_review_kind(tmp_path: Path) -> None:
    history = tmp_path / "h.parquet"
    generate(
        GenerateRequest(
            3_000, 5, date(2024, 1, 1), date(2024, 3, 31), history, progress=False
        ),
        load_config(),
    )
    table = pq.read_table(history).drop_columns(["p_true"]).slice(2_000)
    n = len(table)
    suggested = np.where(np.arange(n) % 2 == 0, 3, 2)  # half agree with priority 3
    table = table.append_column("suggested_priority", pa.array(suggested))
    table = table.append_column("decision_blind", pa.array(np.arange(n) % 10 == 1))
    decisions = tmp_path / "d.parquet"
    pq.write_table(table, decisions)
    loaded = load_history(history, [decisions])
    assert loaded.review is not None
    expected = review_kinds(table)
    assert np.bincount(loaded.review, minlength=4)[1:].tolist() == (
        np.bincount(expected, minlength=4)[1:].tolist()
    )
    assert (loaded.review == NOT_DECIDED).sum() == 2_000
    assert load_history(history).review is not None


def test_zero_weight_rows_do_not_teach_the_booster() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4_000, len(FEATURE_NAMES)))
    x[:, list(CATEGORICAL_INDEX)] = rng.integers(0, 3, size=(4_000, 5))
    y = x[:, 1] > 1.0  # a signal on a numeric feature
    small = {"n_estimators": 50, "early_stopping_rounds": 10, "min_child_samples": 20}
    config = TrainConfig.model_validate({"model": small})
    plain = fit_booster(config, (x[:3_000], y[:3_000]), (x[3_000:], y[3_000:]))
    zero = np.where(y, 0.0, 1.0)  # every positive dropped: nothing left to learn
    weighted = fit_booster(
        config,
        (x[:3_000], y[:3_000]),
        (x[3_000:], y[3_000:]),
        (zero[:3_000], zero[3_000:]),
    )
    top = x[:, 1] > 2.0
    assert plain.predict(x[top]).mean() > 0.5
    assert weighted.predict(x[top]).mean() < 0.05
    model = fit_model(
        config,
        (x[:3_000], y[:3_000]),
        (x[3_000:], y[3_000:]),
        (zero[:3_000], zero[3_000:]),
    )
    assert model.booster.num_trees() >= 1


def test_the_dask_engine_refuses_weights_it_would_ignore(tmp_path: Path) -> None:
    from tipscore.engines import train_with

    data = DataConfig(blind_weight=5.0)
    config = TrainConfig().model_copy(update={"data": data})
    with pytest.raises(ValueError, match="only with --engine local"):
        train_with("dask", tmp_path / "none.parquet", config, "", (None, 1), False)


def _signal(n: int = 4_000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, len(FEATURE_NAMES)))
    x[:, list(CATEGORICAL_INDEX)] = rng.integers(0, 3, size=(n, 5))
    return x, x[:, 1] > 1.0


def test_a_backtest_fold_fits_with_the_decision_weights() -> None:
    """Each fold's model (and its reference model) is weighted as ``train`` weights."""
    from training.backtest.fit import fit_fold
    from training.backtest.folds import Fold

    x, y = _signal()
    small = {"n_estimators": 50, "early_stopping_rounds": 10, "min_child_samples": 20}
    config = TrainConfig.model_validate({"model": small})
    fold = Fold(
        "2024-01-01",
        0,
        1,
        np.arange(2_500),
        np.arange(2_500, 3_000),
        np.arange(3_000, 4_000),
    )
    zero = np.where(y, 0.0, 1.0)  # every positive dropped from the booster's fit
    plain = fit_fold(config, x, y, fold, reference_rows=2_000)
    weighted = fit_fold(config, x, y, fold, reference_rows=2_000, weights=zero)
    top = x[3_000:, 1] > 2.0
    assert plain.probability[top].mean() > 0.5
    assert weighted.probability[top].mean() < plain.probability[top].mean() / 2
    assert plain.reference_priority is not None
    assert weighted.reference_priority is not None
    assert (weighted.reference_priority[top] > plain.reference_priority[top]).any()


def test_the_audit_reference_model_fits_with_the_decision_weights(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from training.audit import reference
    from training.splits import Split

    x, y = _signal(1_000)
    kinds = np.where(np.arange(1_000) % 3 == 0, BLIND, NOT_DECIDED).astype(np.int8)
    history = SimpleNamespace(matrix=x, labels=y, review=kinds)
    seen: list[object] = []
    monkeypatch.setattr(
        reference,
        "fit_model",
        lambda cfg, train, valid, weights=None: seen.append(weights),
    )
    config = TrainConfig().model_copy(update={"data": DataConfig(blind_weight=4.0)})
    split = Split(slice(0, 700), slice(700, 850), slice(850, 1_000))
    reference.fit_reference_model(config, history, split, 300)  # type: ignore[arg-type]
    (weights,) = seen
    assert weights is not None
    train_w, valid_w = weights  # type: ignore[misc]
    assert len(train_w) == 300 and len(valid_w) == 150
    assert set(np.unique(valid_w)) == {1.0, 4.0}
    assert (valid_w == np.where(kinds[700:850] == BLIND, 4.0, 1.0)).all()
