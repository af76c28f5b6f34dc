"""Feature-path speed: 1M flat rows → model frame (training), and per-report (serving).

Target (issue 2): 1M reports' worth of rows in under 30 s on 2 cores.
Run: .venv/bin/python benchmarks/features_bench.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import peak_rss_mb, write_section

from features.extract import build_features, reports_to_frame
from features.flat import FLAT_COLUMNS
from features.schema import TipReport
from features.vocab import IncidentType

ESPS = [
    "Facebook",
    "Instagram",
    "WhatsApp",
    "TikTok",
    "Google",
    "Snapchat",
    "Tiny Forum",
    None,
]


def flat_rows(n: int, seed: int = 7) -> pd.DataFrame:
    """Random flat rows of the right kinds (values need not be realistic for a speed test)."""
    rng = np.random.default_rng(seed)
    received = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(
        rng.integers(0, 365 * 86_400, n), unit="s"
    )
    columns: dict[str, object] = {}
    for name, kind in FLAT_COLUMNS.items():
        if kind == "bool":
            columns[name] = rng.random(n) < 0.2
        elif kind == "int":
            columns[name] = rng.poisson(1.0, n).astype(np.int64)
        elif kind == "list":
            columns[name] = [[]] * n
    columns["files_viewed"] = np.minimum(
        columns["files_viewed"], columns["files_count"]
    )
    columns |= {
        "report_id": pd.array([f"r{i}" for i in range(n)], dtype="string"),
        "incident_type": pd.array(
            rng.choice([t.value for t in IncidentType], n), dtype="string"
        ),
        "received_at": received,
        "incident_at": received - pd.to_timedelta(rng.exponential(3.0, n), unit="D"),
        "reporter_type": pd.array(
            np.where(rng.random(n) < 0.01, "public", "esp"), dtype="string"
        ),
        "esp": pd.array(rng.choice(np.array(ESPS, dtype=object), n), dtype="string"),
        "country_code": pd.array(
            rng.choice(np.array(["US", "IN", "PH", "FR", None], dtype=object), n),
            dtype="string",
        ),
        "location_source": pd.array(
            rng.choice(["supplied", "ip_derived", "unknown"], n), dtype="string"
        ),
    }
    return pd.DataFrame(columns)[list(FLAT_COLUMNS)]


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()

    flat = flat_rows(args.rows)
    started = time.perf_counter()
    frame = build_features(flat)
    bulk = time.perf_counter() - started
    assert len(frame) == args.rows

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "flat.parquet"
        flat.drop(
            columns=[c for c in flat.columns if c.startswith("link_")]
        ).to_parquet(path)
        del flat, frame
        started = time.perf_counter()
        rows = len(build_features(pd.read_parquet(path)))
        from_file = time.perf_counter() - started
        assert rows == args.rows

    reports = [one_report(i) for i in range(2_000)]
    started = time.perf_counter()
    reports_to_frame(reports)
    per_report_batch = (time.perf_counter() - started) / len(reports) * 1e3

    singles = []
    for report in reports[:300]:
        t0 = time.perf_counter()
        reports_to_frame([report])
        singles.append((time.perf_counter() - t0) * 1e3)
    singles.sort()
    p50, p99 = statistics.median(singles), singles[int(len(singles) * 0.99) - 1]

    body = f"""
| measure | figure | target |
|---|---|---|
| flat rows in memory → model frame, {args.rows:,} rows | {bulk:.2f} s ({args.rows / bulk:,.0f} rows/s) | < 30 s for 1M |
| Parquet file → read → model frame, {args.rows:,} rows | {from_file:.2f} s | < 30 s for 1M |
| contracts → model frame, batch of 2,000 | {per_report_batch:.3f} ms per report | — |
| one contract → model frame (serving path) | p50 {p50:.2f} ms, p99 {p99:.2f} ms | — |
| peak resident memory of the run | {peak_rss_mb():,.0f} MB | — |
"""
    write_section(
        "Feature path (issue 2)",
        f"python benchmarks/features_bench.py --rows {args.rows}",
        body,
    )


if __name__ == "__main__":
    main()
