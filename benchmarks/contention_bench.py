"""Analyst reads beside intake: p99 of ``/queue`` while worst-case ``/score_batch`` calls run.

Issue 18: a 7.4 MB ``/score_batch`` (16 reports x 10,000 file hashes) took 5-13 s, and
``/queue`` took 12.2 s meanwhile (7 ms alone). Target: p99 of ``/queue`` <= 200 ms while
the worst batch the limits accept is being scored, again and again.

The worst case, within the documented limits (docs/report-contract.md, "Limits"): reports
with the most identifiers a report may hold (200 of each kind, 2,000 file hashes, 1,000
files), all distinct and new (each becomes a lookup and a linkage row), as many as one
batch may carry. One client sends such batches back to back; another asks for the first
queue page back to back. Both run in this process, on the same 2 cores as the server.

Run: .venv/bin/python benchmarks/contention_bench.py [--store sqlite:///mlruns/mlflow.db]
     [--seconds 20]
Without ``--store``, a small champion is trained in a temporary store first (~1 min).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import write_section
from serve_bench import _port, report, start, stop

TARGET_MS = 200.0
KINDS = ("accounts", "screen_names", "emails", "phones", "ips", "devices")


def heavy_report(i: int, batch: int, rng: random.Random) -> dict[str, Any]:
    """A report at every per-report limit, with identifiers no other report has."""
    from features.schema import MAX_FILE_HASHES, MAX_FILES, MAX_IDENTIFIERS

    body = report(i, rng)
    tag = f"{batch}-{i}"
    body["report_id"] = f"heavy-{tag}"
    body["identifiers"] = {
        kind: [f"{kind[:3]}-{tag}-{n}@example.org" for n in range(MAX_IDENTIFIERS)]
        for kind in KINDS
    }
    body["identifiers"]["file_hashes"] = [
        f"{rng.getrandbits(256):064x}" for _ in range(MAX_FILE_HASHES)
    ]
    body["files"] = [{"media_kind": "image"} for _ in range(MAX_FILES)]
    return body


def worst_batch(batch: int, cap: int, most: int) -> bytes:
    """As many heavy reports as the body cap, the batch limit and the budget allow."""
    from serving.settings import ServingSettings

    budget = ServingSettings().max_batch_identifiers
    rng = random.Random(batch)
    reports: list[dict[str, Any]] = []
    size, identifiers = 20, 0
    while len(reports) < most:
        one = heavy_report(len(reports), batch, rng)
        count = sum(len(v) for v in one["identifiers"].values())
        encoded = len(json.dumps(one)) + 2
        if size + encoded > cap or identifiers + count > budget:
            break
        reports.append(one)
        size, identifiers = size + encoded, identifiers + count
    return json.dumps({"reports": reports}).encode()


def champion_store(tmp: Path, rows: int) -> str:
    """A temporary MLflow store whose champion is trained on a small generated history."""
    from training import registry
    from training.config import load_train_config
    from training.synth.config import load_config
    from training.synth.generate import GenerateRequest, generate
    from training.train import train

    store = f"sqlite:///{tmp}/mlflow.db"
    os.environ["MLFLOW_TRACKING_URI"] = store
    data = tmp / "history.parquet"
    request = GenerateRequest(
        rows, 3, date(2023, 1, 1), date(2024, 12, 31), data, progress=False
    )
    generate(request, load_config())
    config, text = load_train_config()
    result = train(data, config, text, progress=False)
    registry.configure(store)
    registry.set_champion("tip-escalation", registry.register(result.run_id))
    return store


def percentiles(seconds: list[float]) -> dict[str, float]:
    """p50, p99 and max in milliseconds."""
    ms = np.asarray(seconds) * 1000
    if not len(ms):
        return {"n": 0, "p50": float("nan"), "p99": float("nan"), "max": float("nan")}
    return {
        "n": float(len(ms)),
        "p50": float(np.percentile(ms, 50)),
        "p99": float(np.percentile(ms, 99)),
        "max": float(ms.max()),
    }


def queue_reads(
    url: str, key: str, until: float, stop_at: threading.Event
) -> list[float]:
    """First queue pages, back to back, until ``until`` or ``stop_at``."""
    seen = []
    with httpx.Client(base_url=url, timeout=60) as client:
        while time.monotonic() < until and not stop_at.is_set():
            started = time.perf_counter()
            r = client.post(
                "/queue", json={"query": {}}, headers={"Authorization": f"Bearer {key}"}
            )
            r.raise_for_status()
            seen.append(time.perf_counter() - started)
    return seen


def batches(url: str, key: str, bodies: list[bytes], out: dict[str, Any]) -> None:
    """Send the worst-case batches one after another; note each one's time and status."""
    with httpx.Client(base_url=url, timeout=300) as client:
        for body in bodies:
            started = time.perf_counter()
            r = client.post(
                "/score_batch",
                content=body,
                headers={
                    "Authorization": f"Bearer {key}",
                    "Content-Type": "application/json",
                },
            )
            out.setdefault("seconds", []).append(time.perf_counter() - started)
            out.setdefault("status", []).append(r.status_code)


