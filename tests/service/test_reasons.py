"""Reasons an analyst can trust, through the real service: no sentence about absent data.

Issue 17's case: a batched viral meme with no files and no account must not read
"0 of 0 files" or "0 earlier report(s)"; what does not apply is one grouped line, and the
response carries a summary and the report's key facts.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.service.conftest import Deployed, auth, submission

FORBIDDEN = ("0 of 0", "0 earlier", "(s)", "None", "nan", "  ")


def _meme() -> dict[str, object]:
    return submission(
        "meme-1",
        incident_type="Child Pornography (possession, manufacture, and distribution)",
        identifiers={},
        reported_person={},
        files=[],
        esp=None,
        location={"country_code": None, "source": "unknown"},
        bundle={"batched": True, "incident_count": 412},
    )


def test_a_batched_meme_without_files_or_account_reads_truthfully(
    client: TestClient, deployed: Deployed
) -> None:
    r = client.post(
        "/score", json={"report": _meme()}, headers=auth(deployed.keys["intake"])
    )
    assert r.status_code == 200, r.text
    body = r.json()
    explanation = body["explanation"]
    texts = [c["text"] for c in explanation["contributions"]]
    grouped = explanation["not_applicable"]
    if grouped is not None:
        texts += [grouped["text"]] + [c["text"] for c in grouped["contributions"]]
        assert grouped["text"].startswith("Not applicable to this report (")
        assert set(grouped["because"]) <= {
            "no files",
            "no account",
            "no location",
            "no email address",
            "no phone number",
            "no IP address",
            "no device",
            "no file hash",
        }
        total = sum(c["contribution"] for c in grouped["contributions"])
        assert abs(total - grouped["contribution"]) < 1e-9
    texts += body["summary"] + [f["text"] for f in body["key_facts"]]
    for text in texts:
        assert not any(shape in text for shape in FORBIDDEN), text
    # no separate reason about files or account history: they are grouped
    shown = {c["feature"] for c in explanation["contributions"]}
    assert not {f for f in shown if f.startswith(("files_tag", "hist_account"))}
    assert 1 <= len(body["summary"]) <= 3
    facts = {f["code"]: f["text"] for f in body["key_facts"]}
    assert facts["batched"] == "Yes: stands for 412 incidents"
    assert facts["files_viewed"] == "No files were listed"
    assert facts["account_disabled"] == "No account named"
    assert facts["reporter"] == "An ESP (name not given)"
    assert facts["location"].startswith("Unknown")
    assert facts["preservation"].startswith(("Until", "Ended"))


def test_key_facts_come_from_the_report(client: TestClient, deployed: Deployed) -> None:
    body = submission(
        "facts-1",
        reported_person={
            "count": 1,
            "upload_ip": True,
            "prior_ct_reports": 2,
            "account_permanently_disabled": True,
        },
        victims={"count": 1, "minor_stated": True},
        location={"country_code": "PH", "source": "ip_derived"},
    )
    r = client.post(
        "/score", json={"report": body}, headers=auth(deployed.keys["intake"])
    )
    assert r.status_code == 200, r.text
    facts = {f["code"]: f["text"] for f in r.json()["key_facts"]}
    assert facts["victim_age"] == "Yes: a victim is stated to be under 18"
    assert facts["upload_ip"] == "Supplied"
    assert facts["prior_ct_reports"] == "2 reports cited"
    assert facts["account_disabled"] == "Permanently disabled"
    assert facts["files_viewed"].startswith("1 of 2 files not viewed")
    assert facts["location"] == "PH (derived from an IP address)"
    assert facts["reporter"] == "Snapchat"
    assert facts["batched"] == "No"
