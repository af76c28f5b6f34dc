"""Fitting the escalation model: LightGBM booster, isotonic calibration, capacity thresholds.

All three are chosen with the training window (booster) and the validation window (early
stopping, calibration, thresholds); the test window is never seen here.
"""

from __future__ import annotations

import logging

import lightgbm as lgb
import numpy as np
from sklearn.isotonic import IsotonicRegression

from features.extract import CATEGORICAL_INDEX
from features.spec import FEATURE_NAMES
from training.config import TrainConfig
from training.metrics import capacity_threshold, queue_metrics
from training.model import Calibration, EscalationModel, Policy

logger = logging.getLogger(__name__)


def booster_params(config: TrainConfig) -> dict[str, object]:
    """LightGBM parameters from the experiment config (deterministic for a fixed seed)."""
    m = config.model
    return {
        "objective": "binary",
        "metric": "binary_logloss",  # smoother than PR-AUC on ~0.2% positives: steadier stopping
        "num_leaves": m.num_leaves,
        "max_depth": m.max_depth,
        "learning_rate": m.learning_rate,
        "min_child_samples": m.min_child_samples,
        "min_sum_hessian_in_leaf": m.min_sum_hessian_in_leaf,
        "lambda_l2": m.reg_lambda,
        "lambda_l1": m.reg_alpha,
        "feature_fraction": m.feature_fraction,
        "bagging_fraction": m.bagging_fraction,
        "bagging_freq": m.bagging_freq,
        "cat_smooth": m.cat_smooth,
        "min_data_per_group": m.min_data_per_group,
        "scale_pos_weight": m.scale_pos_weight,
        "num_threads": m.n_jobs,
        "seed": config.seed,
        "deterministic": True,
        "force_row_wise": True,
        # Keep every feature: with the pre-filter, LightGBM drops before training the
        # features it judges unsplittable under min_child_samples, among them rare but
        # telling flags; and on a Dask cluster each worker would judge on its own rows
        # only (training.dask.fit). Off on every engine, so both fit the same model.
        "feature_pre_filter": False,
        "verbosity": -1,
    }


Weights = tuple[np.ndarray, np.ndarray] | None
"""Sample weights of the training and validation rows (``training.weights``), or None."""


def fit_booster(
    config: TrainConfig,
    train: tuple[np.ndarray, np.ndarray],
    valid: tuple[np.ndarray, np.ndarray],
    weights: Weights = None,
) -> lgb.Booster:
    """Train with native categorical handling and early stopping on validation log-loss.

    ``weights`` (``[data] blind_weight``, ``followed_suggestion_weight``) weight the rows
    of both windows in the fit and in early stopping; calibration and thresholds stay
    unweighted (every report counts once in a queue).
    """
    data = lgb.Dataset(
        train[0],
        label=train[1].astype(np.float64),
        weight=None if weights is None else weights[0],
        feature_name=list(FEATURE_NAMES),
        categorical_feature=list(CATEGORICAL_INDEX),
        free_raw_data=True,
    )
    check = lgb.Dataset(
        valid[0],
        label=valid[1].astype(np.float64),
        weight=None if weights is None else weights[1],
        reference=data,
    )
    booster = lgb.train(
        booster_params(config),
        data,
        num_boost_round=config.model.n_estimators,
        valid_sets=[check],
        valid_names=["valid"],
        callbacks=[
            lgb.early_stopping(config.model.early_stopping_rounds, verbose=False)
        ],
    )
    logger.info("booster: %d trees (best iteration)", booster.best_iteration)
    return booster


def fit_calibration(
    config: TrainConfig, raw: np.ndarray, labels: np.ndarray
) -> Calibration:
    """Isotonic regression of labels on raw scores (validation window)."""
    if config.calibration.method == "none":
        return Calibration((), ())
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
    iso.fit(raw, labels.astype(np.float64))
    x, y = block_centres(iso.X_thresholds_, iso.y_thresholds_)
    return Calibration(tuple(map(float, x)), tuple(map(float, y)))


def block_centres(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Collapse each run of equal isotonic values to one knot at the run's mean x."""
    starts = np.flatnonzero(np.r_[True, np.diff(y) != 0])
    centres = np.add.reduceat(x, starts) / np.diff(np.r_[starts, len(x)])
    return centres, y[starts]


def choose_policy(
    config: TrainConfig, probabilities: np.ndarray, labels: np.ndarray
) -> Policy:
    """P1 and P2 thresholds meeting the queue capacities on the validation window."""
    p1 = capacity_threshold(probabilities, config.policy.p1_share)
    p12 = capacity_threshold(probabilities, config.policy.p12_share)
    chosen = {
        "window": "validation",
        "p1": queue_metrics(labels, probabilities, p1),
        "p12": queue_metrics(labels, probabilities, p12),
    }
    return Policy(
        p1, min(p12, p1), config.policy.p1_share, config.policy.p12_share, chosen
    )


def fit_model(
    config: TrainConfig,
    train: tuple[np.ndarray, np.ndarray],
    valid: tuple[np.ndarray, np.ndarray],
    weights: Weights = None,
) -> EscalationModel:
    """Booster, then calibration and thresholds on the validation window."""
    booster = fit_booster(config, train, valid, weights)
    return finish_model(
        config, booster, valid, booster.best_iteration or booster.current_iteration()
    )


def finish_model(
    config: TrainConfig,
    booster: lgb.Booster,
    valid: tuple[np.ndarray, np.ndarray],
    trees: int,
) -> EscalationModel:
    """The booster cut to its first ``trees`` trees, calibrated, with thresholds.

    Calibration and thresholds come from the validation window; every engine (one
    machine, Dask) ends its fit here.
    """
    raw = np.asarray(booster.predict(valid[0], raw_score=True, num_iteration=trees))
    calibration = fit_calibration(config, raw, valid[1])
    policy = choose_policy(config, calibration.apply(raw), valid[1])
    trimmed = lgb.Booster(model_str=booster.model_to_string(num_iteration=trees))
    return EscalationModel(booster=trimmed, calibration=calibration, policy=policy)
