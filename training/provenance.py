"""Where a run's history came from: synthetic or not, its dataset card, its windows' dates.

Why: a model card has to say plainly when the model never saw a real report. The
generator writes a dataset card beside every history (``PATH.card.md`` beside a file,
``card.md`` inside a folder of parts); a history with a ``p_true`` column is synthetic by
the training-data format (only the generator knows the true probability). Training logs
what it found as the tags ``synthetic`` and ``synthetic_evidence`` and the artifact
``data_provenance.json``, so the model card can read it from the run.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from training import registry
from training.splits import Split

PROVENANCE_ARTIFACT = "data_provenance.json"
CARD_ARTIFACT = "dataset_card.md"
SYNTHETIC_HEADING = "synthetic"
_BULLET = re.compile(r"^- \*\*(?P<key>[^*]+)\*\*: (?P<value>.*)$")


@dataclass(frozen=True)
class Provenance:
    """What training found about its history (logged as tags and a JSON artifact)."""

    synthetic: bool
    evidence: str
    card_path: str | None = None
    card_title: str | None = None
    card_summary: dict[str, str] = field(default_factory=dict)

    def tags(self) -> dict[str, str]:
        """The run tags: ``synthetic`` (``true``/``false``) and why."""
        return {
            "synthetic": "true" if self.synthetic else "false",
            "synthetic_evidence": self.evidence,
        }

    def as_dict(self) -> dict[str, Any]:
        """The ``data_provenance.json`` artifact."""
        return asdict(self)


def card_path(history: Path) -> Path:
    """Where the generator writes the dataset card of ``history`` (file or folder)."""
    return history / "card.md" if history.is_dir() else history.with_suffix(".card.md")


def read_card(text: str) -> tuple[str, dict[str, str]]:
    """The card's title (its first heading) and its summary bullets (``- **key**: value``)."""
    lines = text.splitlines()
    title = next((ln.lstrip("# ").strip() for ln in lines if ln.startswith("#")), "")
    summary = {}
    for line in lines:
        match = _BULLET.match(line.strip())
        if match:
            summary[match["key"].strip()] = match["value"].strip()
    return title, summary


def provenance(history: Path, card_text: str | None, has_p_true: bool) -> Provenance:
    """Synthetic or not, from the dataset card's title, else from ``p_true``."""
    if card_text is not None:
        title, summary = read_card(card_text)
        if SYNTHETIC_HEADING in title.lower():
            path = str(card_path(history))
            evidence = f"dataset card {card_path(history).name}: {title}"
            return Provenance(True, evidence, path, title, summary)
    if has_p_true:
        return Provenance(
            True, "the history has a p_true column (only generated histories have one)"
        )
    return Provenance(
        False, "no dataset card marks the history synthetic and it has no p_true column"
    )


def log_provenance(history: Path, has_p_true: bool) -> Provenance:
    """Log the tags, ``data_provenance.json`` and the dataset card itself (if found)."""
    card = card_path(history)
    text = card.read_text(errors="replace") if card.is_file() else None
    found = provenance(history, text, has_p_true)
    registry.set_tags(found.tags())
    registry.log_dict(found.as_dict(), PROVENANCE_ARTIFACT)
    if text is not None:
        registry.log_text(text, CARD_ARTIFACT)
    return found


def window_dates(micros: np.ndarray, split: Split) -> dict[str, str]:
    """``train_window`` and ``valid_window`` tags (``first .. last`` receipt, UTC).

    A window with no rows here (the Dask engine keeps the training window on the
    cluster) gets no tag; ``test_window`` is logged by training as it always was.
    """
    out = {}
    for name in ("train", "valid"):
        rows = getattr(split, name)
        if rows.stop > rows.start:
            first, last = (
                np.datetime64(int(micros[i]), "us").astype("datetime64[s]")
                for i in (rows.start, rows.stop - 1)
            )
            out[f"{name}_window"] = f"{first}Z .. {last}Z"
    return out
