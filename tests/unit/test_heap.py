"""The worker's long-lived objects are frozen out of the collector's way (serving.heap)."""

from __future__ import annotations

import gc

from serving import heap


def test_settle_freezes_what_is_alive_and_still_collects_new_garbage() -> None:
    kept = [object() for _ in range(1000)]
    try:
        frozen = heap.settle()
        assert frozen >= len(kept)  # everything alive now, `kept` among it
        assert gc.get_freeze_count() > 0  # frozen objects may still be freed since
        cycle: list[object] = []
        cycle.append(cycle)  # garbage made afterwards is still collected
        del cycle
        assert gc.collect() >= 1
    finally:
        gc.unfreeze()  # other tests run in this process
