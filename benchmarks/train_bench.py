"""Training speed and memory: `tipscore train` end to end from the Parquet file.

Target (issue 4): 1M reports in <= 3 min and <= 6 GB peak on 2 cores.
Run: .venv/bin/python benchmarks/train_bench.py [--rows 100000 1000000]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import write_section

TIPSCORE = Path(sys.executable).with_name("tipscore")


def run(rows: int, tmp: Path) -> tuple[float, float, dict[str, str]]:
    """Seconds and peak MB of `tipscore train`, and the figures it printed."""
    data = tmp / f"h{rows}.parquet"
    subprocess.run(
        [
            str(TIPSCORE),
            "generate",
            "--rows",
            str(rows),
            "--seed",
            "1",
            "--out",
            str(data),
            "--no-progress",
        ],
        check=True,
        capture_output=True,
    )
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp}/mlruns{rows}/mlflow.db",
    }
    started = time.perf_counter()
    out = subprocess.run(
        [str(TIPSCORE), "train", "--data", str(data), "--no-progress"],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    figures = dict(
        re.findall(
            r"^(PR-AUC|model / oracle PR-AUC|logreg baseline PR-AUC)\s+([\d.]+)",
            out.stdout,
            re.M,
        )
    )
    return seconds, peak, figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    lines = [
        "| rows | wall time (train, end to end) | peak memory (largest child so far) | test PR-AUC | model / oracle | logreg PR-AUC |",
        "|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.rows:
            seconds, peak, f = run(rows, Path(tmp))
            lines.append(
                f"| {rows:,} | {seconds:.0f} s | {peak:,.0f} MB | {f.get('PR-AUC', '?')} | {f.get('model / oracle PR-AUC', '?')} | {f.get('logreg baseline PR-AUC', '?')} |"
            )
    body = (
        "\n".join(lines)
        + "\n\nTargets: 1M reports ≤ 3 min and ≤ 6 GB. Includes validation, linkage features, LightGBM with early stopping, calibration, both baselines, plots and MLflow logging; data generated with seed 1 (not timed). Peak memory includes the generator child, so sizes run in increasing order.\n"
    )
    write_section(
        "Training (issue 4)",
        f"python benchmarks/train_bench.py --rows {' '.join(map(str, args.rows))}",
        body,
    )


if __name__ == "__main__":
    main()
