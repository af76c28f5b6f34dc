"""Every path resolves under one home, absolute, whatever the working directory.

The home is ``TIPSCORE_HOME``, else the source checkout, else the user's data folder; the
state folder, keys file, report store, HMAC secret and MLflow store default under it;
relative values are taken against the folder they are given in; ``HOME/.env`` is the one
``.env``; and nothing that only reads a store creates one.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest
from typer.testing import CliRunner

import home
from serving.intake import IntakeSettings
from serving.paths import origin
from serving.settings import ServingSettings
from tipscore.cli import app
from tipscore.locations import serve_environment
from training import registry

ROOT = Path(__file__).resolve().parents[2]
PATH_VARIABLES = (
    "TIPSCORE_HOME",
    "TIPSCORE_STATE_DIR",
    "TIPSCORE_KEYS_FILE",
    "TIPSCORE_REPORTS_DB",
    "TIPSCORE_AUDIT_LOG",
    "TIPSCORE_LINKAGE_DB",
    "TIPSCORE_HMAC_KEY_FILE",
    "TIPSCORE_XSD_PATH",
    "TIPSCORE_MODEL_URI",
    "MLFLOW_TRACKING_URI",
    "XDG_DATA_HOME",
)


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No inherited location settings; MLflow's global URIs restored afterwards."""
    for name in PATH_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    before = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    yield
    mlflow.set_tracking_uri(before[0])
    mlflow.set_registry_uri(before[1])


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory that is not the project's."""
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return cwd


