"""The trained escalation model as one object: feature preparation, booster, calibration, policy.

Why one object: serving must not be able to forget the calibration or use other thresholds
than the ones the model was chosen with. ``EscalationModel.scores`` is the one place a
matrix becomes raw score → calibrated probability → priority (and, when asked, exact
TreeSHAP contributions); ``top_reasons`` is the one choice of a report's reasons. The
service, batch rescoring, evaluation, the audit and training all score through them, and
the MLflow pyfunc wraps exactly this object.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from features.extract import model_input
from features.spec import FEATURE_NAMES, FEATURE_SPEC_VERSION

BOOSTER_FILE = "booster.txt"
CALIBRATION_FILE = "calibration.json"
POLICY_FILE = "policy.json"


@dataclass(frozen=True)
class Policy:
    """Priority thresholds on the calibrated probability and what they were chosen for."""

    p1_threshold: float
    p2_threshold: float
    p1_share: float
    p12_share: float
    chosen_on: dict[str, Any] = field(default_factory=dict)

    def priority(self, probability: np.ndarray) -> np.ndarray:
        """Suggested priority 1, 2 or 3 for each probability."""
        levels: np.ndarray = np.where(
            probability >= self.p1_threshold,
            1,
            np.where(probability >= self.p2_threshold, 2, 3),
        )
        return levels


TIE_BREAK = 1e-9


@dataclass(frozen=True)
class Calibration:
    """Monotone map from raw booster score (log-odds) to probability, as knots.

    The knots are the centres of the isotonic regression's blocks; between them the map is
    linear, so it is strictly increasing inside their range. A tie-break of at most 1e-9,
    increasing in the raw score, keeps the booster's full ranking everywhere — a step-shaped
    isotonic map would tie thousands of reports and throw ranking quality (PR-AUC) away.
    """

    x: tuple[float, ...]
    y: tuple[float, ...]

    def apply(self, raw: np.ndarray) -> np.ndarray:
        """Calibrated probabilities."""
        squashed = 1.0 / (1.0 + np.exp(-np.asarray(raw, dtype=np.float64)))
        if not self.x:
            return squashed
        mapped: np.ndarray = np.interp(raw, np.asarray(self.x), np.asarray(self.y))
        return np.clip(mapped + TIE_BREAK * squashed, 0.0, 1.0)


@dataclass(frozen=True)
class TopReasons:
    """Each row's largest |contributions|, largest first: feature positions and values.

    Row ``i`` has ``count[i]`` reasons: ``position[i, :count[i]]`` (indices into
    ``FEATURE_SPEC``) and ``value[i, :count[i]]`` (log-odds); the slots after them are
    unused.
    """

    position: np.ndarray
    value: np.ndarray
    count: np.ndarray

    @property
    def kept(self) -> np.ndarray:
        """Which of the ``top_n`` slots of each row hold a reason."""
        slots: np.ndarray = np.arange(self.position.shape[1]) < self.count[:, None]
        return slots

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Positions and values of row ``i``'s reasons."""
        n = int(self.count[i])
        return self.position[i, :n], self.value[i, :n]


def top_reasons(contributions: np.ndarray, top_n: int) -> TopReasons:
    """The ``top_n`` largest |contributions| of every row: what a response explains.

    ``contributions`` is TreeSHAP's matrix (base value in the last column, ignored).
    Largest magnitude first; ties keep feature order (a stable sort); a row's list ends
    at its first zero contribution, since a feature that did not move the score is no
    reason. The service and batch rescoring both choose with this, so they agree.
    """
    features = np.asarray(contributions)[:, :-1]
    position = np.argsort(-np.abs(features), axis=1, kind="stable")[:, :top_n]
    value = np.take_along_axis(features, position, axis=1)
    leading = np.logical_and.accumulate(value != 0.0, axis=1)  # up to the first zero
    return TopReasons(position, value, leading.sum(axis=1).astype(np.int64))


@dataclass(frozen=True)
class Scores:
    """What the model says about each row of a matrix.

    ``contributions`` (when asked for) are exact TreeSHAP values in log-odds: one column
    per feature plus the base value last; each row adds up to ``raw``. They explain the
    raw score, never the probability (a monotone map of it).
    """

    raw: np.ndarray
    probability: np.ndarray
    priority: np.ndarray
    contributions: np.ndarray | None = None

    def _explained(self) -> np.ndarray:
        if self.contributions is None:
            raise ValueError(
                "scores were computed without contributions (explain=True)"
            )
        return self.contributions

    @property
    def feature_contributions(self) -> np.ndarray:
        """The contributions without the base-value column (one column per feature)."""
        values: np.ndarray = self._explained()[:, :-1]
        return values

    @property
    def base_value(self) -> np.ndarray:
        """TreeSHAP's base value of every row (the booster's expected raw score)."""
        base: np.ndarray = self._explained()[:, -1]
        return base

    def reasons(self, top_n: int) -> TopReasons:
        """Every row's ``top_n`` reasons (``top_reasons`` of the contributions)."""
        return top_reasons(self._explained(), top_n)


