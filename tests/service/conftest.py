"""A champion trained on a small generated history, and the service around it, in-process.

The model's quality does not matter here (the model tests judge it), so 100,000 rows keep
set-up short; it is registered and made champion directly, without the gates.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from serving.keys import KeyStore, Role
from training import registry
from training.config import load_train_config
from training.synth.config import load_config
from training.synth.generate import GenerateRequest, generate
from training.train import train


@dataclass
class Deployed:
    store: str
    state: Path
    run_id: str
    keys: dict[str, str]


@pytest.fixture(scope="session")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    root = tmp_path_factory.mktemp("serving")
    patch = pytest.MonkeyPatch()
    store = f"sqlite:///{root}/mlflow.db"
    patch.setenv("MLFLOW_TRACKING_URI", store)
    patch.setenv("TIPSCORE_STATE_DIR", str(root / "state"))
    patch.setenv("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    data = root / "history.parquet"
    generate(
        GenerateRequest(
            100_000, 3, date(2023, 1, 1), date(2024, 12, 31), data, progress=False
        ),
        load_config(),
    )
    config, text = load_train_config()
    result = train(data, config, text, progress=False)
    registry.configure(store)
    registry.set_champion("tip-escalation", registry.register(result.run_id))
    keys_store = KeyStore(root / "state" / "api_keys.json")
    keys = {role.value: keys_store.add(role)[0] for role in Role}
    yield Deployed(store, root / "state", result.run_id, keys)
    patch.undo()


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="session")
def client(deployed: Deployed) -> Iterator[TestClient]:
    from serving.service import TipScoring

    with TestClient(TipScoring.to_asgi()) as test_client:
        yield test_client


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
