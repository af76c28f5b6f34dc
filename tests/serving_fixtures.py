"""Fixtures shared by the service and browser tests: one champion, one real server.

A champion trained on a small generated history (the model's quality does not matter here;
the model tests judge it), registered and made champion directly, without the gates; and
the real ``bentoml serve`` around it in a subprocess. Session-scoped, so the service and
browser tests share one model and one server.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import pytest

from serving.keys import KeyStore, Role
from training import registry
from training.config import load_train_config
from training.synth.config import load_config
from training.synth.generate import GenerateRequest, generate
from training.train import train

ROOT = Path(__file__).resolve().parents[1]


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


@pytest.fixture(scope="session")
def server(deployed: Deployed) -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bentoml",
            "serve",
            "serving.service:TipScoring",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--working-dir",
            str(ROOT),
        ],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise RuntimeError(process.stderr.read().decode()[-3000:])  # type: ignore[union-attr]
        time.sleep(0.5)
    else:
        os.killpg(process.pid, signal.SIGKILL)
        raise RuntimeError("bentoml serve did not become ready in 90 s")
    yield url
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)
