"""``tipscore monitor``: is the champion's world still the one it was trained on?"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer

from tipscore.commands.options import ModelUri, Progress, fail

Day = Annotated[
    datetime | None,
    typer.Option(formats=["%Y-%m-%d"], help="A day (UTC), YYYY-MM-DD."),
]


def _day(value: datetime | None) -> date | None:
    return None if value is None else value.date()


def monitor(
    out: Annotated[
        Path, typer.Option(help="Folder for monitor.html and monitor.json.")
    ],
    since: Day = None,
    until: Day = None,
    config: Annotated[
        Path | None,
        typer.Option(help="Monitor config (default: training/configs/monitor.toml)."),
    ] = None,
    fail_on_alert: Annotated[
        bool, typer.Option(help="Exit 1 when any alert is raised (for a scheduler).")
    ] = False,
    model: ModelUri = "models:/tip-escalation@champion",
    reports_db: Annotated[
        Path | None,
        typer.Option(
            help="The service's report store (default: $TIPSCORE_REPORTS_DB, else "
            "$TIPSCORE_STATE_DIR/reports.db; `tipscore info` shows it)."
        ),
    ] = None,
    progress: Progress = True,
) -> None:
    """Watch the served model: volume, completeness, drift, overrides, time to decision.

    Volume, completeness and overrides per platform; the analysts' time to decision
    per suggested priority against the service targets
    (TIPSCORE_SERVICE_TARGETS_MINUTES), with the undecided and overdue reports.

    Reads what the service stored (reports received in `[--since, --until)`; by default
    the newest report's day and the `recent_days + baseline_days` before it) and the
    champion's reference profile (logged by `tipscore train`), then writes
    `OUT/monitor.html` (self-contained) and `OUT/monitor.json` (docs/monitoring.md),
    `monitor_status.json` in the state folder (read by the service's /metrics; only by a
    pass over the newest reports: no --until, at least one report), and one run in the
    MLflow experiment `monitoring` tagged with the model version.

    Example, daily from a scheduler:

        tipscore monitor --since 2026-01-01 --out reports/monitor --fail-on-alert
    """
    from serving.settings import ServingSettings
    from tipscore.monitor_state import MonitorRequest
    from tipscore.monitor_state import monitor as run_monitor
    from training import registry
    from training.monitor.config import load_monitor_config
    from training.monitor.job import Reference, reference_of

    try:
        cfg, _ = load_monitor_config(config)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--config") from None
    if since and until and until <= since:
        raise typer.BadParameter("--until must be after --since", param_hint="--until")
    settings = ServingSettings()
    path = (reports_db or settings.reports_path).absolute()
    try:
        registry.configure()
        registry.require_store()
        reference, log = reference_of(model), True
    except registry.RegistryError as exc:
        reference, log = Reference(None, None, "no MLflow store"), False
        typer.echo(f"{exc}; drift skipped, nothing logged", err=True)
    request = MonitorRequest(
        path,
        out,
        _day(since),
        _day(until),
        log,
        progress,
        settings.service_targets_minutes,
    )
    try:
        result, paths = run_monitor(request, reference, cfg)
    except FileNotFoundError as exc:
        fail(exc, code=1)
    _print(result, paths)
    if result["alerts"] and fail_on_alert:
        raise typer.Exit(1)


def _print(result: dict, paths: dict) -> None:  # type: ignore[type-arg]
    periods = result["periods"]
    typer.echo(
        f"monitored {result['reports']:,} reports and {result['decisions']:,} decisions, "
        f"{periods['start']} .. {periods['end']} (recent from {periods['recent_start']}); "
        f"drift: {result['drift']['status']} ({result['reference']})"
    )
    for line in decision_lines(result.get("time_to_decision") or {}):
        typer.echo(line)
    for alert in result["alerts"]:
        typer.echo(f"ALERT {alert['kind']}: {alert['message']}", err=True)
    if not result["alerts"]:
        typer.echo("no alert")
    logged = f"; logged to run {paths['run_id']}" if paths["run_id"] else ""
    typer.echo(f"wrote {paths['html']} and {paths['json']}{logged}")
    if paths["status"] is None:
        typer.echo(
            "the live status (/metrics) was left as it was: only a pass over the newest "
            "reports (no --until, at least one report) sets it"
        )


def _minutes(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value / 60:.1f} h" if value >= 120 else f"{value:.0f} min"


def decision_lines(times: dict) -> list[str]:  # type: ignore[type-arg]
    """Time to decision per suggested priority, one line each (``monitor.json``'s)."""
    lines = [
        "time to decision (reports received in the window, per suggested priority):"
    ]
    for priority, f in sorted(times.items()):
        within = f["within_target"]
        share = "–" if within is None else f"{within:.0%}"
        lines.append(
            f"  priority {priority}: {f['decided']:,} decided, median "
            f"{_minutes(f['median_minutes'])}, p90 {_minutes(f['p90_minutes'])}, "
            f"{share} within {_minutes(f['target_minutes'])}; "
            f"{f['undecided']:,} undecided, {f['overdue']:,} overdue"
        )
    return lines if times else []
