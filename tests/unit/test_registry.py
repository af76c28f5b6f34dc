"""The registry's one model-URI resolver and its run reads, on a throwaway MLflow store."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pytest

from serving.model_holder import _version
from training import registry
from training.registry import ModelRef, parse_model_uri, resolve_model

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Store:
    root: Path
    run_id: str
    bare_run_id: str
    logged_model_id: str


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """A run with a config and a model folder, a logged model of it, version 1 @champion."""
    before = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    registry.configure(uri)
    config = (ROOT / "training" / "configs" / "baseline.toml").read_text()
    with registry.start_run("resolver") as run_id:
        registry.log_text(config, registry.CONFIG_ARTIFACT)
        registry.log_text("placeholder", "model/MLmodel")
    with registry.start_run("resolver") as bare_run_id:
        registry.set_tags({"kind": "no config"})
    logged = mlflow.initialize_logged_model(name="model", source_run_id=run_id)
    version = mlflow.register_model(f"runs:/{run_id}/model", "tip-test").version
    registry.set_champion("tip-test", str(version))
    yield Store(tmp_path, run_id, bare_run_id, logged.model_id)
    mlflow.set_tracking_uri(before[0])
    mlflow.set_registry_uri(before[1])


def test_every_uri_form_resolves_to_its_version_and_run(store: Store) -> None:
    run = store.run_id
    alias = "models:/tip-test@champion"
    assert resolve_model(alias) == ModelRef(alias, "tip-test", "1", run)
    assert resolve_model(alias).pinned_uri == "models:/tip-test/1"
    pinned = "models:/tip-test/1"
    assert resolve_model(pinned) == ModelRef(pinned, "tip-test", "1", run)
    logged = f"models:/{store.logged_model_id}"
    assert resolve_model(logged) == ModelRef(logged, logged, "unregistered", run)
    assert resolve_model(logged).pinned_uri == logged
    by_run = f"runs:/{run}/model"
    assert resolve_model(by_run) == ModelRef(by_run, by_run, "unregistered", run)
    unknown = "models:/m-0123456789abcdef"
    assert resolve_model(unknown).run_id is None


def test_the_model_holder_and_the_audit_use_the_same_resolver(store: Store) -> None:
    from training.audit.job import _run_of

    for uri in (
        "models:/tip-test@champion",
        "models:/tip-test/1",
        f"models:/{store.logged_model_id}",
        f"runs:/{store.run_id}/model",
    ):
        ref = resolve_model(uri)
        assert _version(uri) == (ref.name, ref.version, ref.run_id), uri
        assert _run_of(uri) == ref.run_id == store.run_id, uri


def test_an_unknown_alias_or_version_is_a_registry_error(store: Store) -> None:
    with pytest.raises(registry.RegistryError, match="nope"):
        resolve_model("models:/tip-test@nope")
    with pytest.raises(registry.RegistryError):
        resolve_model("models:/tip-test/7")
    with pytest.raises(
        registry.RegistryError, match=r"cannot load models:/tip-test@nope"
    ):
        registry.load_resolved("models:/tip-test@nope")


def test_a_runs_config_is_downloaded_once(store: Store) -> None:
    config = registry.run_config(store.run_id)
    assert config is not None and config.registered_model == "tip-escalation"
    (logged,) = (store.root / "artifacts").rglob(registry.CONFIG_ARTIFACT)
    logged.unlink()  # a second download would now find nothing
    assert registry.run_config(store.run_id) == config
    assert registry.run_config(store.bare_run_id) is None


def test_reading_a_missing_run_names_it_and_the_store(store: Store) -> None:
    with pytest.raises(registry.RunUnavailable, match="no run 'nope' in sqlite") as err:
        registry.read_run("nope")
    assert err.value.code == "RESOURCE_DOES_NOT_EXIST"
    found = registry.read_run(store.bare_run_id)
    assert found.tags["kind"] == "no config" and found.start_time_ms > 0


def test_logging_to_a_finished_run(store: Store, tmp_path: Path) -> None:
    note = tmp_path / "note.json"
    note.write_text('{"flags": []}')
    registry.log_to_run(
        store.run_id, (note,), "audit", {"audit_flags": 0.0}, {"audit": "no flags"}
    )
    run = registry.read_run(store.run_id)
    assert run.metrics["audit_flags"] == 0 and run.tags["audit"] == "no flags"
    assert registry.artifact_json(store.run_id, "audit/note.json") == {"flags": []}
    assert registry.artifact_json(store.run_id, "audit/missing.json") is None


@pytest.mark.parametrize(
    ("uri", "kind", "name", "ref"),
    [
        ("runs:/abc/model", "run", "abc", ""),
        ("models:/m-abc", "logged", "m-abc", ""),
        ("models:/m-abc/", "logged", "m-abc", ""),
        ("models:/tip@champion", "alias", "tip", "champion"),
        ("models:/tip/3", "version", "tip", "3"),
        ("models:/tip", "name", "tip", ""),
        ("/tmp/model", "other", "/tmp/model", ""),
    ],
)
def test_uri_forms_are_parsed_without_mlflow(
    uri: str, kind: str, name: str, ref: str
) -> None:
    parsed = parse_model_uri(uri)
    assert (parsed.kind, parsed.name, parsed.ref) == (kind, name, ref)
    assert (parsed.pinned_version is not None) == (uri == "models:/tip/3")
