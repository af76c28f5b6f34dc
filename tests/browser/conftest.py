"""Fixtures of the browser tests: Debian's Chromium, driven by Playwright, offline."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.serving_fixtures import Deployed

CHROMIUM = Path(os.environ.get("TIPSCORE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(autouse=True)
def _pin_champion_store(pinned_store: Deployed) -> None:
    """Every test here talks to the session champion's store (tests/serving_fixtures.py)."""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless (never `playwright install`: it downloads a browser)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found: `make test` installs Debian's chromium "
            "(apt-get install -y chromium); never `playwright install`"
        )
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()
