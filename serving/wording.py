"""Sentences that are true of one report, for every value a feature can take.

Why not the spec's templates alone: a template such as "{value} of {files_count} files
tagged viral" reads as nonsense for a report with no files ("0 of 0 files"), and a count of
earlier reports is meaningless when the report named no account. Here each feature family
has its zero, one and many forms, and ``Context`` says what the report did not carry at
all (no files, no account, no location), so the sentence can say so. A missing value
(``None`` or NaN) reads as the contract's default: an unset flag, no count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from features.schema import TipReport
from features.spec import FEATURES, TAG_WORDS
from features.vocab import FILE_ANNOTATIONS


@dataclass(frozen=True)
class Context:
    """What the report carried at all: the default (everything present) claims nothing.

    A ``False`` makes the features built on that part "not applicable" to the report.
    """

    files: bool = True
    accounts: bool = True
    emails: bool = True
    phones: bool = True
    ips: bool = True
    devices: bool = True
    file_hashes: bool = True
    location: bool = True
    esp_named: bool = True


PRESENT = Context()
"""The context that claims nothing missing: sentences use only the row's values."""


def context_of(report: TipReport) -> Context:
    """The report's context: which identifiers it named, whether it listed files."""
    keys = report.linkage
    return Context(
        files=bool(report.files),
        accounts=bool(keys.accounts),
        emails=bool(keys.emails),
        phones=bool(keys.phones),
        ips=bool(keys.ips),
        devices=bool(keys.devices),
        file_hashes=bool(keys.file_hashes),
        location=report.location.country_code is not None,
        esp_named=report.esp is not None,
    )


def _count(value: Any) -> int:
    if value is None or (isinstance(value, float) and value != value):
        return 0
    return int(value)


def _number(n: int) -> str:
    return "one" if n == 1 else str(n)


_HISTORY_KINDS = {
    "hist_account_reports_30d": ("accounts", "account", "no account"),
    "hist_account_reports_365d": ("accounts", "account", "no account"),
    "hist_account_escalations_365d": ("accounts", "account", "no account"),
    "hist_email_reports_365d": ("emails", "email address", "no email address"),
    "hist_phone_reports_365d": ("phones", "phone number", "no phone number"),
    "hist_ip_reports_365d": ("ips", "IP address", "no IP address"),
    "hist_device_reports_365d": ("devices", "device", "no device"),
    "hist_file_reports_365d": ("file_hashes", "file", "no file hash"),
}

_FILE_PREDICATES: dict[str, tuple[str, str]] = {
    "files_video": ("is a video", "are videos"),
    "files_not_viewed": (
        "was not viewed by the platform",
        "were not viewed by the platform",
    ),
    "files_public": ("was publicly available", "were publicly available"),
    "files_supplemental": ("is supplemental context", "are supplemental context"),
    "files_hash_known": ("matches a known hash", "match known hashes"),
    "files_hash_novel": ("is new (no hash match)", "are new (no hash match)"),
}
_FILE_PREDICATES |= {
    f"files_tag_{t}": (f"is tagged {w}", f"are tagged {w}")
    for t, w in TAG_WORDS.items()
    if t in FILE_ANNOTATIONS
}

_COUNTS: dict[str, tuple[str, str, str]] = {
    "rp_count": (
        "No reported person is described",
        "One reported person is described",
        "{n} reported persons are described",
    ),
    "rp_ip_events": (
        "No IP capture event was supplied",
        "One IP capture event was supplied",
        "{n} IP capture events were supplied",
    ),
    "rp_device_ids": (
        "No device id was supplied",
        "One device id was supplied",
        "{n} device ids were supplied",
    ),
    "rp_prior_ct_reports": (
        "The platform cites no earlier CyberTipline report on this person",
        "The platform cites one earlier CyberTipline report on this person",
        "The platform cites {n} earlier CyberTipline reports on this person",
    ),
    "victims_count": (
        "No victim is described",
        "One victim is described",
        "{n} victims are described",
    ),
    "recipients_count": (
        "No intended recipient is described",
        "One intended recipient is described",
        "{n} intended recipients are described",
    ),
    "files_count": (
        "No files were listed with the report",
        "One file was reported",
        "{n} files were reported",
    ),
    "bundle_incident_count": (
        "The report stands for a single incident",
        "The report stands for a single incident",
        "The report stands for {n} incidents",
    ),
}

_SOURCE_WORDS = {
    "supplied": "as supplied in the report",
    "ip_derived": "derived from an IP address",
}


def not_applicable(
    feature: str, row: Mapping[str, Any], context: Context = PRESENT
) -> str | None:
    """Why ``feature`` does not apply to this report (e.g. "no files"), or ``None``.

    File features need files; linkage counts need the identifier they count by; the
    country needs a location; an account's disabled flags need an account (when unset).
    """
    files = context.files and _count(row.get("files_count", 1)) > 0
    if feature.startswith("files_") and feature != "files_count" and not files:
        return "no files"
    if feature in _HISTORY_KINDS:
        kind, _, reason = _HISTORY_KINDS[feature]
        if kind == "file_hashes" and not files:
            return "no files"
        return None if getattr(context, kind) else reason
    if feature in ("country", "location_source"):
        known = context.location and row.get("country") not in (None, "unknown")
        return None if known else "no location"
    if feature.startswith("rp_account_") and not context.accounts:
        return None if row.get(feature) else "no account"
    return None