def measure(
    url: str, keys: dict[str, str], seconds: float, count: int
) -> dict[str, Any]:
    """/queue alone, then /queue beside back-to-back worst-case batches."""
    from serving.settings import ServingSettings

    settings = ServingSettings()
    seed = [report(i, random.Random(i)) for i in range(300)]
    httpx.post(
        f"{url}/score_batch",
        json={"reports": seed},
        headers={"Authorization": f"Bearer {keys['intake']}"},
        timeout=120,
    ).raise_for_status()
    never = threading.Event()
    alone = queue_reads(url, keys["analyst"], time.monotonic() + 3, never)
    bodies = [
        worst_batch(b, settings.max_body_bytes - 4096, settings.max_batch)
        for b in range(count)
    ]
    sent: dict[str, Any] = {
        "bytes": len(bodies[0]),
        "reports": bodies[0].count(b'"report_id"'),
    }
    done = threading.Event()

    def intake() -> None:
        batches(url, keys["intake"], bodies, sent)
        done.set()

    worker = threading.Thread(target=intake)
    worker.start()
    time.sleep(0.2)  # the first batch is on its way
    beside = queue_reads(url, keys["analyst"], time.monotonic() + seconds, done)
    worker.join()
    return {"alone": percentiles(alone), "beside": percentiles(beside), "sent": sent}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=None)
    parser.add_argument("--rows", type=int, default=30_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--batches", type=int, default=4)
    args = parser.parse_args()
    os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
    from serving.command import serve_command
    from serving.keys import KeyStore, Role

    with tempfile.TemporaryDirectory() as tmp:
        store = args.store or champion_store(Path(tmp), args.rows)
        state = Path(tmp) / "state"
        env = {
            **os.environ,
            "MLFLOW_TRACKING_URI": store,
            "TIPSCORE_STATE_DIR": str(state),
        }
        keystore = KeyStore(state / "api_keys.json")
        keys = {
            role.value: keystore.add(role, "bench")[0]
            for role in (Role.INTAKE, Role.ANALYST)
        }
        port = _port()
        url = f"http://127.0.0.1:{port}"
        process = start(serve_command("127.0.0.1", port), env, url, "/readyz")
        try:
            found = measure(url, keys, args.seconds, args.batches)
        finally:
            stop(process)
    report_results(found, args)


def report_results(found: dict[str, Any], args: argparse.Namespace) -> None:
    """Print the figures and write them to benchmarks/RESULTS.md."""
    print(json.dumps(found, indent=2))
    alone, beside, sent = found["alone"], found["beside"], found["sent"]
    batch_ms = percentiles(sent.get("seconds", []))
    met = beside["p99"] <= TARGET_MS
    body = f"""
Worst-case batch within the limits: {sent["reports"]} reports, {sent["bytes"] / 1e6:.1f} MB,
each with 200 identifiers of each kind, 2,000 file hashes and 1,000 files (all new); sent
{len(sent.get("status", []))} times back to back (answers: {sorted(set(sent.get("status", [])))};
median {batch_ms["p50"] / 1000:.1f} s each). Meanwhile one analyst client asked for the
first `/queue` page back to back.

| `/queue` | calls | p50 | p99 | max |
|---|---|---|---|---|
| alone | {alone["n"]:.0f} | {alone["p50"]:.1f} ms | {alone["p99"]:.1f} ms | {alone["max"]:.1f} ms |
| beside the batches | {beside["n"]:.0f} | {beside["p50"]:.1f} ms | {beside["p99"]:.1f} ms | {beside["max"]:.1f} ms |

Target (issue 18): p99 of `/queue` <= {TARGET_MS:.0f} ms beside a worst-case batch:
**{"met" if met else "NOT met"}**.
"""
    store = f" --store {args.store}" if args.store else ""
    write_section(
        "Analyst reads beside intake (issue 18)",
        f"python benchmarks/contention_bench.py{store} --seconds {args.seconds:.0f} "
        f"--batches {args.batches}",
        body,
    )


if __name__ == "__main__":
    main()
