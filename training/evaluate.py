"""Honest evaluation: metrics of a model, the oracle and baselines on a window, also by month.

Thresholds are never tuned here: the model's come with it (chosen on its validation window),
the oracle's are chosen by the same capacity policy on the validation window's ``p_true``.

Rows from analysts' decisions have no ``p_true``: oracle figures use only the rows that
have one (``oracle_*_reports`` says how many), and a model's ratio to the oracle is taken
on those same rows. On decided rows the model's suggested priority is also compared with
the analyst's (``*_analyst_*``).
"""

from __future__ import annotations

import math

import numpy as np

from training.config import TrainConfig
from training.data import History
from training.metrics import analyst_agreement, capacity_threshold, pr_auc, summary
from training.model import EscalationModel


def prefixed(prefix: str, metrics: dict[str, float]) -> dict[str, float]:
    """``{prefix}_{name}`` for every metric."""
    return {f"{prefix}_{name}": value for name, value in metrics.items()}


def model_probabilities(
    model: EscalationModel, history: History, rows: slice | np.ndarray
) -> np.ndarray:
    """Calibrated probabilities of the model for ``rows`` of the history."""
    return model.scores(history.matrix[rows]).probability


def model_metrics(
    model: EscalationModel,
    history: History,
    rows: slice | np.ndarray,
    config: TrainConfig,
) -> dict[str, float]:
    """The model's headline metrics on ``rows`` (a window, or row numbers)."""
    p = model_probabilities(model, history, rows)
    thresholds = (model.policy.p1_threshold, model.policy.p2_threshold)
    return summary(history.labels[rows], p, thresholds, config.evaluation.ece_bins)


def with_truth(history: History, rows: slice) -> np.ndarray:
    """Row numbers in ``rows`` whose ``p_true`` is known (none without ``p_true``)."""
    if history.p_true is None:
        return np.arange(0)
    known: np.ndarray = np.flatnonzero(np.isfinite(history.p_true[rows]))
    shifted: np.ndarray = known + rows.start
    return shifted


def _oracle(
    history: History, rows: np.ndarray, thresholds_from: np.ndarray, config: TrainConfig
) -> dict[str, float]:
    assert history.p_true is not None
    reference = history.p_true[thresholds_from]
    thresholds = (
        capacity_threshold(reference, config.policy.p1_share),
        capacity_threshold(reference, config.policy.p12_share),
    )
    return summary(
        history.labels[rows],
        history.p_true[rows],
        thresholds,
        config.evaluation.ece_bins,
    )


def oracle_comparison(
    model: EscalationModel,
    history: History,
    rows: slice,
    config: TrainConfig,
    thresholds_from: slice | None = None,
) -> tuple[dict[str, float], dict[str, float]]:
    """The oracle's metrics on the rows of ``rows`` with ``p_true``, and the model's ratios.

    The oracle ranks by ``p_true``; its thresholds follow the capacity policy on the rows
    of ``thresholds_from`` (the validation window) with ``p_true``, or on its own rows.
    Ratios (``pr_auc_ratio_to_oracle``, ``p1_recall_ratio_to_oracle``) compare the model
    with the oracle on the same rows. Both empty when no row has ``p_true``.
    """
    truth = with_truth(history, rows)
    reference = (
        truth if thresholds_from is None else with_truth(history, thresholds_from)
    )
    if not len(truth) or not len(reference):
        return {}, {}
    oracle = _oracle(history, truth, reference, config)
    window = rows.stop - rows.start
    same = model_metrics(
        model, history, rows if len(truth) == window else truth, config
    )
    return oracle, {
        "pr_auc_ratio_to_oracle": ratio(same["pr_auc"], oracle["pr_auc"]),
        "p1_recall_ratio_to_oracle": ratio(same["p1_recall"], oracle["p1_recall"]),
    }


def analyst_metrics(
    model: EscalationModel, history: History, rows: slice
) -> dict[str, float]:
    """Agreement of the model's suggested priorities with analysts' on decided ``rows``.

    Empty when the history has no decided rows at all; ``{"rows": 0}`` when it has some,
    but none in ``rows``. See ``training.metrics.analyst_agreement``.
    """
    if history.analyst is None or history.suggested is None:
        return {}
    decided = np.flatnonzero(history.analyst[rows] > 0) + rows.start
    if not len(decided):
        return analyst_agreement(np.arange(0), np.arange(0), np.arange(0))
    priority = model.scores(history.matrix[decided]).priority
    return analyst_agreement(
        priority, history.analyst[decided], history.suggested[decided]
    )


def monthly(
    labels: np.ndarray,
    probabilities: np.ndarray,
    months: np.ndarray,
    thresholds: tuple[float, float],
    bins: int,
) -> dict[str, dict[str, float]]:
    """The headline metrics for each receipt month of a window."""
    out = {}
    for month in np.unique(months):
        rows = months == month
        out[str(month)] = summary(labels[rows], probabilities[rows], thresholds, bins)
    return out


def same_queues(
    model: EscalationModel, history: History, rows: slice, config: TrainConfig
) -> TrainConfig:
    """``config`` with the policy's shares set to the model's queues on ``rows``.

    The shares of priority 1 and of priorities 1-2 the model gives the rows with
    ``p_true`` (all rows when none has it), so the oracle fills queues of the same size.
    """
    truth = with_truth(history, rows)
    picked = truth if len(truth) else np.arange(rows.start, rows.stop)
    if not len(picked):
        return config
    priority = model.scores(history.matrix[picked]).priority
    p1 = float(np.mean(priority == 1))
    p12 = max(p1, float(np.mean(priority <= 2)))
    policy = config.policy.model_copy(update={"p1_share": p1, "p12_share": p12})
    return config.model_copy(update={"policy": policy})


def ratio(model: float, oracle: float) -> float:
    """Model metric as a share of the oracle's (NaN when undefined)."""
    if math.isnan(model) or math.isnan(oracle) or oracle == 0:
        return math.nan
    return model / oracle


def baseline_pr_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """PR-AUC of a baseline's ranking score."""
    return pr_auc(labels, scores)


def evaluate_file(
    model: EscalationModel, history: History, rows: slice, config: TrainConfig
) -> dict[str, float]:
    """``eval_*`` metrics of a model on ``rows`` of any history: oracle, rules, analysts.

    The oracle's thresholds come from its own rows (a file has no validation window
    here), at the queue sizes the model gives these rows (``same_queues``): the model's
    thresholds came from its own validation window, and at the policy's shares the oracle
    was judged on another queue than the model's (a P1 recall ratio of 1.26; an outside
    test, session 9).
    """
    from training.baselines import rules_score

    metrics = prefixed("eval", model_metrics(model, history, rows, config))
    labels = history.labels[rows]
    metrics["baseline_rules_eval_pr_auc"] = baseline_pr_auc(
        labels, rules_score(history.flat.iloc[rows])
    )
    queues = same_queues(model, history, rows, config)
    oracle, ratios = oracle_comparison(model, history, rows, queues)
    metrics |= prefixed("oracle_eval", oracle) | prefixed("eval", ratios)
    metrics |= prefixed("eval_analyst", analyst_metrics(model, history, rows))
    return metrics
