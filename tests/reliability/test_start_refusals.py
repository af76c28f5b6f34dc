"""What a real ``bentoml serve`` does when it must not (or cannot) serve (issue 18, 2 and 6).

- dev mode asked for on 127.0.0.2, bypassing ``tipscore serve``: the worker refuses it,
  and nothing is ever answered without a key;
- a champion that passes its checksum but cannot be loaded: the service stays up, not
  ready, and ``/readyz`` says why (before: the worker crash-looped, ``/readyz`` never
  answered).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from serving.command import serve_command
from tests.pg_fixtures import OWNER, PgServer
from tests.service.conftest import OwnStore, own_store
from tests.service.test_unloadable_model import unloadable_version
from tests.serving_fixtures import Deployed, stop_server

__all__ = ["own_store"]  # the fixture, for this module's tests


def _port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _start(env: dict[str, str], host: str) -> tuple[str, subprocess.Popen[bytes]]:
    port = _port(host)
    output = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop_server
    process = subprocess.Popen(
        serve_command(host, port),
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    process.output = output  # type: ignore[attr-defined]
    return f"http://{host}:{port}", process


def _get(url: str) -> httpx.Response | None:
    try:
        return httpx.get(url, timeout=2)
    except httpx.HTTPError:
        return None


def test_the_worker_refuses_dev_mode_on_127_0_0_2(
    deployed: Deployed, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "TIPSCORE_STATE_DIR": str(tmp_path / "state"),
        "TIPSCORE_DEV_MODE": "true",
    }
    url, process = _start(env, "127.0.0.2")
    try:
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            for path in (
                "/model_card",
            ):  # a GET route that needs a key (/queue is POST)
                r = _get(f"{url}{path}")
                assert r is None or r.status_code != 200, (path, r.text)
            if process.poll() is not None:
                break
            time.sleep(1)
    finally:
        text = stop_server(process) if process.returncode is None else _output(process)
    assert "only listens on 127.0.0.1" in text, text[-3000:]


def _output(process: subprocess.Popen[bytes]) -> str:
    output = process.output  # type: ignore[attr-defined]
    output.seek(0)
    return str(output.read().decode(errors="replace"))


def test_an_unloadable_champion_leaves_the_service_up_and_not_ready(
    deployed: Deployed, own_store: OwnStore, tmp_path: Path
) -> None:
    version = unloadable_version(own_store)
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": own_store.uri,
        "TIPSCORE_STATE_DIR": str(tmp_path / "state"),
        "TIPSCORE_MODEL_URI": f"models:/tip-escalation/{version}",
    }
    url, process = _start(env, "127.0.0.1")
    try:
        deadline, ready = time.monotonic() + 90, None
        while time.monotonic() < deadline and ready is None:
            assert process.poll() is None, _output(process)[-3000:]
            r = _get(f"{url}/readyz")
            ready = r if r is not None and r.status_code != 0 else None
            time.sleep(0.5)
        assert ready is not None and ready.status_code == 503
        body = ready.json()
        assert body["error"] == "not_ready" and "could not be loaded" in body["message"]
        time.sleep(5)  # still up, same answer: no crash loop
        assert process.poll() is None
        again = _get(f"{url}/readyz")
        assert again is not None and again.status_code == 503
        assert _get(f"{url}/livez") is not None
    finally:
        text = stop_server(process)
    assert text.count("could not be loaded") <= 3, text[-3000:]  # one start, not a loop


def test_a_replica_refused_by_its_database_stops_the_whole_server(
    pg_server: PgServer, tmp_path: Path
) -> None:
    """Started with the database owner's role, the worker refused, and BentoML restarted
    it every ~7 s for ever: the port accepted connections that hung (an outside operator
    test, session 9). The server now stops, saying why."""
    database = pg_server.new_database()
    env = {
        **os.environ,
        "TIPSCORE_STATE_DIR": str(tmp_path / "state"),
        "TIPSCORE_DATABASE_URL": pg_server.url(OWNER, database),
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlflow.db",  # no champion: fine
    }
    _, process = _start(env, "127.0.0.1")
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=120)
    exited = process.poll() is not None
    output = stop_server(process)
    assert exited, output[-2000:]
    assert "refusing to start" in output and "append-only logs" in output
