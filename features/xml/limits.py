"""The contract's per-report limits, checked on what an XML submission names.

Why here: the XML intake collects raw identifiers in a ``RawBag`` and hashes them without
validating a ``RawIdentifiers`` (it is built with ``model_construct``), so the JSON
contract's list limits (``features.schema``) would not be checked on them. The same limits
apply to both intakes; they are checked on distinct values (a document repeating one IP
address in 300 capture events names one IP address), before anything is hashed.
"""

from __future__ import annotations

from collections.abc import Sized

from features.report_limits import ReportLimits
from features.xml.parties import RawBag
from features.xml.safe import XmlIntakeError

WORDS = {
    "accounts": "ESP user ids",
    "screen_names": "screen names",
    "emails": "email addresses",
    "phones": "phone numbers",
    "ips": "IP addresses",
    "devices": "device ids",
    "file_hashes": "file hashes",
}


def check_limits(bag: RawBag, files: Sized, limits: ReportLimits | None = None) -> None:
    """Refuse a submission naming more files or identifiers than one report may hold.

    ``limits``: those in force (the contract's by default, ``features.report_limits``).

    Raises:
        XmlIntakeError: ``too_many_files`` or ``too_many_identifiers``, naming the kind,
            the count and the limit.
    """
    limits = limits or ReportLimits()
    if len(files) > limits.files:
        raise XmlIntakeError(
            "too_many_files",
            "/fileDetails",
            f"files: at most {limits.files} <fileDetails> per report, got {len(files)}",
        )
    for kind, words in WORDS.items():
        limit = limits.of(kind)
        distinct = len(set(getattr(bag, kind)))
        if distinct > limit:
            raise XmlIntakeError(
                "too_many_identifiers",
                "/report",
                f"identifiers.{kind}: at most {limit} distinct {words} per report, "
                f"got {distinct}",
            )
