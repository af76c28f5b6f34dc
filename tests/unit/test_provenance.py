"""Training finds out whether its history is synthetic, from the dataset card or p_true."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np

from training.provenance import card_path, provenance, read_card, window_dates
from training.splits import temporal_split

CARD = """# Dataset card: synthetic report history

- **file**: history.parquet
- **rows**: 1,000
- **received**: 2023-01-01 to 2024-12-31

Synthetic data: no real report is in it.
"""


def test_the_generators_card_marks_the_history_synthetic(tmp_path: Path) -> None:
    history = tmp_path / "history.parquet"
    found = provenance(history, CARD, has_p_true=False)
    assert found.synthetic and found.tags()["synthetic"] == "true"
    assert "history.card.md" in found.tags()["synthetic_evidence"]
    assert found.card_summary["received"] == "2023-01-01 to 2024-12-31"
    assert found.card_path == str(tmp_path / "history.card.md")


def test_p_true_alone_marks_it_synthetic_and_nothing_marks_real_data() -> None:
    assert provenance(Path("h.parquet"), None, has_p_true=True).synthetic
    real = provenance(Path("h.parquet"), "# Export of 2025\n", has_p_true=False)
    assert not real.synthetic and real.tags()["synthetic"] == "false"


def test_card_lives_beside_a_file_and_inside_a_folder(tmp_path: Path) -> None:
    assert card_path(tmp_path / "x.parquet") == tmp_path / "x.card.md"
    assert card_path(tmp_path) == tmp_path / "card.md"
    title, summary = read_card(CARD)
    assert title == "Dataset card: synthetic report history"
    assert summary["rows"] == "1,000"


def test_the_real_generator_writes_a_card_training_reads(tmp_path: Path) -> None:
    from training.synth.config import load_config
    from training.synth.generate import GenerateRequest, generate

    out = tmp_path / "h.parquet"
    generate(
        GenerateRequest(2_000, 1, date(2024, 1, 1), date(2024, 3, 31), out, False),
        load_config(),
    )
    card = card_path(out)
    assert card.is_file()
    found = provenance(out, card.read_text(), has_p_true=False)
    assert found.synthetic and found.card_summary["rows"] == "2,000"


def test_window_dates_are_first_and_last_receipts() -> None:
    days = np.arange("2024-01-01", "2024-01-11", dtype="datetime64[D]")
    micros = days.astype("datetime64[us]").astype(np.int64)
    tags = window_dates(micros, temporal_split(micros, 0.2, 0.2))
    assert tags == {
        "train_window": "2024-01-01T00:00:00Z .. 2024-01-06T00:00:00Z",
        "valid_window": "2024-01-07T00:00:00Z .. 2024-01-08T00:00:00Z",
    }
