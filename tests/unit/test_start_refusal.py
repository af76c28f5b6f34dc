"""A refusal to start stops the server that started the worker (session 9)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from serving.start_refusal import is_server, stop_server

SLEEP = [sys.executable, "-c", "import time; time.sleep(60)"]


@pytest.mark.parametrize(
    ("command", "server"),
    [
        (
            [
                "python",
                "-m",
                "serving.bento_main",
                "serve",
                "serving.service:TipScoring",
            ],
            True,
        ),
        (["/venv/bin/bentoml", "serve", "service:TipScoring"], True),
        (["python", "-m", "pytest", "tests/unit"], False),
        (["bash", "-c", "make test"], False),
    ],
)
def test_only_a_bentoml_server_is_one(command: list[str], server: bool) -> None:
    assert is_server(command) is server


def test_the_server_is_stopped_and_nothing_else_is() -> None:
    server = subprocess.Popen([*SLEEP, "serving.bento_main", "serve"])
    other = subprocess.Popen(SLEEP)
    try:
        assert stop_server("another HMAC secret", server.pid) is True
        assert server.wait(timeout=10) != 0  # terminated
        assert stop_server("another HMAC secret", other.pid) is False
        assert other.poll() is None  # left running
    finally:
        for process in (server, other):
            process.kill()
            process.wait()
