"""A challenger in the shadows: every report scored by a second model, its answer kept.

When the registry has a ``challenger`` alias on the served model's name (or
``TIPSCORE_CHALLENGER_URI`` names a model), the service scores each report with it too,
on the very matrix the champion scored (no second feature pass, no explanation), and
keeps its probability and priority in the ``shadow`` table in the scored batch's own
transaction. Its answer is never returned. ``tipscore compare`` and promotion's
``shadow`` gate read what was kept.

A challenger is optional: one that is missing, fails to load, or cannot read the
champion's features turns shadow scoring off, says why (``about()``, shown on the model
card), and leaves serving and ``/readyz`` as they were. An error while shadow scoring a
batch is logged and that batch goes unshadowed; the champion's answers are unaffected.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from serving.model_holder import ModelHolder, Served
from serving.state.shadow import ShadowAnswer
from training.registry import CHALLENGER, UNREGISTERED, RegistryError, resolve_model

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShadowScores:
    """The challenger's probability and priority for each report of a batch."""

    challenger: Served
    probability: np.ndarray
    priority: np.ndarray


def default_uri(champion: Served | None) -> str | None:
    """``models:/NAME@challenger`` for a registered champion, else None."""
    if champion is None or champion.version == UNREGISTERED:
        return None
    return f"models:/{champion.name}@{CHALLENGER}"


class ShadowHolder:
    """The challenger, if any, and why there is none; reloaded with the champion."""

    def __init__(self, setting: str | None) -> None:
        self.setting = setting
        self.uri: str | None = None
        self.current: Served | None = None
        self.reason: str | None = "not loaded yet"

    def load(self, champion: Served | None) -> Served | None:
        """Load the challenger for ``champion``; never raises (off, with a reason)."""
        self.current, self.uri = None, self._uri(champion)
        if self.uri is None:
            return self._off(self._no_uri_reason(champion), logging.INFO)
        try:
            resolve_model(self.uri)
        except RegistryError as exc:
            return self._off(f"no challenger at {self.uri}: {exc}", logging.INFO)
        try:
            loaded = ModelHolder(self.uri).load()
        except RegistryError as exc:
            return self._off(f"challenger not loaded: {exc}", logging.ERROR)
        why = _unusable(loaded, champion)
        if why is not None:
            return self._off(why, logging.ERROR)
        self.current, self.reason = loaded, None
        logger.info("shadow scoring with %s version %s", loaded.name, loaded.version)
        return loaded

    def _uri(self, champion: Served | None) -> str | None:
        if self.setting is not None:
            return self.setting.strip() or None
        return default_uri(champion)

    def _no_uri_reason(self, champion: Served | None) -> str:
        if self.setting is not None:
            return "turned off (TIPSCORE_CHALLENGER_URI is empty)"
        if champion is None:
            return "no champion is served"
        return (
            "the served model is not a registry version, so it has no "
            f"`{CHALLENGER}` alias to look for (set TIPSCORE_CHALLENGER_URI)"
        )

    def _off(self, reason: str, level: int) -> Served | None:
        self.reason = reason
        logger.log(level, "shadow scoring off: %s", reason)
        return None

    def about(self) -> dict[str, Any]:
        """Whether shadow scoring is on, with what, or why not (the model card's field)."""
        current = self.current
        return {
            "active": current is not None,
            "uri": self.uri,
            "model_name": current.name if current else None,
            "model_version": current.version if current else None,
            "run_id": current.run_id if current else None,
            "reason": self.reason,
        }

    def scores(self, matrix: np.ndarray) -> ShadowScores | None:
        """The challenger's answers for ``matrix`` (None: off, or it failed: logged)."""
        challenger = self.current
        if challenger is None:
            return None
        try:
            scores = challenger.model.scores(matrix, explain=False)
        except Exception as exc:  # the champion's answer must not depend on it
            logger.error(
                "shadow scoring failed (%s): %s",
                type(exc).__name__,
                " ".join(str(exc).split())[:500],
            )
            return None
        return ShadowScores(challenger, scores.probability, scores.priority)


def _unusable(challenger: Served, champion: Served | None) -> str | None:
    """Why the challenger cannot shadow ``champion`` (None: it can)."""
    if champion is None:
        return "no champion is served"
    same_run = challenger.run_id is not None and challenger.run_id == champion.run_id
    if same_run or (challenger.name, challenger.version) == (
        champion.name,
        champion.version,
    ):
        return (
            f"the challenger ({challenger.name} version {challenger.version}) is the "
            f"champion's own model (version {champion.version}): nothing to compare; "
            "point the alias at a new run, or remove it (`tipscore challenger --clear`)"
        )
    if challenger.model.feature_names != champion.model.feature_names:
        return (
            f"the challenger ({challenger.name} version {challenger.version}) reads "
            "other features than the champion, so it cannot score the champion's matrix"
        )
    return None


def answers(
    shadow: ShadowScores,
    champion: Served,
    report_ids: Sequence[str],
    request_ids: Sequence[str],
) -> list[ShadowAnswer]:
    """The rows to keep: one per report, beside the champion's suggestion."""
    challenger = shadow.challenger
    return [
        ShadowAnswer(
            report_id=report_id,
            request_id=request_id,
            champion_version=f"{champion.name}/{champion.version}",
            challenger_version=f"{challenger.name}/{challenger.version}",
            challenger_run_id=challenger.run_id,
            probability=float(shadow.probability[i]),
            priority=int(shadow.priority[i]),
        )
        for i, (report_id, request_id) in enumerate(
            zip(report_ids, request_ids, strict=True)
        )
    ]
