"""The ``tipscore`` command line: one typer app assembled from ``tipscore.commands``.

Why a package of its own: the CLI composes ``features``, ``training`` and ``serving`` (parse,
train, serve, ...), while those rooms must not import each other beyond the architecture's
rules. The commands live one group per module in ``tipscore.commands``; this module only
registers them (in the order ``--help`` lists them) and sets up logging.
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from tipscore.commands import data, intake, model, release, service

app = typer.Typer(
    name="tipscore",
    help="Metadata-only priority scoring for CyberTipline-style tip reports.",
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
app.command()(release.audit)
app.command()(release.promote)
app.command("export-decisions")(service.export_decisions)
app.command()(model.score)
app.add_typer(service.keys_app, name="keys")
app.command()(service.serve)


@app.callback()
def _setup(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log debug detail.")
    ] = False,
) -> None:
    """Configure logging once, for every subcommand (never at import)."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def main() -> None:
    """Console-script entry point."""
    app()
