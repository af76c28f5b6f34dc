"""Each warning rule on hand-made reports, and the key store."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from serving.keys import KeyStore, Role
from serving.rules import (
    PreservationPolicy,
    files_not_viewed,
    likely_informational,
    linked_reports,
    preservation,
    warnings_for,
)
from tests.factories import make_report

POLICY = PreservationPolicy()


def test_one_file_reads_in_the_singular() -> None:
    warning = files_not_viewed(make_report(files=[{"viewed_by_esp": False}]))
    assert warning is not None
    assert warning.text.startswith("1 of 1 file was not viewed"), warning.text


def test_files_not_viewed_counts_missing_flags_as_not_viewed() -> None:
    report = make_report(files=[{"viewed_by_esp": True}, {"viewed_by_esp": False}, {}])
    warning = files_not_viewed(report)
    assert warning is not None and warning.code == "files_not_viewed"
    assert (
        warning.text.startswith("2 of 3 files were not viewed")
        and "warrant" in warning.text
    )
    assert files_not_viewed(make_report(files=[{"viewed_by_esp": True}])) is None
    assert files_not_viewed(make_report()) is None


@pytest.mark.parametrize(
    ("received", "today", "code", "deadline", "left"),
    [
        (
            "2024-05-06T23:00:00Z",
            date(2024, 6, 1),
            "preservation_deadline",
            "2024-08-04",
            64,
        ),
        (
            "2024-05-07T00:00:00Z",
            date(2024, 6, 1),
            "preservation_deadline",
            "2025-05-07",
            340,
        ),
        # 22:00 in New York on 6 May is 7 May in UTC: the one-year rule applies
        (
            "2024-05-06T22:00:00-05:00",
            date(2024, 6, 1),
            "preservation_deadline",
            "2025-05-07",
            340,
        ),
        # one calendar year from 29 February ends on 28 February
        (
            "2028-02-29T12:00:00Z",
            date(2028, 3, 1),
            "preservation_deadline",
            "2029-02-28",
            364,
        ),
        (
            "2024-01-01T00:00:00Z",
            date(2024, 6, 1),
            "preservation_expired",
            "2024-03-31",
            -62,
        ),
    ],
)
def test_preservation_period_changes_with_the_report_act(
    received: str, today: date, code: str, deadline: str, left: int
) -> None:
    report = make_report(received_at=received, incident_at="2023-12-30T00:00:00Z")
    warning = preservation(report, today, POLICY)
    assert warning.code == code
    assert deadline in warning.text
    unit = "day" if abs(left) == 1 else "days"
    assert re.search(rf"\b{abs(left)} {unit}\b", warning.text), warning.text
    assert "(s)" not in warning.text
    assert ("90-day" in warning.text) == (deadline < "2024-12-31")


def test_likely_informational_names_what_is_missing() -> None:
    bare = likely_informational(make_report())
    assert bare is not None
    assert bare.text == (
        "Likely informational: no location, no user identifiers, no upload IP"
    )
    complete = make_report(
        location={"country_code": "US", "source": "supplied"},
        reported_person={"screen_name": True, "upload_ip": True},
    )
    assert likely_informational(complete) is None


def test_linked_reports_only_when_earlier_reports_share_identifiers() -> None:
    assert linked_reports({"hist_account_reports_365d": 0}) is None
    warning = linked_reports(
        {
            "hist_account_reports_365d": 3,
            "hist_account_escalations_365d": 1,
            "hist_ip_reports_365d": 2,
        }
    )
    assert warning is not None and warning.code == "linked_reports"
    assert "(3 by account, 2 by IP address)" in warning.text
    assert "1 escalated (by account)" in warning.text
    both_windows = linked_reports(
        {"hist_account_reports_30d": 1, "hist_account_reports_365d": 1}
    )
    assert both_windows is not None and "(1 by account)" in both_windows.text


def test_every_rule_runs_in_a_fixed_order() -> None:
    report = make_report(files=[{}])
    codes = [w.code for w in warnings_for(report, {}, date(2024, 6, 2))]
    assert codes == [
        "files_not_viewed",
        "preservation_deadline",
        "likely_informational",
    ]


def test_keys_are_stored_as_hashes_and_verified(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.json")
    key, record = store.add(Role.ANALYST, "desk 4")
    stored = (tmp_path / "keys.json").read_text()
    assert key not in stored and record.sha256 in stored
    assert json.loads(stored)["keys"][0]["role"] == "analyst"
    assert (tmp_path / "keys.json").stat().st_mode & 0o077 == 0
    assert KeyStore(tmp_path / "keys.json").verify(key) == record
    assert store.verify(key + "x") is None
    other, _ = store.add(Role.ADMIN)
    assert store.verify(other).role is Role.ADMIN  # type: ignore[union-attr]
    assert store.verify(key).role is Role.ANALYST  # type: ignore[union-attr]


def test_bento_requirements_follow_the_pins() -> None:
    root = Path(__file__).resolve().parents[2]
    pins = set((root / "constraints.txt").read_text().splitlines())
    for line in (root / "bento-requirements.txt").read_text().splitlines():
        assert line in pins, line


def test_a_report_from_the_public_gets_no_platform_preservation_or_designation() -> (
    None
):
    # a public report was told "the platform may no longer hold the content" and that it
    # was likely informational for lack of an upload IP (an outside test, session 9)
    from features.vocab import ReporterType
    from serving.key_facts import key_facts
    from serving.rules import PreservationPolicy, warnings_for

    report = make_report().model_copy(update={"reporter_type": ReporterType.PUBLIC})
    today = date(2031, 1, 1)  # long after any preservation period
    codes = {w.code for w in warnings_for(report, {}, today)}
    assert not codes & {"preservation_expired", "preservation_deadline"}
    assert "likely_informational" not in codes
    facts = key_facts(report, {}, today, PreservationPolicy())
    kept = next(f for f in facts if f.code == "preservation")
    assert kept.text.startswith("None: a report from the public")
    esp = {w.code for w in warnings_for(make_report(), {}, today)}
    assert "preservation_expired" in esp  # an ESP's report still gets it
