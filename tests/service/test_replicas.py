"""Two ``bentoml serve`` replicas on one PostgreSQL database (issue 22).

Real servers on a real PostgreSQL (``tests/pg_fixtures.py``), sharing the session's keys
file and HMAC secret as a deployment must, each with its own state folder (and so its own
Prometheus folder). Checked: each service keeps its own ``/metrics`` when the other
starts; linkage, cases and the queue see the reports of both; two decisions on one
report from the two replicas leave one history (the later supersedes, both kept); load
spread over both; a replica SIGKILLed under load loses no acknowledged report.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.pg_fixtures import OWNER, SERVICE, PgServer
from tests.service.conftest import auth, submission
from tests.serving_fixtures import Deployed, kill_tree, start_server, stop_server


@dataclass
class Replicas:
    urls: list[str]
    processes: list[subprocess.Popen[bytes]]
    states: list[Path]
    owner_url: str


def _env(deployed: Deployed, state: Path, database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        MLFLOW_TRACKING_URI=deployed.store,  # the session's champion, whatever ran before
        TIPSCORE_STATE_DIR=str(state),
        TIPSCORE_DATABASE_URL=database_url,
        # what every replica must share: the keys and the HMAC secret
        TIPSCORE_KEYS_FILE=str(deployed.state / "api_keys.json"),
        TIPSCORE_HMAC_KEY_FILE=str(deployed.state / "hmac.key"),
    )
    return env


def _score_count(url: str) -> float:
    """``/score`` requests this service has counted (``bentoml_service_request_total``)."""
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("bentoml_service_request_total{")
        and 'endpoint="/score"' in line
    )


@pytest.fixture(scope="module")
def replicas(
    deployed: Deployed,
    pg_server: PgServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Replicas]:
    """Replica A started and used, then replica B: A's counters must survive B's start."""
    name = pg_server.new_database()
    root = tmp_path_factory.mktemp("replicas")
    states = [root / "a", root / "b"]
    started: list[subprocess.Popen[bytes]] = []
    try:
        url_a, proc_a = start_server(
            _env(deployed, states[0], pg_server.url(SERVICE, name))
        )
        started.append(proc_a)
        key = auth(deployed.keys["intake"])
        for i in range(3):
            r = httpx.post(
                f"{url_a}/score", json={"report": submission(f"m-{i}")}, headers=key
            )
            assert r.status_code == 200, r.text
        before = _score_count(url_a)
        assert before >= 3
        url_b, proc_b = start_server(
            _env(deployed, states[1], pg_server.url(SERVICE, name))
        )
        started.append(proc_b)
        # BentoML empties its Prometheus folder when a service starts: each has its own
        assert _score_count(url_a) >= before, "B's start reset A's /metrics"
        assert _score_count(url_b) == 0
        yield Replicas(
            [url_a, url_b], [proc_a, proc_b], states, pg_server.url(OWNER, name)
        )
    finally:
        for process in started:
            if process.returncode is None:
                stop_server(process)


def test_each_service_has_its_own_metrics_folder(replicas: Replicas) -> None:
    folders = [sorted((s / "metrics").iterdir()) for s in replicas.states]
    ports = [u.rsplit(":", 1)[1] for u in replicas.urls]
    # STATE_DIR/metrics/PORT: BentoML empties only this service's folder when it starts
    assert [[p.name for p in f] for f in folders] == [[ports[0]], [ports[1]]]


def _alone(report_id: str, **overrides: Any) -> dict[str, Any]:
    """A report sharing no identifier with another (the default IP is everyone's)."""
    body = submission(report_id, **overrides)
    body["identifiers"]["ips"] = []
    return body


def _score(url: str, key: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    r = httpx.post(f"{url}/score", json={"report": body}, headers=key, timeout=60)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def _view(url: str, key: dict[str, str], report_id: str) -> dict[str, Any]:
    body = {"report": {"report_id": report_id}}
    r = httpx.post(f"{url}/report", json=body, headers=key, timeout=30)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def test_linkage_cases_and_queue_see_both_replicas(
    replicas: Replicas, deployed: Deployed
) -> None:
    a, b = replicas.urls
    key, analyst = auth(deployed.keys["intake"]), auth(deployed.keys["analyst"])
    first = _alone("x-1", received_at="2024-06-02T10:00:00Z")
    second = _alone("x-2", received_at="2024-06-03T10:00:00Z")
    for body in (first, second):
        body["identifiers"]["accounts"] = ["shared-across-replicas"]
    _score(a, key, first)
    scored = _score(b, key, second)  # B's linkage reads A's report
    assert "linked_reports" in {w["code"] for w in scored["warnings"]}
    view = _view(a, analyst, "x-2")  # and A shows B's report linked to its own
    assert [item["report_id"] for item in view["linked"]] == ["x-1"]
    assert view["case_id"] is not None
    assert view["case_id"] == _view(b, analyst, "x-1")["case_id"]

    # load over both: pairs sharing an account, one of each pair on each replica
    bodies = []
    for i in range(40):
        body = _alone(f"l-{i}", received_at=f"2024-06-0{1 + i % 2}T10:00:00Z")
        body["identifiers"]["accounts"] = [f"pair-{i // 2}"]
        bodies.append(body)
    with ThreadPoolExecutor(8) as pool:
        list(
            pool.map(lambda i: _score(replicas.urls[i % 2], key, bodies[i]), range(40))
        )
    for i in range(0, 40, 2):
        linked = _view(b, analyst, f"l-{i + 1}")["linked"]
        assert [item["report_id"] for item in linked] == [f"l-{i}"]
    totals = []
    for url in (a, b):
        r = httpx.post(f"{url}/queue", json={"query": {"limit": 1}}, headers=analyst)
        assert r.status_code == 200, r.text
        totals.append(r.json()["total"])
    assert totals[0] == totals[1] >= 45  # one queue, whichever replica is asked


def test_two_decisions_from_two_replicas_leave_one_history(
    replicas: Replicas, deployed: Deployed
) -> None:
    key, analyst = auth(deployed.keys["intake"]), auth(deployed.keys["analyst"])
    suggested = [_score(replicas.urls[n % 2], key, _alone(f"d-{n}")) for n in range(3)]
    for n in range(3):
        decisions = [
            {"report_id": f"d-{n}", "action": "accept", "reason": "other"},
            {
                "report_id": f"d-{n}",
                "action": "override",
                "priority": 1 if suggested[n]["suggested_priority"] != 1 else 2,
                "reason": "other",
            },
        ]
        barrier = threading.Barrier(2)

        def decide(
            i: int,
            decisions: list[dict[str, Any]] = decisions,
            barrier: threading.Barrier = barrier,
        ) -> int:
            barrier.wait()
            r = httpx.post(
                f"{replicas.urls[i]}/decide",
                json={"decision": decisions[i]},
                headers=analyst,
                timeout=30,
            )
            return r.status_code

        with ThreadPoolExecutor(2) as pool:
            assert list(pool.map(decide, range(2))) == [200, 200]
        made = _view(replicas.urls[1], analyst, f"d-{n}")["decisions"]  # newest first
        assert len(made) == 2
        assert made[1]["supersedes"] is None
        assert made[0]["supersedes"] == made[1]["decision_id"]


def _acknowledged_load(
    urls: list[str], key: dict[str, str], stop: threading.Event, out: list[str]
) -> None:
    """Score distinct reports round-robin until stopped; note each one answered 200."""
    counter = itertools.count()
    lock = threading.Lock()

    def worker() -> None:
        with httpx.Client(timeout=30) as client:
            while not stop.is_set():
                with lock:
                    n = next(counter)
                report_id = f"k-{n}"
                try:
                    r = client.post(
                        f"{urls[n % 2]}/score",
                        json={"report": submission(report_id)},
                        headers=key,
                    )
                except httpx.HTTPError:
                    continue  # the killed replica: not acknowledged
                if r.status_code == 200:
                    with lock:
                        out.append(report_id)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.mark.reliability  # a crash test: `make test-reliability` runs it too
def test_a_replica_killed_under_load_loses_no_acknowledged_report(
    replicas: Replicas, deployed: Deployed
) -> None:
    key = auth(deployed.keys["intake"])
    stop, acknowledged = threading.Event(), list[str]()
    load = threading.Thread(
        target=_acknowledged_load, args=(replicas.urls, key, stop, acknowledged)
    )
    load.start()
    try:
        threading.Event().wait(3)
        before = len(acknowledged)
        kill_tree(replicas.processes[0], signal.SIGKILL)  # A, mid-load
        threading.Event().wait(3)
    finally:
        stop.set()
        load.join()
    stop_server(replicas.processes[0])
    assert before > 0 and len(acknowledged) > before  # B kept answering
    with psycopg.connect(replicas.owner_url) as db:
        kept = {
            row[0]
            for row in db.execute(
                "SELECT report_id FROM requests WHERE report_id LIKE 'k-%'"
            )
        }
        queued = {
            row[0]
            for row in db.execute(
                "SELECT report_id FROM queue WHERE report_id LIKE 'k-%'"
            )
        }
    assert set(acknowledged) <= kept and set(acknowledged) <= queued
