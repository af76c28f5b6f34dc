"""Model shape vs quality vs explanation cost: the trade-off behind the default shape.

Issue 6: exact TreeSHAP costs ~ trees × leaves × depth², so the shape is chosen with the
serving budget in mind (one report scored and explained p50 ≤ 10 ms at the service, 1,000
in ≤ 1 s). On one fixed synthetic history, each shape is fitted by the project's own path
(the train config as `tipscore train` loads it, only the shape keys overridden, then
`training.fit.fit_model`; no MLflow) and measured: trees kept, leaves and depth grown,
test PR-AUC and its ratio to the oracle's as `train.py` computes them, a paired-bootstrap
interval of the PR-AUC difference to the default shape, and the time of scoring, of
TreeSHAP (`pred_contrib` on numpy rows, as `serving/scoring.py` does) and of both, for one
report and for 1,000. Timing runs after all fits, in rounds that visit every shape in turn,
so load from other processes falls on all shapes alike.

Run: .venv/bin/python benchmarks/shape_bench.py [--rows 300000 | --data PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import write_section

from training.config import DEFAULT_TRAIN_CONFIG, TrainConfig, load_train_config
from training.data import History, load_history
from training.evaluate import model_metrics, model_probabilities, oracle_comparison
from training.fit import fit_model
from training.metrics import pr_auc
from training.model import EscalationModel
from training.splits import Split, temporal_split
from training.synth.config import load_config
from training.synth.generate import GenerateRequest, generate

SECTION = "Model shape vs explanation cost (issue 6)"
BUDGET_ONE_MS, BUDGET_BATCH_MS = 10.0, 1000.0
DEFAULT_SHAPES = "4/2/0.1,4/2/0.03,8/3/0.03,15/4/0.03,31/-1/0.03,31/-1/0.01"
COMMAND = shlex.join(["python", "benchmarks/shape_bench.py", *sys.argv[1:]])
KINDS = ("predict_1", "shap_1", "both_1", "shap_1000", "both_1000")
STARTED = time.perf_counter()


@dataclass(frozen=True)
class Shape:
    """The overridden `[model]` keys: num_leaves / max_depth / learning_rate."""

    leaves: int
    depth: int
    rate: float

    @property
    def label(self) -> str:
        depth = "any" if self.depth < 0 else str(self.depth)
        return f"{self.leaves} / {depth} / {self.rate:g}"


def parse_shapes(text: str) -> list[Shape]:
    """``"4/2/0.03,8/3/0.03"`` → shapes (max_depth -1 is unlimited)."""
    shapes = []
    for item in text.split(","):
        try:
            leaves, depth, rate = item.split("/")
            shapes.append(Shape(int(leaves), int(depth), float(rate)))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"shape {item!r}: expected LEAVES/DEPTH/RATE, e.g. 4/2/0.03"
            ) from None
    return shapes


def note(message: str) -> None:
    """Progress on stderr, with the time since start."""
    print(f"[{time.perf_counter() - STARTED:5.0f} s] {message}", file=sys.stderr)


def tree_shape(booster: Any) -> tuple[float, int, int]:
    """Mean and largest leaves per tree, and the deepest leaf (edges from the root)."""
    leaves, depth = [], 0
    for tree in booster.dump_model()["tree_info"]:
        stack, count = [(tree["tree_structure"], 0)], 0
        while stack:
            node, level = stack.pop()
            if "split_index" not in node:
                count, depth = count + 1, max(depth, level)
            else:
                stack += [
                    (node["left_child"], level + 1),
                    (node["right_child"], level + 1),
                ]
        leaves.append(count)
    return float(np.mean(leaves)), max(leaves), depth


def load(args: argparse.Namespace) -> History:
    """The fixed history: ``--data``, or ``--rows`` generated with ``--seed``."""
    if args.data is not None:
        note(f"loading {args.data}")
        return load_history(args.data)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "history.parquet"
        note(f"generating {args.rows:,} reports (seed {args.seed})")
        request = GenerateRequest(
            args.rows, args.seed, date(2023, 1, 1), date(2024, 12, 31), path, False
        )
        generate(request, load_config())
        note("loading the history (validation, linkage features, matrix)")
        return load_history(path)


def shaped(config: TrainConfig, shape: Shape) -> TrainConfig:
    """The loaded config with only the shape keys replaced (validated again)."""
    model = config.model.model_dump() | {
        "num_leaves": shape.leaves,
        "max_depth": shape.depth,
        "learning_rate": shape.rate,
    }
    return TrainConfig.model_validate(config.model_dump() | {"model": model})


def fit(
    config: TrainConfig, shape: Shape, history: History, split: Split
) -> tuple[EscalationModel, dict[str, Any]]:
    """Fit one shape as training does; the model and its quality figures."""
    x, y = history.matrix, history.labels
    started = time.perf_counter()
    model = fit_model(
        shaped(config, shape),
        (x[split.train], y[split.train]),
        (x[split.valid], y[split.valid]),
    )
    fit_s = time.perf_counter() - started
    test = model_metrics(model, history, split.test, config)
    oracle, ratios = oracle_comparison(
        model, history, split.test, config, thresholds_from=split.valid
    )
    mean_leaves, max_leaves, depth = tree_shape(model.booster)
    return model, {
        "shape": asdict(shape),
        "trees": model.booster.num_trees(),
        "mean_leaves": mean_leaves,
        "max_leaves": max_leaves,
        "max_depth": depth,
        "test_pr_auc": test["pr_auc"],
        "test_positives": test["positives"],
        "oracle_pr_auc": oracle.get("pr_auc", float("nan")),
        "ratio_to_oracle": ratios.get("pr_auc_ratio_to_oracle", float("nan")),
        "fit_s": fit_s,
    }


def serving_calls(
    model: EscalationModel, one: np.ndarray, batch: np.ndarray
) -> dict[str, Callable[[], object]]:
    """What the service does with numpy rows: score, TreeSHAP, or both (``KINDS``)."""

    def score(x: np.ndarray) -> object:
        return model.scores(x).probability

    def both(x: np.ndarray) -> object:
        return model.scores(x, explain=True)

    return {
        "predict_1": lambda: score(one),
        "shap_1": lambda: model.contributions(one),
        "both_1": lambda: both(one),
        "shap_1000": lambda: model.contributions(batch),
        "both_1000": lambda: both(batch),
    }


def time_models(
    models: list[EscalationModel], test_x: np.ndarray, rounds: int, calls: int
) -> list[dict[str, list[list[float]]]]:
    """Milliseconds of every call, per model and kind, as ``[round][call]``."""
    one = np.ascontiguousarray(test_x[:1])
    batch = np.ascontiguousarray(test_x[:1000])
    plans = [serving_calls(model, one, batch) for model in models]
    for plan in plans:  # warm-up
        for call in plan.values():
            call()
    times: list[dict[str, list[list[float]]]] = [{k: [] for k in KINDS} for _ in plans]
    for r in range(rounds):
        note(f"timing round {r + 1}/{rounds} over all shapes")
        for plan, store in zip(plans, times, strict=True):
            for kind, call in plan.items():
                seconds = []
                for _ in range(calls if kind.endswith("_1") else 1):
                    started = time.perf_counter()
                    call()
                    seconds.append((time.perf_counter() - started) * 1000)
                store[kind].append(seconds)
    return times


def summarise(times: dict[str, list[list[float]]]) -> dict[str, float]:
    """Per kind: the best round's median and the median of all calls."""
    out = {}
    for kind, rounds in times.items():
        out[f"{kind}_ms"] = min(statistics.median(r) for r in rounds)
        out[f"{kind}_all_ms"] = statistics.median(t for r in rounds for t in r)
    return out


