"""One evaluation end to end: load a model and a history, compute ``eval_*``, log a run.

Used by ``tipscore evaluate``. The run goes to the experiment ``<experiment>-evaluation``,
apart from the training runs, tagged with which model was evaluated on which data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from training import registry
from training.config import TrainConfig
from training.data import History, load_history
from training.evaluate import evaluate_file
from training.splits import temporal_split

Window = Literal["all", "test"]
"""Which rows: all of them, or the latest (test) window of the config's split."""


@dataclass(frozen=True)
class EvaluationOutcome:
    """The evaluation run's id and its ``eval_*`` metrics (NaN where undefined)."""

    run_id: str
    metrics: dict[str, float]


def window_rows(history: History, window: Window, cfg: TrainConfig) -> slice:
    """The rows of ``history`` that ``window`` names under the config's split."""
    if window == "all":
        return slice(0, len(history.labels))
    split = cfg.split
    return temporal_split(
        history.micros, split.valid_fraction, split.test_fraction
    ).test


def evaluate_model(
    model_uri: str,
    data: Path,
    cfg: TrainConfig,
    window: Window = "all",
    decisions: Sequence[Path] = (),
) -> EvaluationOutcome:
    """Evaluate ``model_uri`` on ``data`` (plus decisions files) and log it as a run.

    Raises:
        RegistryError: the model cannot be loaded.
        HistoryError: the history or a decisions file cannot be read.
    """
    loaded = registry.load_model(model_uri)
    history = load_history(
        data,
        [*cfg.data.decisions, *decisions],
        cfg.history.assumed_decision_lag_days,
    )
    metrics = evaluate_file(loaded, history, window_rows(history, window, cfg), cfg)
    tags = {
        "model_uri": model_uri,
        "data_path": str(data),
        "data_sha256": history.sha256,
        "window": window,
        "decision_files": ",".join(path for path, _ in history.decisions) or "none",
    }
    finite = {k: v for k, v in metrics.items() if v == v}
    run_id = registry.log_run(f"{cfg.experiment}-evaluation", tags, finite)
    return EvaluationOutcome(run_id, metrics)
