"""Key facts come from the report itself; old stored suggestions still validate."""

from __future__ import annotations

from datetime import date

from serving.key_facts import key_facts
from serving.rules import PreservationPolicy
from serving.schemas import ScoreResponse
from serving.wording import context_of
from tests.factories import make_report

TODAY = date(2024, 6, 10)


def _facts(**overrides: object) -> dict[str, str]:
    report = make_report(**overrides)
    links = {"hist_account_reports_365d": 3, "hist_ip_reports_365d": 1}
    facts = key_facts(report, links, TODAY, PreservationPolicy())
    return {f.code: f.text for f in facts}


def test_a_public_report_and_an_unnamed_esp_are_told_apart() -> None:
    assert _facts(reporter_type="public", esp=None)["reporter"] == (
        "A member of the public"
    )
    assert _facts(esp=None)["reporter"] == "An ESP (name not given)"
    assert _facts()["reporter"] == "Discord"


def test_facts_follow_the_report() -> None:
    facts = _facts(
        bundle={"batched": True, "incident_count": 1},
        recipients={"count": 1, "minor_stated": True},
        files=[{"viewed_by_esp": True, "upload_ip": True}],
        reported_person={"account_temporarily_disabled": True, "prior_ct_reports": 1},
        location={"country_code": "BR", "source": "supplied"},
    )
    assert facts["batched"] == "Yes: stands for 1 incident"
    assert facts["victim_age"] == "Yes: an intended recipient is stated to be under 18"
    assert facts["files_viewed"] == "The one file was viewed by the platform"
    assert facts["upload_ip"] == "Supplied"
    assert facts["prior_ct_reports"] == "1 report cited"
    assert facts["account_disabled"] == "Temporarily disabled"
    assert facts["linked_reports"] == "3 by account; 1 by IP address"
    assert facts["location"] == "BR (supplied in the report)"
    assert facts["preservation"].startswith("Until ")


def test_absent_facts_say_so_plainly() -> None:
    facts = _facts()
    assert facts["batched"] == "No"
    assert facts["files_viewed"] == "No files were listed"
    assert facts["upload_ip"] == "Not supplied"
    assert facts["prior_ct_reports"] == "No report cited"
    assert facts["account_disabled"] == "No account named"
    assert facts["location"] == "Unknown: no country supplied or derived"
    bare = key_facts(make_report(), {}, TODAY, PreservationPolicy())
    assert {f.code: f.text for f in bare}["linked_reports"] == (
        "No linked report in the past year"
    )


def test_context_names_what_the_report_lacks() -> None:
    context = context_of(make_report(esp=None))
    assert not context.files and not context.accounts and not context.location
    assert not context.esp_named


def test_a_suggestion_stored_before_the_summary_still_reads() -> None:
    old = {
        "report_id": "old-1",
        "escalation_probability": 0.01,
        "suggested_priority": 3,
        "thresholds": {
            "p1": 0.06,
            "p2": 0.02,
            "p1_share": 0.01,
            "p12_share": 0.05,
            "policy": "…",
        },
        "model_name": "tip-escalation",
        "model_version": "1",
        "explanation": {
            "scale": "log-odds",
            "base_value": -4.0,
            "raw_score": -4.5,
            "note": "…",
            "contributions": [
                {
                    "feature": "files_tag_viral",
                    "value": 0,
                    "contribution": 0.2,
                    "text": "0 of 0 files tagged viral: raises priority",
                }
            ],
        },
        "warnings": [],
        "suggestion_only": "…",
    }
    response = ScoreResponse.model_validate(old)
    assert response.summary == [] and response.key_facts == []
    assert response.explanation.not_applicable is None
