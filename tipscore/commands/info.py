"""``tipscore info``: where every file is, resolved, and why there.

The answer to "which store is this command using?" without reading the code: the home, the
state folder and what it holds, the MLflow store, each with where its value came from
(flag, environment, the home's ``.env``, or the default) and whether it exists yet.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer


def info(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the locations as JSON.")
    ] = False,
) -> None:
    """Print the resolved locations: home, state dir, keys file, report store, MLflow store.

    Every command uses these, from whatever folder it runs. The home is `$TIPSCORE_HOME`
    (or `tipscore --home`), else the source checkout holding pyproject.toml, else
    `~/.local/share/tipscore`; the rest defaults under it. See docs/architecture.md.
    """
    from tipscore.locations import locations

    home_flag = bool((ctx.find_root().obj or {}).get("home_flag"))
    found = locations(home_flag)
    if as_json:
        typer.echo(json.dumps([loc.as_dict() for loc in found], indent=2))
        return
    for loc in found:
        state = {True: "exists", False: "missing", None: ""}[loc.exists]
        typer.echo(f"{loc.name:<14}{loc.value}" + (f"  [{state}]" if state else ""))
        typer.echo(f"{'':<14}({loc.source})")