SMALL_BATCH = 256
"""Fewer rows than this are scored on the calling thread alone (see ``_threads``)."""


def _threads(matrix: np.ndarray) -> dict[str, Any]:
    """LightGBM's thread count for scoring ``matrix``: one thread for a small one.

    A small matrix gains nothing from OpenMP's thread team, and the team costs: after
    each call its idle threads spin-wait. Measured on the 2-core machines, one report
    scored and explained took 4.3 ms of CPU with the default team against 0.36 ms with
    one thread (the same 0.3 ms of wall time), and that spinning took a core from the
    service's event loop. Large batches keep LightGBM's default (all cores).
    """
    return {"num_threads": 1} if len(matrix) < SMALL_BATCH else {}


@dataclass
class EscalationModel:
    """Flat report columns (with linkage features) in; probability and priority out."""

    booster: lgb.Booster
    calibration: Calibration
    policy: Policy
    feature_names: tuple[str, ...] = FEATURE_NAMES
    spec_version: str = FEATURE_SPEC_VERSION

    def matrix(self, flat: Mapping[str, Any] | pd.DataFrame) -> np.ndarray:
        """The booster's input matrix for flat rows (the one feature path)."""
        return model_input(flat).matrix

    def raw_scores(self, matrix: np.ndarray) -> np.ndarray:
        """Booster log-odds (what TreeSHAP explains)."""
        raw: np.ndarray = np.asarray(
            self.booster.predict(matrix, raw_score=True, **_threads(matrix))
        )
        return raw

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        """Exact TreeSHAP (LightGBM's own): one column per feature, base value last."""
        values: np.ndarray = np.asarray(
            self.booster.predict(matrix, pred_contrib=True, **_threads(matrix))
        )
        return values

    def scores(self, matrix: np.ndarray, explain: bool = False) -> Scores:
        """Raw score, calibrated probability, priority (and TreeSHAP if ``explain``).

        The one way a matrix is scored: the probability always goes through this
        model's calibration and the priority through its own thresholds.
        """
        raw = self.raw_scores(matrix)
        probability = self.calibration.apply(raw)
        return Scores(
            raw=raw,
            probability=probability,
            priority=self.policy.priority(probability).astype(np.int64),
            contributions=self.contributions(matrix) if explain else None,
        )

    def predict(self, flat: Mapping[str, Any] | pd.DataFrame) -> pd.DataFrame:
        """Escalation probability, raw score and suggested priority for flat rows."""
        scores = self.scores(self.matrix(flat))
        return pd.DataFrame(
            {
                "escalation_probability": scores.probability,
                "raw_score": scores.raw,
                "suggested_priority": scores.priority,
            }
        )

    def save(self, folder: Path) -> None:
        """Write the booster, calibration and policy as plain files."""
        folder.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(str(folder / BOOSTER_FILE))
        (folder / CALIBRATION_FILE).write_text(
            json.dumps({"x": list(self.calibration.x), "y": list(self.calibration.y)})
        )
        policy = {**self.policy.__dict__, "feature_names": list(self.feature_names)}
        policy["spec_version"] = self.spec_version
        (folder / POLICY_FILE).write_text(json.dumps(policy, indent=2))

    @classmethod
    def load(cls, folder: Path) -> EscalationModel:
        """Read a model written by ``save``; refuses one built for another feature spec."""
        policy = json.loads((folder / POLICY_FILE).read_text())
        names = tuple(policy.pop("feature_names"))
        version = policy.pop("spec_version")
        if names != FEATURE_NAMES:
            raise ValueError(
                f"model was trained on feature spec {version} with other features; "
                f"this code has spec {FEATURE_SPEC_VERSION}"
            )
        calibration = json.loads((folder / CALIBRATION_FILE).read_text())
        return cls(
            booster=lgb.Booster(model_file=str(folder / BOOSTER_FILE)),
            calibration=Calibration(tuple(calibration["x"]), tuple(calibration["y"])),
            policy=Policy(**policy),
            feature_names=names,
            spec_version=version,
        )
