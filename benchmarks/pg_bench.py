"""The state store on PostgreSQL (issue 22): one replica on PostgreSQL against SQLite, and
two replicas against one, on the same machine, side by side.

For each setup: single-client p50 and p99 of ``POST /score`` (one report each), and the
throughput of ``--clients`` concurrent clients. Each setup gets a fresh state (a new
SQLite folder, a new PostgreSQL database), the same champion, keys file and HMAC secret.

Run: .venv/bin/python benchmarks/pg_bench.py [--store sqlite:///mlruns/mlflow.db]
     [--single 300] [--clients 8] [--per-client 40] [--no-write]
Without ``--store`` a champion is trained on a small generated history first. A throwaway
PostgreSQL server is started (``tests/pg_fixtures.py``: Debian's server programs, as
``make test`` installs them), durable as a production server is (fsync and
synchronous_commit on, as SQLite runs with ``synchronous=FULL``): the comparison is
of two stores that both keep what they acknowledged. ``--no-write`` prints the
figures without touching RESULTS.md (a smoke run).

What two cores can show: the clients, each replica's worker and PostgreSQL share the same
two cores, so a second replica competes with the first for CPU rather than adding any;
and scored batches commit one at a time across replicas by design (one advisory lock,
docs/deployment.md). On this machine the comparison shows what replication costs, not
what it would add on separate machines.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from results import write_section
from serve_bench import _port, load, report, start, stop


def _env(base: dict[str, str], state: Path, url: str | None) -> dict[str, str]:
    env = dict(base, TIPSCORE_STATE_DIR=str(state), TIPSCORE_BLIND_SHARE="0")
    env.pop("TIPSCORE_DATABASE_URL", None)
    if url:
        env["TIPSCORE_DATABASE_URL"] = url
    return env


def setup(
    name: str,
    replicas: int,
    database_url: str | None,
    shared: dict[str, str],
    args: argparse.Namespace,
    tmp: Path,
) -> dict[str, Any]:
    """Start ``replicas`` services on one state, measure, stop them."""
    processes, urls = [], []
    try:
        for i in range(replicas):
            port = _port()
            url = f"http://127.0.0.1:{port}"
            env = _env(shared, tmp / f"{name}-{i}", database_url)
            from serving.command import serve_command

            processes.append(
                start(serve_command("127.0.0.1", port), env, url, "/readyz")
            )
            urls.append(url)
        return measure(name, urls, args.key, args)
    finally:
        for process in processes:
            stop(process)


def measure(
    name: str, urls: list[str], key: str, args: argparse.Namespace
) -> dict[str, Any]:
    """p50/p99 at one client, throughput at ``args.clients``, requests spread over ``urls``."""
    rng = random.Random(7)
    bodies = [
        json.dumps({"report": {**report(i, rng), "report_id": f"{name}-{i}"}}).encode()
        for i in range(args.single + args.clients * args.per_client + 20)
    ]
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def one(client: httpx.Client, i: int) -> None:
        response = client.post(
            f"{urls[i % len(urls)]}/score", content=bodies[i], headers=headers
        )
        response.raise_for_status()

    load(
        lambda c, i: one(c, args.single + args.clients * args.per_client + i % 20),
        1,
        20,
    )
    single = load(one, 1, args.single)
    offset = args.single

    def many(client: httpx.Client, i: int) -> None:
        one(client, offset + i)

    concurrent = load(many, args.clients, args.per_client)
    return {"p50": single["p50"], "p99": single["p99"], "rps": concurrent["rps"]}


def champion(args: argparse.Namespace, tmp: Path) -> str:
    if args.store:
        return str(args.store)
    from contention_bench import champion_store

    return champion_store(tmp / "mlflow", args.rows)


def postgres() -> tuple[Any, Any]:
    """A throwaway server and a way to make a fresh migrated database: (new_url, stop)."""
    from tests import pg_fixtures

    root = Path(tempfile.mkdtemp(prefix="tipscore-pg-bench-", dir="/tmp"))
    try:
        server = pg_fixtures.start(root, pg_fixtures.DURABLE)
    except BaseException:
        pg_fixtures.stop(root)  # a server that started but failed later, its folder
        raise

    def new_url() -> str:
        return server.url(pg_fixtures.SERVICE, server.new_database())

    return new_url, lambda: pg_fixtures.stop(root)


def table(found: dict[str, dict[str, Any]], args: argparse.Namespace) -> str:
    rows = [
        "| setup | p50 ms (1 client) | p99 ms (1 client) | "
        f"throughput, {args.clients} clients (req/s) |",
        "|---|---|---|---|",
    ]
    for name, r in found.items():
        rows.append(f"| {name} | {r['p50']:.1f} | {r['p99']:.1f} | {r['rps']:.1f} |")
    sqlite, pg1, pg2 = (found[k] for k in ("sqlite-1", "postgresql-1", "postgresql-2"))
    rows += [
        "",
        f"- PostgreSQL against SQLite, one replica: p50 {pg1['p50'] / sqlite['p50']:.2f}x, "
        f"throughput {pg1['rps'] / sqlite['rps']:.2f}x.",
        f"- Two replicas against one (PostgreSQL): p50 {pg2['p50'] / pg1['p50']:.2f}x, "
        f"throughput {pg2['rps'] / pg1['rps']:.2f}x.",
        "- On 2 cores the clients, the replicas and PostgreSQL share the CPUs and scored "
        "batches commit one at a time across replicas (one advisory lock): a second "
        "replica here shows its cost, not the capacity it adds on its own machine.",
    ]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", default=None, help="MLflow store with a champion")
    parser.add_argument(
        "--rows", type=int, default=50_000, help="history rows to train on"
    )
    parser.add_argument("--single", type=int, default=300, help="one-client requests")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--per-client", type=int, default=40)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    import os

    from serving.keys import KeyStore, Role

    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        store = champion(args, tmp)
        keys = tmp / "api_keys.json"
        args.key, _ = KeyStore(keys).add(Role.INTAKE, "pg bench")
        shared = dict(os.environ)
        shared.update(
            MLFLOW_TRACKING_URI=store,
            TIPSCORE_KEYS_FILE=str(keys),
            TIPSCORE_HMAC_KEY_FILE=str(tmp / "hmac.key"),
        )
        found: dict[str, dict[str, Any]] = {}
        stop_pg: Any = None
        try:
            new_url, stop_pg = postgres()
            found["sqlite-1"] = setup("sqlite-1", 1, None, shared, args, tmp)
            found["postgresql-1"] = setup(
                "postgresql-1", 1, new_url(), shared, args, tmp
            )
            found["postgresql-2"] = setup(
                "postgresql-2", 2, new_url(), shared, args, tmp
            )
        finally:
            if stop_pg is not None:
                stop_pg()
    body = table(found, args)
    command = "python benchmarks/pg_bench.py " + " ".join(sys.argv[1:])
    if args.no_write:
        print(body)
        return
    write_section("State store on PostgreSQL (issue 22)", command.strip(), body)


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)
