"""Analysts' decisions as training data: ``tipscore export-decisions``.

Why here: the rows come from the service's report store (serving) and must match the
training-data format (training); the composition package may use both, neither of them
the other. Each decided report becomes one history row exactly as the report looked when
it was scored (its flattened metadata with hashed identifiers, kept by the service), with
the analyst's **latest** decision as the outcome and where it came from:

- ``escalated`` = the analyst chose priority 1; ``priority`` = the analyst's priority;
  ``designation`` = the analyst's designation;
- provenance: ``decision_at`` (UTC), ``decision_action`` (accept/override),
  ``decision_reason``, ``decision_key_id``, ``suggested_priority``,
  ``suggested_probability`` and ``suggested_by`` (the model ``name/version`` that
  suggested it).

No ``p_true``: real decisions have no known true probability.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from features.flat import rows_frame
from serving.report_store import ReportStore
from training.data_format import history_schema

PROVENANCE = pa.schema(
    [
        pa.field("decision_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("decision_action", pa.string(), nullable=False),
        pa.field("decision_reason", pa.string(), nullable=False),
        pa.field("decision_key_id", pa.string(), nullable=False),
        pa.field("suggested_priority", pa.int64(), nullable=False),
        pa.field("suggested_probability", pa.float64(), nullable=False),
        pa.field("suggested_by", pa.string(), nullable=False),
    ]
)
"""Where each row's outcome came from; after the training-data columns."""
SCHEMA = pa.schema([*history_schema(with_p_true=False), *PROVENANCE])


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote."""

    rows: int
    overridden: int
    escalated: int
    path: Path


def decisions_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Decided rows (``ReportStore.decided()``) as a history frame with provenance."""
    for row in rows:
        for name in ("incident_at", "received_at"):
            row[name] = datetime.fromisoformat(row[name])
    frame = rows_frame(rows)
    priority = [int(r["decision_priority"]) for r in rows]
    frame["escalated"] = [p == 1 for p in priority]
    frame["priority"] = pd.array([str(p) for p in priority], dtype="string")
    frame["designation"] = pd.array(
        [r["decision_designation"] for r in rows], dtype="string"
    )
    frame["decision_at"] = pd.to_datetime([r["decision_at"] for r in rows], utc=True)
    for name in (
        "decision_action",
        "decision_reason",
        "decision_key_id",
        "suggested_by",
    ):
        frame[name] = pd.array([r[name] for r in rows], dtype="string")
    frame["suggested_priority"] = [int(r["suggested_priority"]) for r in rows]
    frame["suggested_probability"] = [float(r["suggested_probability"]) for r in rows]
    return frame.sort_values(["received_at", "report_id"], kind="stable").reset_index(
        drop=True
    )


def export_decisions(reports_db: Path, out: Path) -> ExportSummary:
    """Write every decided report's latest decision as a history file (Parquet)."""
    if not reports_db.exists():
        raise FileNotFoundError(f"{reports_db}: no report store (nothing scored yet)")
    store = ReportStore(reports_db)
    try:
        rows = list(store.decided())
    finally:
        store.close()
    frame = decisions_frame(rows)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    table = pa.Table.from_pandas(frame, schema=SCHEMA, preserve_index=False)
    pq.write_table(table, tmp)
    tmp.replace(out)
    overridden = int(
        (frame["suggested_priority"] != frame["priority"].astype(int)).sum()
    )
    return ExportSummary(len(frame), overridden, int(frame["escalated"].sum()), out)
