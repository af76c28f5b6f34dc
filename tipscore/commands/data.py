"""``tipscore generate`` and ``tipscore validate-data``: histories in the training-data format."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

if TYPE_CHECKING:
    from training.synth.config import GeneratorConfig


def generate(
    out: Annotated[
        Path, typer.Option(help="Parquet file to write (a .card.md goes beside it).")
    ],
    rows: Annotated[
        int, typer.Option(min=1, max=100_000_000, help="Reports to generate.")
    ] = 200_000,
    seed: Annotated[
        int, typer.Option(min=0, help="Random seed: same seed, same bytes.")
    ] = 0,
    start: Annotated[
        datetime, typer.Option(formats=["%Y-%m-%d"], help="First receipt day.")
    ] = datetime(2023, 1, 1),
    end: Annotated[
        datetime, typer.Option(formats=["%Y-%m-%d"], help="Last receipt day.")
    ] = datetime(2024, 12, 31),
    config: Annotated[
        Path | None,
        typer.Option(
            help="Generator knobs (default: training/configs/synthetic.toml)."
        ),
    ] = None,
    partition: Annotated[
        Literal["month"] | None,
        typer.Option(
            help="'month': write OUT as a folder of one Parquet part per receipt month "
            "(YYYY-MM.parquet, for --engine dask), instead of one file."
        ),
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
) -> None:
    """Generate a synthetic report history calibrated to NCMEC's published figures.

    Every row carries p_true, the true escalation probability given what a model could know,
    so model quality can be measured against the best possible. See docs/training-data.md.
    """
    from training.synth.generate import GenerateRequest
    from training.synth.generate import generate as run
    from training.synth.monthly import generate_monthly, parts_folder_problem

    cfg = _generator_config(config)
    if end < start:
        raise typer.BadParameter(
            f"{end.date()} is before --start {start.date()}", param_hint="--end"
        )
    request = GenerateRequest(rows, seed, start.date(), end.date(), out, progress)
    if partition:
        problem = parts_folder_problem(out)
        if problem:
            raise typer.BadParameter(problem, param_hint="--out")
        result, parts = generate_monthly(request, cfg)
        written = f"{out}/ ({parts} monthly parts)"
    else:
        result, written = run(request, cfg), str(out)
    typer.echo(
        f"wrote {result.rows:,} reports to {written} "
        f"(escalation rate {result.escalation_rate:.4%}, mean p_true {result.mean_p_true:.4%}); "
        f"dataset card: {result.card}"
    )


def _generator_config(path: Path | None) -> GeneratorConfig:
    from training.synth.config import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as exc:
        raise typer.BadParameter(str(exc), param_hint="--config") from None


def validate_data(
    path: Annotated[
        Path,
        typer.Argument(help="History file (Parquet), or a folder of parts, to check."),
    ],
) -> None:
    """Check a history file against the training-data format (docs/training-data.md).

    Prints every problem with its column and sample rows and exits 1, or prints a summary.
    """
    from training.validate_data import validate_history

    problems, summary = validate_history(path)
    if problems:
        for p in problems:
            sample = (
                f" e.g. rows {p.rows} (report ids {p.report_ids})" if p.rows else ""
            )
            count = f" [{p.count} rows]" if p.count else ""
            typer.echo(f"{p.column}: {p.problem}{count}{sample}", err=True)
        typer.echo(f"{path}: {len(problems)} problem(s); not a valid history", err=True)
        raise typer.Exit(1)
    assert summary is not None
    typer.echo(f"{path}: valid history")
    for key, value in summary.model_dump().items():
        typer.echo(f"  {key}: {value}")
