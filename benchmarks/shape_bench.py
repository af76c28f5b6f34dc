"""Model shape vs quality vs explanation cost: the trade-off behind the default shape.

Issue 6: explanation cost grows with trees × leaves × depth², so the model's shape is
chosen with the serving budget in mind (one report scored and explained p50 ≤ 10 ms, a
1,000-report batch ≤ 1 s). This trains the model at several shapes on one history with the
project's own training path (`training.model.fit_model`: early stopping, calibration,
thresholds) and measures, per shape: trees kept, test PR-AUC and its ratio to the oracle's
(`p_true`), and the time of exact TreeSHAP (LightGBM `pred_contrib`, as served) for one
report and for 1,000.

Run: .venv/bin/python benchmarks/shape_bench.py [--data PATH | --rows 400000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import write_section

from training.config import load_train_config
from training.data import load_history
from training.metrics import pr_auc
from training.model import fit_model
from training.splits import temporal_split
from training.synth.config import load_config
from training.synth.generate import GenerateRequest, generate

SHAPES = [  # (leaves, depth, learning rate): the default is 4 / 2 / 0.03
    (2, 1, 0.05),
    (4, 2, 0.03),
    (8, 3, 0.03),
    (15, 4, 0.03),
    (31, 5, 0.03),
    (63, 6, 0.03),
]


def median_ms(call: Callable[[], object], repeats: int) -> float:
    """Median milliseconds of ``repeats`` calls."""
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--rows", type=int, default=400_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data
        if data is None:
            data = Path(tmp) / "history.parquet"
            generate(
                GenerateRequest(
                    args.rows,
                    1,
                    date(2023, 1, 1),
                    date(2024, 12, 31),
                    data,
                    progress=False,
                ),
                load_config(),
            )
        history = load_history(data)
    config, _ = load_train_config()
    split = temporal_split(
        history.micros, config.split.valid_fraction, config.split.test_fraction
    )
    x, y = history.matrix, history.labels
    test_x, test_y = x[split.test], y[split.test]
    assert history.p_true is not None
    oracle = pr_auc(test_y, history.p_true[split.test])
    one, batch = test_x[:1], test_x[:1000]
    rows = []
    for leaves, depth, rate in SHAPES:
        shaped = config.model_copy(
            update={
                "model": config.model.model_copy(
                    update={
                        "num_leaves": leaves,
                        "max_depth": depth,
                        "learning_rate": rate,
                    }
                )
            }
        )
        started = time.perf_counter()
        model = fit_model(
            shaped, (x[split.train], y[split.train]), (x[split.valid], y[split.valid])
        )
        fit = time.perf_counter() - started
        booster = model.booster
        quality = pr_auc(test_y, model.raw_scores(test_x))
        shap_one = median_ms(partial(booster.predict, one, pred_contrib=True), 200)
        shap_batch = median_ms(partial(booster.predict, batch, pred_contrib=True), 5)
        predict_one = median_ms(partial(model.raw_scores, one), 200)
        rows.append(
            f"| {leaves} / {depth} / {rate} | {booster.num_trees()} | {quality:.4f} | "
            f"{quality / oracle:.3f} | {predict_one:.2f} ms | {shap_one:.2f} ms | "
            f"{shap_batch:.0f} ms | {fit:.0f} s |"
        )
        print(rows[-1], flush=True)
    body = f"""
One synthetic history ({len(y):,} reports, seed 1 unless `--data`), the default config
(`training/configs/baseline.toml`) with only the tree shape changed; early stopping chooses
the number of trees. Oracle PR-AUC on the test window: {oracle:.4f}. TreeSHAP is LightGBM's
exact `pred_contrib`, as the service computes it; medians of 200 single-report calls and 5
batches. Measured on 2 cores.

| leaves / depth / learning rate | trees kept | test PR-AUC | ÷ oracle | predict, 1 report | TreeSHAP, 1 report | TreeSHAP, 1,000 reports | fit |
|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

The default (4 leaves, depth 2) is the row to read against the budget: the service's own
figures (section "Serving (issue 6)") add HTTP, validation, the audit write and the rules
to these model costs.
"""
    write_section(
        "Model shape vs explanation cost (issue 6)",
        "python benchmarks/shape_bench.py"
        + (f" --data {args.data}" if args.data else f" --rows {args.rows}"),
        body,
    )


if __name__ == "__main__":
    main()
