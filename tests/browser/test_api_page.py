"""The API page (Swagger UI at ``/``) in Chromium: it talks to the service and nobody else.

Every request the page makes — scripts, styles, images, fonts, the document, "Try it
out" calls — is recorded (and any to another host blocked); the test fails on any host
but the service's. It also checks that Swagger UI rendered the operations, that the
Authorize button takes a key, and that a call made from the page with it succeeds.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route

from tests.service.conftest import Deployed

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = Path(os.environ.get("TIPSCORE_TEST_OUTPUT", ROOT / "test-output")) / "browser"
LOCAL_SCHEMES = {"data", "blob", "about"}
OPERATIONS = [
    "scoring-score",
    "scoring-scoreBatch",
    "scoring-scoreXml",
    "analyst-queue",
    "analyst-getModelCard",
    "admin-reload",
]


class Recorder:
    """Every URL the browser asked for; requests to other hosts are blocked."""

    def __init__(self, server: str) -> None:
        self.host = urlsplit(server).netloc
        self.urls: list[str] = []
        self.console: list[str] = []

    def route(self, route: Route) -> None:
        url = route.request.url
        self.urls.append(url)
        if self.elsewhere(url):
            route.abort()
        else:
            route.continue_()

    def elsewhere(self, url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme not in LOCAL_SCHEMES and parts.netloc != self.host

    def foreign(self) -> list[str]:
        return [url for url in self.urls if self.elsewhere(url)]


@pytest.fixture
def recorded(browser: Browser, server: str) -> Iterator[tuple[Page, Recorder]]:
    context: BrowserContext = browser.new_context(
        viewport={"width": 1280, "height": 900}
    )
    recorder = Recorder(server)
    context.route("**/*", recorder.route)
    context.on("request", lambda request: recorder.urls.append(request.url))
    context.on("websocket", lambda ws: recorder.urls.append(ws.url))
    page = context.new_page()
    page.on("console", lambda m: recorder.console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: recorder.console.append(f"pageerror: {e}"))
    yield page, recorder
    context.close()


def _authorize(page: Page, key: str) -> None:
    page.click("button.btn.authorize")
    dialog = page.locator(".modal-ux")
    dialog.locator("input").first.fill(key)
    dialog.locator("button.authorize").click()
    dialog.locator("button.btn-done").click()


def test_the_api_page_loads_only_from_the_service(
    recorded: tuple[Page, Recorder], server: str, deployed: Deployed
) -> None:
    page, recorder = recorded
    for path in ("/", "/docs"):
        page.goto(f"{server}{path}")
        page.wait_for_selector("#operations-scoring-score", timeout=30_000)
    for operation in OPERATIONS:
        assert page.locator(f"#operations-{operation}").count() == 1, operation
    assert page.locator(".opblock").count() >= 13
    assert page.locator("button.btn.authorize").is_visible()
    _authorize(page, deployed.keys["analyst"])
    card = page.locator("#operations-analyst-getModelCard")
    card.locator(".opblock-summary").click()
    card.locator("button.try-out__btn").click()
    card.locator("button.execute").click()
    status = card.locator(".live-responses-table .response .response-col_status")
    status.first.wait_for(timeout=30_000)
    assert status.first.inner_text().strip().startswith("200")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / "api-page.png"))
    assert f"{server}/docs.json" in recorder.urls
    assert f"{server}/model_card" in recorder.urls  # the call went with the key
    assert recorder.foreign() == [], recorder.foreign()
    blocked = [m for m in recorder.console if "Content Security Policy" in m]
    assert blocked == [], blocked
    assert not [m for m in recorder.console if m.startswith("pageerror")]


def test_the_page_refuses_third_party_loads(server: str) -> None:
    """The page's Content Security Policy names this origin only."""
    import httpx

    r = httpx.get(f"{server}/")
    policy = r.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy
    assert "http" not in policy  # no other host named anywhere
    assert "googletagmanager" not in r.text and "https://" not in r.text
    assert httpx.get(f"{server}/static_content/swagger-ui-bundle.js").status_code == 200
    missing = httpx.get(f"{server}/static_content/index.html")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
