"""The decision form in a real browser: only valid combinations, the API's own words, the
keyboard alone, and no axe-core WCAG 2.1 AA violations on the queue, report and model card.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import assert_no_axe_violations
from tests.service.conftest import Deployed, auth, submission

ESP = "DecisionFormESP"
KINDS = [
    "Child Pornography (possession, manufacture, and distribution)",
    "Child Pornography (possession, manufacture, and distribution)",
    "Child Pornography (possession, manufacture, and distribution)",
]


@pytest.fixture(scope="module")
def scored(server: str, deployed: Deployed) -> list[dict[str, Any]]:
    out = []
    for i, kind in enumerate(KINDS):
        body = submission(f"form-{i}", esp=ESP, incident_type=kind)
        r = httpx.post(
            f"{server}/score",
            json={"report": body},
            headers=auth(deployed.keys["intake"]),
        )
        r.raise_for_status()
        out.append(r.json())
    return out


def _page(browser: Browser) -> tuple[Page, list[str]]:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page, errors


def _sign_in(page: Page, server: str, key: str) -> None:
    page.goto(f"{server}/ui/")
    page.fill("#key", key)
    page.press("#key", "Enter")
    page.wait_for_selector("#queue")


def _open(page: Page, report: dict[str, Any]) -> None:
    url = page.url.split("#")[0] + f"#/report/{report['report_id']}"
    if page.url == url:
        page.reload()  # the same hash: no hashchange, so load it afresh
    else:
        page.goto(url)
    page.wait_for_selector("#decision-form")


def _not_p1(scored: list[dict[str, Any]]) -> dict[str, Any]:
    return next(s for s in scored if s["suggested_priority"] != 1)


def test_the_form_starts_without_a_priority_and_offers_only_valid_combinations(
    browser: Browser, server: str, deployed: Deployed, scored: list[dict[str, Any]]
) -> None:
    page, errors = _page(browser)
    _sign_in(page, server, deployed.keys["analyst"])
    _open(page, _not_p1(scored))
    assert page.locator("#d-priority").is_disabled()
    page.check("input[name=action][value=override]")
    assert page.locator("#d-priority").input_value() == ""  # none preselected
    page.select_option("#d-designation", "informational")
    page.select_option("#d-priority", "1")
    assert page.locator("#d-designation").input_value() == "referral"
    informational = page.locator("#d-designation option[value=informational]")
    assert informational.is_disabled()
    assert "always a referral" in page.locator("#d-designation-hint").inner_text()
    # an override with no priority chosen is not sent
    page.select_option("#d-priority", "")
    page.click("text=Record decision")
    assert page.locator("#decision-status").inner_text() == ""
    assert page.locator("#d-priority:invalid").count() == 1
    assert not errors, errors
    page.close()


def test_a_refused_contradiction_shows_the_apis_message(
    browser: Browser, server: str, deployed: Deployed, scored: list[dict[str, Any]]
) -> None:
    page, errors = _page(browser)
    _sign_in(page, server, deployed.keys["analyst"])
    target = _not_p1(scored)
    _open(page, target)
    # a note holding a phone number: the API's own reason, not "1 validation error"
    page.fill("#d-note", "called the reporter on +1 202 555 0147 today")
    page.click("text=Record decision")
    page.wait_for_selector("#decision-error")
    shown = page.locator("#decision-error").inner_text()
    assert "looks like it holds a phone number" in shown
    assert "raw identifiers" in shown and "validation error" not in shown
    note = page.locator("#d-note")
    assert note.get_attribute("aria-invalid") == "true"
    assert note.get_attribute("aria-describedby") == "decision-error"
    assert note.evaluate("e => e === document.activeElement")
    # a contradiction the form would not offer, forced past it: the API refuses it
    page.fill("#d-note", "")
    page.check("input[name=action][value=override]")
    page.select_option("#d-priority", "1")
    page.evaluate(
        "() => { const s = document.getElementById('d-designation');"
        " for (const o of s.options) o.disabled = false; s.value = 'informational'; }"
    )
    page.click("text=Record decision")
    page.wait_for_function(
        "() => document.getElementById('decision-error')"
        ".textContent.includes('priority-1')"
    )
    shown = page.locator("#decision-error").inner_text()
    assert "designation: a priority-1 decision must be 'referral'" in shown
    designation = page.locator("#d-designation")
    assert designation.get_attribute("aria-invalid") == "true"
    assert designation.get_attribute("aria-describedby") == (
        "d-designation-hint decision-error"
    )
    assert page.locator("#d-note").get_attribute("aria-invalid") is None
    view = httpx.post(
        f"{server}/report",
        json={"report": {"report_id": target["report_id"]}},
        headers=auth(deployed.keys["analyst"]),
    ).json()
    assert view["decisions"] == []  # nothing recorded
    assert view["designations"]["1"] == ["referral"]
    assert not errors, errors
    page.close()


def _tab_to(page: Page, selector: str, limit: int = 80) -> None:
    target = page.locator(selector)
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("e => e === document.activeElement"):
            return
    pytest.fail(f"{selector} cannot be reached with Tab")


def test_queue_report_and_decision_with_the_keyboard_alone(
    browser: Browser, server: str, deployed: Deployed, scored: list[dict[str, Any]]
) -> None:
    page, errors = _page(browser)
    _sign_in(page, server, deployed.keys["analyst"])
    _tab_to(page, "#f-esp")
    page.keyboard.type(ESP)
    page.keyboard.press("Enter")  # submits the filters
    page.wait_for_function(
        "(esp) => { const rows = [...document.querySelectorAll("
        "'#queue tbody tr[data-report]')];"
        " return rows.length === 3 && rows.every(r => r.textContent.includes(esp)); }",
        arg=ESP,
    )
    target = scored[-1]
    _tab_to(page, f"#queue a[href='#/report/{target['report_id']}']")
    page.keyboard.press("Enter")
    page.wait_for_selector("#decision-form")
    new = 3 if target["suggested_priority"] != 3 else 2
    _tab_to(page, "input[name=action][value=accept]")
    page.keyboard.press("ArrowDown")  # the radio group: to "Set another priority"
    assert page.locator("input[name=action][value=override]").is_checked()
    _tab_to(page, "#d-priority", 3)
    page.keyboard.press("ArrowDown")  # a closed select changes with the arrow keys
    if page.locator("#d-priority").input_value() != str(new):
        page.keyboard.press("ArrowDown")
    assert page.locator("#d-priority").input_value() == str(new)
    _tab_to(page, "#d-reason", 4)
    _tab_to(page, "#decision-form button[type=submit]", 4)
    page.keyboard.press("Enter")
    page.wait_for_selector(".notice")
    assert f"priority {new} (override)" in page.locator(".notice").inner_text()
    assert not errors, errors
    page.close()


def test_the_analyst_pages_have_no_axe_violations(
    browser: Browser, server: str, deployed: Deployed, scored: list[dict[str, Any]]
) -> None:
    page, errors = _page(browser)
    page.goto(f"{server}/ui/")
    page.wait_for_selector("#login-form")
    assert_no_axe_violations(page)  # sign-in
    _sign_in(page, server, deployed.keys["analyst"])
    assert_no_axe_violations(page)  # queue
    _open(page, _not_p1(scored))
    page.fill("#d-note", "call +1 202 555 0147")
    page.click("text=Record decision")
    page.wait_for_selector("#decision-error")
    assert_no_axe_violations(page)  # report, with a refusal shown
    page.check("input[name=action][value=override]")
    page.select_option("#d-priority", "1")
    assert_no_axe_violations(page, "#decision-form")  # limited to referral, with why
    decided = scored[1]
    r = httpx.post(
        f"{server}/decide",
        json={
            "decision": {
                "report_id": decided["report_id"],
                "action": "accept",
                "reason": "agree_with_suggestion",
            }
        },
        headers=auth(deployed.keys["analyst"]),
    )
    assert r.status_code == 200, r.text
    _open(page, decided)
    page.wait_for_selector("#decisions")
    assert_no_axe_violations(page)  # report with its decision history
    page.goto(page.url.split("#")[0] + "#/model")
    page.wait_for_selector("#card-overrides")
    assert_no_axe_violations(page)  # model card
    assert not errors, errors
    page.close()


def test_axe_finds_what_it_should(browser: Browser, server: str) -> None:
    """The helper is not vacuous: a page with known violations fails it."""
    page, _ = _page(browser)
    page.set_content(
        "<html><body><img src='x.png'><input id='q'>"
        "<p style='color:#aaa;background:#fff'>faint</p></body></html>"
    )
    with pytest.raises(AssertionError) as failed:
        assert_no_axe_violations(page)
    for rule in ("image-alt", "label", "color-contrast", "html-has-lang"):
        assert rule in str(failed.value), rule
    page.close()
