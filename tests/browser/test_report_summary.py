"""The report view's ten-second reading in a real browser (Chromium, offline).

A batched viral meme with no files, no account and no ESP name, scored through the real
service: the page opens with the summary and the key-facts panel, reasons read as
sentences first (feature names secondary), what does not apply is one grouped line, no
sentence says "0 of 0" or "0 earlier", and nothing shows "(public)". An XML report's
parser notes sit in a collapsed "Technical notes" section, reachable by keyboard.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import assert_no_axe_violations
from tests.service.conftest import Deployed, auth, submission

SPAM_AS_TEXT = (
    "<report><incidentSummary><incidentType>Child Sex Trafficking</incidentType>"
    "<reportAnnotations><spam>true</spam></reportAnnotations>"
    "<incidentDateTime>2024-01-01T00:00:00Z</incidentDateTime></incidentSummary>"
    "<reporter><reportingPerson><email>a@b.c</email></reportingPerson></reporter>"
    "</report>"
)


def _post(server: str, key: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = httpx.post(f"{server}{path}", json=body, headers=auth(key))
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


@pytest.fixture(scope="module")
def meme(server: str, deployed: Deployed) -> dict[str, Any]:
    body = submission(
        "web-meme-1",
        incident_type="Child Pornography (possession, manufacture, and distribution)",
        identifiers={},
        reported_person={},
        files=[],
        esp=None,
        location={"country_code": None, "source": "unknown"},
        bundle={"batched": True, "incident_count": 57},
    )
    return _post(server, deployed.keys["intake"], "/score", {"report": body})


@pytest.fixture(scope="module")
def parsed(server: str, deployed: Deployed) -> dict[str, Any]:
    form = {"report_xml": SPAM_AS_TEXT, "esp": "XmlESP", "report_id": "web-xml-1"}
    return _post(server, deployed.keys["intake"], "/score_xml", {"submission": form})


def _open(page: Page, server: str, key: str, report_id: str) -> None:
    page.goto(f"{server}/ui/")
    page.fill("#key", key)
    page.press("#key", "Enter")
    page.wait_for_selector("#queue")
    page.goto(f"{server}/ui/#/report/{report_id}")
    page.wait_for_selector("#key-facts")


def test_summary_and_key_facts_lead_the_report(
    browser: Browser, server: str, deployed: Deployed, meme: dict[str, Any]
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    _open(page, server, deployed.keys["analyst"], meme["report_id"])

    # the summary first, then the key facts, then the rest
    order = page.eval_on_selector_all(
        "#reading-summary, #key-facts, #suggestion, #chart",
        "nodes => nodes.map(n => n.id)",
    )
    assert order == ["reading-summary", "key-facts", "suggestion", "chart"]
    phrases = page.locator("#reading-summary li").all_inner_texts()
    assert phrases == meme["summary"] and 1 <= len(phrases) <= 3
    facts = dict(
        zip(
            page.locator("#key-facts dt").all_inner_texts(),
            page.locator("#key-facts dd").all_inner_texts(),
            strict=True,
        )
    )
    assert facts["Batched (viral) report"] == "Yes: stands for 57 incidents"
    assert facts["Files viewed by the ESP"] == "No files were listed"
    assert facts["Reporter"] == "An ESP (name not given)"
    assert facts["Preservation"].startswith(("Until", "Ended"))

    # sentences first, feature names secondary; what does not apply is one line
    first = page.locator("#chart tr.contribution").first
    assert (
        first.locator("td")
        .first.inner_text()
        .startswith(meme["explanation"]["contributions"][0]["text"])
    )
    grey = first.locator("th.feature").evaluate(
        "th => parseFloat(getComputedStyle(th).fontSize)"
    )
    assert grey < float(
        first.locator("td.words").evaluate(
            "t => parseFloat(getComputedStyle(t).fontSize)"
        )
    )
    if meme["explanation"]["not_applicable"]:
        line = page.locator("#not-applicable").inner_text()
        assert line.startswith("Not applicable to this report (")
    read = page.locator("#reading-summary, #key-facts, #chart").all_inner_texts()
    for shape in ("0 of 0", "0 earlier", "(s)", "(public)", "None"):
        assert not [t for t in read if shape in t], shape
    assert "(public)" not in page.locator("#view").inner_text()
    assert_no_axe_violations(page)  # the new sections keep the page WCAG 2.1 AA clean
    assert not errors, errors
    page.close()


def test_parser_notes_are_collapsed_technical_notes(
    browser: Browser, server: str, deployed: Deployed, parsed: dict[str, Any]
) -> None:
    codes = [w["code"] for w in parsed["warnings"]]
    assert "xml_presence_flag_text" in codes
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    _open(page, server, deployed.keys["analyst"], parsed["report_id"])
    shown = page.eval_on_selector_all(
        "#warnings li", "items => items.map(i => i.dataset.code)"
    )
    assert not [c for c in shown if c.startswith("xml_")]
    details = page.locator("#technical-notes")
    assert details.evaluate("d => d.open") is False
    note = details.locator("li[data-code=xml_presence_flag_text]")
    assert not note.is_visible()
    # open it with the keyboard
    summary = details.locator("summary")
    for _ in range(60):
        page.keyboard.press("Tab")
        if summary.evaluate("s => s === document.activeElement"):
            break
    else:
        pytest.fail("the technical notes cannot be reached with Tab")
    page.keyboard.press("Enter")
    assert details.evaluate("d => d.open") is True
    assert note.is_visible()
    assert_no_axe_violations(page)
    page.close()
