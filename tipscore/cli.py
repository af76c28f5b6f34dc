"""The ``tipscore`` command line: one typer app assembled from ``tipscore.commands``.

Why a package of its own: the CLI composes ``features``, ``training`` and ``serving`` (parse,
train, serve, ...), while those rooms must not import each other beyond the architecture's
rules. The commands live one group per module in ``tipscore.commands``; this module only
registers them (in the order ``--help`` lists them) and sets up logging.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from tipscore.commands import (
    data,
    db,
    info,
    intake,
    model,
    monitor,
    release,
    service,
    shadow,
    simulate,
)

EPILOG = (
    "**Files** live under the project home, whatever folder a command runs in: "
    "`$TIPSCORE_HOME` (or `--home`), else the source checkout holding pyproject.toml, "
    "else `~/.local/share/tipscore`. Defaults: the state folder `HOME/state` "
    "(`$TIPSCORE_STATE_DIR`; keys in `api_keys.json`, the report store `reports.db`), "
    "the MLflow store `HOME/mlruns/mlflow.db` (`$MLFLOW_TRACKING_URI`), settings in "
    "`HOME/.env`. Relative values are taken against the folder they are given in. "
    "`tipscore info` prints every resolved location and where it came from."
)

app = typer.Typer(
    name="tipscore",
    help="Metadata-only priority scoring for CyberTipline-style tip reports.",
    epilog=EPILOG,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)
app.command()(intake.parse)
app.command()(data.generate)
app.command("validate-data")(data.validate_data)
app.command()(model.train)
app.command()(model.evaluate)
app.command()(model.backtest)
app.command()(release.audit)
app.command()(release.promote)
app.command()(shadow.challenger)
app.command()(shadow.compare)
app.command("export-decisions")(service.export_decisions)
app.command()(monitor.monitor)
app.command()(simulate.simulate)
app.command()(model.score)
app.add_typer(service.keys_app, name="keys")
app.command()(service.serve)
app.add_typer(db.db_app, name="db")
app.command()(info.info)


@app.callback()
def _setup(
    ctx: typer.Context,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log debug detail.")
    ] = False,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            help="Project home for this command (sets $TIPSCORE_HOME; see `tipscore info`).",
            file_okay=False,
        ),
    ] = None,
) -> None:
    """Configure logging and the home once, for every subcommand (never at import).

    ``--home`` becomes ``$TIPSCORE_HOME``, absolute, so every setting and any process the
    command starts (``serve``'s workers) resolve the same home.
    """
    if home is not None:
        import os

        from home import HOME_VARIABLE, absolute

        os.environ[HOME_VARIABLE] = str(absolute(home))
        ctx.obj = {"home_flag": True}
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def main() -> None:
    """Console-script entry point."""
    app()
