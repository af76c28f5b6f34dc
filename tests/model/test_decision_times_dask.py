"""Point-in-time escalation counts on a real Dask cluster equal one machine's (issue 19).

The cluster runs the tasks ``train --engine dask`` runs (``linkage_futures``, then
``prepare_part`` per part); one machine runs ``load_history``. Both for a history with
``decided_at`` and for one without it, at a non-default assumed lag.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from features.linkage import LINK_FEATURES
from tests.model.conftest import history_file
from training.dask.cluster import linkage_futures, local_cluster
from training.dask.train import prepare_part
from training.data import load_history
from training.partitions import history_parts, write_month_parts

ROWS = 12_000


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    client = local_cluster(1)  # one worker process: enough to run the real tasks
    yield client
    client.close()
    client.cluster.close()


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same history as month parts, with and without ``decided_at``."""
    root = tmp_path_factory.mktemp("pit-dask")
    single = history_file(root / "h.parquet", ROWS, 5, rate=0.05)
    old = root / "old.parquet"
    pq.write_table(pq.read_table(single).drop_columns(["decided_at"]), old)
    write_month_parts(single, root / "with")
    write_month_parts(old, root / "without")
    return root / "with", root / "without"


def _dask_rows(client: Any, folder: Path, lag_days: float) -> pd.DataFrame:
    parts = history_parts(folder)
    links = linkage_futures(client, parts, 3, lag_days)
    prepared = [
        client.submit(prepare_part, p, link, lag_days, pure=False)
        for p, link in zip(parts, links, strict=True)
    ]
    frames = [rows.flat for rows in client.gather(prepared)]
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize(("which", "lag_days"), [(0, 1.0), (1, 3.0)])
def test_dask_counts_equal_one_machines(
    cluster: Any, folders: tuple[Path, Path], which: int, lag_days: float
) -> None:
    folder = folders[which]
    on_cluster = _dask_rows(cluster, folder, lag_days)
    local = load_history(folder, assumed_lag_days=lag_days)
    for d in LINK_FEATURES:
        np.testing.assert_array_equal(
            on_cluster[d.name].to_numpy(), local.flat[d.name].to_numpy(), d.name
        )
    np.testing.assert_array_equal(on_cluster["decided_us"].to_numpy(), local.decided)
    assert local.flat["hist_account_escalations_365d"].sum() > 0
    at_arrival = load_history(folder, assumed_lag_days=0.0)
    if which == 1:  # without the column, the assumed lag changes the counts
        name = "hist_account_escalations_365d"
        assert local.flat[name].sum() < at_arrival.flat[name].sum()
