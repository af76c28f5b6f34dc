"""A challenger in the shadows (issue 20, point 3): scored, stored, never returned.

A store of the test's own holds the session's model twice: version 1 as champion and a copy
with other thresholds (more reports at priority 1) as version 2, the ``challenger``. Two
services score the same reports into fresh state folders, one with the challenger and one
without: the responses are equal, and every report scored with it has both answers stored.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from features.identifiers import to_contract
from features.schema import ReportSubmission
from tests.service.conftest import Deployed, OwnStore, auth, flat_rows, submission
from training import registry

NAME = "tip-escalation"


@dataclasses.dataclass
class TwoModels:
    uri: str
    champion_run: str
    challenger_run: str


def _log(model: registry.EscalationModel, experiment: str) -> str:
    import mlflow

    with mlflow.start_run(experiment_id=registry.experiment_id(experiment)) as run:
        example = registry.pyfunc_frame(flat_rows(2))
        mlflow.set_tag("model_uri", registry.log_model(model, example))
    return str(run.info.run_id)


@pytest.fixture(scope="module")
def two_models(
    deployed: Deployed, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TwoModels]:
    """Champion v1 and a challenger v2 (thresholds lowered: more priority 1)."""
    root = tmp_path_factory.mktemp("shadow-store")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", deployed.store)
        registry.configure(deployed.store)
        model = registry.load_model(f"models:/{NAME}/1")
        uri = f"sqlite:///{root}/mlflow.db"
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        registry.configure(uri)
        policy = dataclasses.replace(
            model.policy,
            p1_threshold=model.policy.p2_threshold,
            p2_threshold=model.policy.p2_threshold / 2,
        )
        bolder = dataclasses.replace(model, policy=policy)
        champion_run, challenger_run = _log(model, "shadow"), _log(bolder, "shadow")
        registry.set_champion(NAME, registry.register(champion_run))
        registry.set_alias(NAME, registry.CHALLENGER, registry.register(challenger_run))
        yield TwoModels(uri, champion_run, challenger_run)
    registry.configure(deployed.store)


def _service(
    two: TwoModels, state: Path, monkeypatch: pytest.MonkeyPatch, **env: str
) -> Any:
    from serving.service import TipScoring

    monkeypatch.setenv("MLFLOW_TRACKING_URI", two.uri)
    monkeypatch.setenv("TIPSCORE_STATE_DIR", str(state))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    registry.configure(two.uri)
    return TipScoring.inner()


def _reports(count: int) -> list[dict[str, Any]]:
    """Varied reports, some of them linked to each other through an account."""
    kinds = ["Online Enticement of Children for Sexual Acts", "Child Sex Trafficking"]
    return [
        submission(
            f"shadow-{i}",
            incident_type=kinds[i % 2],
            esp=["Snapchat", "LinkESP", "Caf\u00e9 Chat"][i % 3],
            identifiers={"accounts": [f"user-{i % 7}"], "ips": [f"203.0.113.{i}"]},
            files=[{"media_kind": "image", "viewed_by_esp": i % 4 != 0}] * (1 + i % 3),
        )
        for i in range(count)
    ]


def _score_all(service: Any, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Score as the routes do: one batch call, then single calls (the batcher's path)."""
    from serving.service import Job

    contracts = [
        to_contract(ReportSubmission.model_validate(b), service.hasher) for b in bodies
    ]
    half = len(contracts) // 2
    jobs = [
        Job(c, "test", "/score_batch", request_id="batch") for c in contracts[:half]
    ]
    out = service._score_jobs(jobs)
    for contract in contracts[half:]:
        out += service._score_jobs([Job(contract, "test", "/score")])
    return [r.model_dump() for r in out]


