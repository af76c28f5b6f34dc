"""Generator speed and peak memory: `tipscore generate` in a child process, timed.

Target (issue 3): 1M rows in <= 30 s and <= 2 GB peak on 2 cores; 10M rows must fit 24 GB.
Run: .venv/bin/python benchmarks/generate_bench.py [--rows 1000000 ...]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import write_section

TIPSCORE = Path(sys.executable).with_name("tipscore")


def run(rows: int) -> tuple[float, float, float]:
    """Seconds, peak MB of the child, and file size in MB for one generation."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "h.parquet"
        command = [
            str(TIPSCORE),
            "generate",
            "--rows",
            str(rows),
            "--seed",
            "1",
            "--out",
            str(out),
            "--no-progress",
        ]
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        size = out.stat().st_size / 1e6
    return seconds, max(peak, before) / 1024, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    lines = [
        "| rows | wall time | rows/s | peak memory (child) | file size |",
        "|---|---|---|---|---|",
    ]
    for rows in args.rows:
        seconds, peak, size = run(rows)
        lines.append(
            f"| {rows:,} | {seconds:.1f} s | {rows / seconds:,.0f} | {peak:,.0f} MB | {size:,.0f} MB |"
        )
    body = (
        "\n".join(lines)
        + "\n\nTargets: 1M rows ≤ 30 s and ≤ 2 GB peak; 10M rows within 24 GB. Peak memory is the largest child so far (ru_maxrss of children), so run sizes in increasing order.\n"
    )
    rows_arg = " ".join(str(r) for r in args.rows)
    write_section(
        "Synthetic history generator (issue 3)",
        f"python benchmarks/generate_bench.py --rows {rows_arg}",
        body,
    )


if __name__ == "__main__":
    main()
