"""Backtests at scale (issue 19): their time on one machine and on Dask, and what the audit can judge.

For a generated history (1M reports at the real 0.18% base rate by default, optionally with
one country's labels under-escalated by the generator's `[[label_bias]]` knob), this runs:

1. `tipscore backtest` on the local engine and on a local Dask cluster (timed);
2. `tipscore train` and `tipscore audit` on its one test window;
3. `tipscore audit --predictions` on the local backtest's pooled predictions;

and reports the backtest times and, for both audits, how many comparisons were judged, how
many groups had too few positives, and which were flagged.

Run: .venv/bin/python benchmarks/backtest_bench.py [--rows 1000000] [--folds 6]
     [--bias IN:0.45] [--config training/configs/baseline.toml] [--workers 2] [--keep DIR]
     [--audit-config training/configs/audit_pooled.toml]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import write_section

ROOT = Path(__file__).resolve().parents[1]
TIPSCORE = [str(Path(sys.executable).parent / "tipscore")]  # the console script


def run(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Run a tipscore command; its wall time and output (raises on a failure)."""
    started = time.perf_counter()
    done = subprocess.run(
        [*TIPSCORE, *args], env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):  # audit exits 1 when it flags
        raise RuntimeError(f"{args[0]} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed, done.stdout


def biased_config(work: Path, bias: str | None) -> Path | None:
    """The generator's config with one `[[label_bias]]` knob on (None: the default)."""
    if not bias:
        return None
    group, factor = bias.split(":")
    text = (ROOT / "training/configs/synthetic.toml").read_text()
    text += (
        f'\n[[label_bias]]\nattribute = "country"\ngroup = "{group}"\n'
        f"factor = {float(factor)}\n"
    )
    tomllib.loads(text)  # still a valid file
    path = work / "synthetic-biased.toml"
    path.write_text(text)
    return path


def counts(audit_json: Path) -> dict[str, Any]:
    """Judged comparisons, groups with too few positives, flags (attribute=group)."""
    result = json.loads(audit_json.read_text())
    return {
        "judged": len(result["checked"]),
        "too_few": len(result["too_few_positives"]),
        "flags": sorted(
            {f"{f['attribute']}={f['group']} [{f['metric']}]" for f in result["flags"]}
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--folds", type=int, default=6)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--bias", default="IN:0.45", help="COUNTRY:FACTOR, or ''")
    parser.add_argument(
        "--config", default=str(ROOT / "training/configs/baseline.toml")
    )
    parser.add_argument(
        "--audit-config",
        default=None,
        help="audit config for both audits (e.g. training/configs/audit_pooled.toml)",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", type=Path, default=None, help="keep outputs here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "MLFLOW_TRACKING_URI": f"sqlite:///{work}/mlflow.db",
            "PYTHONPATH": str(ROOT),
        }
        history = work / "history.parquet"
        generate = ["generate", "--rows", str(args.rows), "--seed", str(args.seed)]
        knobs = biased_config(work, args.bias)
        if knobs is not None:
            generate += ["--config", str(knobs)]
        run([*generate, "--out", str(history), "--no-progress"], env)
        common = ["--data", str(history), "--config", args.config]
        common += ["--folds", str(args.folds), "--no-progress"]
        local, _ = run(["backtest", *common, "--out", str(work / "bt-local")], env)
        dask, _ = run(
            ["backtest", *common, "--engine", "dask", "--workers", str(args.workers),
             "--out", str(work / "bt-dask")],
            env,
        )  # fmt: skip
        _, trained = run(["train", "--data", str(history), "--config", args.config,
                          "--no-progress"], env)  # fmt: skip
        run_id = next(
            line.split()[-1]
            for line in trained.splitlines()
            if line.startswith("run id")
        )
        audit_cfg = ["--config", args.audit_config] if args.audit_config else []
        run(["audit", "--model", f"runs:/{run_id}/model", "--data", str(history),
             *audit_cfg, "--out", str(work / "audit-window")], env)  # fmt: skip
        run(["audit", "--predictions", str(work / "bt-local"), *audit_cfg,
             "--out", str(work / "audit-pooled")], env)  # fmt: skip
        window = counts(work / "audit-window" / "audit.json")
        pooled = counts(work / "audit-pooled" / "audit.json")
    bias = f"`{args.bias}` label bias" if args.bias else "no label bias"
    body = f"""
History: {args.rows:,} generated reports (seed {args.seed}, {bias}), config
`{Path(args.config).name}`, {args.folds} monthly folds, each with its reference model.

| backtest | wall time |
|---|---|
| local engine (folds one after another) | {local / 60:.1f} min |
| Dask, local cluster of {args.workers} workers (folds in parallel) | {dask / 60:.1f} min |

| audit | comparisons judged | groups with too few positives | flagged |
|---|---|---|---|
| one test window (`tipscore audit --model --data`) | {window["judged"]} | {window["too_few"]} | {", ".join(window["flags"]) or "none"} |
| pooled backtest predictions (`tipscore audit --predictions`) | {pooled["judged"]} | {pooled["too_few"]} | {", ".join(pooled["flags"]) or "none"} |

Pooled over the folds, every report of the last {args.folds} months counts once: the
audit judges {pooled["judged"]} comparisons from them against {window["judged"]} from one window.
Both engines run on the same 2 cores here: the local engine's LightGBM uses both for each
fold, while Dask adds its workers' start, the feature matrix's scatter and a copy of it per
worker; Dask's use is spreading the folds over more machines than one.
"""
    command = "python benchmarks/backtest_bench.py " + " ".join(sys.argv[1:])
    write_section("Backtests and audit power (issue 19)", command.strip(), body)


if __name__ == "__main__":
    main()
