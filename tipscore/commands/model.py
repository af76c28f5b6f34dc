"""``tipscore train``, ``evaluate`` and ``score``: fit a model, measure one, rescore a history."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from tipscore.commands.options import (
    Engine,
    ModelUri,
    Progress,
    Workers,
    check_engine,
    fail,
    train_config,
)

if TYPE_CHECKING:
    from training.config import TrainConfig


def train(
    data: Annotated[
        Path,
        typer.Option(
            help="History (training-data format): a Parquet file, or a folder of parts."
        ),
    ],
    config: Annotated[
        Path | None,
        typer.Option(
            help="Experiment config (default: training/configs/baseline.toml)."
        ),
    ] = None,
    decisions: Annotated[
        list[Path] | None,
        typer.Option(
            metavar="<path>",
            help="Analysts' decisions to train on too (`tipscore export-decisions`); "
            "repeatable; adds to the config's [data] decisions.",
        ),
    ] = None,
    engine: Annotated[
        Engine,
        typer.Option(
            help="'local' (this process) or 'dask' (lightgbm.dask, a cluster)."
        ),
    ] = "local",
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Dask scheduler (tcp://HOST:8786); default: a local cluster."
        ),
    ] = None,
    workers: Workers = 2,
    progress: Progress = True,
) -> None:
    """Train the escalation model on a history, evaluate it on the latest window, log it to MLflow.

    Prints the MLflow run id and the test-window metrics beside the oracle (on the rows with
    `p_true`) and the baselines; with analysts' decisions, also how often the model agrees
    with the analysts on the decided test rows. Promote it with
    `tipscore promote --run RUN_ID`.

    With `--engine dask`, linkage, features and the fit (lightgbm.dask) run on a Dask
    cluster — the one at `--scheduler`, or a local one of `--workers` processes — with the
    same split, calibration, thresholds and MLflow run. See docs/scaling.md.
    """
    from tipscore.engines import train_with
    from training.dask.cluster import ClusterError
    from training.data import HistoryError
    from training.train import metrics_table

    check_engine(engine, scheduler)
    cfg, text = train_config(config)
    cfg = _with_decisions(cfg, decisions or [])
    try:
        result = train_with(engine, data, cfg, text, (scheduler, workers), progress)
    except (HistoryError, ValueError, ClusterError) as exc:
        fail(exc)
    typer.echo(f"run id: {result.run_id}")
    typer.echo(f"model: {result.model_uri}")
    typer.echo(f"windows (rows): {result.split}")
    typer.echo(metrics_table(result.metrics))


def _with_decisions(cfg: TrainConfig, decisions: list[Path]) -> TrainConfig:
    """The config with ``--decisions`` files added after its own ``[data] decisions``."""
    if not decisions:
        return cfg
    data = cfg.data.model_copy(update={"decisions": [*cfg.data.decisions, *decisions]})
    return cfg.model_copy(update={"data": data})


def evaluate(
    model: ModelUri,
    data: Annotated[Path, typer.Option(help="History file to evaluate on.")],
    window: Annotated[
        Literal["all", "test"],
        typer.Option(
            help="all rows, or the latest (test) window of the config's split."
        ),
    ] = "all",
    config: Annotated[
        Path | None, typer.Option(help="Experiment config (policy, bins, split).")
    ] = None,
    decisions: Annotated[
        list[Path] | None,
        typer.Option(
            metavar="<path>",
            help="Analysts' decisions to add to the history (as in `train`); "
            "repeatable; adds to the config's [data] decisions.",
        ),
    ] = None,
) -> None:
    """Evaluate any logged or registered model on any history; print and log `eval_*` metrics.

    Oracle figures (`oracle_eval_*`) use only rows with `p_true`. Where the rows include
    analysts' decisions (`--decisions`, or a `tipscore export-decisions` file as `--data`),
    the model's suggested priorities are compared with the analysts': `eval_analyst_rows`,
    `eval_analyst_agreement`, `eval_analyst_kappa` (Cohen's, unweighted) and
    `eval_analyst_recorded_override_rate`.
    """
    from training import registry
    from training.data import HistoryError
    from training.evaluation_job import evaluate_model

    cfg, _ = train_config(config)
    registry.configure()
    try:
        outcome = evaluate_model(model, data, cfg, window, decisions or [])
    except (registry.RegistryError, HistoryError) as exc:
        fail(exc)
    typer.echo(f"evaluation run id: {outcome.run_id}")
    for key in sorted(outcome.metrics):
        typer.echo(f"  {key:<38}{outcome.metrics[key]:.4f}")


def score(
    model: ModelUri,
    data: Annotated[
        Path,
        typer.Option(help="History: a folder of Parquet parts, or one Parquet file."),
    ],
    out: Annotated[Path, typer.Option(help="Folder for the scored parts.")],
    engine: Annotated[
        Engine, typer.Option(help="'local' (this process) or 'dask' (a cluster).")
    ] = "local",
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Dask scheduler address (tcp://HOST:8786); without it, a local cluster."
        ),
    ] = None,
    workers: Workers = 2,
    top_n: Annotated[int, typer.Option(min=1, max=50, help="Reasons per report.")] = 5,
    overwrite: Annotated[
        bool,
        typer.Option(help="Replace an earlier run's scored parts in --out."),
    ] = False,
    progress: Progress = True,
) -> None:
    """Rescore a whole history: probability, suggested priority and top reasons per report.

    Writes one Parquet part per input part (`scored-<part>.parquet`: report_id,
    received_at, escalation_probability, suggested_priority, raw_score, base_value,
    reason_features, reason_contributions), then `_manifest.json` (the model, the parts
    and their rows) once every part is written. Parts are written atomically, so a part
    retried after a lost worker is neither lost nor doubled. An --out holding an earlier
    run's parts is refused unless --overwrite. See docs/scaling.md.
    """
    from tipscore.batch_score import OutputExistsError
    from tipscore.engines import ScoreJob, score_with
    from training.dask.cluster import ClusterError
    from training.partitions import PartsError
    from training.registry import RegistryError, configure, load_resolved

    check_engine(engine, scheduler)
    configure()
    try:
        ref, loaded = load_resolved(model)
    except RegistryError as exc:
        fail(exc)
    job = ScoreJob(data, out, top_n, overwrite, ref.about())
    try:
        summary = score_with(engine, loaded, job, (scheduler, workers), progress)
    except (FileNotFoundError, PartsError, OutputExistsError, ClusterError) as exc:
        fail(exc)
    version = f" v{ref.version}" if ref.version.isdigit() else ""
    typer.echo(
        f"scored {summary.rows:,} reports in {summary.parts} parts with "
        f"{ref.name}{version} into {summary.out}/"
    )


def backtest(
    data: Annotated[
        Path,
        typer.Option(
            help="History (training-data format): a Parquet file, or a folder of parts."
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            help="Folder for predictions.parquet, backtest.json and backtest.html."
        ),
    ],
    config: Annotated[
        Path | None,
        typer.Option(
            help="Experiment config (default: training/configs/baseline.toml)."
        ),
    ] = None,
    step: Annotated[
        Literal["month", "quarter", "week"],
        typer.Option(help="Period length: month, quarter or week."),
    ] = "month",
    folds: Annotated[
        int, typer.Option(min=1, help="How many of the latest periods to score.")
    ] = 6,
    reference_rows: Annotated[
        int,
        typer.Option(
            min=0,
            help="Per fold, also fit the audit's reference model (platform and location "
            "hidden) on at most this many rows, for `audit --predictions`; 0: none.",
        ),
    ] = 200_000,
    engine: Annotated[
        Engine,
        typer.Option(help="'local' (folds one after another) or 'dask' (in parallel)."),
    ] = "local",
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Dask scheduler (tcp://HOST:8786); default: a local cluster."
        ),
    ] = None,
    workers: Workers = 2,
    progress: Progress = True,
) -> None:
    """Rolling-origin backtest: how the model would have done, period after period.

    For each of the last `--folds` periods (`--step`), a model is trained with the
    config on every report whose outcome was known before the period began (decided
    before it, or never decided), then scores the period. Writes the pooled
    out-of-time predictions (`predictions.parquet`: report id, period, probability,
    priority, final label, `p_true`, and the metadata the audit groups by), the
    per-period PR-AUC, priority-1 recall and precision and calibration error beside
    the oracle's (`backtest.json`, `backtest.html`), and logs one MLflow run with a
    child run per fold. Audit the pooled predictions with
    `tipscore audit --predictions OUT`.

    Example: tipscore backtest --data data/history.parquet --folds 6 --out reports/bt
    """
    from tipscore.engines import _quiet_dask
    from training.backtest.job import BacktestJob, run_backtest
    from training.backtest.report import text_table
    from training.dask.cluster import ClusterError, dask_client
    from training.data import HistoryError

    check_engine(engine, scheduler)
    cfg, text = train_config(config)
    job = BacktestJob(
        data=data,
        out=out,
        step=step,
        folds=folds,
        reference_rows=reference_rows or None,
    )
    try:
        if engine == "dask":
            _quiet_dask()
            with dask_client(scheduler, workers) as client:
                done = run_backtest(job, cfg, text, client, progress)
        else:
            done = run_backtest(job, cfg, text, None, progress)
    except (HistoryError, ValueError, ClusterError) as exc:
        fail(exc)
    typer.echo(f"run id: {done.run_id}")
    typer.echo(text_table(done.result))
    for name, path in done.paths.items():
        typer.echo(f"{name}: {path}")
