"""The reporting platform (``esp``) as a closed vocabulary: known names, or ``other``.

Why: the ESP's name arrives as free text and was stored as sent — in the suggestions, the
queue, the exports and the model card's override rates — so any value at all (a phone
number, an email address, a megabyte of text) could reach disk through it. What is kept is
now one of a closed list: the platforms the model knows by name (``ESP_CATEGORIES`` and
their spellings in ``ESP_ALIASES``), plus the ESPs an operator registered (the service's
``TIPSCORE_ESP_NAMES``), each in its one spelling; any other name is kept as ``other``.

The raw name still scopes account hashing (``features.identifiers.hash_identifiers``) on
arrival, in memory, exactly as before — so linkage does not change — and is dropped after.
"""

from __future__ import annotations

from collections.abc import Iterable

from features.schema import TipReport
from features.vocab import ESP_ALIASES, ESP_CATEGORIES

OTHER = "other"
"""What an ESP name outside the vocabulary is kept as (the model's category for it)."""


def platform_key(name: str) -> str:
    """A name as the vocabulary compares it: case-folded letters and digits only."""
    return "".join(c for c in name.casefold() if c.isalnum())


class Platforms:
    """The closed vocabulary of ESP names, with any names an operator registered.

    Args:
        registered: ESP names to keep as written (beside the model's own); a name that
            is a spelling of one the model knows is kept as the model's name.
    """

    def __init__(self, registered: Iterable[str] = ()) -> None:
        names = {platform_key(n): n.strip() for n in registered if platform_key(n)}
        names |= {
            platform_key(n): n for n in ESP_CATEGORIES if n not in ("other", "none")
        }
        names |= ESP_ALIASES
        self._names = names

    def canonical(self, name: str | None) -> str | None:
        """The name kept for ``name``: its one spelling in the vocabulary, else ``other``."""
        if name is None:
            return None
        return self._names.get(platform_key(name), OTHER)

    def filter_value(self, name: str) -> str:
        """A queue filter's ESP: its kept spelling when known, else as typed."""
        return self._names.get(platform_key(name), name)

    def closed(self, report: TipReport) -> TipReport:
        """The report with its ESP name as kept (the same object when nothing changes)."""
        esp = self.canonical(report.esp)
        if esp == report.esp:
            return report
        return report.model_copy(update={"esp": esp})
