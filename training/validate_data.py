"""``tipscore validate-data``: check a history file against the training-data format.

Every problem names its column, says what is wrong, and shows a sample of offending rows
(row numbers and report ids), so a data scientist can fix their export without guessing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict

from features.extract import history_rows
from features.flat import FLAT_COLUMNS
from features.outcome import OUTCOME_RULES, Outcome
from features.vocab import FILE_ANNOTATIONS, IncidentType, LocationSource
from training.data_format import (
    DESIGNATIONS,
    NULLABLE,
    OPTIONAL_COLUMNS,
    PRIORITIES,
    PROVENANCE_COLUMNS,
    REQUIRED_TYPES,
    SUGGESTED_PRIORITIES,
)
from training.partitions import PartsError, history_parts, read_parts

SAMPLE = 5
SKEW = pd.Timedelta(hours=1)


class Problem(BaseModel):
    """One way a history file breaks the format."""

    model_config = ConfigDict(frozen=True)

    column: str
    problem: str
    count: int = 0
    rows: list[int] = []
    report_ids: list[str] = []


class Summary(BaseModel):
    """What a valid history file holds."""

    rows: int
    first_received: str
    last_received: str
    escalation_rate: float
    informational_share: float
    priorities: dict[str, int]
    esps: int
    has_p_true: bool
    mean_p_true: float | None
    decision_times: str = "absent (an assumed lag applies: [history] in the config)"
    """Whether ``decided_at`` is present; if so, the never-reviewed rows and the median
    lag of the decided ones."""


def _type_ok(expected: pa.DataType, actual: pa.DataType) -> bool:
    if pa.types.is_string(expected):
        return bool(pa.types.is_string(actual) or pa.types.is_large_string(actual))
    if pa.types.is_integer(expected):
        return bool(pa.types.is_integer(actual))
    if pa.types.is_timestamp(expected):
        return pa.types.is_timestamp(actual) and actual.tz in (
            "UTC",
            "+00:00",
            "Etc/UTC",
        )
    if pa.types.is_list(expected):
        return bool(
            pa.types.is_list(actual) or pa.types.is_large_list(actual)
        ) and bool(
            pa.types.is_string(actual.value_type)
            or pa.types.is_large_string(actual.value_type)
        )
    return bool(actual == expected)


def check_schema(schema: pa.Schema) -> list[Problem]:
    """Missing columns and wrong types (optional and provenance columns when present).

    Any other column is ignored.
    """
    problems = []
    optional = {**OPTIONAL_COLUMNS, **PROVENANCE_COLUMNS}
    for name, expected in {**REQUIRED_TYPES, **optional}.items():
        if name not in schema.names:
            if name not in optional:
                problems.append(Problem(column=name, problem="missing column"))
            continue
        actual = schema.field(name).type
        if not _type_ok(expected, actual):
            problems.append(
                Problem(
                    column=name,
                    problem=f"wrong type: expected {expected}, got {actual}",
                )
            )
    return problems


class _Checker:
    """Collects value problems with their sample rows."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.ids = (
            frame["report_id"].astype("string").to_numpy(dtype=object, na_value="")
        )
        self.problems: list[Problem] = []

    def flag(self, column: str, problem: str, bad: np.ndarray) -> None:
        rows = np.flatnonzero(bad)
        if len(rows):
            self.problems.append(
                Problem(
                    column=column,
                    problem=problem,
                    count=len(rows),
                    rows=[int(r) for r in rows[:SAMPLE]],
                    report_ids=[str(self.ids[r]) for r in rows[:SAMPLE]],
                )
            )

    def enum(self, column: str, allowed: tuple[str, ...]) -> None:
        values = self.frame[column]
        bad = values.notna() & ~values.isin(allowed)
        self.flag(column, f"values not in {list(allowed)}", bad.to_numpy())


def _check_nulls(check: _Checker) -> None:
    for name in REQUIRED_TYPES:
        if name not in NULLABLE and not name.startswith("link_"):
            check.flag(name, "missing values", check.frame[name].isna().to_numpy())


