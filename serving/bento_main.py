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

import sys
from collections.abc import Sequence
from pathlib import Path

DEFAULT_PORT = 3000  # bentoml serve's


def port_of(argv: Sequence[str]) -> int:
    """The ``--port`` of a ``bentoml serve`` command line (BentoML's default if absent)."""
    for i, arg in enumerate(argv):
        if arg == "--port" and i + 1 < len(argv):
            return int(argv[i + 1])
        if arg.startswith("--port="):
            return int(arg.split("=", 1)[1])
    return DEFAULT_PORT


def metrics_dir(argv: Sequence[str]) -> Path:
    """This service's Prometheus multiprocess folder (``ServingSettings.metrics_path``)."""
    from serving.settings import ServingSettings

    return ServingSettings().metrics_path(port_of(argv)).absolute()


def main(argv: Sequence[str] | None = None) -> None:
    """Point BentoML at this service's metrics folder, then run its command line."""
    from bentoml._internal.configuration.containers import BentoMLContainer
    from bentoml_cli.cli import cli

    args = list(sys.argv[1:] if argv is None else argv)
    BentoMLContainer.prometheus_multiproc_dir.set(str(metrics_dir(args)))
    cli(args=args)


if __name__ == "__main__":
    main()
