"""Feature-path speed: a 1M-report history → model matrix (training), and per report (serving).

Target (issue 2): 1M reports' worth of rows in under 30 s on 2 cores.
Run: .venv/bin/python benchmarks/features_bench.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import peak_rss_mb, write_section

from features.extract import (
    build_columns,
    build_features,
    history_rows,
    to_matrix,
)
from features.flat import flat_columns
from features.linkage import LINK_COLUMNS, history_frame_features, no_history
from features.schema import TipReport
from features.vocab import IncidentType
from training.synth.config import load_config
from training.synth.generate import GenerateRequest, generate


def one_report(i: int) -> TipReport:
    at = datetime(2024, 3, 1, tzinfo=UTC)
    return TipReport.model_validate(
        {
            "report_id": f"s{i}",
            "incident_type": IncidentType.ONLINE_ENTICEMENT,
            "incident_at": at - timedelta(days=1),
            "received_at": at,
            "esp": "Discord",
            "reported_person": {"count": 1, "upload_ip": True, "ip_events": 2},
            "files": [{"media_kind": "image", "viewed_by_esp": i % 2 == 0}] * 3,
        }
    )


def bulk(path: Path) -> tuple[float, float, float]:
    """Seconds for: read + linkage + features + matrix; linkage alone; features alone."""
    started = time.perf_counter()
    table = pq.read_table(path)
    flat = history_rows(table)
    links: dict[str, object] = {name: table.column(name) for name in LINK_COLUMNS}
    links["received_at"] = flat["received_at"]
    t0 = time.perf_counter()
    history = history_frame_features(links, flat["escalated"].to_numpy())
    linkage = time.perf_counter() - t0
    flat = flat.assign(**history)
    t1 = time.perf_counter()
    matrix = to_matrix(build_columns(flat))
    features = time.perf_counter() - t1
    assert matrix.shape[0] == len(flat)
    return time.perf_counter() - started, linkage, features


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "history.parquet"
        request = GenerateRequest(
            args.rows, 7, date(2023, 1, 1), date(2024, 12, 31), path, progress=False
        )
        generate(request, load_config())
        total, linkage, features = bulk(path)
    reports = [one_report(i) for i in range(2_000)]
    started = time.perf_counter()
    build_features({**flat_columns(reports), **no_history(len(reports))})
    per_report_batch = (time.perf_counter() - started) / len(reports) * 1e3
    singles = []
    for report in reports[:300]:
        t0 = time.perf_counter()
        build_features(build_columns_input(report))
        singles.append((time.perf_counter() - t0) * 1e3)
    singles.sort()
    p50, p99 = statistics.median(singles), singles[int(len(singles) * 0.99) - 1]
    body = f"""
| measure | figure | target |
|---|---|---|
| history file ({args.rows:,} rows) → read → linkage features → model matrix | {total:.2f} s ({args.rows / total:,.0f} rows/s) | < 30 s for 1M |
| of which point-in-time linkage features (8 features, 6 identifier kinds) | {linkage:.2f} s | — |
| of which flat rows → feature columns → matrix | {features:.2f} s | — |
| contracts → model frame, batch of 2,000 | {per_report_batch:.3f} ms per report | — |
| one contract → model frame (serving path, no linkage lookup) | p50 {p50:.2f} ms, p99 {p99:.2f} ms | — |
| peak resident memory of the run | {peak_rss_mb():,.0f} MB | — |
"""
    write_section(
        "Feature path (issue 2)",
        f"python benchmarks/features_bench.py --rows {args.rows}",
        body,
    )


def build_columns_input(report: TipReport) -> dict[str, object]:
    return {**flat_columns([report]), **no_history(1)}


if __name__ == "__main__":
    main()
