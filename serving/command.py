"""The one command line that starts the service: ``bentoml serve`` on this project."""

from __future__ import annotations

import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
SERVICE = "serving.service:TipScoring"


def serve_command(host: str, port: int) -> list[str]:
    """``python -m bentoml serve`` for the service, from the project folder."""
    return [
        sys.executable,
        "-m",
        "bentoml",
        "serve",
        SERVICE,
        "--host",
        host,
        "--port",
        str(port),
        "--working-dir",
        str(PROJECT),
    ]