def paired_interval(
    labels: np.ndarray, base: np.ndarray, other: np.ndarray, draws: int
) -> tuple[float, float]:
    """90% paired-bootstrap interval of PR-AUC(other) - PR-AUC(base) (fixed seed)."""
    rng = np.random.default_rng(0)
    deltas = []
    for _ in range(draws):
        rows = rng.integers(0, len(labels), len(labels))
        deltas.append(
            pr_auc(labels[rows], other[rows]) - pr_auc(labels[rows], base[rows])
        )
    low, high = np.nanpercentile(deltas, [5, 95])
    return float(low), float(high)


def table(rows: list[dict[str, Any]], default: int) -> str:
    """The markdown table, one line per shape."""
    lines = [
        "| leaves / depth / learning rate | trees kept | leaves per tree (mean, max) "
        "| deepest leaf | test PR-AUC | ÷ oracle | Δ PR-AUC vs default (90% CI) "
        "| predict, 1 | TreeSHAP, 1 | score + explain, 1 (all calls) "
        "| TreeSHAP, 1,000 | score + explain, 1,000 (all calls) | fit |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for i, r in enumerate(rows):
        name = Shape(**r["shape"]).label + (" **(default)**" if i == default else "")
        low, high = r["delta_ci"]
        delta = "–" if i == default else f"{low:+.3f} … {high:+.3f}"
        lines.append(
            f"| {name} | {r['trees']} | {r['mean_leaves']:.1f}, {r['max_leaves']} "
            f"| {r['max_depth']} | {r['test_pr_auc']:.4f} | {r['ratio_to_oracle']:.3f} "
            f"| {delta} | {r['predict_1_ms']:.3f} ms | {r['shap_1_ms']:.3f} ms "
            f"| {r['both_1_ms']:.3f} ms ({r['both_1_all_ms']:.3f} ms) "
            f"| {r['shap_1000_ms']:.0f} ms "
            f"| {r['both_1000_ms']:.0f} ms ({r['both_1000_all_ms']:.0f} ms) "
            f"| {r['fit_s']:.0f} s |"
        )
    return "\n".join(lines)


def named(rows: list[dict[str, Any]]) -> str:
    """``"2 (4 / 2 / 0.1, 8 / 3 / 0.03)"``, or ``"none"``."""
    if not rows:
        return "none"
    return f"{len(rows)} ({', '.join(Shape(**r['shape']).label for r in rows)})"


def verdict(rows: list[dict[str, Any]], default: int) -> str:
    """Sentences on the default shape against the budget and the others, from these figures."""
    d = rows[default]
    costly = max(rows, key=lambda r: r["both_1000_ms"])
    others = [r for i, r in enumerate(rows) if i != default]
    best = max(rows, key=lambda r: r["test_pr_auc"])
    return (
        f"The default config uses {Shape(**d['shape']).label}: early stopping kept "
        f"{d['trees']} trees, none deeper than {d['max_depth']}, so scoring and "
        f"explaining one report costs the model {d['both_1_ms']:.2f} ms in-process "
        f"(best round; median of all calls {d['both_1_all_ms']:.2f} ms, "
        f"{100 * d['both_1_all_ms'] / BUDGET_ONE_MS:.0f}% of the 10 ms p50 budget) and "
        f"1,000 reports {d['both_1000_ms']:.0f} ms ({d['both_1000_all_ms']:.0f} ms, "
        f"{100 * d['both_1000_all_ms'] / BUDGET_BATCH_MS:.0f}% of the 1 s budget), "
        f"leaving the rest for HTTP, validation, the rules and the audit write; "
        + (
            "it is the most expensive shape here. "
            if costly is d
            else f"the most expensive shape here ({Shape(**costly['shape']).label}, "
            f"{costly['trees']} trees) needs {costly['both_1_ms']:.2f} ms for one and "
            f"{costly['both_1000_ms']:.0f} ms for 1,000. "
        )
        + f"The default's test PR-AUC is {d['test_pr_auc']:.4f} ({d['ratio_to_oracle']:.3f} of the "
        f"oracle's; best of the {len(rows)}: {Shape(**best['shape']).label} at "
        f"{best['test_pr_auc']:.4f}); against it, "
        f"{named([r for r in others if r['delta_ci'][1] < 0])} of the other "
        f"{len(others)} shapes score lower with the whole 90% paired-bootstrap interval "
        f"below zero, {named([r for r in others if r['delta_ci'][0] > 0])} higher with "
        f"it above, and the rest differ by less than this test window can resolve."
    )


def stalls(rows: list[dict[str, Any]]) -> str:
    """How many single-report timing rounds ran ≥ 10× slower than their best round."""
    slow, total = [], 0
    for r in rows:
        for kind in KINDS[:3]:
            for calls in r["rounds_ms"][kind]:
                total += 1
                median = statistics.median(calls)
                if median > max(2.0, 10 * r[f"{kind}_ms"]):
                    slow.append(median)
    if not slow:
        return f"None of the {total} rounds of single-report calls stalled."
    return (
        f"{len(slow)} of the {total} rounds of single-report calls ran at ≥ 10× their "
        f"shape's best round (round medians {min(slow):.1f}–{max(slow):.1f} ms, on "
        f"cheap and expensive shapes alike): the other work on the 2 cores, not the "
        f"shape, which is why the table leads with the best round."
    )


def body(rows: list[dict[str, Any]], default: int, facts: dict[str, Any]) -> str:
    """The RESULTS.md section text."""
    windows = ", ".join(f"{k} {v:,}" for k, v in facts["sizes"].items())
    return f"""
{facts["source"]}; the train config `{facts["config"]}` as `tipscore train` loads it, with
only `num_leaves / max_depth / learning_rate` changed (depth "any" = -1), fitted by
`training.fit.fit_model` (early stopping on validation log-loss, isotonic calibration);
metrics on the test window as `train.py` computes them (rows: {windows};
{rows[default]["test_positives"]:.0f} escalations in the test window; oracle = `p_true`,
test PR-AUC {rows[default]["oracle_pr_auc"]:.4f}). Timing: numpy rows in, LightGBM exact
TreeSHAP (`pred_contrib`) as `serving/scoring.py` computes it, "score" = raw score +
calibration; {facts["rounds"]} rounds, each visiting every shape ({facts["calls"]} calls
for one report, 1 call for 1,000). Each cell is the best round's median; in brackets, the
median of all calls. Measured on 2 cores (1-minute load average
{facts["load"][0]:.1f} at the start, {facts["load"][1]:.1f} at the end); fit times
especially depend on that load.

{table(rows, default)}

{verdict(rows, default)}

{stalls(rows)} Whole run (generation, loading, fits, timing, bootstrap): {facts["seconds"]:.0f} s.
"""


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--rows", type=int, default=300_000, help="reports to generate")
    source.add_argument("--data", type=Path, help="an existing history instead")
    parser.add_argument("--seed", type=int, default=1, help="generator seed")
    parser.add_argument("--config", type=Path, default=DEFAULT_TRAIN_CONFIG)
    parser.add_argument("--shapes", type=parse_shapes, default=DEFAULT_SHAPES)
    parser.add_argument("--rounds", type=int, default=5, help="timing rounds")
    parser.add_argument("--calls", type=int, default=40, help="1-report calls a round")
    parser.add_argument("--bootstrap", type=int, default=200, help="bootstrap draws")
    parser.add_argument("--out", type=Path, help="also write the raw figures as JSON")
    parser.add_argument("--no-write", action="store_true", help="skip RESULTS.md")
    return parser.parse_args()


def fit_all(
    config: TrainConfig, shapes: list[Shape], history: History, split: Split
) -> tuple[list[EscalationModel], list[dict[str, Any]]]:
    """Fit every shape in turn, with progress."""
    models, rows = [], []
    for shape in shapes:
        note(f"fitting {shape.label}")
        model, figures = fit(config, shape, history, split)
        models.append(model)
        rows.append(figures)
        note(json.dumps({k: v for k, v in figures.items() if k != "shape"}))
    return models, rows


def compare(
    models: list[EscalationModel],
    rows: list[dict[str, Any]],
    default: int,
    history: History,
    split: Split,
    draws: int,
) -> None:
    """Add each shape's paired-bootstrap interval of PR-AUC minus the default's."""
    note(f"bootstrap ({draws} draws per shape)")
    labels = history.labels[split.test]
    base = model_probabilities(models[default], history, split.test)
    for i, (r, model) in enumerate(zip(rows, models, strict=True)):
        other = model_probabilities(model, history, split.test)
        r["delta_ci"] = (
            (0.0, 0.0) if i == default else paired_interval(labels, base, other, draws)
        )


def main() -> None:
    args = parse_args()
    load_start = os.getloadavg()[0]
    config, _ = load_train_config(args.config)
    m = config.model
    current = Shape(m.num_leaves, m.max_depth, m.learning_rate)
    shapes = args.shapes if current in args.shapes else [current, *args.shapes]
    default = shapes.index(current)
    history = load(args)
    split = temporal_split(
        history.micros, config.split.valid_fraction, config.split.test_fraction
    )
    models, rows = fit_all(config, shapes, history, split)
    times = time_models(models, history.matrix[split.test], args.rounds, args.calls)
    for r, t in zip(rows, times, strict=True):
        r |= summarise(t) | {"rounds_ms": t}
    compare(models, rows, default, history, split, args.bootstrap)
    facts = {
        "source": f"History `{args.data}`"
        if args.data
        else f"One synthetic history of {args.rows:,} reports, generator seed {args.seed}",
        "config": os.path.relpath(args.config),
        "sizes": split.sizes(),
        "rounds": args.rounds,
        "calls": args.calls,
        "load": (load_start, os.getloadavg()[0]),
        "seconds": time.perf_counter() - STARTED,
    }
    text = body(rows, default, facts)
    if args.out:
        args.out.write_text(json.dumps(rows, indent=2))
    if args.no_write:
        print(text)
    else:
        write_section(SECTION, COMMAND, text)


if __name__ == "__main__":
    main()
