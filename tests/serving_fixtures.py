"""Fixtures shared by the service and browser tests: one champion, one real server.

A champion trained on a small generated history (the model's quality does not matter here;
the model tests judge it), registered and made champion directly, without the gates; and
the real ``bentoml serve`` around it in a subprocess. Session-scoped, so the service and
browser tests share one model and one server.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import psutil
import pytest

from serving.command import serve_command
from serving.keys import KeyStore, Role
from training import registry
from training.config import load_train_config
from training.synth.config import load_config
from training.synth.generate import GenerateRequest, generate
from training.train import train

ROOT = Path(__file__).resolve().parents[1]


TEST_ESPS = [
    "QueueTestESP",
    "LinkESP",
    "RulesESP",
    "BrowserESP",
    "DecisionFormESP",
    "XmlESP",
    "Caf\u00e9 Chat",
]
"""ESPs registered with the test service (``TIPSCORE_ESP_NAMES``): tests tell their own
reports apart by them; any other name is kept as ``other`` (features.platforms)."""


@dataclass
class Deployed:
    store: str
    state: Path
    run_id: str
    keys: dict[str, str]


@pytest.fixture(scope="session")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    root = tmp_path_factory.mktemp("serving")
    patch = pytest.MonkeyPatch()
    store = f"sqlite:///{root}/mlflow.db"
    patch.setenv("MLFLOW_TRACKING_URI", store)
    patch.setenv("TIPSCORE_STATE_DIR", str(root / "state"))
    patch.setenv("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    patch.setenv("TIPSCORE_ESP_NAMES", json.dumps(TEST_ESPS))
    # no report is chosen for blind review unless a test asks (issue 21): the tests
    # that read suggestions through analyst keys must see them
    patch.setenv("TIPSCORE_BLIND_SHARE", "0")
    data = root / "history.parquet"
    generate(
        GenerateRequest(
            100_000, 3, date(2023, 1, 1), date(2024, 12, 31), data, progress=False
        ),
        load_config(),
    )
    config, text = load_train_config()
    result = train(data, config, text, progress=False)
    registry.configure(store)
    registry.set_champion("tip-escalation", registry.register(result.run_id))
    keys_store = KeyStore(root / "state" / "api_keys.json")
    keys = {role.value: keys_store.add(role, f"Test {role.value}")[0] for role in Role}
    yield Deployed(store, root / "state", result.run_id, keys)
    patch.undo()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    env: dict[str, str], port: int | None = None
) -> tuple[str, subprocess.Popen[bytes]]:
    """Start ``bentoml serve`` (its own process group) and wait until it is ready.

    Its output goes to a temporary file (a pipe nobody reads would fill and stall the
    server); ``stop_server`` returns it.
    """
    port = port or _free_port()
    output = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop_server
    process = subprocess.Popen(
        serve_command("127.0.0.1", port),
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    process.output = output  # type: ignore[attr-defined]
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return url, process
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise RuntimeError(stop_server(process)[-3000:])
        time.sleep(0.5)
    text = stop_server(process, signal.SIGKILL)
    raise RuntimeError(f"bentoml serve did not become ready in 90 s: {text[-2000:]}")


def kill_tree(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    """Signal the server and every process under it.

    BentoML's workers run in sessions of their own, so signalling the server's process
    group alone would leave them serving (and orphaned) after a SIGKILL.
    """
    try:
        tree = [psutil.Process(process.pid)]
        tree += tree[0].children(recursive=True)
    except psutil.NoSuchProcess:
        return
    for member in tree:
        with contextlib.suppress(psutil.NoSuchProcess):
            member.send_signal(sig)
    if sig == signal.SIGKILL:  # no worker may linger and write after a restart
        deadline = time.monotonic() + 10
        while (alive := [p for p in tree[1:] if not _dead(p)]) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.05)
        assert not alive, f"still running after SIGKILL: {alive}"


def _dead(process: psutil.Process) -> bool:
    """Gone, or a zombie (orphans are reaped by PID 1, which may never do it here)."""
    try:
        return bool(process.status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True


def stop_server(
    process: subprocess.Popen[bytes], sig: signal.Signals = signal.SIGTERM
) -> str:
    """Signal the server (SIGKILL: its whole process tree); return what it printed."""
    if sig == signal.SIGKILL:
        kill_tree(process, sig)
    else:
        with contextlib.suppress(ProcessLookupError):  # already gone
            os.killpg(process.pid, sig)
    process.wait(timeout=30)
    output = process.output  # type: ignore[attr-defined]
    output.seek(0)
    text = output.read().decode(errors="replace")
    output.close()
    return str(text)


@contextlib.contextmanager
def running_server(
    env: dict[str, str],
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``start_server``, and SIGTERM at the end unless the caller stopped it already."""
    url, process = start_server(env)
    try:
        yield url, process
    finally:
        if process.returncode is None:
            stop_server(process)


@pytest.fixture(scope="session")
def server(deployed: Deployed) -> Iterator[str]:
    url, process = start_server(dict(os.environ))
    yield url
    stop_server(process)


@pytest.fixture
def pinned_store(deployed: Deployed, monkeypatch: pytest.MonkeyPatch) -> Deployed:
    """Point MLflow and the service state at the session champion for one test.

    Other session fixtures (the model tests' store) also set ``MLFLOW_TRACKING_URI``
    and MLflow's global tracking URI; each service, browser and reliability test pins
    its own, whatever ran before it.
    """
    monkeypatch.setenv("MLFLOW_TRACKING_URI", deployed.store)
    monkeypatch.setenv("TIPSCORE_STATE_DIR", str(deployed.state))
    registry.configure(deployed.store)
    return deployed
