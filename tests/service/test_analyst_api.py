"""The analyst API: queue, report view and decisions (roles, append-only, validation)."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.service.conftest import Deployed, auth, submission


def _score(client: TestClient, deployed: Deployed, report: dict[str, Any]) -> Any:
    r = client.post(
        "/score", json={"report": report}, headers=auth(deployed.keys["intake"])
    )
    assert r.status_code == 200, r.text
    return r.json()


def _queue(client: TestClient, key: str, **query: Any) -> Any:
    r = client.post("/queue", json={"query": query}, headers=auth(key))
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture(scope="module")
def scored(client: TestClient, deployed: Deployed) -> list[Any]:
    """A handful of reports of different urgency, from one ESP only these tests use."""
    out = []
    for i, (kind, escalated) in enumerate(
        [
            ("Child Sex Trafficking", True),
            ("Child Pornography (possession, manufacture, and distribution)", False),
            ("Online Enticement of Children for Sexual Acts", True),
            ("Child Pornography (possession, manufacture, and distribution)", False),
            ("Online Enticement of Children for Sexual Acts", False),
        ]
    ):
        out.append(
            _score(
                client,
                deployed,
                submission(
                    f"q-{i}",
                    esp="QueueTestESP",
                    incident_type=kind,
                    esp_escalated=escalated,
                ),
            )
        )
    return out


def test_queue_is_ordered_paged_and_filtered(
    client: TestClient, deployed: Deployed, scored: list[Any]
) -> None:
    key = deployed.keys["analyst"]
    whole = _queue(client, key, esp="QueueTestESP", limit=200)
    assert whole["total"] == 5
    order = [
        (i["suggested_priority"], -i["escalation_probability"]) for i in whole["items"]
    ]
    assert order == sorted(order)
    first = _queue(client, key, esp="QueueTestESP", limit=2)
    second = _queue(
        client, key, esp="QueueTestESP", limit=2, cursor=first["next_cursor"]
    )
    third = _queue(
        client, key, esp="QueueTestESP", limit=2, cursor=second["next_cursor"]
    )
    paged = [i["report_id"] for p in (first, second, third) for i in p["items"]]
    assert paged == [i["report_id"] for i in whole["items"]]
    assert third["next_cursor"] is None
    top = whole["items"][0]
    only = _queue(client, key, esp="QueueTestESP", priority=top["suggested_priority"])
    assert {i["suggested_priority"] for i in only["items"]} == {
        top["suggested_priority"]
    }
    item = whole["items"][0]
    assert set(item["badges"]) == {
        "files_not_viewed",
        "preservation_deadline",
        "preservation_days_left",
        "likely_informational",
        "linked_reports",
    }
    assert item["badges"]["files_not_viewed"]  # the submission's video was not viewed


def test_report_view_has_suggestion_reasons_and_linked_reports(
    client: TestClient, deployed: Deployed
) -> None:
    first = submission("link-a", esp="LinkESP")
    later = submission("link-b", esp="LinkESP", received_at="2024-06-05T10:00:00Z")
    later["identifiers"] = first["identifiers"]  # the same hashed account, email, IP
    _score(client, deployed, first)
    _score(client, deployed, later)
    r = client.post(
        "/report",
        json={"report": {"report_id": "link-b"}},
        headers=auth(deployed.keys["analyst"]),
    )
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["suggestion"]["report_id"] == "link-b"
    assert view["suggestion"]["explanation"]["contributions"]
    linked = {link["report_id"]: link for link in view["linked"]}
    assert linked["link-a"]["in_queue"]
    assert {"accounts", "emails", "ips"} <= set(linked["link-a"]["shared"])
    others = [link for rid, link in linked.items() if rid != "link-a"]
    assert all(link["shared"] == ["ips"] for link in others)  # the fixtures' shared IP
    assert view["badges"]["linked_reports"]
    assert view["decisions"] == [] and "other" in view["reasons"]


def test_decisions_are_append_only_and_keep_the_suggestion(
    client: TestClient, deployed: Deployed, scored: list[Any]
) -> None:
    key = auth(deployed.keys["analyst"])
    target = scored[1]
    suggested = target["suggested_priority"]
    other = 1 if suggested != 1 else 2
    first = client.post(
        "/decide",
        json={
            "decision": {
                "report_id": target["report_id"],
                "action": "override",
                "priority": other,
                "reason": "imminent_risk_in_report",
                "note": "chat log shows a meeting planned",
            }
        },
        headers=key,
    )
    assert first.status_code == 200, first.text
    second = client.post(
        "/decide",
        json={
            "decision": {
                "report_id": target["report_id"],
                "action": "accept",
                "reason": "agree_with_suggestion",
            }
        },
        headers=key,
    )
    assert second.status_code == 200, second.text
    assert second.json()["supersedes"] == first.json()["decision_id"]
    assert second.json()["priority"] == suggested
    view = client.post(
        "/report", json={"report": {"report_id": target["report_id"]}}, headers=key
    ).json()
    assert [d["action"] for d in view["decisions"]] == ["accept", "override"]
    assert view["suggestion"]["suggested_priority"] == suggested  # never changed
    assert view["decisions"][0]["analyst"]  # identity from the key
    queued = _queue(client, deployed.keys["analyst"], esp="QueueTestESP", decided=True)
    assert [i["report_id"] for i in queued["items"]] == [target["report_id"]]
    db = sqlite3.connect(deployed.state / "reports.db", isolation_level=None)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE decisions SET priority = 3")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM scored")
    db.close()
    audit = sqlite3.connect(deployed.state / "reports.db", isolation_level=None)
    rows = audit.execute(
        "SELECT key_id, priority FROM requests WHERE endpoint = '/decide' AND report_id = ?",
        (target["report_id"],),
    ).fetchall()
    audit.close()
    assert len(rows) == 2
    card = client.get("/model_card", headers=key).json()["analyst_decisions"]
    assert card["this_model"]["decided"] >= 1
    assert "QueueTestESP" in card["this_model"]["by_esp"]


@pytest.mark.parametrize(
    ("decision", "status", "needle"),
    [
        (
            {"action": "override", "reason": "other"},
            400,
            "an override needs a priority",
        ),
        ({"action": "accept", "reason": "nope"}, 400, "reason"),
        ({"action": "maybe", "reason": "other"}, 400, "action"),
        (
            {"action": "accept", "reason": "other", "note": "mail x@example.org"},
            400,
            "email",
        ),
        ({"action": "accept", "reason": "other", "note": "ip 198.51.100.7"}, 400, "IP"),
        ({"action": "accept", "reason": "other", "extra": 1}, 400, "extra"),
        (
            {"action": "accept", "reason": "other", "report_id": "nope"},
            404,
            "not scored",
        ),
    ],
)
def test_bad_decisions_get_precise_errors(
    client: TestClient,
    deployed: Deployed,
    scored: list[Any],
    decision: dict[str, Any],
    status: int,
    needle: str,
) -> None:
    body = {"report_id": scored[0]["report_id"], **decision}
    r = client.post(
        "/decide", json={"decision": body}, headers=auth(deployed.keys["analyst"])
    )
    assert r.status_code == status, r.text
    assert needle in r.text


def test_override_to_the_suggested_priority_is_refused(
    client: TestClient, deployed: Deployed, scored: list[Any]
) -> None:
    target = scored[0]
    body = {
        "report_id": target["report_id"],
        "action": "override",
        "priority": target["suggested_priority"],
        "reason": "other",
    }
    r = client.post(
        "/decide", json={"decision": body}, headers=auth(deployed.keys["analyst"])
    )
    assert r.status_code == 400 and "use action 'accept'" in r.text


def test_a_public_report_has_no_preservation_badge(
    client: TestClient, deployed: Deployed
) -> None:
    """The key fact said no preservation period while the queue's badge counted one
    down (a stranger's review, session 9)."""
    report = submission("public-1", esp="QueueTestESP")
    report["reporter_type"] = "public"
    answer = _score(client, deployed, report)
    assert not {w["code"] for w in answer["warnings"]} & {
        "preservation_deadline",
        "preservation_expired",
    }
    items = _queue(client, deployed.keys["analyst"], esp="QueueTestESP", limit=200)
    item = next(i for i in items["items"] if i["report_id"] == "public-1")
    assert item["badges"]["preservation_deadline"] is None


def test_a_decision_on_a_suggestion_scored_again_since_is_refused(
    client: TestClient, deployed: Deployed
) -> None:
    """An accept of the suggestion on screen was recorded as accepting the newer one the
    report got meanwhile (an outside security test, session 9)."""
    report = submission("rescored-1", esp="QueueTestESP")
    _score(client, deployed, report)
    analyst = auth(deployed.keys["analyst"])
    seen = client.post(
        "/report", json={"report": {"report_id": "rescored-1"}}, headers=analyst
    ).json()["scored_at"]
    _score(client, deployed, report)  # intake scores it again
    body = {"report_id": "rescored-1", "action": "accept", "reason": "other"}
    stale = client.post(
        "/decide", json={"decision": {**body, "seen_scored_at": seen}}, headers=analyst
    )
    assert stale.status_code == 409 and "seen_scored_at" in stale.text, stale.text
    newest = client.post(
        "/report", json={"report": {"report_id": "rescored-1"}}, headers=analyst
    ).json()
    assert newest["decisions"] == [] and newest["scored_at"] != seen
    fresh = {**body, "seen_scored_at": newest["scored_at"]}
    ok = client.post("/decide", json={"decision": fresh}, headers=analyst)
    assert ok.status_code == 200, ok.text


@pytest.mark.parametrize(
    ("route", "body"),
    [
        ("/queue", {"query": {}}),
        ("/report", {"report": {"report_id": "q-0"}}),
        (
            "/decide",
            {"decision": {"report_id": "q-0", "action": "accept", "reason": "other"}},
        ),
    ],
)
def test_analyst_routes_need_an_analyst_or_admin_key(
    client: TestClient, deployed: Deployed, route: str, body: dict[str, Any]
) -> None:
    assert client.post(route, json=body).status_code == 401
    assert (
        client.post(route, json=body, headers=auth(deployed.keys["intake"])).status_code
        == 403
    )
    if route != "/decide":
        for role in ("analyst", "admin"):
            r = client.post(route, json=body, headers=auth(deployed.keys[role]))
            assert r.status_code in (200, 404), (role, r.text)


def test_page_is_served_with_a_strict_policy_and_no_external_assets(
    client: TestClient,
) -> None:
    page = client.get("/ui/")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    external = re.compile(
        r"(src|href)\s*=\s*[\"']?\s*(https?:)?//|url\(\s*[\"']?\s*(https?:)?//|@import"
        r"|fetch\(\s*[\"'`]https?:",
        re.I,
    )
    for asset in ("/ui/", "/ui/app.js", "/ui/app.css", "/ui/favicon.svg"):
        r = client.get(asset)
        assert r.status_code == 200, asset
        assert not external.search(r.text), (asset, external.search(r.text))


def test_error_answers_are_one_object_as_documented(
    client: TestClient, deployed: Deployed
) -> None:
    """BentoML would answer ``[{"error": ...}]``; the documented shape is an object."""
    missing = client.post(
        "/report",
        json={"report": {"report_id": "never-scored"}},
        headers=auth(deployed.keys["analyst"]),
    )
    assert missing.status_code == 404
    assert missing.json() == {"error": "report_id: 'never-scored' was not scored here"}
    empty = client.post(
        "/score_batch", json={"reports": []}, headers=auth(deployed.keys["intake"])
    )
    assert empty.status_code == 400 and isinstance(empty.json(), dict)


def test_a_503_says_why_no_model_is_served() -> None:
    """The scoring APIs' 503 (BentoML's generic sentence) names the holder's reason."""
    import json

    from serving import errors

    generic = json.dumps({"error": "An unexpected error has occurred"}).encode()
    body = json.loads(
        errors.reshape(503, generic, reason=lambda: "cannot load models:/x@champion")
    )
    assert body == {
        "error": "not_ready",
        "message": "no model is being served: cannot load models:/x@champion",
    }
    assert json.loads(errors.reshape(404, b'[{"error": "x"}]')) == {"error": "x"}
    assert errors.reshape(400, b"not json") == b"not json"


def test_numbers_and_flags_are_not_coerced(
    client: TestClient, deployed: Deployed
) -> None:
    """Found by the API fuzzer: `true` was taken for priority 1, "2" for a count."""
    r = client.post(
        "/queue",
        json={"query": {"priority": True}},
        headers=auth(deployed.keys["analyst"]),
    )
    assert r.status_code == 400
    body = submission("coerce-1")
    body["reported_person"]["count"] = "2"
    r = client.post(
        "/score", json={"report": body}, headers=auth(deployed.keys["intake"])
    )
    assert r.status_code == 400 and "count" in r.text
    body = submission("coerce-2", esp_escalated="yes")
    r = client.post(
        "/score", json={"report": body}, headers=auth(deployed.keys["intake"])
    )
    assert r.status_code == 400 and "esp_escalated" in r.text


def test_the_openapi_document_says_what_the_service_answers(client: TestClient) -> None:
    spec = client.get("/docs.json").json()
    score = spec["paths"]["/score"]["post"]
    assert score["requestBody"]["required"] is True
    assert {"401", "403", "413", "503"} <= set(score["responses"])
    assert "409" in spec["paths"]["/admin/reload"]["post"]["responses"]
    item = spec["components"]["schemas"]["QueueItem"]["properties"]
    assert (
        item["esp"]["nullable"] is True and item["decided_priority"]["nullable"] is True
    )
    detail = spec["components"]["schemas"]["InvalidArgument"]["properties"]["detail"]
    assert {"type": "array", "items": {"type": "object"}} in detail["anyOf"]


def test_the_document_describes_the_analyst_app_as_it_answers(
    client: TestClient,
) -> None:
    """The mounted FastAPI app's routes: bodies keyed by name, every refusal listed."""
    spec = client.get("/docs.json").json()
    schemas = spec["components"]["schemas"]
    for path, name, model in [
        ("/queue", "query", "QueueQuery"),
        ("/report", "report", "ReportRef"),
        ("/decide", "decision", "DecisionIn"),
    ]:
        post = spec["paths"][path]["post"]
        body = post["requestBody"]
        assert body["required"] is True
        schema = body["content"]["application/json"]["schema"]
        assert schema["properties"][name] == {"$ref": f"#/components/schemas/{model}"}
        assert schema["required"] == [name] and model in schemas
        assert {"200", "400", "401", "403", "413", "503"} <= set(post["responses"])
        assert "422" not in post["responses"]  # FastAPI's default: never answered
    for method in ("get", "post"):
        card = spec["paths"]["/model_card"][method]
        assert {"200", "401", "403", "503"} <= set(card["responses"])
    reload = spec["paths"]["/admin/reload"]["post"]["responses"]
    assert reload["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Refusal"
    }
    assert "/docs.json" not in spec["paths"] and "/ui" not in spec["paths"]
