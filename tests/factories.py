"""Builders of valid contracts for tests (synthetic values only)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from features.extract import build_features
from features.flat import flat_columns
from features.linkage import no_history
from features.schema import TipReport
from serving.schemas import Explanation, ScoreResponse, Thresholds, WarningOut

RECEIVED = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def make_report(**overrides: object) -> TipReport:
    """A valid minimal contract, with overrides."""
    base: dict[str, object] = {
        "report_id": "r-1",
        "incident_type": "Child Sex Trafficking",
        "incident_at": "2024-05-30T08:00:00Z",
        "received_at": RECEIVED,
        "esp": "Discord",
    }
    return TipReport.model_validate({**base, **overrides})


def report_columns(
    reports: Sequence[TipReport], history: Mapping[str, np.ndarray] | None = None
) -> dict[str, Any]:
    """Flat columns of contracts plus their linkage features (None: no history known),
    as the service hands them to ``features.extract.model_input``."""
    columns: dict[str, Any] = dict(flat_columns(reports))
    columns |= no_history(len(reports)) if history is None else dict(history)
    return columns


def reports_to_frame(
    reports: Sequence[TipReport], history: Mapping[str, np.ndarray] | None = None
) -> pd.DataFrame:
    """The typed feature frame of contracts, for tests that read feature values by name."""
    return build_features(report_columns(reports, history))


LIMITS = Thresholds(p1=0.05, p2=0.004, p1_share=0.005, p12_share=0.05, policy="test")


def stored_response(
    report_id: str, priority: int, warnings: Sequence[WarningOut] = ()
) -> ScoreResponse:
    """A suggestion as the service sends it, for tests that keep or export suggestions."""
    return ScoreResponse(
        report_id=report_id,
        escalation_probability={1: 0.2, 2: 0.01, 3: 0.001}[priority],
        suggested_priority=priority,
        thresholds=LIMITS,
        model_name="tip-escalation",
        model_version="7",
        explanation=Explanation(base_value=-8, raw_score=-5, note="", contributions=[]),
        warnings=list(warnings),
    )
