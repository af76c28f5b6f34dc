"""The analyst page in a real browser: Debian's Chromium, driven by Playwright, offline.

Starts the real service (session fixture ``server``), scores a handful of reports, then
as an analyst: opens the queue, checks its order, opens a report with the keyboard, checks
the contribution bars and the warnings, records an override with a reason, and finds it
stored and in ``tipscore export-decisions``. Screenshots go to ``test-output/browser/``
(or ``$TIPSCORE_TEST_OUTPUT/browser``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from playwright.sync_api import Browser, Page

from tests.service.conftest import Deployed, auth, submission

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = Path(os.environ.get("TIPSCORE_TEST_OUTPUT", ROOT / "test-output")) / "browser"
KINDS = [
    ("Child Sex Trafficking", True),
    ("Child Pornography (possession, manufacture, and distribution)", False),
    ("Online Enticement of Children for Sexual Acts", True),
    ("Child Pornography (possession, manufacture, and distribution)", False),
]


@pytest.fixture(scope="module")
def scored(server: str, deployed: Deployed) -> list[dict[str, Any]]:
    out = []
    for i, (kind, escalated) in enumerate(KINDS):
        body = submission(
            f"web-{i}", esp="BrowserESP", incident_type=kind, esp_escalated=escalated
        )
        r = httpx.post(
            f"{server}/score",
            json={"report": body},
            headers=auth(deployed.keys["intake"]),
        )
        r.raise_for_status()
        out.append(r.json())
    return out


def _sign_in(page: Page, server: str, key: str) -> None:
    page.goto(f"{server}/ui/")
    page.fill("#key", key)
    page.press("#key", "Enter")
    page.wait_for_selector("#queue")


def test_analyst_reads_the_queue_and_records_an_override(
    browser: Browser,
    server: str,
    deployed: Deployed,
    scored: list[dict[str, Any]],
    tmp_path: Path,
) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    _sign_in(page, server, deployed.keys["analyst"])

    # the queue, filtered to this test's reports, in suggested order
    page.fill("#f-esp", "BrowserESP")
    page.click("text=Apply filters")
    page.wait_for_function(
        "document.querySelectorAll('#queue tbody tr[data-report]').length === 4"
    )
    shown = page.eval_on_selector_all(
        "#queue tbody tr[data-report]", "rows => rows.map(r => r.dataset.report)"
    )
    expected = sorted(
        scored, key=lambda s: (s["suggested_priority"], -s["escalation_probability"])
    )
    assert shown == [s["report_id"] for s in expected]
    page.screenshot(path=str(OUTPUT / "queue.png"))

    # open the top report with the keyboard only
    target = expected[0]
    link = page.locator(f"#queue a[href='#/report/{target['report_id']}']")
    for _ in range(40):
        page.keyboard.press("Tab")
        if link.evaluate("a => a === document.activeElement"):
            break
    else:
        pytest.fail("the report link cannot be reached with Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("#chart")

    # the explanation as bars, with the report's values and sentences; the warnings
    bars = page.locator("#chart tr.contribution")
    contributions = target["explanation"]["contributions"]
    assert bars.count() == len(contributions) > 0
    for i, c in enumerate(contributions):
        row = bars.nth(i)
        assert row.locator("th").inner_text() == c["feature"]
        assert c["text"] in row.inner_text()
        width = row.locator(".bar-up, .bar-down").evaluate(
            "b => b.getBoundingClientRect().width"
        )
        assert width > 0
        side = "bar-up" if c["contribution"] >= 0 else "bar-down"
        assert row.locator(f".{side}").count() == 1
    assert "log-odds" in page.locator(".scale").inner_text()
    codes = page.eval_on_selector_all(
        "#warnings li", "items => items.map(i => i.dataset.code)"
    )
    assert codes == [w["code"] for w in target["warnings"]]
    assert "files_not_viewed" in codes

    # record an override with a reason
    new_priority = 3 if target["suggested_priority"] != 3 else 2
    page.check("input[name=action][value=override]")
    page.select_option("#d-priority", str(new_priority))
    page.select_option("#d-reason", "known_or_viral_content")
    page.fill("#d-note", "same content as an older report in this batch")
    page.click("text=Record decision")
    page.wait_for_selector(".notice")
    assert f"priority {new_priority} (override)" in page.locator(".notice").inner_text()
    assert "override" in page.locator("#decisions tbody tr").first.inner_text()
    page.screenshot(path=str(OUTPUT / "report.png"), full_page=True)
    assert not errors, errors

    # stored, and exported as training data with the analyst's priority as the outcome
    view = httpx.post(
        f"{server}/report",
        json={"report": {"report_id": target["report_id"]}},
        headers=auth(deployed.keys["analyst"]),
    ).json()
    assert view["decisions"][0]["priority"] == new_priority
    assert view["decisions"][0]["reason"] == "known_or_viral_content"
    out = tmp_path / "decisions.parquet"
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("tipscore")),
            "export-decisions",
            "--out",
            str(out),
        ],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    exported = pd.read_parquet(out).set_index("report_id")
    row = exported.loc[target["report_id"]]
    assert row["priority"] == str(new_priority)
    assert bool(row["escalated"]) == (new_priority == 1)
    assert row["suggested_priority"] == target["suggested_priority"]
    page.close()


def test_a_wrong_key_is_told_and_nothing_is_shown(
    browser: Browser, server: str
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{server}/ui/")
    page.fill("#key", "tsk_not-a-key")
    page.press("#key", "Enter")
    page.wait_for_selector("#alert:not([hidden])")
    assert "sign in again" in page.locator("#alert").inner_text()
    assert page.locator("#queue").count() == 0
    page.close()
