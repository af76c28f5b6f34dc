"""Where ``tipscore train`` and ``tipscore score`` run: this process, or a Dask cluster.

The CLI stays thin: it parses ``--engine``, ``--scheduler`` and ``--workers`` and calls
these. With ``--engine dask`` and no ``--scheduler``, a local cluster of ``--workers``
one-thread processes is started for the command and closed after it
(``training.cluster.local_cluster``); with a scheduler address, the command runs on that
cluster and leaves it running. See docs/scaling.md.
"""

from __future__ import annotations

import logging
from pathlib import Path

from tipscore.batch_score import ScoreSummary, score_dask, score_local
from training.cluster import dask_client
from training.config import TrainConfig
from training.registry import EscalationModel
from training.train import TrainResult

ENGINES = ("local", "dask")


def _quiet_dask() -> None:
    """Keep Dask's start/stop chatter (INFO) off the terminal unless --verbose."""
    import distributed  # noqa: F401  (its import sets its loggers' levels)

    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        logging.getLogger("distributed").setLevel(logging.WARNING)


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
    from training.dask_train import train_dask

    _quiet_dask()
    with dask_client(*cluster) as client:
        return train_dask(data, config, config_text, client, progress=progress)


def score_with(
    engine: str,
    model: EscalationModel,
    data: Path,
    out: Path,
    cluster: tuple[str | None, int] = (None, 2),
    top_n: int = 5,
    progress: bool = True,
) -> ScoreSummary:
    """Rescore in this process, or on a cluster (``cluster``: scheduler address, workers)."""
    if engine == "local":
        return score_local(model, data, out, top_n, progress)
    _quiet_dask()
    with dask_client(*cluster) as client:
        return score_dask(model, data, out, client, top_n, progress)
