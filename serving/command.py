"""The one command line that starts the service: ``bentoml serve`` on this project."""

from __future__ import annotations

import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
SERVICE = "serving.service:TipScoring"


def serve_command(host: str, port: int) -> list[str]:
    """``bentoml serve`` for the service, from the project folder.

    Through ``serving.bento_main``: BentoML's command line, with this service's own
    Prometheus multiprocess folder (issue 22).
    """
    return [
        sys.executable,
        "-m",
        "serving.bento_main",
        "serve",
        SERVICE,
        "--host",
        host,
        "--port",
        str(port),
        "--working-dir",
        str(PROJECT),
    ]
