"""Adaptive batching for concurrent single-report calls, without a fixed wait.

Why not BentoML's ``batchable=True``: it needs the caller to send a list and, with
SHAP-heavy work, answered 503 "process is overloaded" under 8 clients on these machines
(toolchain notes). This batcher keeps ``/score`` a one-report API and batches behind it:

- when nothing is running, a call is scored at once (one client pays no waiting time);
- while a batch is running, new calls queue; when it ends, everything queued (up to
  ``max_batch``) goes as the next batch — the batch size follows the load by itself;
- ``max_wait_ms`` (default 0) may add a short window to collect more calls per batch;
- ``inline_single`` runs a batch of one on the event loop itself instead of a worker
  thread. The service sets it: a lone report is scored in about 2 ms, and the hop to a
  thread and back cost about 1 ms of CPU per call on the 2-core machines (thread wake-ups
  and the GIL passed back and forth, measured with ``benchmarks/serve_bench.py``). The loop
  is blocked while that one report is scored and committed; calls arriving meanwhile wait
  in the socket and go together as the next batch, which runs in a thread. A callable is
  asked before each lone item: the service answers no while another write (a
  ``/score_batch``, a case decision) holds its write lock in a thread, so the lone report
  waits for it in a thread too and the loop keeps answering (an outside security test,
  session 9: every route, ``/livez`` too, stalled for the length of a large batch).

One batch is one model call, one TreeSHAP call and one audit-log transaction (one fsync),
which is where the throughput under concurrent clients comes from. A failing batch is
retried item by item, so one bad report cannot fail the others. ``run`` must be all or
nothing (the service commits a batch in one state transaction), so a retry never writes
anything twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class BatchStats:
    """Counts for the batching so far (exposed for tests and benchmarks)."""

    batches: int = 0
    items: int = 0
    largest: int = 0


@dataclass
class AdaptiveBatcher(Generic[T, R]):
    """Coalesces concurrent ``submit`` calls into calls of ``run`` on a worker thread.

    ``run`` takes a list of items and returns one result per item, in order. It runs in a
    thread so the event loop keeps accepting requests while a batch is scored.
    """

    run: Callable[[list[T]], Sequence[R]]
    max_batch: int = 64
    max_wait_ms: float = 0.0
    inline_single: bool | Callable[[], bool] = False
    stats: BatchStats = field(default_factory=BatchStats)
    _pending: list[tuple[T, asyncio.Future[R]]] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        """Score ``item`` in the next batch; its own result or its own exception."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self._pending.append((item, future))
        if self._task is None:  # held, so the running task is never garbage-collected
            self._task = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                if self.max_wait_ms and len(self._pending) < self.max_batch:
                    await asyncio.sleep(self.max_wait_ms / 1000)
                batch = self._pending[: self.max_batch]
                del self._pending[: self.max_batch]
                self.stats.batches += 1
                self.stats.items += len(batch)
                self.stats.largest = max(self.stats.largest, len(batch))
                await self._run_batch(batch)
        finally:
            self._task = None
            if self._pending:  # left behind by a cancelled drain: start another
                self._task = asyncio.get_running_loop().create_task(self._drain())

    def _inline(self) -> bool:
        """Whether a lone item may run on the loop now (a callable asks each time)."""
        inline = self.inline_single
        return inline() if callable(inline) else inline

    async def _run_batch(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        items = [item for item, _ in batch]
        try:
            if len(items) == 1 and self._inline():
                results = self.run(items)
            else:
                results = await asyncio.to_thread(self.run, items)
        except Exception as exc:
            if len(batch) == 1:
                for _, future in batch:
                    _settle(future, exc=exc)
                return
            for one in batch:  # isolate the item that fails
                await self._run_batch([one])
            return
        for (_, future), result in zip(batch, results, strict=True):
            _settle(future, result=result)


def _settle(
    future: asyncio.Future[R], result: R | None = None, exc: Exception | None = None
) -> None:
    if future.done():  # the caller went away; its report was still scored and logged
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)  # type: ignore[arg-type]
