"""Experiment configs: the shipped ones load; unknown keys and bad values name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.config import DEFAULT_TRAIN_CONFIG, TrainConfigError, load_train_config


def test_shipped_config_loads() -> None:
    config, text = load_train_config(DEFAULT_TRAIN_CONFIG)
    assert config.model.num_leaves == 4
    assert "early stopping" in text


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ("num_leaves = 4", "num_leaf = 4"),
            "model.num_leaf: Extra inputs are not permitted",
        ),
        (("learning_rate = 0.03", "learning_rate = -1"), "model.learning_rate"),
        (("p1_share = 0.005", "p1_share = 0.5"), "p1_share must not exceed"),
        (('method = "isotonic"', 'method = "platt"'), "calibration.method"),
    ],
)
def test_bad_config_names_the_key(
    tmp_path: Path, edit: tuple[str, str], message: str
) -> None:
    path = tmp_path / "c.toml"
    path.write_text(DEFAULT_TRAIN_CONFIG.read_text().replace(*edit))
    with pytest.raises(TrainConfigError, match=message.replace("(", r"\(")):
        load_train_config(path)