def test_a_challenger_is_stored_beside_the_champion_and_never_answers(
    two_models: TwoModels, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bodies = _reports(24)
    shadowing = _service(two_models, tmp_path / "with", monkeypatch)
    about = shadowing.shadow.about()
    assert about["active"] is True, about
    assert (about["model_version"], about["run_id"]) == ("2", two_models.challenger_run)
    with_challenger = _score_all(shadowing, bodies)
    alone = _service(
        two_models, tmp_path / "alone", monkeypatch, TIPSCORE_CHALLENGER_URI=""
    )
    assert alone.shadow.about()["active"] is False
    assert "TIPSCORE_CHALLENGER_URI is empty" in alone.shadow.about()["reason"]
    assert with_challenger == _score_all(alone, bodies)  # the same answers, exactly
    assert alone.state.shadowed("0", "9") == []

    rows = shadowing.state.shadowed("0", "9")
    assert sorted(r["report_id"] for r in rows) == sorted(
        b["report_id"] for b in bodies
    )
    by_id = {r["report_id"]: r for r in with_challenger}
    for row in rows:
        answer = by_id[row["report_id"]]
        assert row["champion_version"] == f"{NAME}/1"
        assert row["challenger_version"] == f"{NAME}/2"
        assert row["challenger_run_id"] == two_models.challenger_run
        assert row["champion_priority"] == answer["suggested_priority"]
        assert row["champion_probability"] == answer["escalation_probability"]
        # the same calibrated probability, its own (lower) thresholds
        assert row["challenger_probability"] == pytest.approx(
            row["champion_probability"]
        )
        assert row["challenger_priority"] <= row["champion_priority"]
        assert row["decision_priority"] is None
    assert any(r["challenger_priority"] < r["champion_priority"] for r in rows)
    _compare_writes_its_report(tmp_path, len(bodies))
    assert shadowing.state.shadow_challengers() == [
        {
            "challenger_version": f"{NAME}/2",
            "challenger_run_id": two_models.challenger_run,
            "answers": len(bodies),
        }
    ]


def _compare_writes_its_report(tmp_path: Path, reports: int) -> None:
    """``tipscore compare`` on what the service kept: every report, its changes listed."""
    from tipscore.shadow_state import CompareRequest, run_compare

    db = tmp_path / "with" / "reports.db"
    result, paths = run_compare(CompareRequest(db, tmp_path / "compare"))
    assert result["reports"] == reports
    assert result["challenger"] == f"{NAME}/2"
    assert result["changed"] > 0  # the bolder thresholds moved some reports up
    assert all(p.stat().st_size > 0 for p in paths.values())
    changed = paths["csv"].read_text().splitlines()
    assert len(changed) == result["changed"] + 1  # a header, then one line per change


def test_a_challenger_that_cannot_load_leaves_the_champion_serving(
    two_models: TwoModels, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = _service(
        two_models,
        tmp_path / "state",
        monkeypatch,
        TIPSCORE_CHALLENGER_URI="runs:/0123456789abcdef0123456789abcdef/model",
    )
    assert service.__is_ready__() is True
    about = service.shadow.about()
    assert about["active"] is False and "challenger not loaded" in about["reason"]
    out = _score_all(service, _reports(2))
    assert [r["model_version"] for r in out] == ["1", "1"]
    assert service.state.shadowed("0", "9") == []


def test_the_model_card_and_reload_say_why_nothing_is_shadowed(
    client: TestClient, deployed: Deployed
) -> None:
    """The session champion has no challenger alias: shadow scoring is off, and why."""
    card = client.get("/model_card", headers=auth(deployed.keys["intake"])).json()
    assert card["shadow"]["active"] is False
    assert f"models:/{NAME}@challenger" in card["shadow"]["reason"]
    r = client.post("/admin/reload", json={}, headers=auth(deployed.keys["admin"]))
    assert r.status_code == 200, r.text
    assert r.json()["shadow"]["active"] is False
    assert client.get("/readyz").status_code == 200


def test_the_challenger_command_registers_a_run_and_moves_the_alias(
    own_store: OwnStore,
) -> None:
    from typer.testing import CliRunner

    from tipscore.cli import app

    runner = CliRunner()
    done = runner.invoke(app, ["challenger", "--run", own_store.run_id])
    assert done.exit_code == 0, done.output
    ref = registry.resolve_model(f"models:/{NAME}@challenger")
    assert ref.run_id == own_store.run_id
    assert f"version {ref.version}: challenger" in done.stdout
    registry.load_model(ref.pinned_uri)  # registered with its checksum: loadable
    cleared = runner.invoke(app, ["challenger", "--clear"])
    assert cleared.exit_code == 0 and "removed" in cleared.stdout
    again = runner.invoke(app, ["challenger", "--clear"])
    assert again.exit_code == 0 and "no challenger alias" in again.stdout
    assert runner.invoke(app, ["challenger"]).exit_code == 2
