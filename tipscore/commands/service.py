"""``tipscore serve``, ``keys`` and ``export-decisions``: the scoring service and its data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from serving.keys import Role

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
"""Where dev mode (requests without a key act as admin) may listen."""

keys_app = typer.Typer(
    help="API keys for the scoring service (stored as hashes only).",
    no_args_is_help=True,
)


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 3000,
    dev: Annotated[
        bool,
        typer.Option(
            help="Dev mode: requests without a key act as admin. Local demos only."
        ),
    ] = False,
) -> None:
    """Serve the champion model over HTTP (BentoML): /score, /score_batch, /score_xml, ...

    Keys come from `tipscore keys add`; the model from `models:/tip-escalation@champion`
    (`TIPSCORE_MODEL_URI`). The service uses the same home, state folder and MLflow store
    as every other command (`tipscore info`), wherever it is started. See docs/serving.md.
    """
    import os

    from serving.command import serve_command
    from serving.intake import IntakeSettings
    from serving.settings import ServingSettings
    from tipscore.locations import pinned_environment, serve_environment

    settings = ServingSettings()  # read once, here; the worker gets these values
    if dev:
        settings = settings.model_copy(update={"dev_mode": True})
    if settings.dev_mode and host not in LOCAL_HOSTS:
        raise typer.BadParameter(
            "dev mode accepts requests without a key: it only listens on 127.0.0.1",
            param_hint="--host",
        )
    env = pinned_environment(serve_environment(os.environ), settings, IntakeSettings())
    if settings.dev_mode:
        typer.echo("dev mode: requests without a key are accepted as admin", err=True)
    command = serve_command(host, port)
    os.execvpe(command[0], command, env)


@keys_app.command("add")
def keys_add(
    role: Annotated[
        Role,
        typer.Option(help="intake (score), analyst (read, decide) or admin (reload)."),
    ],
    note: Annotated[str, typer.Option(help="Who or what the key is for.")] = "",
) -> None:
    """Create a key, print it once, store only its hash in the keys file."""
    from serving.keys import KeyStore
    from serving.settings import ServingSettings

    path = ServingSettings().keys_path
    key, record = KeyStore(path).add(role, note)
    typer.echo(key)
    typer.echo(
        f"key id {record.key_id}, role {record.role.value}; only its hash is stored in "
        f"{path}. Copy the key now: it is not shown again.",
        err=True,
    )


@keys_app.command("list")
def keys_list() -> None:
    """List key ids, roles and creation times (never the keys).

    Exits 1, creating nothing, when there is no keys file where the settings point
    (`tipscore info` shows where that is).
    """
    from serving.keys import KeyStore
    from serving.settings import ServingSettings
    from tipscore.commands.options import fail

    path = ServingSettings().keys_path
    if not path.exists():
        fail(
            FileNotFoundError(
                f"no keys file at {path}; create a key with `tipscore keys add` "
                "(`tipscore info` shows where tipscore looks)"
            ),
            code=1,
        )
    for record in KeyStore(path).records():
        typer.echo(
            f"{record.key_id}  {record.role.value:<8} {record.created}  {record.note}"
        )


def export_decisions(
    out: Annotated[
        Path, typer.Option(help="Parquet file to write (replaced if it exists).")
    ],
    reports_db: Annotated[
        Path | None,
        typer.Option(
            help="The service's report store (default: $TIPSCORE_REPORTS_DB, else "
            "$TIPSCORE_STATE_DIR/reports.db, i.e. HOME/state/reports.db; "
            "`tipscore info` shows it)."
        ),
    ] = None,
) -> None:
    """Write analysts' decisions as training data: one row per decided report.

    Rows are in the training-data format (docs/training-data.md) and pass
    `tipscore validate-data`: each report as it was when it was scored (hashed
    identifiers only), with the analyst's **latest** decision as the outcome
    (`escalated` = priority 1, `priority`, `designation`; no `p_true`) and its provenance
    (`decision_at`, `decision_action`, `decision_reason`, `decision_key_id`,
    `suggested_priority`, `suggested_probability`, `suggested_by`).

    Train on them with `tipscore train --data HISTORY --decisions OUT`. Exits 1 and
    writes nothing when no report has been decided yet.
    """
    from serving.settings import ServingSettings
    from tipscore.commands.options import fail
    from tipscore.export_decisions import export_decisions as run_export

    path = (reports_db or ServingSettings().reports_path).absolute()
    try:
        summary = run_export(path, out)
    except FileNotFoundError as exc:
        hint = "" if reports_db else " (`tipscore info` shows where tipscore looks)"
        fail(FileNotFoundError(f"{exc}{hint}"), code=1)
    if summary.rows == 0:
        typer.echo(f"no decisions recorded yet in {path}; nothing written", err=True)
        raise typer.Exit(1)
    typer.echo(
        f"wrote {summary.rows} decided reports to {out} ({summary.overridden} overrides, "
        f"{summary.escalated} escalated by analysts)"
    )
