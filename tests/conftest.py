"""Shared fixtures; every test gets the marker of the folder it lives in (and may add more:
the issue-18 regressions in tests/service and tests/unit also carry `reliability`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from features.identifiers import IdentifierHasher
from tests.pg_fixtures import pg_database, pg_server
from tests.serving_fixtures import deployed, pinned_store, server
from tests.state_backends import store_opener

__all__ = [
    "deployed",
    "pg_database",
    "pg_server",
    "pinned_store",
    "server",
    "store_opener",
]  # session fixtures for the service and browser tests; PostgreSQL (issue 22)

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TIPSCORE_SHARED_DIR", ROOT.parent / "shared"))
SAMPLES = SHARED / "samples" / "xml"
XSD = SHARED / "reference" / "cybertipline-xml" / "cyber_tipline.xsd"
KINDS = ("unit", "data", "model", "service", "browser", "reliability")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by its folder so folder and marker cannot disagree."""
    for item in items:
        parts = Path(str(item.fspath)).relative_to(ROOT / "tests").parts
        if parts and parts[0] in KINDS:
            item.add_marker(getattr(pytest.mark, parts[0]))


@pytest.fixture
def hasher() -> IdentifierHasher:
    return IdentifierHasher(b"test-secret-key-0123456789abcdef")


@pytest.fixture
def samples() -> Path:
    if not SAMPLES.is_dir():
        pytest.fail(f"shared samples not found at {SAMPLES} (set TIPSCORE_SHARED_DIR)")
    return SAMPLES


@pytest.fixture
def xsd() -> Path:
    if not XSD.is_file():
        pytest.fail(f"shared XSD not found at {XSD} (set TIPSCORE_SHARED_DIR)")
    return XSD


@pytest.fixture(autouse=True)
def _service_settings_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """A test that starts a service of its own leaves the settings it loaded behind.

    The service reads its settings once (``serving.settings.load``, process-wide) and its
    middlewares read that reading. A test that starts another instance (its own state
    folder) would otherwise hand its settings to the session's service (keys: 401s).
    Session fixtures are set up before this one, so what is kept is theirs.
    """
    from serving import settings

    monkeypatch.setattr(settings._Current, "settings", settings._Current.settings)
