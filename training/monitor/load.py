"""What the service kept, as the monitor's frames; served reports' model features.

Rows arrive as the state store gives them (``serving.state.watch``; the composition
package reads the store, since ``training`` may not import ``serving``). A served report's
features are rebuilt from its kept flat metadata through the one feature path
(``features.extract.model_input``), with no linkage counts: those are not kept with the
report, so the ``hist_*`` features are left out of drift (``training.monitor.profile``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from features.extract import model_input
from features.flat import FLAT_COLUMNS
from features.linkage import no_history

PUBLIC = "(public)"


FLAT_READ = tuple(n for n in FLAT_COLUMNS if not n.startswith("link_"))
"""The flat columns the monitor reads: all but the ``link_*`` hash lists, which no
feature reads and the store leaves out (``serving.state.watch.served``)."""
EXTRA = ("platform", "priority", "probability", "model_version")


def _typed(values: list[Any], kind: str) -> Any:
    """One flat column as ``features.flat.rows_frame`` types it (times from ISO text)."""
    if kind == "bool":
        return np.array(values, dtype=bool)
    if kind == "int":
        return np.array(values, dtype=np.int64)
    if kind == "timestamp":
        return pd.to_datetime(pd.Series(values), utc=True, format="ISO8601")
    return pd.array(values, dtype="string")


def served_frame(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Served reports as flat columns, with their platform, day and suggestion.

    Beside the flat columns: ``platform``, ``day``, ``priority``, ``probability`` and
    ``model_version``. Gathered column by column as the rows stream in (a list of 100-key dicts per
    report took several times the memory). ``platform`` is the kept ESP name (its
    closed-vocabulary spelling) or ``(public)``.
    """
    columns: dict[str, list[Any]] = {name: [] for name in (*FLAT_READ, *EXTRA)}
    for row in rows:
        flat = row["flat"]
        for name in FLAT_READ:
            columns[name].append(flat[name])
        columns["platform"].append(PUBLIC if row["esp"] is None else row["esp"])
        for name in EXTRA[1:]:
            columns[name].append(row[name])
    frame = pd.DataFrame(
        {name: _typed(columns[name], FLAT_COLUMNS[name]) for name in FLAT_READ}
    )
    return frame.assign(
        platform=columns["platform"],
        day=frame["received_at"].dt.date,
        priority=np.array(columns["priority"], dtype=np.int64),
        probability=np.array(columns["probability"], dtype=np.float64),
        model_version=columns["model_version"],
    )


def served_columns(served: pd.DataFrame) -> dict[str, np.ndarray]:
    """The served reports' model features (``hist_*`` as "no earlier report": unused)."""
    flat = served[list(FLAT_READ)]
    return model_input(flat, no_history(len(flat))).columns


def decisions_frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Decisions as a frame, times UTC.

    Columns: ``received_at``, ``decided_at``, ``suggested_priority``, ``priority``,
    ``action``, ``model_version``, ``platform``.
    """
    columns = ["received_at", "decided_at", "suggested_priority", "priority"]
    frame = pd.DataFrame(
        rows, columns=[*columns, "action", "model_version", "platform"]
    )
    for name in ("received_at", "decided_at"):
        frame[name] = pd.to_datetime(frame[name], utc=True, format="ISO8601")
    return frame
