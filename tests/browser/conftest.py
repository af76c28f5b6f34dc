"""Fixtures of the browser tests."""

from __future__ import annotations

import pytest

from tests.serving_fixtures import Deployed


@pytest.fixture(autouse=True)
def _pin_champion_store(pinned_store: Deployed) -> None:
    """Every test here talks to the session champion's store (tests/serving_fixtures.py)."""
