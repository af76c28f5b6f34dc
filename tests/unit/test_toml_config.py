"""The one TOML config loader: every problem reported, each with its key, expectation and value."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from training.audit.config import AuditConfigError, load_audit_config
from training.config import DEFAULT_TRAIN_CONFIG, TrainConfigError, load_train_config
from training.synth.config import DEFAULT_CONFIG, ConfigError, load_config
from training.toml_config import ConfigFileError, load_toml_model


class _Tiny(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: int = 1


def test_a_file_with_three_mistakes_reports_all_three(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        DEFAULT_TRAIN_CONFIG.read_text()
        .replace("num_leaves = 4", "num_leaf = 4")
        .replace("learning_rate = 0.03", "learning_rate = -1")
        .replace('method = "isotonic"', 'method = "platt"')
    )
    with pytest.raises(TrainConfigError) as caught:
        load_train_config(path)
    assert sorted(caught.value.problems) == [
        "calibration.method: Input should be 'isotonic' or 'none' (got \"platt\")",
        "model.learning_rate: Input should be greater than 0 (got -1)",
        "model.num_leaf: Extra inputs are not permitted (got 4)",
    ]
    message = str(caught.value)
    assert message.startswith(f"{path}: 3 problems\n")
    assert all(f"\n  {line}" in message for line in caught.value.problems)


def test_one_mistake_stays_one_line(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("count = 'many'")
    with pytest.raises(ConfigFileError) as caught:
        load_toml_model(path, _Tiny)
    assert str(caught.value) == (
        f"{path}: count: Input should be a valid integer, unable to parse string as "
        'an integer (got "many")'
    )


def test_a_missing_key_says_so_without_a_value(tmp_path: Path) -> None:
    path = tmp_path / "g.toml"
    path.write_text(DEFAULT_CONFIG.read_text().replace("chunk_rows", "chunk_row", 1))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.problems == [
        "chunk_rows: Field required",
        "chunk_row: Extra inputs are not permitted (got 250000)",
    ]


def test_generator_reports_every_incomplete_table(tmp_path: Path) -> None:
    path = tmp_path / "g.toml"
    text = DEFAULT_CONFIG.read_text()
    path.write_text(
        text.replace("\nspam = -2.5", "\nspam_ = -2.5").replace("\nanime =", "\nanim =")
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.problems == [
        "(top level): risk: unknown keys ['spam_'], missing keys ['spam']; "
        "file_tags: unknown keys ['anim'], missing keys ['anime']"
    ]


def test_audit_errors_are_value_errors_naming_every_key(tmp_path: Path) -> None:
    path = tmp_path / "audit.toml"
    path.write_text("bootstrap = 3\nwindow = 'train'\n[[judge]]\nmetric = 'accuracy'\n")
    with pytest.raises(AuditConfigError) as caught:
        load_audit_config(path)
    assert isinstance(caught.value, ValueError)
    keys = [line.split(":")[0] for line in caught.value.problems]
    assert sorted(keys) == ["bootstrap", "judge.0.metric", "window"]


def test_unreadable_and_non_toml_files_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(TrainConfigError, match=f"cannot read config {missing}: "):
        load_train_config(missing)
    broken = tmp_path / "broken.toml"
    broken.write_text("seed = ")
    with pytest.raises(ConfigError, match=f"{broken}: not valid TOML: "):
        load_config(broken)


def test_a_long_value_is_cut(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f"count = '{'x' * 500}'")
    with pytest.raises(ConfigFileError) as caught:
        load_toml_model(path, _Tiny)
    assert caught.value.problems[0].endswith('(got "' + "x" * 56 + "...)")
