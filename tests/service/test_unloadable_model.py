"""A model that passes its checksum but cannot be loaded (issue 18, item 6).

Its files are broken *before* it is registered, so the checksum recorded at registration
matches and only loading fails. A reload then answers 409 and keeps the old model; a
service starting with it stays up, not ready, and says why.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
from starlette.testclient import TestClient

from tests.service.conftest import Deployed, OwnStore, auth, submission
from training import registry
from training.model import CALIBRATION_FILE

pytestmark = pytest.mark.reliability  # an issue-18 regression: `make test-reliability`


def unloadable_version(own_store: OwnStore) -> str:
    """Break the own store's logged model, then register it: checksum ok, load fails."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    run = client.get_run(own_store.run_id)
    model_id = run.data.tags["model_uri"].split("/")[-1]
    folder = Path(urlparse(client.get_logged_model(model_id).artifact_location).path)
    broken = [p for p in folder.rglob("*") if p.name == CALIBRATION_FILE]
    assert broken, sorted(p.name for p in folder.rglob("*"))
    for path in broken:
        path.write_bytes(b"\x00not a model\x00")
    version = registry.register(own_store.run_id)
    with pytest.raises(Exception) as caught:  # noqa: PT011 - any error but the checksum
        registry.load_model(f"models:/tip-escalation/{version}")
    assert "changed after registration" not in str(caught.value)
    return version


def test_a_reload_of_an_unloadable_model_answers_409_and_keeps_the_old_one(
    client: TestClient, deployed: Deployed, own_store: OwnStore
) -> None:
    admin, intake = auth(deployed.keys["admin"]), auth(deployed.keys["intake"])
    version = unloadable_version(own_store)
    registry.set_champion("tip-escalation", version)
    r = client.post("/admin/reload", json={}, headers=admin)
    assert r.status_code == 409, r.text
    assert "still serving the previous model" in r.text
    assert "could not be loaded" in r.text
    r = client.post(
        "/score", json={"report": submission("after-bad-load")}, headers=intake
    )
    assert r.status_code == 200 and r.json()["model_version"] == "1"
    assert client.get("/readyz").status_code == 200


def test_a_cold_start_with_an_unloadable_model_is_not_ready_and_says_why(
    deployed: Deployed, own_store: OwnStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from serving.service import NotReady, TipScoring

    version = unloadable_version(own_store)
    monkeypatch.setenv("TIPSCORE_MODEL_URI", f"models:/tip-escalation/{version}")
    service = TipScoring.inner()  # raised before the fix: the worker crash-looped
    assert service.__is_ready__() is False
    assert service.holder.error is not None
    assert "could not be loaded" in service.holder.error
    # the open /readyz shows this reason: no path, no error text from the files
    assert re.search(r"could not be loaded \(\w+\)$", service.holder.error)
    with pytest.raises(NotReady, match="could not be loaded"):
        service._served()