def files_under(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*")) if folder.exists() else []


# --- the home ---------------------------------------------------------------------


def test_the_default_home_is_the_source_checkout_from_any_folder(
    elsewhere: Path,
) -> None:
    found = home.project_home()
    assert found.path == ROOT
    assert "source checkout" in found.source


def test_a_relative_home_is_taken_against_the_folder_it_is_given_in(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIPSCORE_HOME", "my-home")
    assert home.project_home().path == elsewhere / "my-home"
    monkeypatch.setenv("TIPSCORE_HOME", "~/x/../tips")
    assert home.project_home().path == Path.home() / "tips"


def test_an_installed_package_keeps_its_files_in_the_user_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(home, "source_checkout", lambda: None)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert home.project_home().path == tmp_path / "xdg" / "tipscore"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert home.project_home().path == Path.home() / ".local/share/tipscore"


def test_home_is_a_leaf_every_room_may_import() -> None:
    for path in (ROOT / "home").rglob("*.py"):
        tree = ast.parse(path.read_text())
        imported = {
            (node.module or "").split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
        } | {
            alias.name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        assert not imported & {"features", "training", "serving", "tipscore"}, path


# --- the settings -----------------------------------------------------------------


def test_state_paths_default_under_the_home_not_the_working_folder(
    elsewhere: Path,
) -> None:
    serving, intake = ServingSettings(), IntakeSettings()
    assert serving.state_dir == ROOT / "state"
    assert serving.keys_path == ROOT / "state" / "api_keys.json"
    assert serving.reports_path == ROOT / "state" / "reports.db"
    assert intake.key_file == ROOT / "state" / "hmac.key"
    assert origin(ServingSettings, "state_dir") is None  # the default
    assert files_under(elsewhere) == []


def test_the_home_moves_every_default(
    tmp_path: Path, elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIPSCORE_HOME", str(tmp_path / "h"))
    assert ServingSettings().reports_path == tmp_path / "h" / "state" / "reports.db"
    assert IntakeSettings().key_file == tmp_path / "h" / "state" / "hmac.key"
    assert registry.tracking_uri() == f"sqlite:///{tmp_path}/h/mlruns/mlflow.db"


def test_relative_settings_are_made_absolute_against_the_folder_given_in(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIPSCORE_STATE_DIR", "st")
    monkeypatch.setenv("TIPSCORE_XSD_PATH", "../cyber.xsd")
    settings = ServingSettings()
    assert settings.state_dir == elsewhere / "st"
    assert settings.keys_path == elsewhere / "st" / "api_keys.json"
    assert IntakeSettings().xsd_path == elsewhere.parent / "cyber.xsd"
    assert ServingSettings(reports_db=Path("r.db")).reports_path == elsewhere / "r.db"
    assert origin(ServingSettings, "state_dir") == "environment (TIPSCORE_STATE_DIR)"


def test_the_env_file_is_the_homes_and_its_paths_are_relative_to_it(
    tmp_path: Path, elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home_dir = tmp_path / "h"
    home_dir.mkdir()
    (home_dir / ".env").write_text("TIPSCORE_STATE_DIR=st\nTIPSCORE_TOP_N=7\n")
    (elsewhere / ".env").write_text("TIPSCORE_TOP_N=9\nTIPSCORE_DEV_MODE=true\n")
    monkeypatch.setenv("TIPSCORE_HOME", str(home_dir))
    settings = ServingSettings()
    assert settings.state_dir == home_dir / "st"
    assert settings.top_n == 7 and not settings.dev_mode  # the cwd's .env is ignored
    assert (
        origin(ServingSettings, "state_dir")
        == f"{home_dir / '.env'} (TIPSCORE_STATE_DIR)"
    )
    monkeypatch.setenv("TIPSCORE_STATE_DIR", "from-env")
    assert ServingSettings().state_dir == elsewhere / "from-env"  # env beats .env


# --- the MLflow store ---------------------------------------------------------------


def test_the_tracking_uri_is_absolute_from_any_folder(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert registry.tracking_uri_origin() == (
        f"sqlite:///{ROOT}/mlruns/mlflow.db",
        "default: HOME/mlruns/mlflow.db",
    )
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///ml/mlflow.db")
    assert registry.tracking_uri() == f"sqlite:///{elsewhere}/ml/mlflow.db"
    for kept in ("http://mlflow:5000", "databricks", "sqlite:///:memory:"):
        assert registry.absolute_uri(kept) == kept
    assert registry.absolute_uri("mlruns") == str(elsewhere / "mlruns")
    assert registry.store_path("http://mlflow:5000") is None
    assert registry.store_path("sqlite:////a/b.db?mode=ro") == Path("/a/b.db")


def test_reading_a_missing_store_creates_nothing(
    tmp_path: Path, elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from serving.model_holder import ModelHolder

    missing = tmp_path / "store" / "mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{missing}")
    registry.configure()
    with pytest.raises(registry.StoreMissing, match=str(missing)):
        registry.resolve_model("models:/tip-escalation@champion")
    with pytest.raises(registry.StoreMissing, match=str(missing)):
        registry.read_run("0123")
    with pytest.raises(registry.RegistryError, match="cannot load runs:/0123/model"):
        registry.load_model("runs:/0123/model")
    with pytest.raises(registry.RegistryError, match=str(missing)):
        ModelHolder("models:/tip-escalation@champion").load()  # the service's load
    assert files_under(tmp_path) == [elsewhere]


def test_training_creates_the_store_where_it_is_configured(tmp_path: Path) -> None:
    uri = registry.configure(f"sqlite:///{tmp_path}/new/mlflow.db", create=True)
    assert (tmp_path / "new").is_dir()
    registry.experiment_id("created")
    registry.require_store(uri)  # now there


# --- the commands, from another folder -------------------------------------------


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


MODEL = ["--model", "runs:/0123/model", "--data", "h.parquet"]
READERS = {
    "keys list": ["keys", "list"],
    "export-decisions": ["export-decisions", "--out", "OUT/d.parquet"],
    "promote": ["promote", "--run", "0123"],
    "audit": ["audit", *MODEL, "--out", "OUT/audit"],
    "evaluate": ["evaluate", *MODEL],
    "score": ["score", *MODEL, "--out", "OUT/scored"],
}
"""Commands that only read the state or the MLflow store (plus files they would write)."""


@pytest.mark.parametrize("name", sorted(READERS))
def test_readers_on_a_missing_store_fail_naming_it_and_create_nothing(
    name: str, tmp_path: Path, elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home_dir = tmp_path / "home"
    monkeypatch.setenv("TIPSCORE_HOME", str(home_dir))
    code, output = run(
        *[a.replace("OUT", str(tmp_path / "out")) for a in READERS[name]]
    )
    assert code != 0, output
    looked_at = (
        home_dir / "mlruns" / "mlflow.db"
        if name in {"promote", "audit", "evaluate", "score"}
        else home_dir / "state"
    )
    assert str(looked_at) in output, output
    assert files_under(tmp_path) == [elsewhere], "a reader created files"


def test_the_same_keys_and_decisions_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIPSCORE_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(ROOT)
    code, _ = run("keys", "add", "--role", "analyst", "--note", "from-root")
    assert code == 0
    _decided_store(tmp_path / "home" / "state" / "reports.db")
    from_root = run("keys", "list")
    exported_root = run("export-decisions", "--out", str(tmp_path / "a.parquet"))
    for folder in (tmp_path / "one", tmp_path / "one" / "two"):
        folder.mkdir()
        monkeypatch.chdir(folder)
        assert run("keys", "list") == from_root
        assert "from-root" in from_root[1]
        code, output = run("export-decisions", "--out", str(tmp_path / "b.parquet"))
        assert (code, output) == (0, exported_root[1].replace("a.parquet", "b.parquet"))
        assert [p for p in files_under(folder) if p.is_file()] == []


def test_promote_finds_the_homes_store_from_any_folder(
    tmp_path: Path, elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIPSCORE_HOME", str(tmp_path / "home"))
    uri = registry.configure(create=True)
    registry.experiment_id("exists")  # an initialised store, without runs
    code, output = run("promote", "--run", "0123")
    assert code == 2
    assert f"no run '0123' in {uri}" in " ".join(output.split())
    monkeypatch.chdir(ROOT)
    assert run("promote", "--run", "0123") == (code, output)
    assert files_under(elsewhere) == []


def test_info_prints_every_location_and_its_source(
    tmp_path: Path, elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIPSCORE_STATE_DIR", "st")
    monkeypatch.setenv("TIPSCORE_HOME", "ignored")  # restored after: --home sets it
    code, output = run("--home", "h", "info", "--json")
    assert code == 0, output
    found = {loc["name"]: loc for loc in json.loads(output)}
    assert found["home"]["value"] == str(elsewhere / "h")
    assert found["home"]["source"].startswith("flag (--home")
    assert found["state dir"]["value"] == str(elsewhere / "st")
    assert found["state dir"]["source"] == "environment (TIPSCORE_STATE_DIR)"
    assert found["keys file"]["value"] == str(elsewhere / "st" / "api_keys.json")
    assert found["MLflow store"]["value"] == f"sqlite:///{elsewhere}/h/mlruns/mlflow.db"
    assert found["MLflow store"]["exists"] is False
    assert files_under(elsewhere) == []
    text = run("info")[1]
    for name in ("home", "state dir", "keys file", "report store", "MLflow store"):
        assert name in text


def test_help_names_the_home_and_points_to_info() -> None:
    text = " ".join(run("--help")[1].split())
    for words in (
        "TIPSCORE_HOME",
        "HOME/state",
        "HOME/mlruns/mlflow.db",
        "tipscore info",
    ):
        assert words in text, words


def test_a_fresh_process_in_another_folder_resolves_the_same_locations(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in PATH_VARIABLES}
    env["PYTHONPATH"] = str(ROOT)
    command = [sys.executable, "-c", "from tipscore.cli import main; main()"]
    outputs = [
        subprocess.run(
            [*command, "info", "--json"],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for cwd in (ROOT, tmp_path)
    ]
    assert outputs[0] == outputs[1]
    assert json.loads(outputs[0])[0]["value"] == str(ROOT)
    assert list(tmp_path.iterdir()) == []


def test_serve_hands_its_workers_absolute_paths(elsewhere: Path) -> None:
    env = serve_environment(
        {
            "TIPSCORE_STATE_DIR": "st",
            "tipscore_keys_file": "k.json",
            "TIPSCORE_MODEL_URI": "models:/x@y",
            "TIPSCORE_TOP_N": "3",
            "MLFLOW_TRACKING_URI": "sqlite:///ml/mlflow.db",
            "PATH": "bin",
        }
    )
    assert env["TIPSCORE_HOME"] == str(ROOT)
    assert env["TIPSCORE_STATE_DIR"] == str(elsewhere / "st")
    assert env["tipscore_keys_file"] == str(elsewhere / "k.json")
    assert env["MLFLOW_TRACKING_URI"] == f"sqlite:///{elsewhere}/ml/mlflow.db"
    assert (env["TIPSCORE_MODEL_URI"], env["TIPSCORE_TOP_N"], env["PATH"]) == (
        "models:/x@y",
        "3",
        "bin",
    )


def _decided_store(path: Path) -> None:
    """A report store with one scored and decided report."""
    from features.identifiers import IdentifierHasher, to_contract
    from features.schema import ReportSubmission
    from serving.analyst.schemas import DecisionIn, Reason
    from serving.state.records import Scored
    from serving.state.store import StateStore
    from tests.factories import stored_response
    from tests.service.conftest import submission

    hasher = IdentifierHasher(b"test-secret-key-0123456789abcdef")
    body = submission("where-1", received_at="2024-12-01T10:00:00Z")
    contract = to_contract(ReportSubmission.model_validate(body), hasher)
    path.parent.mkdir(parents=True, exist_ok=True)
    store = StateStore.open(path)
    with store.transaction() as tx:
        tx.add_scored([Scored(contract, stored_response("where-1", 2), "req", None)])
    store.decide(
        DecisionIn(report_id="where-1", action="accept", reason=Reason.AGREE), "k", "A"
    )
    store.close()


def test_pinned_list_settings_read_back_in_the_worker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A list setting (registered ESP names) survives the hand-over to the worker."""
    from serving.intake import IntakeSettings

    monkeypatch.setenv("TIPSCORE_ESP_NAMES", '["Acme Chat", "Zed"]')
    pinned = IntakeSettings().as_environment()
    assert json.loads(pinned["TIPSCORE_ESP_NAMES"]) == ["Acme Chat", "Zed"]
    for name, value in pinned.items():
        monkeypatch.setenv(name, value)
    assert IntakeSettings().esp_names == ["Acme Chat", "Zed"]
