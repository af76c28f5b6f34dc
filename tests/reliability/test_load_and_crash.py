"""Under load nothing fails; killed under load, nothing acknowledged is lost.

Each test starts its own ``bentoml serve`` (own state folder) on the session's champion.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from serving.keys import KeyStore, Role
from tests.serving_fixtures import ROOT, Deployed, start_server, stop_server

sys.path.insert(0, str(ROOT / "benchmarks"))
from load_bench import LoadResult, run_load

DATABASES = ("audit.db", "reports.db", "linkage.db")


def _env(state: Path) -> dict[str, str]:
    return {**os.environ, "TIPSCORE_STATE_DIR": str(state)}


def _intake_key(state: Path) -> str:
    return KeyStore(state / "api_keys.json").add(Role.INTAKE, "load test")[0]


def _audit_counts(state: Path) -> Counter[str]:
    db = sqlite3.connect(f"file:{state / 'audit.db'}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT report_id FROM requests WHERE endpoint = '/score'"
        ).fetchall()
    finally:
        db.close()
    return Counter(r[0] for r in rows)


def _card_version(url: str, key: str) -> str:
    card = httpx.get(f"{url}/model_card", headers={"Authorization": f"Bearer {key}"})
    card.raise_for_status()
    return str(card.json()["model_version"])


def test_32_clients_for_60_seconds_without_a_failure(
    deployed: Deployed, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    key = _intake_key(state)
    url, process = start_server(_env(state))
    try:
        result = run_load(url, key, clients=32, seconds=60)
    finally:
        stop_server(process)
    assert result.failures == [], result.failures[:5]
    assert len(result.acknowledged) > 1000, result.summary()
    counts = _audit_counts(state)
    assert all(counts[i] == 1 for i in result.acknowledged)


def test_sigkill_under_load_loses_nothing_acknowledged(
    deployed: Deployed, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    key = _intake_key(state)
    url, process = start_server(_env(state))
    version = _card_version(url, key)
    result = LoadResult()
    stop = threading.Event()

    def load() -> None:
        seen = run_load(url, key, clients=32, seconds=30, prefix="crash", stop=stop)
        result.acknowledged, result.failures = seen.acknowledged, seen.failures

    worker = threading.Thread(target=load)
    worker.start()
    time.sleep(8)
    stop_server(process, signal.SIGKILL)  # the server and its workers, mid-request
    time.sleep(2)
    stop.set()
    worker.join(timeout=60)
    assert len(result.acknowledged) > 100, "the load never got going"
    assert result.failures, "the kill should have failed some requests"

    counts = _audit_counts(state)
    missing = [i for i in result.acknowledged if counts[i] == 0]
    doubled = [i for i in result.acknowledged if counts[i] > 1]
    assert missing == [] and doubled == [], (missing[:5], doubled[:5])
    assert all(n == 1 for n in counts.values())  # nothing logged twice either
    for name in DATABASES:
        db = sqlite3.connect(state / name)
        try:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",), name
        finally:
            db.close()

    again, restarted = start_server(_env(state))
    try:
        assert httpx.get(f"{again}/readyz").status_code == 200
        assert _card_version(again, key) == version
        r = httpx.post(
            f"{again}/score",
            json={"report": {**_one(), "report_id": "after-restart"}},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert r.status_code == 200, r.text
    finally:
        stop_server(restarted)
    assert _audit_counts(state)["after-restart"] == 1


def _one() -> dict[str, object]:
    from tests.service.conftest import submission

    return submission("after-restart")
