"""The served model's card says what an analyst needs: synthetic data, dates, labelled metrics.

The session champion (``deployed``) was trained on a generated history, so its card must
say so; its run logged the window dates, the provenance and the region-aware reliability
bins, and the calibration error above the P2 threshold next to the overall one.
"""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.service.conftest import Deployed, auth
from training import registry


def _card(client: TestClient, deployed: Deployed) -> dict:  # type: ignore[type-arg]
    r = client.get("/model_card", headers=auth(deployed.keys["analyst"]))
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_the_card_says_the_model_was_trained_on_synthetic_data(
    client: TestClient, deployed: Deployed
) -> None:
    data = _card(client, deployed)["training_data"]
    assert data["synthetic"] is True
    assert data["notice"].startswith("Trained on synthetic data")
    assert "history.card.md" in data["evidence"]
    assert data["dataset_card"]["rows"] == "100,000"
    assert data["dataset_card"]["received"] == "2023-01-01 to 2024-12-31"


def test_the_windows_are_dates_in_order(client: TestClient, deployed: Deployed) -> None:
    card = _card(client, deployed)
    windows = card["training_windows"]
    assert [w["window"] for w in windows] == ["train", "valid", "test"]
    dates = [d for w in windows for d in (w["from"], w["to"])]
    assert all(d and len(d) == 10 for d in dates), dates
    assert dates == sorted(dates) and dates[0].startswith("2023-01")
    assert [w["reports"] for w in windows] == [
        card["windows"]["rows"][w["window"]] for w in windows
    ]


def test_every_metric_is_labelled_and_the_top_calibration_is_logged(
    client: TestClient, deployed: Deployed
) -> None:
    card = _card(client, deployed)
    rows = {m["key"]: m for m in card["metrics"]}
    assert set(rows) == set(card["test_metrics"])
    assert rows["test_pr_auc"]["label"] == "PR-AUC (test)"
    assert "test_ece_above_p2" in card["test_metrics"]
    assert card["test_metrics"]["test_ece_above_p2"] >= 0
    assert all(m["meaning"] and m["display"] for m in card["metrics"])


def test_the_run_logged_bins_in_the_p1_and_p2_regions(
    client: TestClient, deployed: Deployed
) -> None:
    thresholds = _card(client, deployed)["thresholds"]
    bins = registry.artifact_json(deployed.run_id, "reliability_bins.json")
    assert bins is not None
    regions = {b["region"] for b in bins}
    assert {"P1", "P2", "P3"} <= regions, regions
    assert all(b["lower"] >= thresholds["p1"] for b in bins if b["region"] == "P1")
    p2 = [b for b in bins if b["region"] == "P2"]
    assert all(thresholds["p2"] <= b["mean_predicted"] < thresholds["p1"] for b in p2)
    run = registry.read_run(deployed.run_id)
    assert run.tags["synthetic"] == "true"
    assert "test_ece_above_p2" in run.metrics and "valid_ece_above_p2" in run.metrics
