"""The Dask side: a cluster to run on, and the linkage shuffle wired as tasks.

Dask is imported inside the functions: importing this module does nothing, and the
single-machine paths never load Dask at all.

A local cluster is sized for the machine the project runs on (2 cores, 24 GiB): one
worker process per core, one thread each (LightGBM and TreeSHAP bring their own
threads), 8 GiB per worker so the driver keeps room, no dashboard.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from training.dask.shuffle import (
    bucket_links,
    bucket_pieces,
    input_columns,
    merge_links,
)
from training.decision_times import DEFAULT_ASSUMED_LAG_DAYS
from training.partitions import Part, part_columns, read_part

WORKER_MEMORY = "8GiB"
CONNECT_SECONDS = 30.0
"""How long to wait for a remote scheduler to answer, and then for its first worker."""
ROWS_PER_BUCKET = 2_000_000
"""Reports per linkage bucket on a large history (a bucket is held by one task)."""


def local_cluster(workers: int = 2, memory_limit: str = WORKER_MEMORY) -> Any:
    """A client on a new cluster of ``workers`` one-thread processes on this machine."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        memory_limit=memory_limit,
        dashboard_address=None,
    )
    return Client(cluster)  # type: ignore[no-untyped-call]


class ClusterError(RuntimeError):
    """The scheduler cannot be reached, or no worker joined it in time."""


def connect(scheduler: str, timeout: float | None = None) -> Any:
    """A client on the scheduler at ``scheduler``, once at least one worker is there.

    Raises:
        ClusterError: no scheduler answered, or it had no worker within ``timeout``
            (default ``CONNECT_SECONDS``).
    """
    from distributed import Client

    timeout = CONNECT_SECONDS if timeout is None else timeout

    try:
        client = Client(scheduler, timeout=timeout)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(
            f"--scheduler {scheduler}: no Dask scheduler answered ({exc})"
        ) from None
    try:
        client.wait_for_workers(1, timeout=timeout)
    except TimeoutError:
        client.close()  # type: ignore[no-untyped-call]
        raise ClusterError(
            f"--scheduler {scheduler}: no worker joined within {timeout:.0f} s "
            "(start one: dask worker ADDRESS)"
        ) from None
    return client


@contextmanager
def dask_client(scheduler: str | None, workers: int = 2) -> Iterator[Any]:
    """A client on the scheduler at ``scheduler`` (``tcp://HOST:8786``), or a local cluster.

    A local cluster is closed on exit; a remote one is left running.

    Raises:
        ClusterError: the scheduler cannot be reached or has no workers.
    """
    client = connect(scheduler) if scheduler else local_cluster(workers)
    try:
        yield client
    finally:
        cluster = None if scheduler else client.cluster
        client.close()
        if cluster is not None:
            cluster.close()


def bucket_count(parts: Sequence[Part], workers: int) -> int:
    """Buckets for the linkage shuffle: two per worker, more when buckets grow large."""
    rows = sum(p.rows for p in parts)
    return max(2 * max(workers, 1), math.ceil(rows / ROWS_PER_BUCKET))


def _map(index: int, part: Part, buckets: int, lag_days: float) -> list[Any]:
    table = read_part(part, input_columns(part_columns(part)))
    return bucket_pieces(index, table, buckets, lag_days)


def linkage_futures(
    client: Any,
    parts: Sequence[Part],
    buckets: int,
    lag_days: float = DEFAULT_ASSUMED_LAG_DAYS,
) -> list[Any]:
    """Futures of every part's linkage features (``dict`` of arrays), by hash shuffle.

    Map tasks read only the hash columns, times, labels and decision times of one part
    (``lag_days``: the assumed decision lag of a part without ``decided_at``); reduce
    tasks hold one bucket; merge tasks give one part's features. Lost results (a worker
    dies) are recomputed by the scheduler from these tasks.
    """
    pieces = [
        client.submit(_map, i, part, buckets, lag_days, pure=False)
        for i, part in enumerate(parts)
    ]
    split = [
        [client.submit(operator.getitem, f, b, pure=False) for b in range(buckets)]
        for f in pieces
    ]
    reduced = [
        client.submit(bucket_links, [s[b] for s in split], len(parts), pure=False)
        for b in range(buckets)
    ]
    per_part = [
        [client.submit(operator.getitem, r, i, pure=False) for r in reduced]
        for i in range(len(parts))
    ]
    return [
        client.submit(merge_links, part.rows, per_part[i], pure=False)
        for i, part in enumerate(parts)
    ]


def worker_count(client: Any) -> int:
    """Workers connected to the client's scheduler."""
    return len(client.scheduler_info(n_workers=-1)["workers"])
