"""Six months of operation, simulated (issue 23): the default run and automation bias 0.5.

Runs `tipscore simulate` three times on one generated history:

1. default settings (training/configs/simulate.toml);
2. automation bias 0.5 (analysts accept a shown suggestion half the time, whatever it says);
3. automation bias 0.5 with training that weights blind decisions up and followed
   suggestions down (`[retrain] blind_weight`, `followed_suggestion_weight`);

and writes each run's month table and the comparison to benchmarks/RESULTS.md: the served
model's PR-AUC as a share of the oracle's each month (target >= 0.9 at the defaults), whether
a promotion lowered it, and how much the weighting recovers under automation bias.

Run: .venv/bin/python benchmarks/simulate_bench.py [--rows 1000000] [--start-months 18]
     [--months 6] [--blind-weight 5] [--followed-weight 0.25] [--keep DIR] [--jobs 3]
Smoke (minutes): --rows 60000 --start 2024-01-01 --start-months 4 --months 2
     --train-config benchmarks/fast_train.toml --capacity 40 --no-write
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import write_section

ROOT = Path(__file__).resolve().parents[1]
TIPSCORE = str(Path(sys.executable).parent / "tipscore")
RUNS = {
    "default": {},
    "bias 0.5": {"automation_bias": 0.5},
    "bias 0.5 + weighting": {"automation_bias": 0.5, "weights": True},
}


def config_text(args: argparse.Namespace, run: dict[str, Any]) -> str:
    """The simulation config of one run (defaults but for the run's own knobs)."""
    analysts = [f"automation_bias = {run.get('automation_bias', 0.0)}"]
    if args.capacity is not None:
        analysts.append(f"capacity_per_day = {args.capacity}")
    retrain = []
    if args.train_config:
        retrain.append(f'train_config = "{Path(args.train_config).absolute()}"')
    if run.get("weights"):
        retrain.append(f"blind_weight = {args.blind_weight}")
        retrain.append(f"followed_suggestion_weight = {args.followed_weight}")
    return (
        "[analysts]\n"
        + "\n".join(analysts)
        + "\n[retrain]\n"
        + "\n".join(retrain)
        + "\n"
    )


def simulate(
    args: argparse.Namespace, history: Path, folder: Path, name: str
) -> dict[str, Any]:
    """One `tipscore simulate` run; its report (``simulation.json``) and wall time."""
    slug = name.replace(" ", "-").replace("+", "plus").replace(".", "")
    config = folder / f"{slug}.toml"
    config.write_text(config_text(args, RUNS[name]))
    out = folder / slug
    if out.exists():  # a fresh state and MLflow store for every run
        shutil.rmtree(out)
    command = [
        TIPSCORE,
        "simulate",
        "--history",
        str(history),
        "--start-months",
        str(args.start_months),
        "--months",
        str(args.months),
        "--out",
        str(out),
        "--config",
        str(config),
        "--no-progress",
    ]
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    report_file = out / "simulation.json"
    # 1: a step failed, and the report says which; anything else, or no report: the
    # command itself failed (a refused request, a crash), and its error is the answer
    if done.returncode not in (0, 1) or not report_file.is_file():
        raise RuntimeError(
            f"tipscore simulate exited {done.returncode}: {done.stderr[-3000:]}"
        )
    report = json.loads(report_file.read_text())
    report["wall_s"] = time.perf_counter() - began
    report["out"] = str(out)
    report["exit_code"] = done.returncode
    return report


def _f(value: Any, fmt: str = "{:.3f}") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return fmt.format(value)


def promotions(report: dict[str, Any]) -> list[str]:
    """Each promotion and the served ratio before and after it."""
    months = report["months"]
    lines = []
    for i, month in enumerate(months[:-1]):
        promotion = month.get("promotion") or {}
        if promotion.get("promoted"):
            before, after = month["pr_auc_vs_oracle"], months[i + 1]["pr_auc_vs_oracle"]
            verdict = "lowered" if after < before else "did not lower"
            lines.append(
                f"v{promotion['version']} (trained after {month['month']}): "
                f"ratio {_f(before, '{:.2f}')} → {_f(after, '{:.2f}')} ({verdict})"
            )
    return lines or ["no promotion"]


def run_section(name: str, report: dict[str, Any]) -> str:
    """One run: its month table, its failed steps, its promotions."""
    table = (
        (Path(report["out"]) / "simulation.md").read_text() if "out" in report else ""
    )
    ratios = [m["pr_auc_vs_oracle"] for m in report["months"]]
    kept = sum(r >= 0.9 for r in ratios if not math.isnan(r))
    return (
        f"### {name}\n\n{table}\n"
        f"Months at >= 0.9 of the oracle's PR-AUC: {kept} of {len(ratios)}. "
        f"Failed steps: {len(report['failed'])}. Wall time {report['wall_s'] / 60:.0f} min.\n\n"
        "Promotions: " + "; ".join(promotions(report)) + "\n"
    )


def comparison(reports: dict[str, dict[str, Any]]) -> str:
    """Bias 0.5 against the default run, and what the weighting recovers, month by month."""
    lines = [
        "| month | default | bias 0.5 | bias 0.5 + weighting | recovered |",
        "|---|---|---|---|---|",
    ]
    months = zip(*(reports[n]["months"] for n in RUNS), strict=True)
    for default, biased, weighted in months:
        d, b, w = (m["pr_auc_vs_oracle"] for m in (default, biased, weighted))
        lines.append(
            f"| {default['month']} | {_f(d, '{:.2f}')} | {_f(b, '{:.2f}')} | "
            f"{_f(w, '{:.2f}')} | {_f(w - b, '{:+.2f}')} |"
        )
    return (
        "PR-AUC as a share of the oracle's, served each month:\n\n"
        + "\n".join(lines)
        + "\n"
    )


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start", default="2023-01-01")
    parser.add_argument(
        "--end", default=None, help="default: start + (start + months) months - 1 day"
    )
    parser.add_argument("--start-months", type=int, default=18)
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--blind-weight", type=float, default=5.0)
    parser.add_argument("--followed-weight", type=float, default=0.25)
    parser.add_argument(
        "--capacity", type=int, default=None, help="default: the config's"
    )
    parser.add_argument("--train-config", default=None, help="default: baseline.toml")
    parser.add_argument("--keep", type=Path, default=None)
    parser.add_argument(
        "--jobs", type=int, default=1, help="runs at once (each wall time grows)"
    )
    parser.add_argument(
        "--no-write", action="store_true", help="print, leave RESULTS.md"
    )
    return parser.parse_args()


def history_file(args: argparse.Namespace, folder: Path) -> tuple[Path, str]:
    """The generated history (made once per --keep folder) and its last day."""
    import pandas as pd

    start = pd.Timestamp(args.start)
    span = pd.DateOffset(months=args.start_months + args.months)
    end = args.end or str((start + span - pd.Timedelta(days=1)).date())
    history = folder / "history.parquet"
    if not history.exists():
        command = [TIPSCORE, "generate", "--rows", str(args.rows), "--seed"]
        command += [str(args.seed), "--start", args.start, "--end", end]
        subprocess.run([*command, "--out", str(history), "--no-progress"], check=True)
    return history, end


def main() -> None:
    args = arguments()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="simulate-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    history, end = history_file(args, folder)
    reports = {}
    # the runs are independent (own state, keys and MLflow store): with --jobs > 1 they share
    # the machine, so each run's wall time is longer than it would be alone
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {n: pool.submit(simulate, args, history, folder, n) for n in RUNS}
        for name, future in futures.items():
            reports[name] = future.result()
            print(
                f"{name}: {reports[name]['wall_s'] / 60:.1f} min, "
                f"{len(reports[name]['failed'])} failed steps",
                flush=True,
            )
    body = (
        f"History: {args.rows:,} generated reports (seed {args.seed}) from {args.start} to "
        f"{end}; champion on the first {args.start_months} months, {args.months} months "
        f"simulated. Weighting: blind_weight {args.blind_weight}, "
        f"followed_suggestion_weight {args.followed_weight}. Runs at once: {args.jobs}. "
        f"Files kept in {folder}.\n\n"
        + comparison(reports)
        + "\n"
        + "\n".join(run_section(n, r) for n, r in reports.items())
    )
    command = "python benchmarks/simulate_bench.py " + " ".join(sys.argv[1:])
    if args.no_write:
        print(body)
    else:
        write_section("Six months simulated (issue 23)", command.strip(), body)


if __name__ == "__main__":
    main()