def _check_enums(check: _Checker) -> None:
    check.enum("incident_type", tuple(t.value for t in IncidentType))
    check.enum("reporter_type", ("esp", "public"))
    check.enum("location_source", tuple(s.value for s in LocationSource))
    check.enum("priority", PRIORITIES)
    check.enum("designation", DESIGNATIONS)
    codes = check.frame["country_code"]
    bad = codes.notna() & ~codes.astype("string").str.fullmatch(
        r"[A-Z][A-Z0-9]"
    ).fillna(False)
    check.flag(
        "country_code",
        "not a 2-character upper-case country code",
        bad.to_numpy(dtype=bool),
    )
    unknown = check.frame["location_source"] == "unknown"
    check.flag(
        "location_source",
        "must be 'unknown' exactly when country_code is null",
        (unknown != codes.isna()).to_numpy(dtype=bool),
    )


def _check_counts(check: _Checker) -> None:
    f = check.frame
    for name, kind in FLAT_COLUMNS.items():
        if kind == "int":
            check.flag(
                name, "negative count", (f[name] < 0).fillna(False).to_numpy(dtype=bool)
            )
    check.flag(
        "bundle_incident_count",
        "must be at least 1",
        (f["bundle_incident_count"] < 1).fillna(False).to_numpy(dtype=bool),
    )
    n = f["files_count"]
    limits: dict[str, Any] = {
        "files_viewed": f["files_viewed"],
        "files_image": f["files_image"] + f["files_video"],
        "files_public": f["files_public"],
        "files_supplemental": f["files_supplemental"],
        "files_upload_ip": f["files_upload_ip"],
        "files_hash_known": f["files_hash_known"] + f["files_hash_novel"],
        "files_class_a1": f[
            ["files_class_a1", "files_class_a2", "files_class_b1", "files_class_b2"]
        ].sum(axis=1),
        **{f"files_tag_{t}": f[f"files_tag_{t}"] for t in FILE_ANNOTATIONS},
    }
    for name, value in limits.items():
        check.flag(
            name,
            "more files than files_count",
            (value > n).fillna(False).to_numpy(dtype=bool),
        )
    check.flag(
        "files_exif_viewed",
        "more than files_viewed",
        (f["files_exif_viewed"] > f["files_viewed"]).fillna(False).to_numpy(dtype=bool),
    )


def _check_order(check: _Checker) -> None:
    f = check.frame
    check.flag(
        "report_id",
        "duplicate report ids",
        f["report_id"].duplicated(keep="first").to_numpy(dtype=bool),
    )
    received = f["received_at"]
    check.flag(
        "received_at",
        "rows not ordered by received_at",
        (received.diff() < pd.Timedelta(0)).fillna(False).to_numpy(dtype=bool),
    )
    check.flag(
        "incident_at",
        "incident after received_at",
        (f["incident_at"] > received + SKEW).fillna(False).to_numpy(dtype=bool),
    )


def _check_outcomes(check: _Checker) -> None:
    f = check.frame
    outcome = Outcome(
        f["escalated"].fillna(False).astype(bool), f["priority"], f["designation"]
    )
    for rule in OUTCOME_RULES:  # the same rules the analyst API checks a decision by
        check.flag(
            rule.column,
            rule.history_problem,
            rule.broken(outcome).to_numpy(dtype=bool),
        )
    if "p_true" in f.columns:
        p = f["p_true"]
        check.flag(
            "p_true",
            "must be a probability in [0, 1]",
            (p.isna() | (p < 0) | (p > 1)).to_numpy(dtype=bool),
        )
    if "suggested_priority" in f.columns:
        check.flag(
            "suggested_priority",
            f"values not in {list(SUGGESTED_PRIORITIES)}",
            (~f["suggested_priority"].isin(SUGGESTED_PRIORITIES)).to_numpy(dtype=bool),
        )


