"""The service in-process (``to_asgi()`` with a test client) and request helpers.

The champion (``deployed``) and the real server (``server``) are in
``tests/serving_fixtures.py``, shared with the browser tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.serving_fixtures import Deployed

__all__ = ["Deployed", "auth", "submission"]


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="session")
def client(deployed: Deployed) -> Iterator[TestClient]:
    from serving.service import TipScoring

    with TestClient(TipScoring.to_asgi()) as test_client:
        yield test_client


def submission(report_id: str, **overrides: Any) -> dict[str, Any]:
    """A JSON report as an intake system would send it (synthetic identifiers)."""
    base: dict[str, Any] = {
        "report_id": report_id,
        "incident_type": "Online Enticement of Children for Sexual Acts",
        "incident_at": "2024-06-01T10:00:00Z",
        "received_at": "2024-06-02T10:00:00Z",
        "esp": "Snapchat",
        "identifiers": {
            "accounts": [f"user-{report_id}"],
            "emails": [f"{report_id}@example.org"],
            "ips": ["203.0.113.9"],
        },
        "reported_person": {"count": 1, "esp_user_id": True, "email": True},
        "location": {"country_code": "US", "source": "supplied"},
        "files": [
            {"media_kind": "image", "viewed_by_esp": True},
            {"media_kind": "video"},
        ],
    }
    return {**base, **overrides}


@pytest.fixture(autouse=True)
def _pin_champion_store(pinned_store: Deployed) -> None:
    """Every test here talks to the session champion's store (tests/serving_fixtures.py)."""
