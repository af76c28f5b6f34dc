"""Where ``tipscore train`` and ``tipscore score`` run: this process, or a Dask cluster.

The CLI stays thin: it parses ``--engine``, ``--scheduler`` and ``--workers`` and calls
these. With ``--engine dask`` and no ``--scheduler``, a local cluster of ``--workers``
one-thread processes is started for the command and closed after it
(``training.dask.cluster.local_cluster``); with a scheduler address, the command runs on that
cluster and leaves it running. See docs/scaling.md.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tipscore.batch_score import (
    ScoreSummary,
    claim_out,
    score_dask,
    score_local,
    write_manifest,
)
from training.config import TrainConfig
from training.dask.cluster import dask_client
from training.partitions import history_parts
from training.registry import EscalationModel
from training.train import TrainResult

ENGINES = ("local", "dask")


def _quiet_dask() -> None:
    """Keep Dask's and LightGBM's set-up chatter (INFO) off the terminal unless --verbose."""
    import distributed  # noqa: F401  (its import sets its loggers' levels)

    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        logging.getLogger("distributed").setLevel(logging.WARNING)
        import lightgbm

        driver_log = logging.getLogger("lightgbm")  # "Finding random open ports ..."
        driver_log.setLevel(logging.WARNING)
        driver_log.addFilter(lambda record: "n_jobs" not in record.getMessage())
        lightgbm.register_logger(driver_log)
        # The workers' network set-up lines are silenced in training.dask.fit, all but
        # "[LightGBM] [Info] Listening..." (LightGBM's listener thread), once a round.


def check_engine(engine: str, scheduler: str | None) -> None:
    """Refuse an unknown engine, or a scheduler given to the local engine.

    Raises:
        ValueError: naming the option and what was expected.
    """
    if engine not in ENGINES:
        raise ValueError(f"--engine: expected local or dask, got {engine!r}")
    if scheduler and engine != "dask":
        raise ValueError("--scheduler: only with --engine dask")


def train_with(
    engine: str,
    data: Path,
    config: TrainConfig,
    config_text: str,
    cluster: tuple[str | None, int] = (None, 2),
    progress: bool = True,
) -> TrainResult:
    """Train on one machine, or on a cluster (``cluster``: scheduler address, workers)."""
    if engine == "local":
        from training.train import train

        return train(data, config, config_text, progress=progress)
    if (config.data.blind_weight, config.data.followed_suggestion_weight) != (1.0, 1.0):
        raise ValueError(
            "[data] blind_weight and followed_suggestion_weight: only with "
            "--engine local (the Dask fit does not weight rows)"
        )
    from training.dask.train import train_dask

    _quiet_dask()
    with dask_client(*cluster) as client:
        return train_dask(data, config, config_text, client, progress=progress)


@dataclass(frozen=True)
class ScoreJob:
    """What ``tipscore score`` was asked for, beyond the model and the engine."""

    data: Path
    out: Path
    top_n: int = 5
    overwrite: bool = False
    about: dict[str, Any] = field(default_factory=dict)
    """The model (uri, name, version, run id), for the manifest."""


def score_with(
    engine: str,
    model: EscalationModel,
    job: ScoreJob,
    cluster: tuple[str | None, int] = (None, 2),
    progress: bool = True,
) -> ScoreSummary:
    """Rescore in this process, or on a cluster (``cluster``: scheduler address, workers).

    The history's parts are checked before ``job.out`` is claimed (an earlier run's
    output refused, or removed with ``overwrite``); the manifest is written last.

    Raises:
        PartsError: the history is not a usable set of parts.
        OutputExistsError: ``job.out`` holds earlier output and not ``job.overwrite``.
        ClusterError: the scheduler cannot be reached or has no workers.
    """
    history_parts(job.data)
    if engine == "local":
        claim_out(job.out, job.overwrite)
        summary = score_local(model, job.data, job.out, job.top_n, progress)
    else:
        _quiet_dask()
        with dask_client(*cluster) as client:  # connected before anything is removed
            claim_out(job.out, job.overwrite)
            summary = score_dask(model, job.data, job.out, client, job.top_n, progress)
    about = {"model": job.about, "data": str(job.data), "engine": engine}
    write_manifest(summary, {**about, "top_n": job.top_n})
    return summary
