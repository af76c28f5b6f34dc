"""History rows as the JSON an intake system sends (``POST /score_batch``).

A history row is already flat (file-level fields as counts) and its identifiers are keyed
hashes. The submission rebuilds a list of files whose counts flatten back to exactly the
row's (``features.flat.flatten``), so the service scores the same feature row training
sees. The hashes are sent as the "raw" identifiers: the service hashes them again with its
own secret, which keeps every equality between reports, so linkage counts match the
history's. Phones are sent as digits (the service keeps only a phone's digits).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd

from features.flat import CLASSES, PERSON_COUNTS, PERSON_FLAGS
from features.vocab import FILE_ANNOTATIONS, INCIDENT_KINDS, REPORT_ANNOTATIONS

LINKS = {
    "accounts": "link_accounts",
    "emails": "link_emails",
    "phones": "link_phones",
    "ips": "link_ips",
    "devices": "link_devices",
    "file_hashes": "link_file_hashes",
}


def _time(value: Any) -> str:
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp.tz_convert(UTC)
    return datetime.isoformat(stamp.to_pydatetime()).replace("+00:00", "Z")


def _first(n: int, count: int, value: Any, other: Any) -> list[Any]:
    """``value`` for the first ``count`` of ``n`` files, ``other`` for the rest."""
    count = min(int(count), n)
    return [value] * count + [other] * (n - count)


def files(row: dict[str, Any]) -> list[dict[str, Any]]:
    """Files whose flattened counts are the row's (each flag on the first k files)."""
    n = int(row["files_count"])
    image, video = int(row["files_image"]), int(row["files_video"])
    kinds = ["image"] * image + ["video"] * video
    kinds += ["unknown"] * (n - len(kinds))
    classes: list[str | None] = [
        c.upper() for c in CLASSES for _ in range(int(row[f"files_class_{c}"]))
    ]
    classes += [None] * (n - len(classes))
    matches = ["known"] * int(row["files_hash_known"])
    matches += ["novel"] * int(row["files_hash_novel"])
    matches += ["unknown"] * (n - len(matches))
    columns = {
        "media_kind": kinds[:n],
        "viewed_by_esp": _first(n, row["files_viewed"], True, None),
        "exif_viewed_by_esp": _first(n, row["files_exif_viewed"], True, None),
        "publicly_available": _first(n, row["files_public"], True, None),
        "relevance": _first(
            n, row["files_supplemental"], "Supplemental Reported", "Reported"
        ),
        "upload_ip": _first(n, row["files_upload_ip"], True, False),
        "industry_classification": classes[:n],
        "hash_match": matches[:n],
    }
    tags = {t: _first(n, row[f"files_tag_{t}"], True, False) for t in FILE_ANNOTATIONS}
    return [
        {
            **{name: values[i] for name, values in columns.items()},
            "annotations": {t: tags[t][i] for t in FILE_ANNOTATIONS},
        }
        for i in range(n)
    ]


def _phone(digest: str) -> str:
    """A keyed hash as a phone number's digits (unique per hash; the service keeps digits)."""
    return str(int(digest[:32], 16))


def identifiers(row: dict[str, Any]) -> dict[str, list[str]]:
    """The row's hashed identifiers, sent as raw ones (re-hashed by the service)."""
    ids = {kind: [str(v) for v in row[column]] for kind, column in LINKS.items()}
    ids["phones"] = [_phone(v) for v in ids["phones"]]
    return {kind: values for kind, values in ids.items() if values}


def esp(row: dict[str, Any]) -> str | None:
    """The row's ESP as the submission sends it."""
    return None if pd.isna(row["esp"]) else str(row["esp"])


def submission(row: dict[str, Any]) -> dict[str, Any]:
    """One history row (a dict of its columns) as a ``ReportSubmission`` JSON object."""
    country = row["country_code"]
    return {
        "report_id": str(row["report_id"]),
        "incident_type": row["incident_type"],
        "incident_at": _time(row["incident_at"]),
        "received_at": _time(row["received_at"]),
        "reporter_type": row["reporter_type"],
        "esp": esp(row),
        "esp_escalated": bool(row["esp_escalated"]),
        "annotations": {a: bool(row[f"ann_{a}"]) for a in REPORT_ANNOTATIONS},
        "incident_kinds": {k: bool(row[f"inc_{k}"]) for k in INCIDENT_KINDS},
        "reported_person": {
            **{c: int(row[f"rp_{c}"]) for c in PERSON_COUNTS},
            **{f: bool(row[f"rp_{f}"]) for f in PERSON_FLAGS},
        },
        "victims": {
            "count": int(row["victims_count"]),
            "minor_stated": bool(row["victims_minor_stated"]),
        },
        "recipients": {
            "count": int(row["recipients_count"]),
            "minor_stated": bool(row["recipients_minor_stated"]),
        },
        "location": {
            "country_code": None if pd.isna(country) else str(country),
            "source": row["location_source"],
        },
        "bundle": {
            "batched": bool(row["bundle_batched"]),
            "incident_count": int(row["bundle_incident_count"]),
        },
        "files": files(row),
        "identifiers": identifiers(row),
    }
