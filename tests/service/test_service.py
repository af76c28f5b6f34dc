"""The scoring service in-process: answers, parity, explanations, auth, audit log, reload."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from starlette.testclient import TestClient

from features.flat import flat_frame
from features.identifiers import to_contract
from features.linkage import no_history
from features.schema import ReportSubmission
from serving.intake import IntakeSettings, intake_hasher
from tests.conftest import SAMPLES
from tests.factories import report_columns
from tests.service.conftest import (
    Deployed,
    OwnStore,
    auth,
    flat_rows,
    implied_priority,
    submission,
)
from training import registry


def test_score_is_a_suggestion_with_reasons(
    client: TestClient, deployed: Deployed
) -> None:
    response = client.post(
        "/score",
        json={"report": submission("s-1")},
        headers=auth(deployed.keys["intake"]),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["report_id"] == "s-1"
    assert 0.0 <= body["escalation_probability"] <= 1.0
    assert body["suggested_priority"] == implied_priority(body)
    assert body["thresholds"]["p1"] > body["thresholds"]["p2"]
    assert body["model_name"] == "tip-escalation" and body["model_version"] == "1"
    explanation = body["explanation"]
    assert explanation["scale"] == "log-odds" and "do not add" in explanation["note"]
    assert 1 <= len(explanation["contributions"]) <= 5
    for item in explanation["contributions"]:
        assert set(item) == {"feature", "value", "contribution", "text"}
        assert item["text"].endswith(("raises priority", "lowers priority"))
    codes = {w["code"] for w in body["warnings"]}
    assert "files_not_viewed" in codes
    assert codes & {"preservation_deadline", "preservation_expired"}
    assert "an analyst decides" in body["suggestion_only"]


def test_probability_equals_the_training_pipeline(
    client: TestClient, deployed: Deployed
) -> None:
    report = submission("s-parity", identifiers={"accounts": ["parity-only"]})
    response = client.post(
        "/score", json={"report": report}, headers=auth(deployed.keys["intake"])
    )
    served = response.json()["escalation_probability"]
    contract = to_contract(
        ReportSubmission.model_validate(report), intake_hasher(IntakeSettings())
    )
    model = registry.load_model("models:/tip-escalation@champion")
    columns = report_columns([contract])
    direct = model.calibration.apply(model.raw_scores(model.matrix(columns)))[0]
    assert served == direct
    pyfunc = model.predict(flat_frame([contract]).assign(**no_history(1)))
    assert served == pyfunc["escalation_probability"].iloc[0]


def test_batch_answers_in_order(client: TestClient, deployed: Deployed) -> None:
    reports = [submission(f"b-{i}") for i in range(3)]
    response = client.post(
        "/score_batch", json={"reports": reports}, headers=auth(deployed.keys["intake"])
    )
    assert response.status_code == 200, response.text
    assert [r["report_id"] for r in response.json()["results"]] == ["b-0", "b-1", "b-2"]


def test_batch_size_is_checked_with_the_documented_messages(
    client: TestClient, deployed: Deployed
) -> None:
    """``TIPSCORE_MAX_BATCH`` (default 1,000) bounds a batch; empty is refused too."""
    headers = auth(deployed.keys["intake"])
    empty = client.post("/score_batch", json={"reports": []}, headers=headers)
    assert empty.status_code == 400
    assert empty.json() == {"error": "reports: at least one report is needed"}
    many = [submission(f"many-{i}") for i in range(1001)]
    r = client.post("/score_batch", json={"reports": many}, headers=headers)
    assert r.status_code == 400
    assert r.json() == {"error": "reports: at most 1000 per batch, got 1001"}


def test_xml_submission_is_scored_with_parser_warnings(
    client: TestClient, deployed: Deployed
) -> None:
    headers = auth(deployed.keys["intake"])
    for name, expected in [
        ("nachtalb_doc_section6_1_example_report.xml", {"xml_unknown_annotation"}),
        (
            "jatools_report_required_only_INVALID_incidentType.xml",
            {"xml_enum_near_miss"},
        ),
    ]:
        body = {
            "report_xml": (SAMPLES / name).read_text(),
            "esp": "Discord",
            "received_at": "2024-06-01T00:00:00Z",
        }
        r = client.post("/score_xml", json={"submission": body}, headers=headers)
        assert r.status_code == 200, r.text
        codes = {w["code"] for w in r.json()["warnings"]}
        assert expected | {"xml_report_id_derived"} <= codes, codes
        assert r.json()["suggested_priority"] == implied_priority(r.json())


def test_bad_xml_gets_a_precise_400(client: TestClient, deployed: Deployed) -> None:
    body = {
        "report_xml": "<report><incidentSummary>",
        "received_at": "2024-06-01T00:00:00Z",
    }
    r = client.post(
        "/score_xml", json={"submission": body}, headers=auth(deployed.keys["intake"])
    )
    assert r.status_code == 400 and "at /" in r.text
    naive = {"report_xml": "<report/>", "received_at": "2024-06-01T00:00:00"}
    r = client.post(
        "/score_xml", json={"submission": naive}, headers=auth(deployed.keys["intake"])
    )
    assert r.status_code == 400 and "timezone" in r.text and "received_at" in r.text


def test_content_and_bad_fields_get_precise_400s(
    client: TestClient, deployed: Deployed
) -> None:
    headers = auth(deployed.keys["intake"])
    content = submission("bad-1", image_base64="QUJD")
    r = client.post("/score", json={"report": content}, headers=headers)
    assert r.status_code == 400
    assert "metadata only" in r.text and "image_base64" in r.text
    wrong = submission("bad-2", incident_type="nope")
    r = client.post("/score", json={"report": wrong}, headers=headers)
    assert r.status_code == 400 and "incident_type" in r.text


def test_oversize_body_is_refused_before_parsing(
    client: TestClient, deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    huge = b"{" + b" " * (9 * 1024 * 1024) + b"}"
    r = client.post(
        "/score",
        content=huge,
        headers={**auth(deployed.keys["intake"]), "content-type": "application/json"},
    )
    assert r.status_code == 413 and "body_too_large" in r.text

    def chunks():  # no Content-Length: the cap is enforced while reading
        for _ in range(9):
            yield b" " * (1024 * 1024)

    r = client.post(
        "/score",
        content=chunks(),
        headers={**auth(deployed.keys["intake"]), "content-type": "application/json"},
    )
    assert r.status_code == 413, r.text


def test_model_card_on_get(client: TestClient, deployed: Deployed) -> None:
    r = client.get("/model_card", headers=auth(deployed.keys["analyst"]))
    assert r.status_code == 200, r.text
    card = r.json()
    assert card["run_id"] == deployed.run_id
    assert "test_pr_auc" in card["test_metrics"]
    assert card["windows"]["rows"]["test"] > 0
    assert card["bias_audit"]["status"] == "not audited"  # registered without the gates


def test_audit_log_has_every_request_and_no_raw_identifier(
    client: TestClient, deployed: Deployed
) -> None:
    report = submission(
        "audit-1",
        identifiers={
            "accounts": ["raw-account-zq"],
            "emails": ["raw.person@example.org"],
            "phones": ["+1 555 0100"],
            "ips": ["198.51.100.77"],
        },
    )
    r = client.post(
        "/score", json={"report": report}, headers=auth(deployed.keys["intake"])
    )
    assert r.status_code == 200
    db = sqlite3.connect(deployed.state / "reports.db", isolation_level=None)
    rows = db.execute(
        "SELECT key_id, endpoint, probability, priority FROM requests WHERE report_id = ?",
        ("audit-1",),
    ).fetchall()
    assert len(rows) == 1 and rows[0][1] == "/score" and rows[0][0] != "unknown"
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM requests")
    db.close()
    for path in (p for p in deployed.state.rglob("*") if p.is_file()):
        data = path.read_bytes()
        for raw in (
            b"raw-account-zq",
            b"raw.person@example.org",
            b"198.51.100.77",
            b"555 0100",
        ):
            assert raw not in data, (path.name, raw)


def test_linked_reports_are_seen_by_later_reports(
    client: TestClient, deployed: Deployed
) -> None:
    headers = auth(deployed.keys["intake"])
    first = submission("link-1", identifiers={"accounts": ["shared-acct"]})
    later = submission(
        "link-2",
        received_at="2024-06-20T10:00:00Z",
        identifiers={"accounts": ["shared-acct"]},
    )
    assert (
        client.post("/score", json={"report": first}, headers=headers).status_code
        == 200
    )
    r = client.post("/score", json={"report": later}, headers=headers)
    linked = [w for w in r.json()["warnings"] if w["code"] == "linked_reports"]
    assert linked and "(1 by account)" in linked[0]["text"]


def test_reload_swaps_and_a_failed_reload_keeps_serving(
    client: TestClient, deployed: Deployed, own_store: OwnStore
) -> None:
    from mlflow.tracking import MlflowClient

    admin, intake = auth(deployed.keys["admin"]), auth(deployed.keys["intake"])
    registry.configure(deployed.store)
    r = client.post("/admin/reload", json={}, headers=admin)
    assert r.status_code == 200 and r.json()["model_version"] == "1"
    # from here on the champion the service reloads is this test's own
    registry.configure(own_store.uri)
    registry.set_champion("tip-escalation", registry.register(own_store.run_id))
    MlflowClient().delete_registered_model_alias("tip-escalation", "champion")
    r = client.post("/admin/reload", json={}, headers=admin)
    assert r.status_code == 409 and "still serving the previous model" in r.text
    r = client.post(
        "/score", json={"report": submission("after-failed-reload")}, headers=intake
    )
    assert r.status_code == 200 and r.json()["model_version"] == "1"
    assert client.get("/readyz").status_code == 200


def test_not_ready_without_a_champion(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    from serving.service import NotReady, TipScoring

    # one BentoML app per process (its metrics registry is global): the class itself
    monkeypatch.setenv("TIPSCORE_MODEL_URI", "models:/no-such-model@champion")
    service = TipScoring.inner()
    assert service.__is_ready__() is False
    with pytest.raises(NotReady, match=r"no model is being served.*no-such-model"):
        service._served()


def test_contributions_add_up_and_agree_with_shap(deployed: Deployed) -> None:
    import shap

    model = registry.load_model("models:/tip-escalation@champion")
    columns = report_columns(
        [
            to_contract(
                ReportSubmission.model_validate(submission(f"e-{i}")),
                intake_hasher(IntakeSettings()),
            )
            for i in range(20)
        ]
    )
    matrix = model.matrix(columns)
    values = model.scores(matrix, explain=True).contributions
    assert values is not None
    np.testing.assert_allclose(values.sum(axis=1), model.raw_scores(matrix), atol=1e-9)
    explainer = shap.TreeExplainer(
        model.booster, feature_perturbation="tree_path_dependent"
    )
    reference = explainer.shap_values(matrix)
    np.testing.assert_allclose(values[:, :-1], np.asarray(reference), atol=1e-9)
    assert np.asarray(explainer.expected_value).item() == pytest.approx(values[0, -1])


def test_rejected_input_never_reaches_the_logs(
    client: TestClient, deployed: Deployed, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "someone.private@example.org"
    bad = submission("log-1", incident_type="nope", identifiers={"emails": [secret]})
    with caplog.at_level("DEBUG"):
        r = client.post(
            "/score", json={"report": bad}, headers=auth(deployed.keys["intake"])
        )
    assert r.status_code == 400
    assert "rejected" in caplog.text
    assert secret not in caplog.text


def test_docs_are_open_and_keyless(client: TestClient) -> None:
    assert client.get("/").status_code == 200
    assert client.get("/static_content/swagger-ui.css").status_code == 200
    assert "/score" in client.get("/docs.json").json()["paths"]
    assert client.get("/model_card").status_code == 401


def test_concurrent_single_calls_each_get_their_own_answer_and_audit_row(
    client: TestClient, deployed: Deployed
) -> None:
    """Concurrent ``/score`` calls may be scored as one batch; nothing mixes them up."""
    from concurrent.futures import ThreadPoolExecutor

    ids = [f"conc-{i}" for i in range(24)]

    def one(report_id: str) -> tuple[str, float]:
        body = {"report": submission(report_id, esp_escalated=report_id.endswith("7"))}
        r = client.post("/score", json=body, headers=auth(deployed.keys["intake"]))
        assert r.status_code == 200, r.text
        return r.json()["report_id"], r.json()["escalation_probability"]

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(one, ids))
    assert [a[0] for a in answers] == ids
    alone = client.post(
        "/score",
        json={"report": submission("conc-alone-7", esp_escalated=True)},
        headers=auth(deployed.keys["intake"]),
    ).json()["escalation_probability"]
    assert answers[7][1] == pytest.approx(alone, rel=1e-9)  # batching changes no score
    db = sqlite3.connect(deployed.state / "reports.db", isolation_level=None)
    rows = db.execute(
        "SELECT report_id, request_id FROM requests WHERE report_id LIKE 'conc-%'"
        " AND report_id != 'conc-alone-7'"
    ).fetchall()
    db.close()
    assert sorted(r[0] for r in rows) == sorted(ids)
    assert len({r[1] for r in rows}) == len(ids)  # one request id per call


def test_a_model_changed_after_registration_is_refused_and_the_old_one_kept(
    client: TestClient, deployed: Deployed, own_store: OwnStore, tmp_path: Path
) -> None:
    """The artifact checksum recorded at registration is checked at every load.

    The model broken here is a copy in the test's own store (``own_store``): the
    session's champion and its files are never touched.
    """
    from urllib.parse import urlparse

    from mlflow.tracking import MlflowClient

    admin, intake = auth(deployed.keys["admin"]), auth(deployed.keys["intake"])
    mlflow_client = MlflowClient()
    version = registry.register(own_store.run_id)
    tags = mlflow_client.get_model_version("tip-escalation", version).tags
    assert len(tags[registry.DIGEST_TAG]) == 64
    source = mlflow_client.get_model_version("tip-escalation", version).source
    folder = mlflow_client.get_logged_model(source.split("/")[-1]).artifact_location
    files = Path(urlparse(folder).path)
    assert files.is_relative_to(tmp_path)  # the copy, not the session's model
    target = next(
        p
        for p in files.rglob("*")
        if p.is_file() and p.suffix in (".txt", ".json", ".lgb", ".bin")
    )
    original = target.read_bytes()
    target.write_bytes(original + b" ")
    with pytest.raises(registry.RegistryError, match="changed after registration"):
        registry.load_model(f"models:/tip-escalation/{version}")
    registry.set_champion("tip-escalation", version)
    r = client.post("/admin/reload", json={}, headers=admin)
    assert r.status_code == 409 and "changed after registration" in r.text
    r = client.post(
        "/score", json={"report": submission("after-tamper")}, headers=intake
    )
    assert r.status_code == 200 and r.json()["model_version"] == "1"
    target.write_bytes(original)
    restored = registry.load_model(f"models:/tip-escalation/{version}")
    rows = flat_rows(5)
    pd.testing.assert_frame_equal(restored.predict(rows), own_store.model.predict(rows))