_HASH_RESULTS = ("files_hash_known", "files_hash_novel")


def _no_hash_result(feature: str, row: Mapping[str, Any]) -> str:
    """None of the files known (or new): said of the files checked, or that none was.

    "No file is new (no hash match)" was said of reports whose files no one had checked
    against known hashes (an outside test, session 9): it read as "all matched".
    """
    checked = sum(_count(row.get(name)) for name in _HASH_RESULTS)
    if checked == 0:
        return "No file was checked against known hashes"
    if feature == "files_hash_novel":
        return "No checked file is new: each matched a known hash"
    return "No checked file matches a known hash"


def _files(feature: str, row: Mapping[str, Any]) -> str:
    one, many = _FILE_PREDICATES[feature]
    value, total = _count(row.get(feature)), _count(row.get("files_count"))
    if feature == "files_not_viewed" and value == 0:
        return "The platform viewed every file" if total else "No files were listed"
    if feature in _HASH_RESULTS and value == 0:
        return _no_hash_result(feature, row)
    if value == 0:
        return f"No file {one}"
    if total < value:
        return (
            f"{value} {'file' if value == 1 else 'files'} {one if value == 1 else many}"
        )
    if value == total:
        return f"The one file {one}" if total == 1 else f"All {total} files {many}"
    return f"{value} of {total} files {one if value == 1 else many}"


def _history(feature: str, row: Mapping[str, Any], context: Context) -> str:
    kind, noun, _ = _HISTORY_KINDS[feature]
    if not_applicable(feature, row, context):
        named = "was named" if kind != "file_hashes" else "hash was given"
        what = "escalations" if "escalations" in feature else "reports"
        return f"No {noun} {named}, so no earlier {what} could be linked"
    n = _count(row.get(feature))
    window = "the past 30 days" if feature.endswith("_30d") else "the past year"
    if "escalations" in feature:
        if n == 0:
            return f"No earlier report on this account was escalated in {window}"
        if n == 1:
            return f"One earlier report on this account was escalated in {window}"
        return f"{n} earlier reports on this account were escalated in {window}"
    subject = f"The reported {noun}" if kind != "file_hashes" else "A reported file"
    if n == 0:
        return f"{subject} appeared in no earlier report in {window}"
    reports = "earlier report" if n == 1 else "earlier reports"
    return f"{subject} appeared in {_number(n)} {reports} in {window}"


def _lag(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "The time from the incident to the report is not known"
    days = float(value)
    if days < 1:
        return "Reported within a day of the incident"
    n = round(days)
    return f"Reported {_number(n)} {'day' if n == 1 else 'days'} after the incident"


def _esp(value: Any, context: Context) -> str | None:
    if value == "none":
        return "Reported by a member of the public, not a platform"
    if value is None or (value == "other" and not context.esp_named):
        return "The reporting platform was not named"
    if value == "other":
        return "The reporting platform is not one the model knows by name"
    return None


def _country(value: Any, row: Mapping[str, Any], context: Context) -> str:
    if not_applicable("country", row, context):
        return "No country could be determined for this report"
    how = _SOURCE_WORDS.get(str(row.get("location_source")))
    shown = "a country the model does not name" if value == "other" else value
    return f"Country: {shown}, {how}" if how else f"Country: {shown}"


def _source(value: Any, row: Mapping[str, Any], context: Context) -> str:
    if not_applicable("location_source", row, context) or value not in _SOURCE_WORDS:
        return "No location could be determined for this report"
    if value == "supplied":
        return "The report supplied its location"
    return "The location was derived from an IP address"


def _category(feature: str, row: Mapping[str, Any], context: Context) -> str | None:
    value = row.get(feature)
    if feature == "esp":
        return _esp(value, context)
    if feature == "country":
        return _country(value, row, context)
    if feature == "location_source":
        return _source(value, row, context)
    if feature == "files_worst_class" and value in (None, "none"):
        return "No file has an industry classification"
    if value is None:
        return "The incident type was not recorded"
    return None


def _counted(feature: str, row: Mapping[str, Any]) -> str:
    n = _count(row.get(feature))
    zero, one, many = _COUNTS[feature]
    return (zero if n == 0 else one if n == 1 else many).format(n=n)


def _flag(feature: str, row: Mapping[str, Any], context: Context) -> str:
    spec = FEATURES[feature]
    if not_applicable(feature, row, context):
        return "No account was named, so it cannot have been disabled"
    if isinstance(spec.text, tuple):
        return spec.text[0] if bool(row.get(feature)) else spec.text[1]
    return spec.describe(row)


def describe(feature: str, row: Mapping[str, Any], context: Context = PRESENT) -> str:
    """The sentence (without direction) for ``feature``'s value in this report."""
    if feature in _FILE_PREDICATES:
        if not not_applicable(feature, row, context):
            return _files(feature, row)
        if feature == "files_not_viewed":
            return "No files were listed"
        return f"No file {_FILE_PREDICATES[feature][0]}"
    if feature in _HISTORY_KINDS:
        return _history(feature, row, context)
    if feature in _COUNTS:
        return _counted(feature, row)
    if feature == "incident_lag_days":
        return _lag(row.get(feature))
    spec = FEATURES[feature]
    said = _category(feature, row, context) if spec.kind == "category" else None
    if said is not None:
        return said
    if spec.kind == "bool":
        return _flag(feature, row, context)
    return spec.describe(row)
