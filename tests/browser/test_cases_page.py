"""Cases, viral bursts, ageing and blind review on the analyst page (issue 21), in Chromium.

Against the real server (session fixture ``server``): a case with its members and one
decision for the whole case, a collapsed viral burst, an overdue marker, and a blind report
that shows no suggestion until it is decided. Ageing and blindness are set in the state
database (the test server's service targets and blind share are the defaults and 0).
"""

from __future__ import annotations

import sqlite3
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import assert_no_axe_violations
from tests.service.conftest import Deployed, auth, submission

ESP = "BrowserESP"


def _report(report_id: str, **identifiers: list[str]) -> dict[str, Any]:
    body = submission(report_id, esp=ESP)
    body["identifiers"] = {
        "accounts": [f"acct-{report_id}"],
        "emails": [f"{report_id}@example.org"],
        "ips": [f"ip-{report_id}"],
        **identifiers,
    }
    return body


def _api(server: str, deployed: Deployed, path: str, body: Any, role: str) -> Any:
    r = httpx.post(f"{server}{path}", json=body, headers=auth(deployed.keys[role]))
    r.raise_for_status()
    return r.json()


@pytest.fixture(scope="module")
def cases(server: str, deployed: Deployed) -> dict[str, int]:
    """A case of three, a burst of 25, an overdue report and a blind report."""
    trio = [_report(f"web-case-{i}", accounts=["web-offender"]) for i in range(3)]
    burst = []
    for i in range(25):
        body = _report(f"web-burst-{i:02d}", file_hashes=["c0ffee21" * 5])
        body["received_at"] = f"2024-09-01T10:{i:02d}:00Z"
        burst.append(body)
    alone = [_report("web-overdue"), _report("web-blind")]
    pair = [_report(f"web-pair-{i}", accounts=["web-pair-offender"]) for i in range(2)]
    reports = trio + burst + alone + pair
    _api(server, deployed, "/score_batch", {"reports": reports}, "intake")
    db = sqlite3.connect(deployed.state / "reports.db", isolation_level=None)
    db.execute(
        "UPDATE case_member SET queued_at = '2020-01-01T00:00:00.000+00:00' "
        "WHERE report_id = 'web-overdue'"
    )
    db.execute(
        "UPDATE case_member SET blind = 1 "
        "WHERE report_id IN ('web-blind', 'web-pair-1')"
    )
    db.close()

    def case_of(report_id: str) -> int:
        view = _api(
            server, deployed, "/report", {"report": {"report_id": report_id}}, "admin"
        )
        return int(view["case_id"])

    return {
        "trio": case_of("web-case-0"),
        "burst": case_of("web-burst-00"),
        "pair": case_of("web-pair-0"),
    }


def _page(browser: Browser, server: str, key: str) -> tuple[Page, list[str]]:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server}/ui/")
    page.fill("#key", key)
    page.press("#key", "Enter")
    page.wait_for_selector("#queue")
    return page, errors


def _accept_case(page: Page, case_id: int) -> None:
    """Open a case as the analyst and accept each member's suggestion for all."""
    page.goto(f"{page.url.split('#')[0]}#/case/{case_id}")
    page.wait_for_selector("#case-members")
    page.select_option("#cd-reason", "linked_to_open_case")
    page.click("text=Record for all undecided")


def test_a_case_with_its_members_and_one_decision_for_all(
    browser: Browser, server: str, deployed: Deployed, cases: dict[str, int]
) -> None:
    page, errors = _page(browser, server, deployed.keys["analyst"])
    page.goto(f"{server}/ui/#/cases")
    page.wait_for_selector("#cases tbody tr[data-case]")
    assert_no_axe_violations(page)
    page.goto(f"{server}/ui/#/case/{cases['trio']}")
    page.wait_for_selector("#case-members")
    members = page.eval_on_selector_all(
        "#case-members tbody tr[data-report]", "rows => rows.map(r => r.dataset.report)"
    )
    assert sorted(members) == [f"web-case-{i}" for i in range(3)]
    assert "accounts" in page.inner_text("#case-shared")
    assert_no_axe_violations(page)
    _accept_case(page, cases["trio"])
    page.wait_for_selector("#case-decided")
    assert "Recorded 3 decisions" in page.inner_text("main")
    decided = page.eval_on_selector_all(
        "#case-members tbody tr", "rows => rows.map(r => r.cells[5].textContent)"
    )
    assert all(text.startswith("P") for text in decided), decided
    assert errors == []


def test_accepting_a_case_says_which_blind_reports_are_left(
    browser: Browser, server: str, deployed: Deployed, cases: dict[str, int]
) -> None:
    """An analyst's accept leaves a blind member for its own decision, and says so."""
    page, errors = _page(browser, server, deployed.keys["analyst"])
    _accept_case(page, cases["pair"])
    page.wait_for_selector("p.notice[role=status]")
    # the notice itself, not the page: the members table names web-pair-1 anyway
    notice = page.inner_text("p.notice[role=status]")
    assert "Recorded 1 decision for case" in notice
    assert "Under blind review, left for a decision of its own" in notice
    assert notice.endswith("(name a priority): web-pair-1.")
    assert errors == []


def test_a_collapsed_burst_and_an_overdue_marker(
    browser: Browser, server: str, deployed: Deployed, cases: dict[str, int]
) -> None:
    page, errors = _page(browser, server, deployed.keys["analyst"])
    page.goto(f"{server}/ui/#/case/{cases['burst']}")
    page.wait_for_selector("#case-summary")
    assert page.inner_text("#view-title") == f"Viral burst {cases['burst']}"
    summary = page.inner_text("#case-summary")
    assert "25 (25 undecided)" in summary and "viral burst: 25 accounts" in summary
    page.goto(f"{server}/ui/#/queue")
    page.fill("#f-esp", ESP)
    page.click("text=Apply filters")
    page.wait_for_selector("#queue tr[data-report='web-overdue'] .overdue")
    row = page.inner_text("#queue tr[data-report='web-overdue']")
    assert "overdue" in row
    burst_row = page.inner_text("#queue tr[data-report='web-burst-00']")
    assert "viral burst: 25 accounts" in burst_row
    assert errors == []


def test_a_blind_report_shows_no_suggestion_until_decided(
    browser: Browser, server: str, deployed: Deployed, cases: dict[str, int]
) -> None:
    page, errors = _page(browser, server, deployed.keys["analyst"])
    page.goto(f"{server}/ui/#/report/web-blind")
    page.wait_for_selector("#blind-notice")
    assert page.query_selector("#suggestion") is None
    assert page.query_selector("#chart") is None
    assert "Key facts" in page.inner_text("main")
    assert_no_axe_violations(page)
    page.select_option("#d-priority", "3")
    page.select_option("#d-reason", "other")
    page.click("text=Record decision")
    page.wait_for_selector("#suggestion")
    assert "The suggestion is shown now" in page.inner_text("main")
    page.goto(f"{server}/ui/#/model")
    page.wait_for_selector("#card-blind")  # agreement, blind vs shown
    assert "Blind review" in page.inner_text("#card-blind")
    assert "Priority 1" in page.inner_text("#card-time-to-decision")
    assert errors == []
