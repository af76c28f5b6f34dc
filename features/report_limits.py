"""The per-report limits in force: the contract's ceilings, or lower ones an operator sets.

The contract (``features.schema``) fixes the most files, identifiers of one kind and file
hashes one report may hold (``MAX_FILES``, ``MAX_IDENTIFIERS``, ``MAX_FILE_HASHES``): they
bound the work of one report whatever the configuration says, and the schema's
``maxItems`` carry them. A service may hold its intake to lower limits
(``TIPSCORE_MAX_FILES_PER_REPORT`` and its siblings, ``serving.settings``); this value
carries them to both intakes (JSON: ``serving.json_bodies``; XML: ``features.xml.limits``)
and to the OpenAPI document. Pure: the caller reads the settings and hands them in.
"""

from __future__ import annotations

from dataclasses import dataclass

from features.schema import MAX_FILE_HASHES, MAX_FILES, MAX_IDENTIFIERS


@dataclass(frozen=True)
class ReportLimits:
    """Most files, identifiers of one kind, and file hashes in one report."""

    files: int = MAX_FILES
    identifiers: int = MAX_IDENTIFIERS
    file_hashes: int = MAX_FILE_HASHES

    def __post_init__(self) -> None:
        ceilings = (MAX_FILES, MAX_IDENTIFIERS, MAX_FILE_HASHES)
        for value, ceiling in zip(self.values(), ceilings, strict=True):
            if not 1 <= value <= ceiling:
                raise ValueError(f"a per-report limit is 1 to {ceiling}, got {value}")

    def values(self) -> tuple[int, int, int]:
        """Files, identifiers of one kind, file hashes."""
        return self.files, self.identifiers, self.file_hashes

    def of(self, kind: str) -> int:
        """The limit of one identifier kind (``file_hashes``, or any other kind)."""
        return self.file_hashes if kind == "file_hashes" else self.identifiers

    @property
    def lowered(self) -> bool:
        """Whether any limit is below the contract's (else the schema checks them all)."""
        return self != ReportLimits()
