"""``tipscore backtest``: rolling-origin folds fitted, scored, pooled, reported and logged.

Linkage and features are built once, in this process, from the whole history (they are
point in time: ``training.decision_times``), then each fold fits on its own rows. With a
Dask client, the folds are fitted in parallel on its workers (the matrix is scattered
once); without one, one after the other here. Either way the MLflow record is one parent
run (tag ``kind=backtest``) with a child run per fold.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from training import registry
from training.audit.groups import (
    PREDICTION_GROUP_COLUMNS,
    base_labels,
    source_values,
)
from training.backtest.fit import (
    HEADLINE,
    FoldScores,
    finite,
    fit_fold,
    oracle_metrics,
    period_metrics,
)
from training.backtest.folds import Fold, Step, make_folds, valid_share
from training.backtest.report import json_safe, prediction_frame, write_backtest
from training.config import TrainConfig, config_hash
from training.data import History, load_history
from training.metrics import summary
from training.weights import history_weights


@dataclass(frozen=True)
class BacktestJob:
    """What ``tipscore backtest`` was asked for."""

    data: Path
    out: Path
    step: Step = "month"
    folds: int = 6
    reference_rows: int | None = 200_000
    """Fit the audit's reference model per fold on at most this many rows (None: no)."""


@dataclass(frozen=True)
class BacktestResult:
    """Where the outputs went, the MLflow parent run, the figures."""

    run_id: str
    paths: dict[str, Path]
    result: dict[str, Any]


def _local(
    config: TrainConfig, history: History, folds: list[Fold], reference: int | None
) -> Iterator[tuple[int, FoldScores]]:
    weights = history_weights(config, history)
    for index, fold in enumerate(folds):
        yield (
            index,
            fit_fold(config, history.matrix, history.labels, fold, reference, weights),
        )


def _dask(
    config: TrainConfig,
    history: History,
    folds: list[Fold],
    reference: int | None,
    client: Any,
) -> Iterator[tuple[int, FoldScores]]:
    from distributed import as_completed

    matrix = client.scatter(history.matrix, broadcast=True)
    labels = client.scatter(history.labels, broadcast=True)
    weights = history_weights(config, history)
    futures = {
        client.submit(
            fit_fold, config, matrix, labels, fold, reference, weights, pure=False
        ): index
        for index, fold in enumerate(folds)
    }
    for future in as_completed(futures):  # type: ignore[no-untyped-call]
        yield futures[future], future.result()


def _per_row(folds: list[Fold], values: list[float]) -> np.ndarray:
    """One value per fold, repeated for each of its period's rows."""
    return np.repeat(np.asarray(values, dtype=np.float64), [len(f.test) for f in folds])


def _period(
    history: History, fold: Fold, scores: FoldScores, config: TrainConfig
) -> dict[str, Any]:
    labels = history.labels[fold.test]
    entry: dict[str, Any] = {
        "period": fold.period,
        "reports": len(fold.test),
        "positives": int(labels.sum()),
        "trained_on": len(fold.train),
        "calibrated_on": len(fold.valid),
        "thresholds": list(scores.thresholds),
        "trees": scores.trees,
        "model": finite(period_metrics(labels, scores, config)),
    }
    if history.p_true is not None:
        truth = history.p_true[fold.test]
        oracle = oracle_metrics(labels, truth, history.p_true[fold.valid], config)
        if oracle:
            entry["oracle"] = finite(oracle)
            entry["oracle_reports"] = int(np.isfinite(truth).sum())
    return entry


def training_groups(
    history: History, folds: list[Fold]
) -> dict[str, dict[str, dict[str, float]]]:
    """Each fold's expected escalations in its training rows, per group source value.

    ``{period: {column: {value: expected}}}`` over ``PREDICTION_GROUP_COLUMNS``:
    ``p_true`` summed where every row has it, else the labels (the observed count
    estimates the expected one). The audit's ``mean_score`` reads it to count the chance
    in each group's training labels (``training.audit.mean_score``).
    """
    base = base_labels(history.flat)
    truth = history.p_true
    expected = (
        truth
        if truth is not None and bool(np.isfinite(truth).all())
        else history.labels.astype(float)
    )
    sources = {c: source_values(base[c]) for c in PREDICTION_GROUP_COLUMNS}
    out: dict[str, dict[str, dict[str, float]]] = {}
    for fold in folds:
        out[fold.period] = {}
        for column in PREDICTION_GROUP_COLUMNS:
            values = sources[column][fold.train]
            sums = pd.Series(expected[fold.train]).groupby(values).sum()
            out[fold.period][column] = {str(v): float(e) for v, e in sums.items()}
    return out


