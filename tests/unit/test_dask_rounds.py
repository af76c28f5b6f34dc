"""Growing trees in rounds on Dask (``training.dask.fit.fit_booster_dask``): when it stops.

``grow_trees`` is replaced by a stand-in that adds trees as LightGBM would (or not at
all), and the validation losses are given, so every stopping path is checked without a
cluster; tests/model/test_dask.py runs the real thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from training.config import TrainConfig, load_train_config
from training.dask import fit as dask_fit


@dataclass
class Trees:
    """Stands in for a booster: only its number of trees matters here."""

    count: int

    def num_trees(self) -> int:
        return self.count


@dataclass
class Grower:
    """Adds the trees asked for, up to ``limit`` in all (LightGBM finding no split)."""

    limit: int = 10**9
    calls: list[tuple[int, int]] = field(default_factory=list)

    def __call__(
        self,
        client: Any,
        config: TrainConfig,
        data: Any,
        trees: int,
        init_model: Trees | None,
        round_index: int,
    ) -> Trees:
        self.calls.append((trees, round_index))
        before = 0 if init_model is None else init_model.count
        return Trees(min(before + trees, self.limit))


def _config(n_estimators: int, rounds: int) -> TrainConfig:
    base, _ = load_train_config()
    update = {"n_estimators": n_estimators, "early_stopping_rounds": rounds}
    return base.model_copy(update={"model": base.model.model_copy(update=update)})


def _fit(
    monkeypatch: pytest.MonkeyPatch, grower: Grower, config: TrainConfig, losses: Any
) -> tuple[int, int]:
    monkeypatch.setattr(dask_fit, "grow_trees", grower)
    booster, keep = dask_fit.fit_booster_dask(
        None, config, (None, None), lambda b: losses[: b.num_trees()]
    )
    return booster.num_trees(), keep


def test_stops_once_the_rule_has_fired(monkeypatch: pytest.MonkeyPatch) -> None:
    losses = np.r_[np.linspace(10, 1, 150), np.linspace(1.1, 5, 1000)]  # best: tree 150
    grower = Grower()
    grown, keep = _fit(monkeypatch, grower, _config(5000, 50), losses)
    assert keep == dask_fit.stopping_iteration(losses, 50) == 150
    assert grown == 200  # rounds of 100: the rule fired within the second
    assert grower.calls == [(100, 0), (100, 1)]  # each round has its own index (seeds)


def test_stops_at_n_estimators(monkeypatch: pytest.MonkeyPatch) -> None:
    grown, keep = _fit(
        monkeypatch, Grower(), _config(250, 50), np.linspace(10, 1, 1000)
    )
    assert (grown, keep) == (250, 250)


def test_stops_when_a_round_adds_no_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    """A training window too small to split: one machine stops; so must the rounds."""
    grower = Grower(limit=1)
    grown, keep = _fit(monkeypatch, grower, _config(5000, 200), np.ones(1))
    assert (grown, keep) == (1, 1)
    assert len(grower.calls) == 2


def test_rounds_after_the_first_draw_other_samples() -> None:
    """A continued fit restarts its random draws: rounds must not repeat the first's."""
    config = _config(5000, 200)
    seeds = [dask_fit.round_seeds(config, r) for r in range(3)]
    assert seeds[0] == {}
    assert len({tuple(s.values()) for s in seeds[1:]}) == 2


class _NoWorkers:
    """A client whose scheduler has no workers (nothing to quieten)."""

    def scheduler_info(self, n_workers: int = 0) -> dict[str, Any]:
        return {"workers": {}}

    def gather(self, futures: list[Any]) -> list[Any]:
        return futures


def test_each_round_is_fitted_with_its_seeds(monkeypatch: pytest.MonkeyPatch) -> None:
    """The seeds must reach LightGBM, and the previous trees must be continued."""
    import lightgbm.dask

    fitted: list[dict[str, Any]] = []

    class Classifier:
        def __init__(self, **params: Any) -> None:
            self.params = params
            self.booster_ = Trees(params["n_estimators"])

        def fit(self, x: Any, y: Any, **options: Any) -> None:
            fitted.append({**self.params, "init_model": options["init_model"]})

    monkeypatch.setattr(lightgbm.dask, "DaskLGBMClassifier", Classifier)
    config = _config(5000, 200)
    first = dask_fit.grow_trees(_NoWorkers(), config, (None, None), 200)
    dask_fit.grow_trees(_NoWorkers(), config, (None, None), 200, first, 1)
    assert "bagging_seed" not in fitted[0] and fitted[0]["init_model"] is None
    assert fitted[1]["init_model"] is first
    assert {k: fitted[1][k] for k in ("bagging_seed", "feature_fraction_seed")} == (
        dask_fit.round_seeds(config, 1)
    )
    assert fitted[1]["feature_pre_filter"] is False  # one machine's parameters
