"""The real service for a simulation: ``bentoml serve`` on a free port, and its HTTP client.

Started exactly as ``tipscore serve`` starts it (``serving.command.serve_command``), with
its own state folder, MLflow store and keys inside the simulation's output folder, so the
simulation uses the real state store and never touches the project's. Output goes to a
log file in that folder (a pipe nobody reads would fill and stall the server).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from serving.command import serve_command
from serving.keys import KeyStore, Role

KEPT = ("TIPSCORE_ESP_NAMES",)
"""The ``TIPSCORE_*`` settings the service inherits; the others are the simulation's own."""


class ServiceError(RuntimeError):
    """The service did not start, or answered a call with an error."""


def free_port() -> int:
    """A port nobody listens on now (the OS's choice)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def service_env(
    state: Path, store: str, blind_share: float, model: str, batch: int
) -> dict[str, str]:
    """The service's environment: this state folder and store, nothing else inherited.

    The home is the simulation's folder (``state``'s parent), so no project ``.env`` is
    read, and every path setting names a file in ``state`` explicitly besides: a service
    that read the project's ``TIPSCORE_REPORTS_DB`` would score into the real store.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("TIPSCORE_") or k in KEPT
    }
    return env | {
        "TIPSCORE_HOME": str(state.parent),
        "TIPSCORE_STATE_DIR": str(state),
        "TIPSCORE_KEYS_FILE": str(state / "api_keys.json"),
        "TIPSCORE_AUDIT_LOG": str(state / "audit.db"),
        "TIPSCORE_LINKAGE_DB": str(state / "linkage.db"),
        "TIPSCORE_REPORTS_DB": str(state / "reports.db"),
        "TIPSCORE_HMAC_KEY_FILE": str(state / "hmac.key"),
        "TIPSCORE_MODEL_URI": f"models:/{model}@champion",
        "TIPSCORE_CHALLENGER_URI": f"models:/{model}@challenger",
        "TIPSCORE_MAX_BATCH": str(max(batch, 1000)),
        "MLFLOW_TRACKING_URI": store,
        "TIPSCORE_BLIND_SHARE": str(blind_share),
        # the history's own receipt times are replayed; they may lie ahead of today
        "TIPSCORE_REFUSE_FUTURE_RECEIPTS": "false",
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    }


def make_keys(state: Path) -> dict[str, str]:
    """One key per role in the state folder's keys file (``tipscore keys add``'s store)."""
    store = KeyStore(state / "api_keys.json")
    return {role.value: store.add(role, f"simulation {role.value}")[0] for role in Role}


@dataclass
class Service:
    """A running service and the keys to call it with."""

    url: str
    process: subprocess.Popen[bytes]
    keys: dict[str, str]
    client: httpx.Client

    def call(self, path: str, role: str, body: dict[str, Any]) -> Any:
        """POST ``body`` as ``role``; the JSON answer, or ``ServiceError`` with the error."""
        response = self.client.post(
            f"{self.url}{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.keys[role]}"},
        )
        if response.status_code != 200:
            raise ServiceError(
                f"POST {path}: {response.status_code} {response.text[:500]}"
            )
        return response.json()

    def score(self, reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``/score_batch``: the answers, in order."""
        answer = self.call("/score_batch", "intake", {"reports": reports})
        results: list[dict[str, Any]] = answer["results"]
        return results

    def queue(self, want: int) -> list[dict[str, Any]]:
        """The first ``want`` undecided entries of the queue, in its order."""
        items: list[dict[str, Any]] = []
        cursor = None
        while len(items) < want:
            query: dict[str, Any] = {"decided": False, "limit": min(200, want)}
            if cursor:
                query["cursor"] = cursor
            page = self.call("/queue", "analyst", {"query": query})
            items += page["items"]
            cursor = page["next_cursor"]
            if not cursor or not page["items"]:
                break
        return items[:want]

    def decide(self, decision: dict[str, Any]) -> dict[str, Any]:
        """``/decide`` as an analyst."""
        answer: dict[str, Any] = self.call("/decide", "analyst", {"decision": decision})
        return answer

    def reload(self) -> dict[str, Any]:
        """``/admin/reload``: the champion and challenger aliases read again."""
        answer: dict[str, Any] = self.call("/admin/reload", "admin", {})
        return answer


def _wait(
    url: str, process: subprocess.Popen[bytes], timeout: float, log: Path
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        if process.poll() is not None:
            raise ServiceError(f"the service exited: {log.read_text()[-2000:]}")
        time.sleep(0.5)
    raise ServiceError(f"the service was not ready in {timeout:.0f} s; see {log}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's process group and every worker under it; wait for it."""
    try:
        import psutil  # type: ignore[import-untyped]

        workers = psutil.Process(process.pid).children(recursive=True)
    except Exception:
        workers = []
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    for worker in workers:
        with contextlib.suppress(Exception):
            worker.terminate()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


@contextlib.contextmanager
def running(
    env: dict[str, str], keys: dict[str, str], timeout: float, log: Path
) -> Iterator[Service]:
    """Start the service, yield it ready, stop it at the end (whatever happened)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request otherwise
    with log.open("ab") as output:
        process = subprocess.Popen(
            serve_command("127.0.0.1", port),
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait(url, process, timeout, log)
        with httpx.Client(timeout=300) as client:
            yield Service(url, process, keys, client)
    finally:
        stop(process)
