"""Issue 23 (review pt 7): the loop's edges — refused requests, failures outside a step,
the challenger alias, the MLflow URI, a month served by two models."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tipscore.simulate import run
from tipscore.simulate.config import SimulateConfigError, load_simulate_config
from tipscore.simulate.loop import SimulateRequest, SimulationError, prepare
from tipscore.simulate.metrics import month_figures
from tipscore.simulate.month import MonthLog
from training.synth.config import load_config
from training.synth.generate import GenerateRequest, generate


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("loop") / "h.parquet"
    generate(
        GenerateRequest(1_000, 4, date(2024, 1, 1), date(2024, 3, 31), path, False),
        load_config(),
    )
    return path


def test_a_file_as_out_or_an_unreadable_history_is_a_clean_error(
    history: Path, tmp_path: Path
) -> None:
    cfg, text = load_simulate_config()
    out = tmp_path / "out.txt"
    out.write_text("x")
    with pytest.raises(SimulationError, match="is a file"):
        prepare(SimulateRequest(history, 1, 1, out, cfg, text))
    broken = tmp_path / "broken.parquet"
    broken.write_text("not parquet")
    with pytest.raises(SimulationError, match="cannot read"):
        prepare(SimulateRequest(broken, 1, 1, tmp_path / "new", cfg, text))


def test_analysts_decide_at_least_one_report_a_day(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text("[analysts]\ncapacity_per_day = 0\n")
    with pytest.raises(SimulateConfigError, match="capacity_per_day"):
        load_simulate_config(path)


def test_an_error_outside_a_step_names_its_month_and_the_months_skipped(
    history: Path, tmp_path: Path
) -> None:
    cfg, text = load_simulate_config()
    loop = prepare(SimulateRequest(history, 1, 2, tmp_path / "out", cfg, text))
    try:
        raise ConnectionError("the service went away")
    except ConnectionError as exc:
        run._service_failed(loop, exc, 1)
    (step,) = loop.log.failed
    assert step["month"] == "2024-03" and step["skipped_months"] == ["2024-03"]
    assert "ConnectionError" in step["traceback"]


class FakeService:
    def __init__(self, shadow: dict[str, Any]) -> None:
        self.shadow, self.reloads = shadow, 0

    def reload(self) -> dict[str, Any]:
        self.reloads += 1
        return {"model_version": "1", "shadow": self.shadow}


def test_the_challenger_alias_is_cleared_whatever_the_gates_do(
    history: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg, text = load_simulate_config()
    loop = prepare(SimulateRequest(history, 1, 2, tmp_path / "out", cfg, text))
    cleared: list[str] = []
    monkeypatch.setattr(run.registry, "clear_alias", lambda n, a: cleared.append(a))

    def broken(*_: Any) -> None:
        raise RuntimeError("no store")

    monkeypatch.setattr(run.steps, "gates", broken)
    service = FakeService({})
    with pytest.raises(RuntimeError, match="no store"):
        run._promote(loop, service, {"run_id": "r"})  # type: ignore[arg-type]
    assert cleared == ["challenger"] and service.reloads == 1


def test_a_candidate_the_service_does_not_shadow_fails_its_step(
    history: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg, text = load_simulate_config()
    loop = prepare(SimulateRequest(history, 1, 2, tmp_path / "out", cfg, text))
    cleared: list[str] = []
    monkeypatch.setattr(run.registry, "clear_alias", lambda n, a: cleared.append(a))
    monkeypatch.setattr(run.steps, "make_challenger", lambda r, n: "4")
    off = FakeService({"active": False, "reason": "challenger not loaded: boom"})
    with pytest.raises(RuntimeError, match="boom"):
        run._challenger(loop, off, "r")  # type: ignore[arg-type]
    assert cleared == ["challenger"]
    on = FakeService({"active": True, "model_version": "4"})
    assert run._challenger(loop, on, "r") == "4"  # type: ignore[arg-type]


def test_the_default_mlflow_store_is_back_after_a_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    before = run.registry.configure()  # the project's default store
    with run.mlflow_store(tmp_path) as uri:
        assert mlflow.get_tracking_uri() == uri
    assert mlflow.get_tracking_uri() == before != uri
    assert __import__("os").environ.get("MLFLOW_TRACKING_URI") != uri


def test_a_month_served_by_two_models_has_each_ones_figures() -> None:
    rows = pd.DataFrame(
        {
            "report_id": [f"r{i}" for i in range(8)],
            "escalated": [True, False, False, True, True, False, False, False],
            "p_true": [0.9, 0.1, 0.2, 0.8, 0.7, 0.1, 0.3, 0.2],
        }
    )
    log = MonthLog()
    for i in range(8):
        log.served[f"r{i}"] = (0.5 + (i % 3) / 10, 2, "1" if i < 4 else "2")
    figures = month_figures(rows, log)
    assert figures["served_by"] == ["1", "2"]
    assert set(figures["by_model"]) == {"1", "2"}
    assert figures["by_model"]["1"]["scored"] == 4 == figures["by_model"]["2"]["scored"]
    log.served = {k: (p, q, "1") for k, (p, q, _) in log.served.items()}
    assert "by_model" not in month_figures(rows, log)


def test_the_table_names_the_months_a_failure_skipped() -> None:
    from tipscore.simulate.report import markdown

    failed = {
        "month": "2024-03",
        "step": "service",
        "ok": False,
        "error": "ConnectionError: gone",
        "skipped_months": ["2024-03", "2024-04"],
    }
    text = markdown({"months": [], "failed": [failed], "seconds": 1.0})
    assert "months not simulated: 2024-03, 2024-04" in text
