"""Builders of valid contracts for tests (synthetic values only)."""

from __future__ import annotations

from datetime import UTC, datetime

from features.schema import TipReport

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
