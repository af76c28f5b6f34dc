"""The HTTP stack's share of a call: the service on httptools + uvloop against h11 + asyncio.

Issue 15 installed ``httptools`` and ``uvloop``; BentoML's worker builds uvicorn's config
with ``http="auto"`` and ``loop="auto"``, so their presence is what switches them on. This
starts the same service twice on the same champion: once as shipped, once with both
packages hidden from import (a ``sitecustomize`` on ``PYTHONPATH``, so uvicorn falls back
to h11 and asyncio; the benchmark checks that neither library is mapped in that worker),
and alternates rounds of 100 single-client calls between them (the order swapping each
round; every call a report neither service has seen; a minimal keep-alive client).

Run: .venv/bin/python benchmarks/http_stack_ab.py [--rounds 12]
     [--store sqlite:///mlruns/mlflow.db]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import serve_bench as sb
from results import write_section

ROOT = Path(__file__).resolve().parents[1]
HIDE = "import sys\nsys.modules['httptools'] = None\nsys.modules['uvloop'] = None\n"
NAMES = ("httptools + uvloop (as shipped)", "h11 + asyncio (both hidden)")


def _mapped(pid: int) -> bool:
    """Whether httptools' or uvloop's extension is loaded in the server's worker."""
    import psutil

    for child in psutil.Process(pid).children(recursive=True):
        with contextlib.suppress(OSError):
            maps = Path(f"/proc/{child.pid}/maps").read_text()
            if "uvloop" in maps or "httptools" in maps:
                return True
    return False


def _server(
    stack: contextlib.ExitStack, hide: Path | None
) -> tuple[http.client.HTTPConnection, dict[str, str], bool]:
    from serving.command import serve_command
    from serving.keys import KeyStore, Role

    state = Path(stack.enter_context(tempfile.TemporaryDirectory()))
    env = {**os.environ, "TIPSCORE_STATE_DIR": str(state)}
    if hide is not None:
        env["PYTHONPATH"] = f"{hide}:{ROOT}"
    key, _ = KeyStore(state / "api_keys.json").add(Role.INTAKE, "ab")
    port = sb._port()
    process = sb.start(
        serve_command("127.0.0.1", port), env, f"http://127.0.0.1:{port}", "/readyz"
    )
    stack.callback(sb.stop, process)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    stack.callback(connection.close)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    return connection, headers, _mapped(process.pid)


def measure(rounds: int) -> dict[str, Any]:
    """Each variant's round p50s (ms) and whether its worker loaded the fast libraries."""
    rng = random.Random(11)
    bodies = [
        json.dumps({"report": sb.report(i, rng)}).encode()
        for i in range(rounds * 200 + 200)
    ]
    with contextlib.ExitStack() as stack:
        hide = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        (hide / "sitecustomize.py").write_text(HIDE)
        servers = {NAMES[0]: _server(stack, None), NAMES[1]: _server(stack, hide)}

        def call(name: str, i: int) -> None:
            connection, headers, _ = servers[name]
            connection.request("POST", "/score", body=bodies[i], headers=headers)
            response = connection.getresponse()
            answer = response.read()
            if response.status != 200:
                raise RuntimeError(
                    f"/score answered {response.status}: {answer[:200]!r}"
                )

        for k, name in enumerate(NAMES):  # warm-up, on reports of their own
            for i in range(rounds * 200 + k * 100, rounds * 200 + k * 100 + 100):
                call(name, i)
        p50s: dict[str, list[float]] = {name: [] for name in NAMES}
        for r in range(rounds):
            for name in NAMES if r % 2 == 0 else NAMES[::-1]:
                first = r * 200 + NAMES.index(name) * 100
                seconds = []
                for i in range(first, first + 100):
                    started = time.perf_counter()
                    call(name, i)
                    seconds.append(time.perf_counter() - started)
                p50s[name].append(float(np.median(seconds)) * 1000)
        loaded = {name: servers[name][2] for name in NAMES}
    return {"p50s": p50s, "loaded": loaded}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--store", default=f"sqlite:///{ROOT}/mlruns/mlflow.db")
    args = parser.parse_args()
    os.environ["MLFLOW_TRACKING_URI"] = args.store
    from training.registry import configure

    configure(args.store)
    found = measure(args.rounds)
    fast, slow = (np.array(found["p50s"][n]) for n in NAMES)
    if not found["loaded"][NAMES[0]] or found["loaded"][NAMES[1]]:
        raise RuntimeError(
            f"the variants did not load what they should: {found['loaded']}"
        )
    gain = slow - fast
    body = f"""
The same service and champion twice; {args.rounds} rounds of 100 single-client calls each
(a minimal keep-alive client; the order swapping each round; every call a new report).
Median of the rounds' p50s:

| HTTP stack | p50 |
|---|---|
| {NAMES[0]} | {np.median(fast):.2f} ms |
| {NAMES[1]} | {np.median(slow):.2f} ms |

Paired by round, h11 + asyncio minus httptools + uvloop: median **{np.median(gain):+.2f} ms**
(rounds from {gain.min():+.2f} to {gain.max():+.2f} ms; positive: the shipped stack is faster).
"""
    write_section(
        "HTTP stack (issue 15)",
        "python benchmarks/http_stack_ab.py " + " ".join(sys.argv[1:]),
        body,
    )


if __name__ == "__main__":
    main()
