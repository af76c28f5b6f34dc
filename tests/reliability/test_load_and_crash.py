"""Under load nothing fails; killed under load, nothing acknowledged is lost.

Each test starts its own ``bentoml serve`` (own state folder) on the session's champion
(``MLFLOW_TRACKING_URI`` as the ``deployed`` fixture set it). The load is
``benchmarks/load_bench.py``'s: 32 asyncio clients, one report per request, a unique
report id per request, so the audit log can be matched request by request.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from serving.keys import KeyStore, Role
from tests.service.conftest import auth, submission
from tests.serving_fixtures import ROOT, Deployed, running_server, stop_server

sys.path.insert(0, str(ROOT / "benchmarks"))
from load_bench import LoadResult, run_load

DATABASES = ("reports.db",)  # the one state database (serving.state)
LOAD_SECONDS = 60  # issue 8: 32 clients for 60 s
KILL_AFTER = 8  # seconds of load before the SIGKILL
AFTER_KILL = 2  # seconds the clients keep trying against the dead server


def _env(state: Path) -> dict[str, str]:
    return {**os.environ, "TIPSCORE_STATE_DIR": str(state)}


@pytest.fixture
def fresh(deployed: Deployed, tmp_path: Path) -> tuple[Path, str]:
    """A state folder of its own, with an intake key in it."""
    state = tmp_path / "state"
    return state, KeyStore(state / "api_keys.json").add(Role.INTAKE, "load test")[0]


def _counts(db_path: Path, sql: str) -> Counter[str]:
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return Counter(row[0] for row in db.execute(sql))
    finally:
        db.close()


def _audited(state: Path) -> Counter[str]:
    """Audit-log records per report id (``/score`` only)."""
    sql = "SELECT report_id FROM requests WHERE endpoint = '/score'"
    return _counts(state / "reports.db", sql)


def _kept(state: Path) -> Counter[str]:
    """Suggestions kept for the analysts, per report id."""
    return _counts(state / "reports.db", "SELECT report_id FROM scored")


def _card_version(url: str, key: str) -> str:
    card = httpx.get(f"{url}/model_card", headers=auth(key), timeout=30)
    card.raise_for_status()
    return str(card.json()["model_version"])


def test_32_clients_for_60_seconds_without_a_failure(fresh: tuple[Path, str]) -> None:
    state, key = fresh
    with running_server(_env(state)) as (url, _):
        result = run_load(url, key, clients=32, seconds=LOAD_SECONDS)
    assert result.failures == [], (len(result.failures), result.failures[:5])
    assert len(result.acknowledged) > 1000, result.summary()
    audited = _audited(state)
    assert all(audited[i] == 1 for i in result.acknowledged)


def _load_and_kill(url: str, key: str, process: subprocess.Popen[bytes]) -> LoadResult:
    """32 clients; SIGKILL the server and its workers mid-load; the clients go on a
    little against the dead server, then stop."""
    result = LoadResult()
    stop = threading.Event()

    def load() -> None:
        seen = run_load(url, key, clients=32, seconds=60, prefix="crash", stop=stop)
        result.acknowledged, result.failures = seen.acknowledged, seen.failures

    worker = threading.Thread(target=load)
    worker.start()
    try:
        time.sleep(KILL_AFTER)
        stop_server(process, signal.SIGKILL)  # the server and all its workers
        time.sleep(AFTER_KILL)
    finally:
        stop.set()
        worker.join(timeout=60)
    return result


def _integrity(state: Path) -> dict[str, str]:
    found = {}
    for name in DATABASES:
        db = sqlite3.connect(
            state / name
        )  # opening recovers the WAL, as a restart does
        try:
            found[name] = db.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            db.close()
    return found


def test_sigkill_under_load_loses_nothing_acknowledged(
    fresh: tuple[Path, str],
) -> None:
    state, key = fresh
    with running_server(_env(state)) as (url, process):
        version = _card_version(url, key)
        result = _load_and_kill(url, key, process)
    assert len(result.acknowledged) > 100, "the load never got going"
    assert result.failures, "the kill should have failed some requests"

    audited, kept = _audited(state), _kept(state)
    missing = [i for i in result.acknowledged if audited[i] != 1 or kept[i] != 1]
    assert missing == [], [(i, audited[i], kept[i]) for i in missing[:5]]
    assert set(audited.values()) == {1}, "a request was logged twice"
    assert _integrity(state) == dict.fromkeys(DATABASES, "ok")

    with running_server(_env(state)) as (again, _):
        assert httpx.get(f"{again}/readyz").status_code == 200
        assert _card_version(again, key) == version
        r = httpx.post(
            f"{again}/score",
            json={"report": submission("after-restart")},
            headers=auth(key),
            timeout=30,
        )
        assert r.status_code == 200, r.text
    assert _audited(state)["after-restart"] == 1
