"""The store a command reads (export-decisions, monitor, compare, promote's shadow gate).

Commands name the state by ``--reports-db``, whose default is the service's SQLite file.
With ``TIPSCORE_DATABASE_URL`` set (issue 22) that default means the service's
PostgreSQL database instead; a ``--reports-db`` naming another file still reads that file.
"""

from __future__ import annotations

from pathlib import Path

from serving.state.store import StateStore


def open_for_command(reports_db: Path) -> StateStore:
    """The store at ``reports_db``, or PostgreSQL when that is the default and a URL is set.

    Raises ``FileNotFoundError`` for a SQLite file that does not exist (nothing scored).
    """
    from serving.settings import fresh

    settings = fresh()
    default = settings.reports_path.absolute()
    if settings.database_url and Path(reports_db).absolute() == default:
        return StateStore.connect(settings.database_url, reports_db)
    if not Path(reports_db).exists():
        raise FileNotFoundError(f"{reports_db}: no report store (nothing scored yet)")
    return StateStore.open(reports_db)
