"""Baselines every run is compared with, on the same windows.

- ``rules_score``: today's manual triage, as a ranking: the ESP's own escalation flag first,
  then contact offences (enticement, trafficking, molestation, tourism), then a stated minor.
- ``fit_logistic``: a logistic regression on the same features (one-hot categoricals,
  log-scaled counts) — the simplest learned model.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from features.spec import FEATURE_SPEC

CONTACT_TYPES = (
    "Online Enticement of Children for Sexual Acts",
    "Child Sex Trafficking",
    "Child Sexual Molestation",
    "Child Sex Tourism",
)


def rules_score(flat: Mapping[str, np.ndarray] | pd.DataFrame) -> np.ndarray:
    """Rank by the rules analysts apply by hand (higher = look first)."""
    escalated = np.asarray(flat["esp_escalated"], dtype=bool)
    contact = np.isin(np.asarray(flat["incident_type"], dtype=object), CONTACT_TYPES)
    minor = np.asarray(flat["victims_minor_stated"], dtype=bool) | np.asarray(
        flat["recipients_minor_stated"], dtype=bool
    )
    score: np.ndarray = 4.0 * escalated + 2.0 * contact + 1.0 * minor
    return score


def _log1p(x: pd.DataFrame) -> np.ndarray:
    result: np.ndarray = np.log1p(np.clip(np.asarray(x, dtype=np.float64), 0.0, None))
    return result


def fit_logistic(frame: pd.DataFrame, labels: np.ndarray, seed: int) -> Pipeline:
    """Logistic regression on the model frame (categoricals one-hot, counts log-scaled)."""
    categorical = [f.name for f in FEATURE_SPEC if f.kind == "category"]
    numeric = [f.name for f in FEATURE_SPEC if f.kind in ("int", "float")]
    flags = [f.name for f in FEATURE_SPEC if f.kind == "bool"]
    prep = ColumnTransformer(
        [
            (
                "cat",
                OneHotEncoder(handle_unknown="ignore", min_frequency=50),
                categorical,
            ),
            (
                "num",
                Pipeline(
                    [("log", FunctionTransformer(_log1p)), ("scale", StandardScaler())]
                ),
                numeric,
            ),
            ("flag", "passthrough", flags),
        ]
    )
    model = Pipeline(
        [
            ("prep", prep),
            ("clf", LogisticRegression(max_iter=300, C=1.0, random_state=seed)),
        ]
    )
    model.fit(frame, labels.astype(int))
    return model
