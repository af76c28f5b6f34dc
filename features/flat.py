"""The report contract flattened to one row of named columns (the training-data format's core).

Why a flat form: training reads millions of reports from Parquet, serving gets one report at a
time. Both meet here: ``flatten`` turns a ``TipReport`` into this row, a history file already
holds such rows, and ``features.extract.build_features`` turns rows into model features with
one vectorised code path. File-level fields are aggregated per report here (counts), since a
flat row has one value per column.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC
from typing import Any

import numpy as np
import pandas as pd

from features.schema import FileMeta, TipReport
from features.vocab import FILE_ANNOTATIONS, INCIDENT_KINDS, REPORT_ANNOTATIONS

PERSON_FLAGS = (
    "esp_user_id",
    "screen_name",
    "email",
    "phone",
    "upload_ip",
    "age_or_dob",
    "estimated_location",
    "account_temporarily_disabled",
    "account_permanently_disabled",
)
PERSON_COUNTS = ("count", "ip_events", "device_ids", "prior_ct_reports")
LINK_KINDS = ("accounts", "emails", "phones", "ips", "devices", "file_hashes")
CLASSES = ("a1", "a2", "b1", "b2")

FLAT_COLUMNS: dict[str, str] = {
    "report_id": "string",
    "incident_type": "string",
    "incident_at": "timestamp",
    "received_at": "timestamp",
    "reporter_type": "string",
    "esp": "string?",
    "esp_escalated": "bool",
    **{f"ann_{a}": "bool" for a in REPORT_ANNOTATIONS},
    **{f"inc_{k}": "bool" for k in INCIDENT_KINDS},
    **{f"rp_{c}": "int" for c in PERSON_COUNTS},
    **{f"rp_{f}": "bool" for f in PERSON_FLAGS},
    "victims_count": "int",
    "victims_minor_stated": "bool",
    "recipients_count": "int",
    "recipients_minor_stated": "bool",
    "country_code": "string?",
    "location_source": "string",
    "bundle_batched": "bool",
    "bundle_incident_count": "int",
    "files_count": "int",
    "files_image": "int",
    "files_video": "int",
    "files_viewed": "int",
    "files_exif_viewed": "int",
    "files_public": "int",
    "files_supplemental": "int",
    "files_upload_ip": "int",
    **{f"files_tag_{t}": "int" for t in FILE_ANNOTATIONS},
    **{f"files_class_{c}": "int" for c in CLASSES},
    "files_hash_known": "int",
    "files_hash_novel": "int",
    **{f"link_{k}": "list" for k in LINK_KINDS},
}
"""Every flat column and its kind: ``string`` (``?`` = nullable), ``bool``, ``int`` (int64,
non-negative), ``timestamp`` (UTC), ``list`` (list of 64-hex keyed hashes)."""


def _file_counts(files: list[FileMeta]) -> dict[str, int]:
    counts = {
        "files_count": len(files),
        "files_image": sum(f.media_kind == "image" for f in files),
        "files_video": sum(f.media_kind == "video" for f in files),
        "files_viewed": sum(f.viewed_by_esp is True for f in files),
        "files_exif_viewed": sum(f.exif_viewed_by_esp is True for f in files),
        "files_public": sum(f.publicly_available is True for f in files),
        "files_supplemental": sum(
            f.relevance == "Supplemental Reported" for f in files
        ),
        "files_upload_ip": sum(f.upload_ip for f in files),
        "files_hash_known": sum(f.hash_match == "known" for f in files),
        "files_hash_novel": sum(f.hash_match == "novel" for f in files),
    }
    for tag in FILE_ANNOTATIONS:
        counts[f"files_tag_{tag}"] = sum(getattr(f.annotations, tag) for f in files)
    for cls in CLASSES:
        counts[f"files_class_{cls}"] = sum(
            f.industry_classification == cls.upper() for f in files
        )
    return counts


def flatten(report: TipReport) -> dict[str, Any]:
    """One report as a flat row (a dict keyed by ``FLAT_COLUMNS``)."""
    person = report.reported_person
    row: dict[str, Any] = {
        "report_id": report.report_id,
        "incident_type": report.incident_type.value,
        "incident_at": report.incident_at,
        "received_at": report.received_at,
        "reporter_type": report.reporter_type.value,
        "esp": report.esp,
        "esp_escalated": report.esp_escalated,
    }
    row |= {f"ann_{a}": getattr(report.annotations, a) for a in REPORT_ANNOTATIONS}
    row |= {f"inc_{k}": getattr(report.incident_kinds, k) for k in INCIDENT_KINDS}
    row |= {f"rp_{c}": getattr(person, c) for c in PERSON_COUNTS}
    row |= {f"rp_{f}": getattr(person, f) for f in PERSON_FLAGS}
    row |= {
        "victims_count": report.victims.count,
        "victims_minor_stated": report.victims.minor_stated,
        "recipients_count": report.recipients.count,
        "recipients_minor_stated": report.recipients.minor_stated,
        "country_code": report.location.country_code,
        "location_source": report.location.source.value,
        "bundle_batched": report.bundle.batched,
        "bundle_incident_count": report.bundle.incident_count,
    }
    row |= _file_counts(report.files)
    row |= {f"link_{k}": list(getattr(report.linkage, k)) for k in LINK_KINDS}
    return row


def _column(values: list[Any], kind: str) -> np.ndarray:
    if kind == "bool":
        return np.array(values, dtype=bool)
    if kind == "int":
        return np.array(values, dtype=np.int64)
    if kind == "timestamp":
        utc = [v.astimezone(UTC).replace(tzinfo=None) for v in values]
        return np.array(utc, dtype="datetime64[us]")
    column = np.empty(len(values), dtype=object)
    column[:] = values
    return column


def flat_columns(reports: Iterable[TipReport]) -> dict[str, np.ndarray]:
    """Many reports as flat columns (numpy arrays; times as naive-UTC ``datetime64[us]``)."""
    rows = [flatten(r) for r in reports]
    return {
        name: _column([row[name] for row in rows], kind)
        for name, kind in FLAT_COLUMNS.items()
    }


def flat_frame(reports: Iterable[TipReport]) -> pd.DataFrame:
    """Many reports as a typed flat frame, one row per report, columns as ``FLAT_COLUMNS``.

    Strings use pandas' ``string`` dtype and times are UTC-aware, as in a history file.
    """
    return rows_frame([flatten(r) for r in reports])


def rows_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Flat rows (as ``flatten`` makes them, times as datetimes) as the typed flat frame."""
    typed: dict[str, Any] = {}
    for name, kind in FLAT_COLUMNS.items():
        values = _column([row[name] for row in rows], kind)
        if kind.startswith("string"):
            typed[name] = pd.array(values, dtype="string")
        elif kind == "timestamp":
            typed[name] = pd.DatetimeIndex(values).tz_localize("UTC")
        else:
            typed[name] = values
    return pd.DataFrame(typed, index=pd.RangeIndex(len(rows)))
