"""A real PostgreSQL server for the tests (issue 22): started once per session, never mocked.

PostgreSQL's server programs come with Debian's ``postgresql-15`` package (``make test``
installs the distribution's version where they are missing, creating no system cluster). ``initdb`` and ``postgres`` refuse to run as root, so
as root they run as the ``postgres`` system user (``runuser``), in a folder of a fresh
temporary directory that user owns. The server listens on a unix socket in that folder
(the bootstrap superuser, trusted) and on a free port of 127.0.0.1 (password roles):

- ``tipscore_owner`` owns the databases and runs the migrations (``tipscore db upgrade``);
- ``tipscore_service`` is what the service connects as: granted SELECT and INSERT on the
  logs only (``serving.state.pg_schema.grants``).

Each test gets a database of its own, copied from a migrated template (fast). If the
server cannot start, the tests fail with its log: they are never skipped.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

OWNER, SERVICE = "tipscore_owner", "tipscore_service"
PASSWORDS = {OWNER: "owner-test-pw", SERVICE: "service-test-pw"}
TEMPLATE = "tipscore_template"
SETTINGS = (  # a throwaway cluster: speed over crash safety of the server itself
    "-c fsync=off -c full_page_writes=off -c synchronous_commit=off "
    "-c max_connections=200 -c shared_buffers=64MB"
)
DURABLE = (  # a production server's commit cost (benchmarks/pg_bench.py)
    "-c fsync=on -c full_page_writes=on -c synchronous_commit=on "
    "-c max_connections=200 -c shared_buffers=64MB"
)


def bindir() -> Path:
    """Where ``initdb`` and ``pg_ctl`` are (``pg_config --bindir``, else Debian's path)."""
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        out = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, check=True
        )
        found = Path(out.stdout.strip())
        if (found / "initdb").is_file():
            return found
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not candidates:
        raise RuntimeError(
            "PostgreSQL server programs (initdb, pg_ctl) not found: install Debian's "
            "`postgresql-15` package (`make postgres` does)"
        )
    return Path(candidates[-1]).parent


def _as_server_user(command: list[str]) -> list[str]:
    """The command as the unprivileged ``postgres`` user when running as root."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    """A running cluster: its folder, port and the URLs of its roles."""

    root: Path
    port: int
    options: str = ""

    def ctl(self, *args: str) -> None:
        """``pg_ctl`` on this cluster (``stop -m fast``, ``restart``): a database restart."""
        command = [str(bindir() / "pg_ctl"), "-D", str(self.root / "data"), "-w"]
        if args[0] in ("start", "restart"):
            command += ["-l", str(self.root / "server.log"), "-o", self.options]
        done = subprocess.run(
            _as_server_user([*command, "-t", "60", *args]),
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl {' '.join(args)}: {done.stdout}{done.stderr}")

    def admin_url(self, database: str = "postgres") -> str:
        """The bootstrap superuser over the unix socket."""
        return f"postgresql://postgres@/{database}?host={self.root}&port={self.port}"

    def url(self, role: str, database: str) -> str:
        """A password role over TCP, as a deployment connects."""
        return f"postgresql://{role}:{PASSWORDS[role]}@127.0.0.1:{self.port}/{database}"

    def admin(self, statement: str, database: str = "postgres") -> None:
        """One statement as the superuser (CREATE DATABASE cannot run in a block)."""
        import psycopg

        with psycopg.connect(self.admin_url(database), autocommit=True) as db:
            db.execute(statement.encode())

    def new_database(self) -> str:
        """A fresh, migrated database; its name."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        self.admin(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} OWNER {OWNER}")
        return name


def start(root: Path, settings: str = SETTINGS) -> PgServer:
    """initdb, start, make the roles and the migrated template; the server's log on failure.

    ``settings``: the server's ``-c`` options (``SETTINGS``: fast; ``DURABLE``: as a
    production server commits, for benchmarks).
    """
    bins = bindir()
    data, log = root / "data", root / "server.log"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    os.chmod(root, 0o700)

    def run(command: list[str]) -> None:
        done = subprocess.run(_as_server_user(command), capture_output=True, text=True)
        if done.returncode != 0:
            text = log.read_text() if log.exists() else ""
            raise RuntimeError(
                f"PostgreSQL test server: {' '.join(command)} failed:\n"
                f"{done.stdout}{done.stderr}{text[-3000:]}"
            )

    run([str(bins / "initdb"), "-D", str(data), "-U", "postgres", "--no-sync",
         "--auth-local=trust", "--auth-host=scram-sha-256", "--locale=C", "-E", "UTF8"])  # fmt: skip
    port = _free_port()
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} {settings}"
    run([str(bins / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options,
         "-w", "-t", "60", "start"])  # fmt: skip
    server = PgServer(root, port, options)
    for role, password in PASSWORDS.items():
        server.admin(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    server.admin(f"CREATE DATABASE {TEMPLATE} OWNER {OWNER}")
    from serving.state.upgrade import upgrade

    upgrade(server.url(OWNER, TEMPLATE), root / "unused.db", grant_to=SERVICE)
    return server


def stop(root: Path) -> None:
    """Stop the cluster at once and remove its folder."""
    with contextlib.suppress(Exception):
        subprocess.run(
            _as_server_user(
                [
                    str(bindir() / "pg_ctl"),
                    "-D",
                    str(root / "data"),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ]
            ),
            capture_output=True,
            timeout=60,
        )
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """The session's PostgreSQL server (started on first use)."""
    # not under pytest's tmp folder: the postgres user must reach it (/tmp is open)
    # /tmp itself, whatever TMPDIR says: a TMPDIR under a private home would stop initdb
    root = Path(tempfile.mkdtemp(prefix="tipscore-pg-", dir="/tmp"))
    try:
        server = start(root)
        yield server
    finally:
        stop(root)


@pytest.fixture
def pg_database(pg_server: PgServer) -> str:
    """A fresh migrated database for one test: the service role's URL."""
    return pg_server.url(SERVICE, pg_server.new_database())
