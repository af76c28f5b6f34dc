"""The service in-process (``to_asgi()`` with a test client) and request helpers.

The champion (``deployed``) and the real server (``server``) are in
``tests/serving_fixtures.py``, shared with the browser tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from starlette.testclient import TestClient

from tests.serving_fixtures import Deployed
from training import registry

__all__ = ["Deployed", "auth", "implied_priority", "submission"]


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="session")
def client(deployed: Deployed) -> Iterator[TestClient]:
    """The in-process service, started on the session champion's store.

    Session fixtures of other folders (the model tests' store) also set
    ``MLFLOW_TRACKING_URI``; the service reads it when it starts, so it is pinned here.
    """
    from serving.service import TipScoring

    test_client = TestClient(TipScoring.to_asgi())
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", deployed.store)
        patch.setenv("TIPSCORE_STATE_DIR", str(deployed.state))
        registry.configure(deployed.store)
        test_client.__enter__()  # starts the service (reads the settings)
    try:
        yield test_client
    finally:
        test_client.__exit__(None, None, None)


def implied_priority(body: dict[str, Any]) -> int:
    """The priority a scored response's own probability and thresholds call for."""
    probability, thresholds = body["escalation_probability"], body["thresholds"]
    if probability >= thresholds["p1"]:
        return 1
    return 2 if probability >= thresholds["p2"] else 3


def submission(report_id: str, **overrides: Any) -> dict[str, Any]:
    """A JSON report as an intake system would send it (synthetic identifiers)."""
    base: dict[str, Any] = {
        "report_id": report_id,
        "incident_type": "Online Enticement of Children for Sexual Acts",
        "incident_at": "2024-06-01T10:00:00Z",
        "received_at": "2024-06-02T10:00:00Z",
        "esp": "Snapchat",
        "identifiers": {
            "accounts": [f"user-{report_id}"],
            "emails": [f"{report_id}@example.org"],
            "ips": ["203.0.113.9"],
        },
        "reported_person": {"count": 1, "esp_user_id": True, "email": True},
        "location": {"country_code": "US", "source": "supplied"},
        "files": [
            {"media_kind": "image", "viewed_by_esp": True},
            {"media_kind": "video"},
        ],
    }
    return {**base, **overrides}


@pytest.fixture(autouse=True)
def _pin_champion_store(pinned_store: Deployed) -> None:
    """Every test here talks to the session champion's store (tests/serving_fixtures.py)."""


def flat_rows(count: int) -> pd.DataFrame:
    """``count`` distinct submissions as flat rows without earlier reports.

    Hashed with a fixed test key: the rows are for scoring, not for linkage.
    """
    from features.flat import flat_frame
    from features.identifiers import IdentifierHasher, to_contract
    from features.linkage import no_history
    from features.schema import ReportSubmission

    hasher = IdentifierHasher(b"own-store-test-key-32-bytes-long")
    contracts = [
        to_contract(ReportSubmission.model_validate(submission(f"row-{i}")), hasher)
        for i in range(count)
    ]
    return flat_frame(contracts).assign(**no_history(count))


@dataclass
class OwnStore:
    """A test's own MLflow store: a run there holds a copy of the session's model."""

    uri: str
    run_id: str
    model: registry.EscalationModel


@pytest.fixture
def own_store(
    deployed: Deployed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[OwnStore]:
    """A fresh MLflow store for one test, with the session's model logged to a run in it.

    A test that moves ``champion`` or breaks a model's files does it here, so no other
    test, nor the real server, sees it. The in-process service resolves its champion
    through MLflow's process-wide tracking URI, so ``/admin/reload`` reads this store
    while the test runs; what the service already serves changes only if a reload
    succeeds (these tests make it fail).
    """
    import mlflow

    model = registry.load_model("models:/tip-escalation/1")
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    registry.configure(uri)
    with mlflow.start_run(experiment_id=registry.experiment_id("own-store")) as run:
        example = registry.pyfunc_frame(flat_rows(2))
        mlflow.set_tag("model_uri", registry.log_model(model, example))
    yield OwnStore(uri, run.info.run_id, model)
    registry.configure(deployed.store)
