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
    hmac_key_file: Annotated[
        Path | None,
        typer.Option(
            help="The HMAC secret the file's identifiers were hashed with; default the "
            "hmac.key beside the file, else $TIPSCORE_HMAC_KEY_FILE. Its fingerprint is "
            "kept, so a replica with another secret refuses to start.",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Copy a SQLite state file into an empty PostgreSQL database (one transaction).

    For moving one replica on SQLite to several on PostgreSQL: stop the service, run
    `tipscore db upgrade --url ...`, then this, then start the replicas with
    TIPSCORE_DATABASE_URL and the same HMAC secret. Every row keeps its keys; the SQLite
    file is only read.
    """
    import psycopg

    from features.identifiers import SecretError
    from serving.settings import ServingSettings
    from serving.state.copy import copy_sqlite

    settings = ServingSettings()
    target = url or settings.database_url
    if not target:
        raise typer.BadParameter("no PostgreSQL URL (--url or TIPSCORE_DATABASE_URL)")
    path = (source or settings.reports_path).absolute()
    try:
        secret = _source_fingerprint(path, hmac_key_file)
        copied = copy_sqlite(path, target, secret)
    except (ValueError, FileNotFoundError, SecretError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    except psycopg.Error as exc:  # e.g. the service's role, which may not write here
        typer.echo(f"the database refused the copy: {exc}".strip(), err=True)
        raise typer.Exit(1) from None
    rows = ", ".join(f"{table} {n}" for table, n in copied.items() if n)
    typer.echo(f"copied {path} into PostgreSQL: {rows or 'no rows'}")


def _source_fingerprint(source: Path, key_file: Path | None) -> str | None:
    """The fingerprint of the secret the copied reports were hashed with.

    Without it the first replica on PostgreSQL records its own secret's, whatever it is,
    and a replica given a new secret splits linkage from every copied report silently
    (an outside operator test, session 9). None for a file with no hashed identifier.
    """
    import sqlite3

    from features.identifiers import IdentifierHasher
    from serving.intake import IntakeSettings, load_or_create_key
    from serving.state.key_check import fingerprint

    if not source.is_file():
        raise FileNotFoundError(f"{source}: no SQLite state file")
    if key_file is not None and not key_file.is_file():  # named: it must be there
        raise FileNotFoundError(f"--hmac-key-file {key_file}: no such file")
    beside = source.parent / "hmac.key"
    chosen = key_file or (beside if beside.is_file() else IntakeSettings().key_file)
    if chosen.is_file():
        return fingerprint(IdentifierHasher(load_or_create_key(chosen)))
    old = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        hashed = old.execute("SELECT 1 FROM link LIMIT 1").fetchone() is not None
    except sqlite3.OperationalError:  # no link table: nothing was hashed
        hashed = False
    finally:
        old.close()
    if hashed:
        raise ValueError(
            f"no HMAC secret at {chosen}: name the one {source.name}'s identifiers were "
            "hashed with (--hmac-key-file); the replicas must use it too"
        )
    return None
