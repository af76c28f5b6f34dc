"""Fixtures of the browser tests: Debian's Chromium, driven by Playwright, offline."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

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


AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
"""The axe-core rules run: WCAG 2.0 and 2.1, levels A and AA."""


def axe_script() -> str:
    """axe-core's ``axe.min.js``, from the installed PyPI package (no network).

    ``axe-playwright-python`` (a dev dependency, pinned in constraints.txt) ships the
    script; only the file is used, so the check is the same in any Playwright version.
    """
    return (resources.files("axe_playwright_python") / "axe.min.js").read_text("utf-8")


def axe_violations(page: Page, context: str | None = None) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now (or in ``context``).

    Injected with ``page.evaluate`` (not a ``<script>`` tag), so the page's Content
    Security Policy stays as strict as it is in production.
    """
    page.evaluate(axe_script())
    options = {
        "runOnly": {"type": "tag", "values": AXE_TAGS},
        "resultTypes": ["violations"],
    }
    results = page.evaluate(
        "([context, options]) => axe.run(context || document, options)",
        [context, options],
    )
    return list(results["violations"])


def format_violations(violations: list[dict[str, Any]]) -> str:
    """One line per violation and offending node: rule, impact, target, axe's summary."""
    lines = []
    for v in violations:
        for node in v["nodes"]:
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"{v['id']} ({v['impact']}) at {node['target']}: {summary}")
    return "\n".join(lines)


def assert_no_axe_violations(page: Page, context: str | None = None) -> None:
    """Fail with every WCAG 2.1 AA violation axe-core finds on the page (or in ``context``)."""
    violations = axe_violations(page, context)
    assert not violations, "axe-core WCAG 2.1 AA violations:\n" + format_violations(
        violations
    )


@pytest.fixture
def axe() -> Callable[..., None]:
    """``axe(page)`` asserts the page has no axe-core WCAG 2.1 AA violations.

    The same as calling ``assert_no_axe_violations(page)`` (importable from here).
    """
    return assert_no_axe_violations
