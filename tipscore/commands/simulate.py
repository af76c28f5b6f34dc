"""``tipscore simulate``: months of operation, end to end (docs/simulation.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tipscore.commands.options import Progress, fail


def simulate(
    history: Annotated[
        Path, typer.Option(help="Synthetic history with p_true (`tipscore generate`).")
    ],
    start_months: Annotated[
        int, typer.Option(min=1, help="Months the first champion is trained on.")
    ],
    months: Annotated[
        int, typer.Option(min=1, help="Months simulated after them, day by day.")
    ],
    out: Annotated[
        Path,
        typer.Option(
            help="Folder for the run (its MLflow store, state and report); must be "
            "new or empty."
        ),
    ],
    config: Annotated[
        Path | None,
        typer.Option(
            help="Simulation config (default: training/configs/simulate.toml)."
        ),
    ] = None,
    progress: Progress = True,
) -> None:
    """Simulate months of operation: service, analysts, retraining, shadow and gates.

    Trains a champion on the history's first `--start-months` months, starts the real
    service (`bentoml serve`, its own state in OUT/state), then for each of `--months`
    months streams every day's reports over HTTP while simulated analysts decide their
    daily capacity from the queue (noise, automation bias, blind review: the config). At
    each month's end: export decisions, retrain (label timing respected), audit, shadow
    the candidate for the next month's first days, promote if the gates pass. Writes
    OUT/simulation.{json,md,png} and one MLflow run (OUT/mlruns). Exits 1 if any step
    failed.

    Example: tipscore simulate --history data/h.parquet --start-months 18 --months 6
    --out reports/sim
    """
    from tipscore.simulate.config import SimulateConfigError, load_simulate_config
    from tipscore.simulate.run import SimulateRequest, SimulationError
    from tipscore.simulate.run import simulate as run

    try:
        cfg, text = load_simulate_config(config)
    except SimulateConfigError as exc:
        raise typer.BadParameter(str(exc), param_hint="--config") from None
    request = SimulateRequest(history, start_months, months, out, cfg, text, progress)
    try:
        report = run(request)
    except SimulationError as exc:
        fail(exc)
    typer.echo((out / "simulation.md").read_text())
    typer.echo(f"wrote {out}/simulation.json, simulation.md, simulation.png")
    if report["failed"]:
        typer.echo(f"{len(report['failed'])} step(s) failed", err=True)
        raise typer.Exit(1)
