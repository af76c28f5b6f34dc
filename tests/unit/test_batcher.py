"""Adaptive batching: concurrent calls coalesce, each gets its own answer, failures stay apart."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from serving.batcher import AdaptiveBatcher


def test_a_lone_call_runs_at_once_in_a_batch_of_one() -> None:
    seen: list[list[int]] = []

    def run(items: list[int]) -> list[int]:
        seen.append(items)
        return [i * 10 for i in items]

    batcher: AdaptiveBatcher[int, int] = AdaptiveBatcher(run)
    assert asyncio.run(batcher.submit(4)) == 40
    assert seen == [[4]]


def test_calls_arriving_during_a_batch_go_together_in_the_next_one() -> None:
    seen: list[list[int]] = []
    release = threading.Event()

    def run(items: list[int]) -> list[int]:
        seen.append(list(items))
        if len(seen) == 1:
            release.wait(5)  # the first batch is slow: the rest queue behind it
        return [i * 10 for i in items]

    async def main() -> list[int]:
        batcher: AdaptiveBatcher[int, int] = AdaptiveBatcher(run, max_batch=4)
        first = asyncio.create_task(batcher.submit(0))
        await asyncio.sleep(0.05)
        rest = [asyncio.create_task(batcher.submit(i)) for i in range(1, 7)]
        await asyncio.sleep(0.05)
        release.set()
        return await asyncio.gather(first, *rest)

    assert asyncio.run(main()) == [0, 10, 20, 30, 40, 50, 60]
    assert seen == [[0], [1, 2, 3, 4], [5, 6]]


def test_one_failing_item_fails_only_its_own_call() -> None:
    def run(items: list[int]) -> list[int]:
        if 13 in items:
            raise ValueError("unlucky")
        time.sleep(0.01)
        return [i + 1 for i in items]

    async def main() -> list[int | BaseException]:
        batcher: AdaptiveBatcher[int, int] = AdaptiveBatcher(run)
        calls = [batcher.submit(i) for i in (1, 13, 2, 3, 13, 4)]
        return await asyncio.gather(*calls, return_exceptions=True)

    results = asyncio.run(main())
    assert results[0] == 2 and results[2:4] == [3, 4] and results[5] == 5
    assert isinstance(results[1], ValueError) and isinstance(results[4], ValueError)


def test_an_atomic_batch_retried_item_by_item_commits_each_item_once() -> None:
    """The service's batch commits all or nothing, so the retry never commits twice."""
    committed: list[int] = []

    def run(items: list[int]) -> list[int]:
        pending = list(items)  # one transaction: kept only if the whole batch succeeds
        if 13 in pending:
            raise ValueError("unlucky")  # rolled back: nothing of this batch is kept
        committed.extend(pending)
        return items

    async def main() -> list[int | BaseException]:
        batcher: AdaptiveBatcher[int, int] = AdaptiveBatcher(run, max_wait_ms=20)
        calls = [batcher.submit(i) for i in (0, 1, 13, 2, 3)]
        return await asyncio.gather(*calls, return_exceptions=True)

    results = asyncio.run(main())
    assert isinstance(results[2], ValueError)
    assert [r for i, r in enumerate(results) if i != 2] == [0, 1, 2, 3]
    assert sorted(committed) == [0, 1, 2, 3]  # each once


def test_a_caller_that_goes_away_does_not_stop_the_others() -> None:
    done: list[int] = []

    def run(items: list[int]) -> list[int]:
        time.sleep(0.05)
        done.extend(items)
        return items

    async def main() -> int:
        batcher: AdaptiveBatcher[int, int] = AdaptiveBatcher(run)
        gone = asyncio.create_task(batcher.submit(1))
        stays = asyncio.create_task(batcher.submit(2))
        await asyncio.sleep(0.01)
        gone.cancel()
        with pytest.raises(asyncio.CancelledError):
            await gone
        return await stays

    assert asyncio.run(main()) == 2
    assert done == [1, 2]  # the cancelled caller's item was still processed


def test_wait_window_collects_more_calls_per_batch() -> None:
    seen: list[int] = []

    def run(items: list[int]) -> list[int]:
        seen.append(len(items))
        return items

    async def main() -> None:
        batcher: AdaptiveBatcher[int, int] = AdaptiveBatcher(run, max_wait_ms=50)
        first = asyncio.create_task(batcher.submit(0))
        await asyncio.sleep(0.01)
        await asyncio.gather(first, *(batcher.submit(i) for i in range(1, 5)))
        assert batcher.stats.batches == 1 and batcher.stats.items == 5

    asyncio.run(main())
    assert seen == [5]


def test_inline_single_runs_a_lone_call_on_the_loop_and_batches_in_a_thread() -> None:
    """With ``inline_single`` a batch of one runs on the event loop's own thread; a batch
    of several still goes to a worker thread, so the loop keeps accepting calls."""
    threads: list[tuple[int, bool]] = []

    def run(items: list[int]) -> list[int]:
        threads.append((len(items), threading.current_thread() is loop_thread))
        time.sleep(0.02)
        return [i * 10 for i in items]

    async def main() -> list[int]:
        batcher: AdaptiveBatcher[int, int] = AdaptiveBatcher(run, inline_single=True)
        first = await batcher.submit(1)
        many = await asyncio.gather(*(batcher.submit(i) for i in (2, 3, 4)))
        return [first, *many]

    loop_thread = threading.current_thread()
    assert asyncio.run(main()) == [10, 20, 30, 40]
    assert threads == [(1, True), (3, False)]


def test_a_lone_call_goes_to_a_thread_while_another_write_holds_the_lock() -> None:
    """The service's ``inline_single`` asks whether its write lock is free: a lone call
    that would wait for a long batch waits in a thread, and the loop keeps running."""
    lock = threading.Lock()
    threads: list[bool] = []

    def run(items: list[int]) -> list[int]:
        threads.append(threading.current_thread() is loop_thread)
        if not lock.acquire(timeout=2):  # on the loop (the old code) this never frees
            raise TimeoutError("the write lock stayed held")
        lock.release()
        return [i * 10 for i in items]

    async def main() -> tuple[int, int]:
        batcher: AdaptiveBatcher[int, int] = AdaptiveBatcher(
            run, inline_single=lambda: not lock.locked()
        )
        free = await batcher.submit(1)
        lock.acquire()  # a batch holding the write lock in another thread
        call = asyncio.ensure_future(batcher.submit(2))
        ticks = 0
        while ticks < 5:  # the loop still runs while the call waits
            await asyncio.sleep(0.01)
            ticks += 1
        assert not call.done()
        lock.release()
        return free, await call

    loop_thread = threading.current_thread()
    assert asyncio.run(main()) == (10, 20)
    assert threads == [True, False]
