"""The booster fitted on a Dask cluster with ``lightgbm.dask``, stopped as on one machine.

``lightgbm.dask`` has no early stopping (LightGBM issues #3712, #6351: workers that stop
apart hang), so the cluster grows trees in rounds, each continuing from the last, and
after each round the number to keep is chosen by the rule ``lightgbm.early_stopping``
applies; growing stops when the rule has fired. The rule: the first iteration
with the lowest validation log-loss, looking no further than ``early_stopping_rounds``
past it. The log-loss of every iteration is computed exactly, on every validation row,
by the workers holding them: a row's raw score after ``k`` trees is the sum of its first
``k`` leaf values (``pred_leaf``).

The parameters are one machine's (``training.fit.booster_params``), with
``feature_pre_filter`` off there too: before training, LightGBM drops the features it
judges unsplittable under ``min_child_samples``, and in data-parallel mode each worker
judges on its own rows only, so a rare but telling flag seen, say, 150 times in the
training window (75 per worker) could be dropped altogether. Measured on 300,000 reports
with the default config, with the filter on: test PR-AUC 0.365–0.371 on two workers,
0.387 on one machine; without it on Dask, 0.394. Splits still obey ``min_child_samples``
on the global counts.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import lightgbm as lgb
import numpy as np

from features.extract import CATEGORICAL_INDEX
from features.spec import FEATURE_NAMES
from training.config import TrainConfig
from training.fit import booster_params

ROUND_SEED_STEP = 7919
"""Offset between the bagging and feature-sampling seeds of successive rounds."""
MIN_ROUND = 100
"""Fewest trees grown per round (each round starts LightGBM's network again)."""
LEAF_BLOCK = 1024
"""Validation rows per block when summing leaf values (block × trees floats at a time)."""


def grow_trees(
    client: Any,
    config: TrainConfig,
    data: tuple[Any, Any],
    trees: int,
    init_model: lgb.Booster | None = None,
    round_index: int = 0,
) -> lgb.Booster:
    """``trees`` more trees grown on the cluster (data-parallel LightGBM).

    ``data`` is the training window as Dask arrays (matrix, labels), chunked by part; each
    worker trains on the chunks it holds, one thread per worker core. With ``init_model``
    the workers continue from it (its scores are their starting point) and the booster
    returned holds its trees followed by the new ones. Rounds after the first get their
    own bagging and feature-sampling seeds: a continued fit starts its draws again from
    the seed, and would otherwise repeat the first round's row bags and feature subsets.
    """
    from lightgbm.dask import DaskLGBMClassifier

    params: dict[str, Any] = {
        k: v for k, v in booster_params(config).items() if k != "num_threads"
    }
    params |= round_seeds(config, round_index)
    _quiet_workers(client)
    model = DaskLGBMClassifier(client=client, n_estimators=trees, **params)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Parameter n_jobs will be ignored")
        model.fit(
            *data,
            feature_name=list(FEATURE_NAMES),
            categorical_feature=list(CATEGORICAL_INDEX),
            init_model=init_model,
        )
    booster: lgb.Booster = model.booster_
    return booster


def _quiet_thread() -> None:
    """Set LightGBM's log level to silent in the worker thread that runs this task.

    LightGBM's level is per thread, and ``lightgbm.dask`` sets up its network before it
    reads ``verbosity``, so each round would print "[LightGBM] [Info] Trying to bind
    port ..." on every worker. A one-row dataset built with ``verbosity=-1`` in the
    worker's task thread (one per worker, as ``local_cluster`` and docs/scaling.md
    start them) silences it for the fit that follows there.
    """
    lgb.Dataset(
        np.zeros((2, 1)), label=np.array([0.0, 1.0]), params={"verbosity": -1}
    ).construct()


def _quiet_workers(client: Any) -> None:
    workers = list(client.scheduler_info(n_workers=-1)["workers"])
    client.gather(
        [client.submit(_quiet_thread, workers=[w], pure=False) for w in workers]
    )


def round_seeds(config: TrainConfig, round_index: int) -> dict[str, int]:
    """Bagging and feature-sampling seeds of a round after the first (none for the first)."""
    if not round_index:
        return {}
    base = config.seed + ROUND_SEED_STEP * round_index
    return {"bagging_seed": base, "feature_fraction_seed": base + 1}


def fit_booster_dask(
    client: Any,
    config: TrainConfig,
    data: tuple[Any, Any],
    losses_of: Callable[[lgb.Booster], np.ndarray],
) -> tuple[lgb.Booster, int]:
    """Grow trees in rounds until the early-stopping rule fires; (booster, trees to keep).

    Each round adds ``max(early_stopping_rounds, MIN_ROUND)`` trees, continuing from the
    trees so far; ``losses_of`` gives the validation log-loss after every tree. The rule
    looks only at the losses up to ``early_stopping_rounds`` trees past the best, so
    stopping once that many trees follow the best keeps what growing all
    ``n_estimators`` would keep, at a fraction of the work (LightGBM's own early
    stopping cannot run on Dask). Growing also stops at ``n_estimators``, and when a
    round adds no tree (LightGBM found no split worth making: e.g. a training window too
    small for ``min_child_samples``), as one machine's ``lgb.train`` would stop.
    """
    rounds, most = config.model.early_stopping_rounds, config.model.n_estimators
    step = max(rounds, MIN_ROUND)
    booster: lgb.Booster | None = None
    for round_index in itertools.count():
        grown = 0 if booster is None else booster.num_trees()
        booster = grow_trees(
            client, config, data, min(step, most - grown), booster, round_index
        )
        keep = stopping_iteration(losses_of(booster), rounds)
        total = booster.num_trees()
        if total >= most or total - keep >= rounds or total == grown:
            break
    assert booster is not None
    return booster, keep


def leaf_values(booster: lgb.Booster) -> np.ndarray:
    """Every tree's leaf outputs: ``values[tree, leaf]`` (0 past a tree's last leaf)."""
    trees = booster.dump_model()["tree_info"]
    table = np.zeros((len(trees), max(t["num_leaves"] for t in trees)))
    for t, tree in enumerate(trees):
        for leaf in range(tree["num_leaves"]):
            table[t, leaf] = booster.get_leaf_output(t, leaf)
    return table


def iteration_log_loss(
    booster: lgb.Booster, values: np.ndarray, matrix: np.ndarray, labels: np.ndarray
) -> np.ndarray:
    """Summed binary log-loss of rows after each number of trees (1, 2, ... all)."""
    totals = np.zeros(values.shape[0])
    trees = np.arange(values.shape[0])
    for start in range(0, len(matrix), LEAF_BLOCK):
        block = slice(start, start + LEAF_BLOCK)
        leaves = np.asarray(booster.predict(matrix[block], pred_leaf=True))
        raw = np.cumsum(values[trees, leaves.reshape(len(leaves), -1)], axis=1)
        sign = np.where(labels[block], -1.0, 1.0)[:, None]
        totals += np.logaddexp(0.0, sign * raw).sum(axis=0)
    return totals


def stopping_iteration(losses: Sequence[float] | np.ndarray, rounds: int) -> int:
    """Trees to keep: ``lightgbm.early_stopping``'s choice given each iteration's loss."""
    best = 0
    for i in range(1, len(losses)):
        if losses[i] < losses[best]:
            best = i
        elif i - best >= rounds:
            break
    return best + 1
