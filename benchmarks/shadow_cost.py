"""What a challenger in the shadows costs the intake client (issue 20, point 4).

Target: single-client ``/score`` p50 rises at most 30% with a challenger loaded.

Two servers on one temporary MLflow store holding the benchmark store's champion twice
(version 1 ``champion``, version 2 ``challenger``: the same trees from another run, so the
shadow pass costs what a retrained challenger of the same shape would): one with shadow
scoring off (``TIPSCORE_CHALLENGER_URI=""``), one with the challenger loaded. Each has its
own state folder and gets the same calls in the same order. They are measured in
alternating rounds of single-client calls, so the machine's drift stays out of the ratio
(the median of the rounds' ratios), as ``serve_bench.paired`` does for the floor.

Run as part of ``benchmarks/serve_bench.py`` (its own section of RESULTS.md), or alone with
``serve_bench.py --shadow-only``.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np

TARGET = 1.30
"""With a challenger, single-client p50 at most 30% above without."""


@dataclass(frozen=True)
class Server:
    """One running service: its URL, intake key and state folder."""

    url: str
    headers: dict[str, str]
    state: Path


def pair_store(folder: Path, source: str) -> str:
    """A store in ``folder`` with ``source``'s champion as v1 champion and v2 challenger."""
    import mlflow

    from features.flat import flat_frame
    from features.identifiers import IdentifierHasher, to_contract
    from features.linkage import no_history
    from features.schema import ReportSubmission
    from training import registry

    registry.configure(source)
    model = registry.load_model("models:/tip-escalation@champion")
    uri = f"sqlite:///{folder}/mlflow.db"
    registry.configure(uri)
    hasher = IdentifierHasher(b"bench-secret-0123456789abcdef012")
    body = {"report_id": "x", "incident_type": "Child Sex Trafficking"}
    body |= {
        "incident_at": "2024-10-01T10:00:00Z",
        "received_at": "2024-10-02T10:00:00Z",
    }
    contract = to_contract(ReportSubmission.model_validate(body), hasher)
    example = registry.pyfunc_frame(flat_frame([contract]).assign(**no_history(1)))
    versions = []
    for _ in range(2):
        with mlflow.start_run(
            experiment_id=registry.experiment_id("shadow-bench")
        ) as run:
            mlflow.set_tag("model_uri", registry.log_model(model, example))
        versions.append(registry.register(run.info.run_id))
    registry.set_champion("tip-escalation", versions[0])
    registry.set_alias("tip-escalation", registry.CHALLENGER, versions[1])
    registry.configure(source)
    return uri


@contextmanager
def server(env: dict[str, str], state: Path, challenger: bool) -> Iterator[Server]:
    """A service on ``env``'s store, with or without shadow scoring."""
    from serve_bench import _port, start, stop  # benchmarks/ is on sys.path

    from serving.command import serve_command
    from serving.keys import KeyStore, Role

    key, _ = KeyStore(state / "api_keys.json").add(Role.INTAKE, "shadow bench")
    port = _port()
    env = env | {"TIPSCORE_STATE_DIR": str(state)}
    if not challenger:
        env["TIPSCORE_CHALLENGER_URI"] = ""
    url = f"http://127.0.0.1:{port}"
    process = start(serve_command("127.0.0.1", port), env, url, "/readyz")
    try:
        yield Server(url, {"Authorization": f"Bearer {key}"}, state)
    finally:
        stop(process)


def shadow_active(target: Server) -> bool:
    """Whether the service says it shadows (its model card's ``shadow.active``)."""
    card = httpx.get(target.url + "/model_card", headers=target.headers, timeout=30)
    card.raise_for_status()
    return bool(card.json()["shadow"]["active"])


def shadow_rows(target: Server) -> int:
    """Shadow answers the service kept (read from its state database after the run)."""
    db = sqlite3.connect(f"file:{target.state / 'reports.db'}?mode=ro", uri=True)
    try:
        return int(db.execute("SELECT COUNT(*) FROM shadow").fetchone()[0])
    finally:
        db.close()


def _round(client: httpx.Client, target: Server, bodies: list[bytes]) -> float:
    """p50 in ms of one single-client call per body."""
    sent = target.headers | {"Content-Type": "application/json"}
    seconds = []
    for body in bodies:
        started = time.perf_counter()
        client.post(
            target.url + "/score", content=body, headers=sent
        ).raise_for_status()
        seconds.append(time.perf_counter() - started)
    return float(np.median(seconds)) * 1000


def measure_pair(
    without: Server,
    with_challenger: Server,
    reports: list[dict[str, Any]],
    rounds: int = 7,
    calls: int = 100,
) -> dict[str, float]:
    """Alternating rounds of ``calls`` single calls on each server; p50s and their ratio.

    Both servers get the same reports in the same order; which goes first alternates.
    """
    bodies = [json.dumps({"report": r}).encode() for r in reports]
    offs, ons, ratios = [], [], []
    with httpx.Client(timeout=30) as client:
        for r in range(rounds):
            chunk = [bodies[(r * calls + i) % len(bodies)] for i in range(calls)]
            order = [without, with_challenger][:: 1 if r % 2 == 0 else -1]
            p50 = {id(s): _round(client, s, chunk) for s in order}
            offs.append(p50[id(without)])
            ons.append(p50[id(with_challenger)])
            ratios.append(ons[-1] / offs[-1])
    return {
        "without": float(np.median(offs)),
        "with": float(np.median(ons)),
        "ratio": float(np.median(ratios)),
        "low": min(ratios),
        "high": max(ratios),
        "rounds": rounds,
        "calls": calls,
    }


def shadow_cost(
    reports: list[dict[str, Any]],
    env: dict[str, str],
    store: str,
    rounds: int = 7,
    calls: int = 100,
) -> dict[str, Any]:
    """Both servers up on a pair store; warm-up; the paired rounds; checks of the answers."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        env = env | {"MLFLOW_TRACKING_URI": pair_store(root, store)}
        (root / "off").mkdir()
        (root / "on").mkdir()
        with (
            server(env, root / "off", challenger=False) as off,
            server(env, root / "on", challenger=True) as on,
        ):
            if shadow_active(off) or not shadow_active(on):
                raise RuntimeError(
                    "the pair is not one without and one with a challenger"
                )
            warm = reports[-50:]
            measure_pair(off, on, warm, rounds=1, calls=len(warm))
            result = measure_pair(off, on, reports, rounds, calls)
            kept = (shadow_rows(off), shadow_rows(on))
    # every call on the shadowing server kept a shadow answer; none on the other
    result["shadow_rows"] = {"without": kept[0], "with": kept[1]}
    result["met"] = result["ratio"] <= TARGET
    return result


def section(result: dict[str, Any]) -> str:
    """The RESULTS.md text of a measurement."""
    met = "met" if result["met"] else "**missed**"
    return f"""
Single client `/score` on two services on the same champion, one with shadow scoring off and
one with a `challenger` loaded (the same trees from another run: a same-shaped retrained
model), measured in {result["rounds"]} alternating rounds of {result["calls"]:,} calls each
(median of the rounds' p50s; the ratio is the median of the rounds' ratios, range
{result["low"]:.2f}–{result["high"]:.2f}×): without {result["without"]:.2f} ms, with
{result["with"]:.2f} ms, **{result["ratio"]:.2f}×** (issue 20's target: at most
{TARGET:.2f}×: {met}). The challenger scores the champion's matrix without an explanation
(`serving/shadow.py`); its answer is one more row in the same transaction. Shadow answers
kept: {result["shadow_rows"]["with"]:,} with, {result["shadow_rows"]["without"]:,} without.
"""
