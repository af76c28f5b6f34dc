"""Owner-only state: the state folder 0700, every file in it 0600.

The state folder holds the HMAC secret, the API keys' hashes and the state database (the
audit log, reports, linkage), with SQLite's ``-wal`` and ``-shm`` files beside it. None of
them is for other local users. New files are created owner-only (``os.open`` with mode
0600, which the umask can only narrow; SQLite gives its ``-wal`` and ``-shm`` files the
database file's mode), folders with mode 0700; files and folders that already exist are
narrowed when the service opens them, so a state folder written by an older version is
fixed on start. No process-wide umask is changed: the service has threads, and another
thread's files (MLflow's, say) are not ours to narrow.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
from collections.abc import Iterable
from pathlib import Path

logger = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def _narrow(path: Path, mode: int) -> None:
    """``chmod`` to ``mode`` if it is wider; one that cannot be changed is only logged.

    Owned by someone else (``PermissionError``), or on a read-only mount (``EROFS``: a
    secrets volume mounted ``:ro``, mode 0644 as Kubernetes mounts them — every keyed
    request failed with a 500 and the HMAC key made the worker crash-loop; an outside
    operator test, session 9): the file is read as it is, and the log says so.
    """
    try:
        current = path.stat().st_mode & 0o777
        if current & ~mode:
            os.chmod(path, mode)
    except FileNotFoundError:
        return
    except PermissionError:
        logger.warning("cannot make %s owner-only (mode %o)", path, mode)
    except OSError as exc:
        if exc.errno != errno.EROFS:
            raise
        logger.warning(
            "cannot make %s owner-only (mode %o): it is on a read-only file system",
            path,
            mode,
        )


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) mode 0700, or narrow it if it exists."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _narrow(path, DIR_MODE)
    return path


def private_files(paths: Iterable[Path]) -> None:
    """Narrow each existing file to 0600 (missing ones are skipped)."""
    for path in paths:
        _narrow(path, FILE_MODE)


def sqlite_files(database: Path) -> list[Path]:
    """A SQLite database file and the side files SQLite keeps beside it."""
    return [
        database,
        *(database.with_name(database.name + s) for s in SQLITE_SIDE_FILES),
    ]


def create_private(path: Path) -> None:
    """Create ``path`` empty with mode 0600 if it does not exist (never truncates)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
