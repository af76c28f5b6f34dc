"""What the service kept, as the monitor's frames; served reports' model features.

Rows arrive as the state store gives them (``serving.state.watch``; the composition
package reads the store, since ``training`` may not import ``serving``). A served report's
features are rebuilt from its kept flat metadata through the one feature path
(``features.extract.model_input``), with no linkage counts: those are not kept with the
report, so the ``hist_*`` features are left out of drift (``training.monitor.profile``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from features.extract import model_input
from features.flat import FLAT_COLUMNS, rows_frame
from features.linkage import no_history

PUBLIC = "(public)"
TIMES = ("incident_at", "received_at")


def served_frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Served reports as flat rows plus ``platform``, ``day``, ``priority``, ``probability``.

    ``platform`` is the kept ESP name (its closed-vocabulary spelling) or ``(public)``.
    """
    if not rows:
        columns = [*FLAT_COLUMNS, "platform", "day", "priority", "probability"]
        return pd.DataFrame(columns=columns)
    flat = rows_frame(
        [
            {**r["flat"], **{n: datetime.fromisoformat(r["flat"][n]) for n in TIMES}}
            for r in rows
        ]
    )
    received = flat["received_at"].dt.tz_convert("UTC")
    return flat.assign(
        platform=[r["esp"] if r["esp"] is not None else PUBLIC for r in rows],
        day=received.dt.date,
        priority=np.array([int(r["priority"]) for r in rows], dtype=np.int64),
        probability=np.array([float(r["probability"]) for r in rows]),
        model_version=[r["model_version"] for r in rows],
    )


def served_columns(served: pd.DataFrame) -> dict[str, np.ndarray]:
    """The served reports' model features (``hist_*`` as "no earlier report": unused)."""
    flat = served[list(FLAT_COLUMNS)]
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