def _pooled(
    history: History,
    folds: list[Fold],
    probability: np.ndarray,
    priority: np.ndarray,
    config: TrainConfig,
) -> dict[str, float]:
    rows = np.concatenate([f.test for f in folds])
    labels = history.labels[rows]
    # each fold has its own thresholds: pool their priorities, not one threshold
    p1, p12 = priority == 1, priority <= 2
    positives = max(int(labels.sum()), 1)
    figures = summary(
        labels, probability, (math.inf, math.inf), config.evaluation.ece_bins
    )
    return finite(
        {
            "pr_auc": figures["pr_auc"],
            "ece": figures["ece"],
            "p1_recall": float((p1 & labels).sum() / positives),
            "p1_precision": float((p1 & labels).sum() / max(int(p1.sum()), 1)),
            "p12_recall": float((p12 & labels).sum() / positives),
            "positives": float(labels.sum()),
            "reports": float(len(rows)),
        }
    )


def run_backtest(
    job: BacktestJob,
    config: TrainConfig,
    config_text: str,
    client: Any | None = None,
    progress: bool = True,
) -> BacktestResult:
    """Fit every fold, pool its period's predictions, write and log the report.

    Raises:
        HistoryError: the history breaks the training-data format.
        ValueError: too few periods for ``job.folds``, or a fold with nothing to fit.
    """
    history = load_history(
        job.data, config.data.decisions, config.history.assumed_decision_lag_days
    )
    decided = history.decided
    assert decided is not None  # load_history always resolves decision times
    share = valid_share(config.split.valid_fraction, config.split.test_fraction)
    folds = make_folds(history.micros, decided, job.step, job.folds, share)
    fitted = (
        _dask(config, history, folds, job.reference_rows, client)
        if client
        else _local(config, history, folds, job.reference_rows)
    )
    results: dict[int, FoldScores] = {}
    with tqdm(
        total=len(folds), desc="backtest", unit="fold", disable=not progress
    ) as bar:
        for index, scores in fitted:
            results[index] = scores
            bar.set_postfix_str(folds[index].period)
            bar.update()
    periods = [_period(history, f, results[i], config) for i, f in enumerate(folds)]
    order = range(len(folds))
    rows = np.concatenate([f.test for f in folds])
    probability = np.concatenate([results[i].probability for i in order])
    priority = np.concatenate([results[i].priority for i in order])
    columns = {
        "period": np.repeat([f.period for f in folds], [len(f.test) for f in folds]),
        "probability": probability,
        "priority": priority,
        "label": history.labels[rows],
        "p_true": (
            history.p_true[rows]
            if history.p_true is not None
            else np.full(len(rows), np.nan)
        ),
        "p1_threshold": _per_row(folds, [results[i].thresholds[0] for i in order]),
        "p2_threshold": _per_row(folds, [results[i].thresholds[1] for i in order]),
    }
    references = [results[i].reference_priority for i in order]
    if all(r is not None for r in references):
        columns["reference_priority"] = np.concatenate(references)  # type: ignore[arg-type]
    chances = [results[i].reference_probability for i in order]
    if all(r is not None for r in chances):
        columns["reference_probability"] = np.concatenate(chances)  # type: ignore[arg-type]
    predictions = prediction_frame(history.flat.iloc[rows], columns)
    result = {
        "data": str(job.data),
        "data_sha256": history.sha256,
        "step": job.step,
        "folds": job.folds,
        "engine": "dask" if client else "local",
        "reference_model_rows": job.reference_rows,
        "predictions": len(rows),
        "config_sha256": config_hash(config_text),
        "periods": periods,
        "pooled": _pooled(history, folds, probability, priority, config),
    }
    run_id = _log(result, config, job)
    result["run_id"] = run_id
    paths = write_backtest(
        result, predictions, job.out, training_groups(history, folds)
    )
    return BacktestResult(run_id, paths, result)


def _log(result: dict[str, Any], config: TrainConfig, job: BacktestJob) -> str:
    """One parent run with the pooled figures, a child per fold with its period's."""
    registry.configure(create=True)
    with registry.start_run(config.experiment) as run_id:
        registry.set_tags(
            {
                "kind": "backtest",
                "data_sha256": result["data_sha256"],
                "config_sha256": result["config_sha256"],
                "engine": result["engine"],
            }
        )
        registry.log_params(
            {"step": job.step, "folds": job.folds, "data": str(job.data)}
        )
        registry.log_metrics({f"backtest_{k}": v for k, v in result["pooled"].items()})
        for step, period in enumerate(result["periods"]):
            for name in HEADLINE:
                if name in period["model"]:
                    registry.log_metrics(
                        {f"backtest_period_{name}": period["model"][name]}, step=step
                    )
            with registry.start_child_run(f"fold {period['period']}"):
                registry.set_tags({"kind": "backtest_fold", "period": period["period"]})
                registry.log_metrics(
                    {f"test_{k}": v for k, v in period["model"].items()}
                    | {f"oracle_{k}": v for k, v in period.get("oracle", {}).items()}
                )
        registry.log_dict(json_safe(result), "backtest.json")
    return run_id
