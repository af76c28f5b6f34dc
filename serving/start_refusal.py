"""A refusal to start stops the whole server, not only the worker that refused.

Why: BentoML restarts a worker whose start failed, every few seconds, for ever. A replica
with another HMAC secret than the database's, or started with the database owner's role,
logged its refusal and then "Application startup failed" every ~7 s while ``tipscore
serve`` stayed up and its port accepted connections that hung: a supervisor saw a live
process, a load balancer a port (an outside operator test, session 9). docs/deployment.md
says such a replica refuses to start, saying so. The worker logs why and asks the BentoML
server that started it (its parent) to stop, then raises as before; run in any other
process (a test's in-process service), only the raise happens.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

import psutil  # type: ignore[import-untyped]

logger = logging.getLogger(__name__)

SERVER_MARKS = ("serving.bento_main", "bentoml")
"""What the command line of the BentoML server that starts the workers holds."""


def is_server(command: Sequence[str]) -> bool:
    """Whether a process's command line is a BentoML server's (``… serve …``)."""
    text = " ".join(command)
    return "serve" in command and any(mark in text for mark in SERVER_MARKS)


def stop_server(reason: str, parent_pid: int | None = None) -> bool:
    """Log ``reason`` and stop the BentoML server this worker belongs to (True if asked).

    ``parent_pid``: the server's process (default this process's parent).
    """
    logger.critical("refusing to start: %s", reason)
    try:
        parent = psutil.Process(os.getppid() if parent_pid is None else parent_pid)
        if not is_server(parent.cmdline()):
            return False
        parent.terminate()
    except psutil.Error:
        return False
    return True
