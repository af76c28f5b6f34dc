"""Opening the service's state, after copying in what older versions kept apart.

Before the one store, the service kept three SQLite files in its state folder:
``audit.db`` (table ``requests``), ``reports.db`` (``scored``, ``decisions``, ``queue``)
and ``linkage.db`` (``link``). The one database is the report store's file (so
``$TIPSCORE_REPORTS_DB``, ``export-decisions --reports-db`` and its default keep naming
it); on start, the audit log's and the linkage store's rows are copied into it:

- once: each table's copy is recorded in the ``migrated`` table in the same transaction
  as its rows, so a restart, a crash during the copy or a folder moved elsewhere never
  copies twice or half;
- losslessly: every row and column; audit rows keep their order;
- leaving the old files as they were (read-only access); the log says they are no longer
  used and may be deleted once backed up.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from features.platforms import Platforms
from serving.private import private_dir, private_files
from serving.settings import ServingSettings
from serving.state import sql
from serving.state.esp_names import close_esp_names
from serving.state.store import StateStore, Transaction

logger = logging.getLogger(__name__)

BATCH = 10_000  # rows read and written at a time (a large linkage file stays in bounds)


@dataclass(frozen=True)
class Legacy:
    """One older file and the table it held."""

    path: Path
    table: str
    columns: tuple[str, ...]
    order: str
    insert: str


def legacy_files(settings: ServingSettings) -> list[Legacy]:
    """The separate files older versions kept, at the paths the settings name."""
    return [
        Legacy(
            settings.audit_path, "requests", sql.AUDIT_COLUMNS, "seq", sql.INSERT_AUDIT
        ),
        Legacy(
            settings.linkage_path,
            "link",
            sql.LINK_COLUMNS,
            "kind, hash, report_id",
            sql.INSERT_LINK,
        ),
    ]


def open_state(
    settings: ServingSettings, platforms: Platforms | None = None
) -> StateStore:
    """The service's store at ``settings.reports_path``, older files copied in.

    With the service's ESP vocabulary (``platforms``), ESP names kept before it existed are
    rewritten to it, once (``serving.state.esp_names``).
    """
    private_dir(settings.state_dir)
    private_files(legacy.path for legacy in legacy_files(settings))
    # PostgreSQL when TIPSCORE_DATABASE_URL names one (issue 22), else the SQLite file
    store = StateStore.connect(settings.database_url, settings.reports_path)
    try:
        if store.backend.name == "postgresql":
            _refuse_owner_role(store)
        for legacy in legacy_files(settings):
            migrate(store, legacy, settings.reports_path)
        if platforms is not None:
            close_esp_names(store, platforms)
    except BaseException:
        store.close()
        raise
    return store


def _refuse_owner_role(store: StateStore) -> None:
    """The service's PostgreSQL role must not be able to change the logs (issue 22)."""
    from serving.state.pg_backend import CHECK_SERVICE_ROLE

    with store.transaction() as tx:
        tx.db.run(CHECK_SERVICE_ROLE)


def migrate(store: StateStore, legacy: Legacy, target: Path) -> int | None:
    """Copy one older file's rows into the store; the rows copied (None: nothing to do)."""
    if not legacy.path.is_file() or legacy.path.resolve() == Path(target).resolve():
        return None
    # keyed by table, not by path: a state folder restored or mounted elsewhere must not
    # copy its (append-only) audit log a second time
    source = legacy.table
    old = sqlite3.connect(f"{legacy.path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        with store.transaction() as tx:
            if tx.migrated(source) is not None:
                return None
            copied = _copy(old, legacy, tx)
            tx.mark_migrated(source, legacy.table, copied)
    finally:
        old.close()
    logger.warning(
        "copied %d rows of table %r from %s into %s; the old file is left unchanged and "
        "no longer used (delete it once backed up)",
        copied,
        legacy.table,
        legacy.path,
        target,
    )
    return copied


def _copy(old: sqlite3.Connection, legacy: Legacy, tx: Transaction) -> int:
    found = old.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
        (legacy.table,),
    ).fetchone()
    if found is None:
        return 0
    cursor = old.execute(
        f"SELECT {', '.join(legacy.columns)} FROM {legacy.table} ORDER BY {legacy.order}"
    )
    copied = 0
    while rows := cursor.fetchmany(BATCH):
        tx.copy_rows(legacy.insert, rows)
        copied += len(rows)
    return copied
