"""The trained escalation model as one object: feature preparation, booster, calibration, policy.

Why one object: serving must not be able to forget the calibration or use other thresholds
than the ones the model was chosen with. The MLflow pyfunc wraps exactly this object, and
the service unwraps it to score through the same code (plus TreeSHAP on its booster).
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
        raw: np.ndarray = np.asarray(self.booster.predict(matrix, raw_score=True))
        return raw

    def predict(self, flat: Mapping[str, Any] | pd.DataFrame) -> pd.DataFrame:
        """Escalation probability, raw score and suggested priority for flat rows."""
        raw = self.raw_scores(self.matrix(flat))
        probability = self.calibration.apply(raw)
        return pd.DataFrame(
            {
                "escalation_probability": probability,
                "raw_score": raw,
                "suggested_priority": self.policy.priority(probability).astype(
                    np.int64
                ),
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
