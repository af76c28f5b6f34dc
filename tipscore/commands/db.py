"""``tipscore db upgrade``: the state database's schema (Alembic; issue 22)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

db_app = typer.Typer(
    help="The service's state database (SQLite file or PostgreSQL).",
    no_args_is_help=True,
)


@db_app.command("upgrade")
def upgrade(
    url: Annotated[
        str | None,
        typer.Option(
            help="postgresql://... of a role that may create tables (the owner); "
            "required on PostgreSQL (never $TIPSCORE_DATABASE_URL, the service's "
            "role); without it, the SQLite state file.",
            envvar="TIPSCORE_DATABASE_ADMIN_URL",
        ),
    ] = None,
    grant_to: Annotated[
        str | None,
        typer.Option(
            help="PostgreSQL: the service's role, granted SELECT and INSERT on the "
            "append-only logs and read/write on the rest (never UPDATE or DELETE on logs)."
        ),
    ] = None,
) -> None:
    """Create or migrate the state database's tables to this version's schema.

    Run it before starting replicas on PostgreSQL (the service never creates tables
    there) and after each upgrade of tipscore. On SQLite it is optional: the service
    creates its tables itself; the upgrade records the revision. See docs/deployment.md.
    """
    from serving.settings import ServingSettings
    from serving.state.upgrade import upgrade as run_upgrade

    settings = ServingSettings()
    if not url and settings.database_url:
        # the service's role must never own the tables (it could drop the triggers)
        raise typer.BadParameter(
            "TIPSCORE_DATABASE_URL is set: on PostgreSQL give the owner's URL with --url "
            "or TIPSCORE_DATABASE_ADMIN_URL (the service's own role must not create or "
            "own the tables); docs/deployment.md"
        )
    target = url
    from sqlalchemy.exc import SQLAlchemyError

    try:
        revision = run_upgrade(target, settings.reports_path, grant_to)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    except SQLAlchemyError as exc:
        # e.g. the service's role, which may not create tables
        reason = getattr(exc, "orig", None) or exc
        typer.echo(f"the database refused the upgrade: {reason}", err=True)
        raise typer.Exit(1) from None
    where = "PostgreSQL" if target else str(settings.reports_path)
    typer.echo(f"state database ({where}) at schema revision {revision}")


@db_app.command("copy")
def copy(
    source: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="The SQLite state file; default the service's ($TIPSCORE_REPORTS_DB).",
            dir_okay=False,
        ),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(
            help="postgresql://... of the owner of the new, migrated, empty database; "
            "default $TIPSCORE_DATABASE_URL.",
            envvar="TIPSCORE_DATABASE_ADMIN_URL",
        ),
    ] = None,
) -> None:
    """Copy a SQLite state file into an empty PostgreSQL database (one transaction).

    For moving one replica on SQLite to several on PostgreSQL: stop the service, run
    `tipscore db upgrade --url ...`, then this, then start the replicas with
    TIPSCORE_DATABASE_URL. Every row keeps its keys; the SQLite file is only read.
    """
    from serving.settings import ServingSettings
    from serving.state.copy import copy_sqlite

    settings = ServingSettings()
    target = url or settings.database_url
    if not target:
        raise typer.BadParameter("no PostgreSQL URL (--url or TIPSCORE_DATABASE_URL)")
    path = (source or settings.reports_path).absolute()
    try:
        copied = copy_sqlite(path, target)
    except (ValueError, FileNotFoundError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    rows = ", ".join(f"{table} {n}" for table, n in copied.items() if n)
    typer.echo(f"copied {path} into PostgreSQL: {rows or 'no rows'}")
