"""What an intake system knows beside the XML, as the raw and multipart forms carry it.

The JSON form of ``/score_xml`` (``XmlSubmission``) has the facts as fields. The raw form
(the ``<report>`` as the body) has them as query parameters or ``X-Tipscore-*`` headers;
the multipart form as form fields (or the same parameters and headers). ``Facts`` gathers
them from any of these places under the JSON form's names, so all three forms become one
``XmlSubmission`` and are validated, scored and refused alike. A fact given twice with
different values, a parameter nobody knows, a malformed hash match: ``FormError`` (400).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from serving.schemas import WarningOut

FACTS: dict[str, str] = {
    "esp": "x-tipscore-esp",
    "report_id": "x-tipscore-report-id",
    "received_at": "x-tipscore-received-at",
    "reporter_type": "x-tipscore-reporter-type",
    "hash_matches": "x-tipscore-hash-matches",
}
"""Each fact's name (query parameter, form field, ``XmlSubmission`` field) → its header."""
ALIASES = {"hash_match": "hash_matches"}
"""Other accepted names (``hash_match`` as in ``tipscore parse --hash-match``)."""
REPEATABLE = frozenset({"hash_matches"})
HASH_MATCH_FORMAT = "FILE_ID=known|novel|unknown, comma-separated or repeated"


class FormError(Exception):
    """A raw or multipart request that cannot become a submission: status, code, message."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self) -> dict[str, str]:
        """The documented error answer ``{"error": code, "message": ...}``."""
        return {"error": self.code, "message": self.message}


class Facts:
    """Facts collected from query parameters, headers and form fields, by fact name."""

    def __init__(self) -> None:
        self._values: dict[str, list[tuple[str, str]]] = {}

    def add(self, name: str, value: str, where: str) -> None:
        """Record one value; ``where`` names its place for messages."""
        fact = ALIASES.get(name, name)
        if fact not in FACTS:
            known = ", ".join(sorted(FACTS))
            raise FormError(
                "unknown_parameter",
                f"{where} {name[:60]!r} is not a fact of /score_xml; expected one of: "
                f"{known}",
            )
        self._values.setdefault(fact, []).append((value, where))

    def add_headers(self, headers: Iterable[tuple[bytes, bytes]]) -> None:
        """Record the ``X-Tipscore-*`` headers among ``headers`` (others are not facts)."""
        by_header = {header: fact for fact, header in FACTS.items()}
        for raw_name, raw_value in headers:
            fact = by_header.get(raw_name.decode("latin-1").lower())
            if fact is not None:
                self.add(
                    fact, _header_text(raw_value, FACTS[fact]), f"header {FACTS[fact]}"
                )

    def fields(self) -> dict[str, Any]:
        """The facts as ``XmlSubmission`` fields (absent ones left out)."""
        out: dict[str, Any] = {}
        for fact, values in self._values.items():
            if fact in REPEATABLE:
                out[fact] = _hash_matches(values)
                continue
            distinct = {value for value, _ in values}
            if len(distinct) > 1:
                places = ", ".join(where for _, where in values)
                raise FormError(
                    "conflicting_facts",
                    f"{fact} is given {len(values)} times with different values "
                    f"({places}); give it once",
                )
            out[fact] = values[0][0] or None
        return {k: v for k, v in out.items() if v is not None}


def _hash_matches(values: list[tuple[str, str]]) -> dict[str, str]:
    matches: dict[str, str] = {}
    for value, where in values:
        for pair in filter(None, (p.strip() for p in value.split(","))):
            file_id, sep, result = pair.rpartition("=")
            if not sep or not file_id.strip() or not result.strip():
                raise FormError(
                    "invalid_parameter",
                    f"{where}: expected {HASH_MATCH_FORMAT}; got {pair[:80]!r}",
                )
            file_id, result = file_id.strip(), result.strip()
            if matches.get(file_id, result) != result:
                raise FormError(
                    "conflicting_facts",
                    f"hash_matches gives file id {file_id[:80]!r} two results",
                )
            matches[file_id] = result
    return matches


def received_at_warning(arrived: datetime) -> WarningOut:
    """Say which receipt time was used when intake gave none (it moves time features)."""
    return WarningOut(
        code="received_at_defaulted",
        text=f"received_at was not given; the time the service received the report, "
        f"{arrived.isoformat()}, was used as the receipt time",
    )


def _header_text(raw: bytes, header: str) -> str:
    """A header's value as UTF-8, as query parameters and form fields are read.

    HTTP carries header bytes as they are; clients send non-ASCII names (an ESP called
    "Café") as UTF-8. Reading them as Latin-1 would garble the ESP name, which scopes how
    account ids are hashed, and break linkage without a word: bad bytes are refused.
    """
    try:
        return raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise FormError(
            "invalid_parameter", f"header {header}: the value is not UTF-8 text"
        ) from None
