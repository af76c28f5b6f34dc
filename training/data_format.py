"""The training-data format: the contract between a history file and training.

One row per report: the report contract's flat columns (``features.flat.FLAT_COLUMNS``), the
hashed identifiers for linking (``link_*``), and the outcome columns. Documented in
docs/training-data.md; a data scientist bringing their own history must match it, and
``validate_history`` says exactly where a file does not.
"""

from __future__ import annotations

import pyarrow as pa

from features.flat import FLAT_COLUMNS
from features.outcome import DESIGNATIONS as DESIGNATIONS  # the outcome values live
from features.outcome import PRIORITIES as PRIORITIES  # with the outcome rules

OUTCOME_COLUMNS: dict[str, pa.DataType] = {
    "escalated": pa.bool_(),
    "priority": pa.string(),
    "designation": pa.string(),
}
OPTIONAL_COLUMNS: dict[str, pa.DataType] = {
    "decided_at": pa.timestamp("us", tz="UTC"),
    "p_true": pa.float64(),
}
"""Optional columns, type-checked when present: ``decided_at`` (when the outcome was
decided; null = never reviewed; see ``training.decision_times``) and ``p_true``."""
NULLABLE = frozenset({"esp", "country_code"})

_KIND_TYPES = {
    "string": pa.string(),
    "string?": pa.string(),
    "bool": pa.bool_(),
    "int": pa.int64(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "list": pa.list_(pa.string()),
}


def history_schema(with_p_true: bool, with_decided_at: bool = False) -> pa.Schema:
    """The Arrow schema of a history file (``p_true`` only for synthetic histories).

    ``decided_at`` (nullable) follows the outcome columns when asked for.
    """
    fields = [
        pa.field(name, _KIND_TYPES[kind], nullable=name in NULLABLE)
        for name, kind in FLAT_COLUMNS.items()
    ]
    fields += [
        pa.field(name, kind, nullable=False) for name, kind in OUTCOME_COLUMNS.items()
    ]
    if with_decided_at:
        fields.append(pa.field("decided_at", OPTIONAL_COLUMNS["decided_at"]))
    if with_p_true:
        fields.append(pa.field("p_true", pa.float64(), nullable=False))
    return pa.schema(fields)


REQUIRED_TYPES: dict[str, pa.DataType] = {
    field.name: field.type for field in history_schema(with_p_true=False)
}
"""Every required column and its Arrow type."""

PROVENANCE_COLUMNS: dict[str, pa.DataType] = {
    "decision_at": pa.timestamp("us", tz="UTC"),
    "decision_action": pa.string(),
    "decision_reason": pa.string(),
    "decision_key_id": pa.string(),
    "suggested_priority": pa.int64(),
    "suggested_probability": pa.float64(),
    "suggested_by": pa.string(),
}
"""Optional columns of a decisions export (``tipscore export-decisions``): where each
row's outcome came from. Checked for type when present; the model never reads them, and
training reads only ``suggested_priority`` (for the agreement metrics)."""
SUGGESTED_PRIORITIES = (1, 2, 3)


def provenance_schema() -> pa.Schema:
    """The Arrow schema of the provenance columns, after the history's."""
    return pa.schema(
        [
            pa.field(name, kind, nullable=False)
            for name, kind in PROVENANCE_COLUMNS.items()
        ]
    )
