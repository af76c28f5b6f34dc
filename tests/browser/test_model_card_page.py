"""The model card page in a real browser (Debian's Chromium, offline): readable by a person.

No raw JSON on the page, every metric under its label with its meaning, the training
windows as dates, the synthetic-data notice, and, once the model is audited, each
reference group's own recall beside the ratios. The session champion is not audited
(the service tests rely on that), so the audited view answers ``/model_card`` with the
real card plus the card's audit summary of an ``audit.json`` built by the audit's own
functions (``tests/unit/test_model_card.py``), through the page's real rendering.
"""

from __future__ import annotations

import json
import re

import httpx
from playwright.sync_api import Browser, Page, Route

from serving.card_audit import audit_card
from tests.browser.conftest import assert_no_axe_violations
from tests.browser.test_analyst_page import OUTPUT
from tests.service.conftest import Deployed, auth
from tests.unit.test_model_card import issue_like_audit

RAW_JSON = re.compile(r'[{\[]\s*"|"\s*:\s*[{\["\d]')


def _open_card(page: Page, server: str, key: str) -> str:
    page.goto(f"{server}/ui/")
    page.fill("#key", key)
    page.press("#key", "Enter")
    page.wait_for_selector("#queue")
    page.click("nav >> text=Model card")
    page.wait_for_selector("#card-metrics")
    return str(page.locator("#view").inner_text())


def _watch(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def test_the_model_card_reads_as_tables_with_the_synthetic_notice(
    browser: Browser, server: str, deployed: Deployed
) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    card = httpx.get(
        f"{server}/model_card", headers=auth(deployed.keys["analyst"])
    ).json()
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors = _watch(page)
    text = _open_card(page, server, deployed.keys["analyst"])
    assert page.locator("#view pre").count() == 0
    assert not RAW_JSON.search(text), RAW_JSON.search(text)
    notice = page.locator("#data-notice").inner_text()
    assert "Synthetic training data" in notice and "generated" in notice
    for metric in card["metrics"]:
        row = page.locator(f"#card-metrics tr[data-key='{metric['key']}']")
        assert row.locator("th").inner_text() == metric["label"]
        assert metric["meaning"] in row.inner_text()
        assert metric["key"] not in text  # no raw MLflow key on the page
    assert "PR-AUC (test)" in text and "P1 and P2 reports" in text
    windows = page.locator("#card-windows tbody tr")
    assert windows.count() == 3
    assert re.search(
        r"Training\s+2023-01-\d\d\s+20\d\d-\d\d-\d\d", windows.first.inner_text()
    )
    assert "not audited" in page.locator("#audit-verdict").inner_text()
    page.screenshot(path=str(OUTPUT / "model_card.png"), full_page=True)
    assert not errors, errors
    page.close()


def test_the_audit_shows_the_reference_groups_own_recall(
    browser: Browser, server: str, deployed: Deployed
) -> None:
    audited = audit_card(issue_like_audit())

    def with_audit(route: Route) -> None:
        card = route.fetch().json()
        card["bias_audit"] |= {"status": "no flags", "flags": 0} | audited
        route.fulfill(
            status=200, content_type="application/json", body=json.dumps(card)
        )

    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors = _watch(page)
    page.route("**/model_card", with_audit)
    text = _open_card(page, server, deployed.keys["analyst"])
    assert "No group flagged" in page.locator("#audit-verdict").inner_text()
    reference = page.locator("#card-references tbody tr").first.inner_text()
    assert "incident type" in reference and "CSAM" in reference
    assert "0.070" in reference and "97.0%" in reference  # its own P1 recall, share
    caution = page.locator(".card-caution").inner_text()
    assert "P1 recall of 0.0700" in caution
    comparison = page.locator("#card-comparisons tbody tr").first.inner_text()
    assert "enticement" in comparison and "P1 recall" in comparison
    assert "0.070 (CSAM)" in comparison and "1.43" in comparison
    assert "0.2100 over P1 and P2 reports" in text
    assert page.locator("#view pre").count() == 0 and not RAW_JSON.search(text)
    page.screenshot(path=str(OUTPUT / "model_card_audited.png"), full_page=True)
    assert_no_axe_violations(page)
    assert not errors, errors
    page.close()