def _check_decision_times(check: _Checker) -> None:
    """``decided_at``, when present: not before receipt; set on every escalated row."""
    f = check.frame
    if "decided_at" not in f.columns:
        return
    decided = f["decided_at"]
    check.flag(
        "decided_at",
        "before received_at (a report is decided after it arrives)",
        (decided < f["received_at"]).fillna(False).to_numpy(dtype=bool),
    )
    check.flag(
        "decided_at",
        "missing on escalated rows (null means never reviewed; an escalation is a "
        "decision)",
        (decided.isna() & f["escalated"].fillna(False).astype(bool)).to_numpy(
            dtype=bool
        ),
    )


def _check_links(table: pa.Table, check: _Checker) -> None:
    for name, kind in FLAT_COLUMNS.items():
        if kind != "list":
            continue
        column = table.column(name).combine_chunks()
        check.flag(
            name,
            "missing values (use an empty list)",
            column.is_null().to_numpy(zero_copy_only=False),
        )
        values = pc.list_flatten(column)
        ok = pc.match_substring_regex(values, r"^[0-9a-f]{64}$").fill_null(False)
        bad_values = np.flatnonzero(~ok.to_numpy(zero_copy_only=False))
        parents = pc.list_parent_indices(column).to_numpy()
        bad = np.zeros(len(column), dtype=bool)
        bad[parents[bad_values]] = True
        check.flag(
            name, "entries must be 64-hex keyed hashes (never raw identifiers)", bad
        )


CHECKS: tuple[Callable[[_Checker], None], ...] = (
    _check_nulls,
    _check_enums,
    _check_counts,
    _check_order,
    _check_outcomes,
    _check_decision_times,
)


def summarise(frame: pd.DataFrame) -> Summary:
    """Rows, date range, label rates of a valid history."""
    has_p = "p_true" in frame.columns
    return Summary(
        rows=len(frame),
        first_received=str(frame["received_at"].min()),
        last_received=str(frame["received_at"].max()),
        escalation_rate=float(frame["escalated"].mean()) if len(frame) else 0.0,
        informational_share=float((frame["designation"] == "informational").mean())
        if len(frame)
        else 0.0,
        priorities={
            str(k): int(v)
            for k, v in frame["priority"].value_counts().sort_index().items()
        },
        esps=int(frame["esp"].nunique()),
        has_p_true=has_p,
        mean_p_true=float(frame["p_true"].mean()) if has_p else None,
        **_decision_summary(frame),
    )


def _decision_summary(frame: pd.DataFrame) -> dict[str, str]:
    """The ``decision_times`` line of a summary (empty: the default, column absent)."""
    if "decided_at" not in frame.columns:
        return {}
    decided = frame["decided_at"]
    lag = (decided - frame["received_at"]).dropna()
    median = lag.median() if len(lag) else None
    hours = f"{median / pd.Timedelta(hours=1):.1f} h" if median is not None else "-"
    return {
        "decision_times": f"present ({int(decided.isna().sum())} never reviewed; "
        f"median lag {hours})"
    }


def validate_history(path: Path) -> tuple[list[Problem], Summary | None]:
    """Check a Parquet history; return its problems (empty when valid) and a summary.

    A folder of parts is checked as the one history its parts form in name order.
    """
    if path.is_dir():
        try:
            return validate_table(read_parts(history_parts(path)))
        except (PartsError, OSError, pa.ArrowInvalid) as exc:
            return [Problem(column="(parts)", problem=str(exc))], None
    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowInvalid) as exc:
        return [
            Problem(column="(file)", problem=f"cannot read as Parquet: {exc}")
        ], None
    problems = check_schema(schema)
    if problems:
        return problems, None
    return validate_table(pq.read_table(path))


def validate_table(table: pa.Table) -> tuple[list[Problem], Summary | None]:
    """Check a history already read into Arrow (schema and values)."""
    problems = check_schema(table.schema)
    if problems:
        return problems, None
    frame = history_rows(table)
    check = _Checker(frame)
    for run in CHECKS:
        run(check)
    _check_links(table, check)
    if check.problems:
        return check.problems, None
    return [], summarise(frame)
