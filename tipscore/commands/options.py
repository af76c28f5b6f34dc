"""What several commands share: option types, exit codes, and turning errors into exits."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, NoReturn

import typer

if TYPE_CHECKING:
    from training.audit.config import AuditConfig
    from training.config import TrainConfig

EXIT_BAD_INPUT = 2
"""Bad input: options, files, a model or run that cannot be used (as typer's own)."""

Engine = Literal["local", "dask"]
"""Where ``train`` and ``score`` run (``tipscore.engines.ENGINES``)."""

ModelUri = Annotated[
    str,
    typer.Option(
        help="Model URI, e.g. models:/tip-escalation@champion or runs:/ID/model."
    ),
]
Workers = Annotated[
    int, typer.Option(min=1, help="Workers of the local cluster (--engine dask).")
]
Progress = Annotated[bool, typer.Option(help="Show progress.")]


def fail(error: Exception, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Print ``error: ...`` on stderr and exit with ``code``."""
    typer.echo(f"error: {error}", err=True)
    raise typer.Exit(code) from None


def train_config(path: Path | None) -> tuple[TrainConfig, str]:
    """The experiment config at ``path`` (default: baseline) and its text; bad: exit 2."""
    from training.config import TrainConfigError, load_train_config

    try:
        return load_train_config(path)
    except TrainConfigError as exc:
        raise typer.BadParameter(str(exc), param_hint="--config") from None


def audit_config(path: Path | None, option: str) -> AuditConfig:
    """The audit config at ``path`` (default: audit.toml); bad: exit 2 naming ``option``."""
    from training.audit.config import load_audit_config

    try:
        return load_audit_config(path)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


def check_engine(engine: str, scheduler: str | None) -> None:
    """A scheduler only with ``--engine dask``; else exit 2."""
    from tipscore.engines import check_engine as check

    try:
        check(engine, scheduler)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
