"""The challenger holder's rules: when shadow scoring is off and why, and failures contained."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from serving.model_holder import Served
from serving.shadow import ShadowHolder, _unusable, default_uri


@dataclass
class FakeModel:
    feature_names: tuple[str, ...] = ("a", "b")
    fail: bool = False

    def scores(self, matrix: np.ndarray, explain: bool = False) -> Any:
        if self.fail:
            raise ValueError("booster exploded")
        assert explain is False  # the challenger is never explained
        p = np.full(len(matrix), 0.25)
        return type("S", (), {"probability": p, "priority": np.ones(len(matrix))})()


def served(version: str, run: str, model: FakeModel | None = None) -> Served:
    return Served(model or FakeModel(), "uri", "tip-escalation", version, run)  # type: ignore[arg-type]


def test_the_default_uri_is_the_champions_name_with_the_challenger_alias() -> None:
    assert default_uri(served("3", "r")) == "models:/tip-escalation@challenger"
    assert default_uri(served("unregistered", "r")) is None
    assert default_uri(None) is None


def test_a_challenger_that_is_the_champion_or_reads_other_features_is_refused() -> None:
    champion = served("3", "run-a")
    assert _unusable(served("4", "run-b"), champion) is None
    assert "champion's own model" in str(_unusable(served("3", "run-x"), champion))
    assert "champion's own model" in str(_unusable(served("5", "run-a"), champion))
    other = served("4", "run-b", FakeModel(feature_names=("a", "c")))
    assert "other features" in str(_unusable(other, champion))
    assert _unusable(served("4", "run-b"), None) == "no champion is served"


def test_an_empty_setting_turns_shadow_scoring_off_and_says_so() -> None:
    holder = ShadowHolder("  ")
    assert holder.load(served("3", "run-a")) is None
    about = holder.about()
    assert about["active"] is False
    assert "TIPSCORE_CHALLENGER_URI is empty" in about["reason"]
    assert holder.scores(np.zeros((2, 2))) is None


def test_a_failing_challenger_loses_its_batch_not_the_champions(
    caplog: pytest.LogCaptureFixture,
) -> None:
    holder = ShadowHolder(None)
    holder.current = served("4", "run-b")
    scores = holder.scores(np.zeros((3, 2)))
    assert scores is not None and scores.probability.tolist() == [0.25] * 3
    holder.current = served("4", "run-b", FakeModel(fail=True))
    assert holder.scores(np.zeros((3, 2))) is None
    assert "shadow scoring failed (ValueError)" in caplog.text
