"""Analysts' decisions as training data: ``tipscore export-decisions``.

Why here: the rows come from the service's state store (serving) and must match the
training-data format (training); the composition package may use both, neither of them
the other. Each decided report becomes one history row exactly as the report looked when
it was scored (its flattened metadata with hashed identifiers, kept by the service), with
the analyst's **latest** decision as the outcome and where it came from:

- ``escalated`` = the analyst chose priority 1; ``priority`` = the analyst's priority;
  ``designation`` = the analyst's designation (``features.outcome.decision_outcome``, the
  same mapping the analyst API checks a decision's consistency by);
- provenance: ``decision_at`` (UTC), ``decision_action`` (accept/override),
  ``decision_reason``, ``decision_key_id``, ``suggested_priority``,
  ``suggested_probability`` and ``suggested_by`` (the model ``name/version`` that
  suggested it), ``decision_blind`` (reviewed blind: the suggestion was hidden until
  decided; issue 21);
- ``decided_at``: when the outcome's escalation took hold in the service — the first of
  the latest run of decisions agreeing with the latest on priority 1 or not (for a report
  decided once, its decision time), never before ``received_at`` (a sender's clock may
  run up to an hour ahead). Escalation counts in training then count the report from the
  moment the service began to.

No ``p_true``: real decisions have no known true probability. Nothing is written when no
report has been decided (the command says so and exits 1): an empty history cannot be
trained on, and an existing file at ``--out`` is left as it was.
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
from features.outcome import decision_outcome
from serving.state.command_store import open_for_command
from training.data_format import history_schema, provenance_schema

SCHEMA = pa.schema(
    [
        *history_schema(with_p_true=False, with_decided_at=True),
        *provenance_schema(),
        pa.field("decision_blind", pa.bool_(), nullable=False),
    ]
)
"""The export's columns: the training-data format's with ``decided_at``, then the
provenance columns."""


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote."""

    rows: int
    overridden: int
    escalated: int
    path: Path


def decision_times(received: pd.Series, rows: list[dict[str, Any]]) -> pd.Series:
    """``decided_at`` of each row: when its escalation mark settled, not before receipt."""
    settled = pd.Series(
        pd.to_datetime(
            [r.get("decision_settled_at") or r["decision_at"] for r in rows], utc=True
        ),
        index=received.index,
    )
    received = pd.to_datetime(received, utc=True)
    return settled.where(settled >= received, received)


def decisions_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Decided rows (``StateStore.decided()``) as a history frame with provenance."""
    times = ("incident_at", "received_at")
    frame = rows_frame(
        [{**r, **{n: datetime.fromisoformat(r[n]) for n in times}} for r in rows]
    )
    outcomes = [
        decision_outcome(int(r["decision_priority"]), r["decision_designation"])
        for r in rows
    ]
    frame["escalated"] = [bool(o.escalated) for o in outcomes]
    frame["priority"] = pd.array([o.priority for o in outcomes], dtype="string")
    frame["designation"] = pd.array([o.designation for o in outcomes], dtype="string")
    frame["decided_at"] = decision_times(frame["received_at"], rows)
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
    # reviewed blind (issue 21): the analyst decided without seeing the suggestion
    frame["decision_blind"] = [bool(r.get("decision_blind", 0)) for r in rows]
    return frame.sort_values(["received_at", "report_id"], kind="stable").reset_index(
        drop=True
    )


def export_decisions(reports_db: Path, out: Path) -> ExportSummary:
    """Write every decided report's latest decision as a history file (Parquet).

    Writes nothing when no report has been decided (``rows`` is 0 in the summary).

    Raises:
        FileNotFoundError: there is no report store at ``reports_db``.
    """
    store = open_for_command(reports_db)  # PostgreSQL when configured (issue 22)
    try:
        rows = list(store.decided())
    finally:
        store.close()
    if not rows:
        return ExportSummary(0, 0, 0, out)
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
