"""Issue 23: the simulation's parts, each on its own (the loop itself: tests/model)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from features.flat import FLAT_COLUMNS, flatten
from features.identifiers import IdentifierHasher, to_contract
from features.schema import ReportSubmission
from tipscore.simulate.analysts import Decision
from tipscore.simulate.config import SimulateConfigError, load_simulate_config
from tipscore.simulate.history import known_at, months, read_history
from tipscore.simulate.month import decision_body
from tipscore.simulate.steps import StepLog
from tipscore.simulate.submissions import submission
from training.synth.config import load_config
from training.synth.generate import GenerateRequest, generate


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sim") / "h.parquet"
    generate(
        GenerateRequest(2_000, 4, date(2024, 1, 1), date(2024, 3, 31), path, False),
        load_config(),
    )
    return path


def _same(column: str, sent: object, kept: object) -> bool:
    if isinstance(sent, datetime) and isinstance(kept, datetime):
        return sent.astimezone(UTC) == kept.astimezone(UTC)
    return sent == kept


def test_a_submission_flattens_back_to_its_history_row(history: Path) -> None:
    hasher = IdentifierHasher(b"simulation-test-key-32-bytes-lng")
    for row in pq.read_table(history).to_pylist():
        contract = to_contract(ReportSubmission.model_validate(submission(row)), hasher)
        flat = flatten(contract)
        for column in FLAT_COLUMNS:
            if column.startswith("link_"):  # re-hashed: as many, as distinct
                assert len(flat[column]) == len(set(row[column])), column
            else:
                assert _same(column, flat[column], row[column]), (
                    column,
                    row["report_id"],
                )


def test_known_at_hides_labels_decided_later(history: Path) -> None:
    table = read_history(history)
    starts = months(table)
    assert [s.month for s in starts] == [1, 2, 3]
    known = known_at(table, starts[1]).to_pandas()
    full = table.to_pandas().set_index("report_id").loc[known["report_id"]]
    assert (known["received_at"] < starts[1]).all()
    late = full["decided_at"].to_numpy() >= starts[1]
    assert late.any()  # some January reports were decided in February or later
    assert not known["escalated"].to_numpy()[late].any()
    assert known["decided_at"][late].isna().all()
    early = ~late
    assert (
        known["escalated"].to_numpy()[early] == full["escalated"].to_numpy()[early]
    ).all()


def test_a_failed_step_is_kept_with_its_error() -> None:
    log = StepLog()
    assert log.run("2024-05", "works", lambda: 3) == 3

    def broken() -> None:
        raise RuntimeError("no store")

    assert log.run("2024-05", "retrain", broken) is None
    assert [s["ok"] for s in log.steps] == [True, False]
    assert log.failed[0]["error"] == "RuntimeError: no store"
    assert log.failed[0]["step"] == "retrain"


def test_blind_decisions_always_name_their_priority() -> None:
    shown = Decision("r1", 2, "referral", False, 2, False)
    assert decision_body(shown)["action"] == "accept"
    blind = Decision("r2", 2, "referral", True, 2, False)
    assert decision_body(blind) | {} == {
        "report_id": "r2",
        "designation": "referral",
        "action": "override",
        "priority": 2,
        "reason": "model_missed_context",
    }


def test_config_refuses_unknown_keys_and_resolves_paths(tmp_path: Path) -> None:
    cfg, _ = load_simulate_config()
    assert cfg.analysts.automation_bias == 0.0 and cfg.service.blind_share == 0.02
    path = tmp_path / "s.toml"
    path.write_text('[retrain]\ntrain_config = "t.toml"\n[analysts]\nnoise = 1.0\n')
    cfg, _ = load_simulate_config(path)
    assert cfg.retrain.train_config == tmp_path / "t.toml"
    path.write_text("[analysts]\ncapacity = 3\nautomation_bias = 2\n")
    with pytest.raises(SimulateConfigError) as error:
        load_simulate_config(path)
    assert "capacity" in str(error.value) and "automation_bias" in str(error.value)


def test_a_request_it_cannot_serve_is_refused(history: Path, tmp_path: Path) -> None:
    from tipscore.simulate.loop import SimulateRequest, SimulationError, prepare

    cfg, text = load_simulate_config()
    used = tmp_path / "used"
    used.mkdir()
    (used / "simulation.json").write_text("{}")
    with pytest.raises(SimulationError, match="not empty"):
        prepare(SimulateRequest(history, 1, 1, used, cfg, text))
    with pytest.raises(SimulationError, match="spans 3 months"):
        prepare(SimulateRequest(history, 2, 2, tmp_path / "new", cfg, text))
    loop = prepare(SimulateRequest(history, 2, 1, tmp_path / "new", cfg, text))
    assert [s.month for s in loop.starts] == [1, 2, 3]
    assert len(loop.truth) == 2_000


def test_a_bad_training_config_is_refused_before_anything_runs(
    history: Path, tmp_path: Path
) -> None:
    from tipscore.simulate.loop import SimulateRequest, SimulationError, prepare

    path = tmp_path / "s.toml"
    path.write_text('[retrain]\ntrain_config = "missing.toml"\n')
    cfg, text = load_simulate_config(path)
    with pytest.raises(SimulationError, match=r"missing\.toml"):
        prepare(SimulateRequest(history, 1, 1, tmp_path / "out", cfg, text))
    assert not (tmp_path / "out").exists()


def test_a_simulated_generator_escalation_reaches_training_only_if_decided(
    history: Path,
) -> None:
    """Reports of the simulated months carry the analysts' labels, never the generator's."""
    import pyarrow as pa

    from training.data import with_decisions

    table = read_history(history)
    starts = months(table)
    end = datetime(2024, 4, 1, tzinfo=UTC)
    known = known_at(table, end, None, starts[1])
    frame = known.to_pandas()
    simulated = (frame["received_at"] >= starts[1]).to_numpy()
    assert simulated.any() and (~simulated).any()
    assert not frame["escalated"].to_numpy()[simulated].any()
    assert frame["decided_at"][simulated].isna().all()
    assert frame["escalated"].to_numpy()[~simulated].any()  # the known history kept
    generated = table.to_pandas()
    escalated = generated[
        (generated["received_at"] >= starts[1]) & generated["escalated"]
    ]["report_id"].tolist()
    assert len(escalated) >= 2
    decided = table.filter(pa.array(generated["report_id"].isin(escalated[:1])))
    decided = decided.append_column(
        "suggested_priority", pa.array([2] * len(decided), pa.int64())
    )
    combined = with_decisions(known, [decided]).to_pandas().set_index("report_id")
    assert combined.loc[escalated[:1], "escalated"].all()
    assert not combined.loc[escalated[1:], "escalated"].any()


def test_the_service_reads_no_project_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A project's .env or TIPSCORE_* variables never point the service elsewhere."""
    import os

    from serving.intake import IntakeSettings
    from serving.settings import ServingSettings
    from tipscore.simulate.service import service_env

    project = tmp_path / "project"
    project.mkdir()
    real = tmp_path / "real"
    (project / ".env").write_text(
        f"TIPSCORE_REPORTS_DB={real / 'reports.db'}\n"
        f"TIPSCORE_KEYS_FILE={real / 'keys.json'}\n"
        f"TIPSCORE_HMAC_KEY_FILE={real / 'hmac.key'}\n"
        "TIPSCORE_CHALLENGER_URI=\n"
        "TIPSCORE_MAX_BATCH=10\n"
    )
    monkeypatch.setenv("TIPSCORE_HOME", str(project))
    monkeypatch.setenv("TIPSCORE_AUDIT_LOG", str(real / "audit.db"))
    state = tmp_path / "out" / "state"
    env = service_env(state, "sqlite:///x.db", 0.1, "tip-escalation", 500)
    for name in [k for k in os.environ if k.startswith("TIPSCORE_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    serving, intake = ServingSettings(), IntakeSettings()
    paths = [
        serving.state_dir,
        serving.keys_path,
        serving.audit_path,
        serving.linkage_path,
        serving.reports_path,
        intake.state_dir,
        intake.key_file,
    ]
    assert all(p == state or p.parent == state for p in paths), paths
    assert serving.challenger_uri == "models:/tip-escalation@challenger"
    assert serving.model_uri == "models:/tip-escalation@champion"
    assert serving.max_batch >= 500
    # a history's receipt times are replayed, and may lie ahead of today
    assert serving.refuse_future_receipts is False
    assert ServingSettings.model_fields["refuse_future_receipts"].default is True
