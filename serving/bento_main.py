"""``bentoml serve`` with this service's own Prometheus multiprocess folder (issue 22).

BentoML 1.4 keeps the folder its workers' metrics live in at
``$BENTOML_HOME/prometheus_multiproc_dir``, one for the whole machine, and empties it every
time a ``bentoml serve`` starts (``bentoml.serving.ensure_prometheus_dir``): starting a
second service (a second replica, a staging copy) wiped the first one's counters, and both
then read each other's files on ``/metrics``. This entry point gives each service its
folder — ``TIPSCORE_METRICS_DIR``, by default ``STATE_DIR/metrics/PORT`` — before handing
the command line to BentoML unchanged; BentoML still empties it at start, which is right
for a folder no other service uses (a restarted service's counters start again, as
Prometheus expects of a new process).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

DEFAULT_PORT = 3000  # bentoml serve's


PROMETHEUS_FILE = re.compile(r"(counter|histogram|summary|gauge_[a-z]+)_[\w.-]+\.db")
"""What prometheus_client's multiprocess mode names its files (``counter_1234.db``)."""


def port_of(argv: Sequence[str]) -> int:
    """The port of a ``bentoml serve`` command line.

    ``--port N``, ``--port=N``, ``-p N``, ``-pN``, else ``BENTOML_PORT`` (as BentoML's
    option reads it), else BentoML's default.
    """
    for i, arg in enumerate(argv):
        if arg in ("--port", "-p") and i + 1 < len(argv):
            return int(argv[i + 1])
        if arg.startswith("--port="):
            return int(arg.split("=", 1)[1])
        if arg.startswith("-p") and arg[2:].isdigit():
            return int(arg[2:])
    return int(os.environ.get("BENTOML_PORT") or DEFAULT_PORT)


def check_metrics_dir(path: Path) -> None:
    """Refuse a folder BentoML would wipe that holds anything but Prometheus files.

    BentoML empties the multiprocess folder at every start (``shutil.rmtree`` of the
    whole folder): ``TIPSCORE_METRICS_DIR`` set to the state folder, or to any folder
    with other files, would delete the reports database, the HMAC key and the keys file.
    Raises ``SystemExit`` naming the files, before BentoML starts.
    """
    if not path.exists():
        return
    if not path.is_dir():
        raise SystemExit(f"TIPSCORE_METRICS_DIR: {path} is not a folder")
    others = sorted(
        p.name
        for p in path.iterdir()
        if not (p.is_file() and PROMETHEUS_FILE.fullmatch(p.name))
    )
    if others:
        raise SystemExit(
            f"TIPSCORE_METRICS_DIR: {path} holds files other than Prometheus metrics "
            f"({', '.join(others[:5])}{' ...' if len(others) > 5 else ''}); BentoML "
            "empties the metrics folder at start and would delete them: give the "
            "service a folder of its own (e.g. a new subfolder)"
        )


def metrics_dir(argv: Sequence[str]) -> Path:
    """This service's Prometheus multiprocess folder (``ServingSettings.metrics_path``)."""
    from serving.settings import fresh

    return fresh().metrics_path(port_of(argv)).absolute()


def main(argv: Sequence[str] | None = None) -> None:
    """Point BentoML at this service's metrics folder, then run its command line."""
    args = list(sys.argv[1:] if argv is None else argv)
    folder = metrics_dir(args)
    check_metrics_dir(folder)  # before BentoML is even imported
    # every file and folder the server makes is owner-only, as the state folder's are:
    # BentoML made the metrics folder 0755 and its files 0644 (an outside test, session 9)
    os.umask(0o077)
    from bentoml._internal.configuration.containers import BentoMLContainer
    from bentoml_cli.cli import cli

    BentoMLContainer.prometheus_multiproc_dir.set(str(folder))
    cli(args=args)


if __name__ == "__main__":
    main()
