"""The worker's long-lived objects kept out of the garbage collector's way.

Why: once the model, pandas, LightGBM and every module are loaded, the worker holds millions
of objects that live as long as it does. CPython's cyclic collector walks all of them on each
full collection, and scoring allocates enough short-lived objects (response models, reasons,
key facts) that full collections run during scoring. Measured in process on a 1,000-report
batch (``benchmarks/serve_bench.py``'s reports, the service's scoring and state writes, CPU
seconds of 3 batches on a busy 2-core machine): 0.73-0.97 s before, 0.61-0.69 s after
``gc.freeze()``. Freezing moves everything alive now into a permanent generation the
collector skips; objects freed by reference counting are still freed at once, and what
the service allocates afterwards is collected as before.

Called when the worker is ready and again after an analyst-triggered model reload (the new
model's objects are then long-lived too). The previous model's objects, if frozen, are
still freed by reference counting when nothing holds them.
"""

from __future__ import annotations

import gc


def settle() -> int:
    """Collect what is garbage now, then freeze the rest; how many objects are frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
