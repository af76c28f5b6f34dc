"""``tipscore challenger`` and ``tipscore compare``: a model in the shadows, then judged.

``challenger`` registers a run's model and points the registry's ``challenger`` alias at it
(no gates: it answers no one); the service scores every report with it beside the champion
after its next start or ``/admin/reload`` (``serving.shadow``). ``compare`` reads what the
service kept and says what the challenger would have changed.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from tipscore.commands.options import fail

ReportsDb = Annotated[
    Path | None,
    typer.Option(
        help="The service's report store (default: $TIPSCORE_REPORTS_DB, else "
        "$TIPSCORE_STATE_DIR/reports.db; `tipscore info` shows it)."
    ),
]
Moment = Annotated[
    datetime | None,
    typer.Option(help="A day or time (UTC), e.g. 2026-01-01 or 2026-01-01T12:00:00."),
]


def challenger(
    run: Annotated[
        str | None,
        typer.Option("--run", help="MLflow run id of a `tipscore train` run."),
    ] = None,
    clear: Annotated[
        bool, typer.Option(help="Remove the `challenger` alias instead.")
    ] = False,
    name: Annotated[
        str, typer.Option(help="Registered model name.")
    ] = "tip-escalation",
) -> None:
    """Make a run's model the challenger the service scores in the shadows (no gates).

    Registers the run's model (checksum recorded) and points the `challenger` alias at the
    new version. The service picks it up at its next start or `POST /admin/reload`; its
    answers are stored, never returned. Judge it with `tipscore compare`, then
    `tipscore promote --run RUN --require-shadow`.

    Example:
        tipscore challenger --run 0123abcd...  &&  curl -X POST .../admin/reload
    """
    from training import registry

    if clear == (run is not None):
        raise typer.BadParameter("give either --run or --clear")
    registry.configure()
    try:
        registry.require_store()
        if clear:
            removed = registry.clear_alias(name, registry.CHALLENGER)
            typer.echo("challenger alias removed" if removed else "no challenger alias")
            return
        assert run is not None
        version = registry.register(run, name)
        registry.set_alias(name, registry.CHALLENGER, version)
    except registry.RegistryError as exc:
        fail(exc)
    typer.echo(f"registered run {run} as {name} version {version}: challenger")


def compare(
    out: Annotated[
        Path,
        typer.Option(help="Folder for compare.html, compare.json and changes.csv."),
    ],
    since: Moment = None,
    until: Moment = None,
    challenger_version: Annotated[
        str | None,
        typer.Option(
            "--challenger",
            help="The challenger as NAME/VERSION (default: the latest shadowed).",
        ),
    ] = None,
    reports_db: ReportsDb = None,
) -> None:
    """Compare the champion with the challenger on the reports both scored (shadow).

    Reads the service's stored answers for reports received in `[--since, --until)` (all
    by default) and writes `OUT/compare.html` (self-contained, with plots),
    `OUT/compare.json` (the same figures) and `OUT/changes.csv` (every report whose
    priority the challenger would change): agreement on priority (champion × challenger),
    the overlap of the two priority-1 queues, per-group differences (platform size tier,
    jurisdiction, incident type), and how analysts' decisions side with each model.

    Example:
        tipscore compare --since 2026-01-01 --out reports/compare
    """
    from serving.settings import ServingSettings
    from tipscore.shadow_state import CompareRequest, run_compare

    if since and until and until <= since:
        raise typer.BadParameter("--until must be after --since", param_hint="--until")
    path = (reports_db or ServingSettings().reports_path).absolute()
    request = CompareRequest(path, out, since, until, challenger_version)
    try:
        result, paths = run_compare(request)
    except (FileNotFoundError, LookupError) as exc:
        fail(exc, code=1)
    overlap, analysts = result["p1_overlap"], result["analysts"]
    typer.echo(
        f"compared {result['reports']:,} reports shadowed by {result['challenger']}: "
        f"same priority {_pct(result['agreement']['share'])}, "
        f"{result['changed']:,} would change; P1 Jaccard {_pct(overlap['jaccard'])}, "
        f"champion's P1 kept {_pct(overlap['champion_p1_kept'])}; analysts agree with "
        f"champion {_pct(analysts['champion_agreement'])}, challenger "
        f"{_pct(analysts['challenger_agreement'])} ({analysts['decided']:,} decided)"
    )
    typer.echo(f"wrote {paths['html']}, {paths['json']} and {paths['csv']}")
    if not result["reports"]:  # as documented: nothing shadowed is a failure to compare
        typer.echo("no report in this window was shadowed: nothing compared", err=True)
        raise typer.Exit(1)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"
