"""Issue 23 (review pt 7): the loop's edges — refused requests, failures outside a step,
the challenger alias, the MLflow URI, a month served by two models."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tipscore.simulate.config import SimulateConfigError, load_simulate_config
from tipscore.simulate.loop import SimulateRequest, SimulationError, prepare
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
