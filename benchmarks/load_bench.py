"""Sustained load: 32 concurrent clients sending single-report ``/score`` for 60 s.

Issue 8: zero failed requests; p50/p99 latency and throughput recorded here. The clients
are asyncio tasks in one process (one keep-alive connection each), on the same 2 cores as
the server, so the figures are conservative. ``tests/reliability`` uses ``run_load`` for
the zero-failure and crash-safety tests.

Run: .venv/bin/python benchmarks/load_bench.py [--store sqlite:///mlruns/mlflow.db]
     [--clients 32] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import write_section
from serve_bench import report


@dataclass
class LoadResult:
    """What a load run saw: acknowledged report ids, failures, latencies."""

    acknowledged: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        """Requests that got an answer or failed."""
        return len(self.acknowledged) + len(self.failures)

    def summary(self) -> dict[str, float]:
        """p50/p99 latency (ms) of acknowledged requests and their throughput."""
        ms = np.asarray(self.latencies) * 1000
        return {
            "requests": float(self.requests),
            "ok": float(len(self.acknowledged)),
            "failed": float(len(self.failures)),
            "p50": float(np.percentile(ms, 50)) if len(ms) else float("nan"),
            "p99": float(np.percentile(ms, 99)) if len(ms) else float("nan"),
            "rps": len(self.acknowledged) / self.seconds if self.seconds else 0.0,
        }


async def _client(
    url: str,
    key: str,
    name: str,
    until: float,
    stop: threading.Event,
    result: LoadResult,
) -> None:
    rng = random.Random(name)
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        n = 0
        while time.monotonic() < until and not stop.is_set():
            body = report(0, rng)
            body["report_id"] = report_id = f"{name}-{n}"
            n += 1
            started = time.perf_counter()
            try:
                r = await client.post(
                    "/score",
                    json={"report": body},
                    headers={"Authorization": f"Bearer {key}"},
                )
            except httpx.HTTPError as exc:
                result.failures.append(f"{report_id}: {type(exc).__name__}")
                await asyncio.sleep(0.05)  # the server is down: don't spin
                continue
            if r.status_code == 200 and r.json().get("report_id") == report_id:
                result.latencies.append(time.perf_counter() - started)
                result.acknowledged.append(report_id)
            else:
                result.failures.append(f"{report_id}: {r.status_code} {r.text[:200]}")


def run_load(
    url: str,
    key: str,
    clients: int = 32,
    seconds: float = 60.0,
    prefix: str = "load",
    stop: threading.Event | None = None,
) -> LoadResult:
    """``clients`` concurrent clients scoring unique reports for ``seconds`` (or until
    ``stop`` is set)."""
    result = LoadResult()
    stop = stop or threading.Event()

    async def main() -> None:
        until = time.monotonic() + seconds
        await asyncio.gather(
            *(
                _client(url, key, f"{prefix}-{c}", until, stop, result)
                for c in range(clients)
            )
        )

    started = time.perf_counter()
    asyncio.run(main())
    result.seconds = time.perf_counter() - started
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = Path(__file__).resolve().parents[1]
    parser.add_argument("--store", default=f"sqlite:///{root}/mlruns/mlflow.db")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    from serve_bench import _port, start, stop

    from serving.command import serve_command
    from serving.keys import KeyStore, Role

    with tempfile.TemporaryDirectory() as tmp:
        env: dict[str, Any] = {
            **os.environ,
            "MLFLOW_TRACKING_URI": args.store,
            "TIPSCORE_STATE_DIR": tmp,
        }
        key, _ = KeyStore(Path(tmp) / "api_keys.json").add(Role.INTAKE, "load")
        port = _port()
        url = f"http://127.0.0.1:{port}"
        command = serve_command("127.0.0.1", port)
        process = start(command, env, url, "/readyz")
        try:
            run_load(url, key, 4, 3, "warm")
            result = run_load(url, key, args.clients, args.seconds)
        finally:
            stop(process)
    s = result.summary()
    print(s)
    body = f"""
{args.clients} concurrent clients (asyncio, one keep-alive connection each, in one process on
the same 2 cores as the server), each sending single-report `/score` requests with unique
report ids for {args.seconds:.0f} s against `bentoml serve` with the champion; every request
scored, explained, audit-logged (fsync'd) and kept for the analyst queue.

| requests | failed | p50 | p99 | throughput |
|---|---|---|---|---|
| {s["requests"]:.0f} | {s["failed"]:.0f} | {s["p50"]:.1f} ms | {s["p99"]:.1f} ms | {s["rps"]:.0f} req/s |
"""
    write_section(
        "Sustained load (issue 8)",
        f"python benchmarks/load_bench.py --store {args.store} --clients {args.clients} "
        f"--seconds {args.seconds:.0f}",
        body,
    )


if __name__ == "__main__":
    main()
