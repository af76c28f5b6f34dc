"""The analyst queue with 100,000 scored reports: how fast its pages, views and decisions are.

Issue 7: the queue is paged and must stay fast with 100,000 scored reports in the store.
Fills a fresh ``StateStore`` with N suggestions (varied ESPs, priorities, warnings), a
share of them decided, then times what the analyst page asks for: the first page, filtered
pages, a deep page reached by cursor, one report's view and recording a decision.

Run: .venv/bin/python benchmarks/queue_bench.py [--reports 100000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import peak_rss_mb, write_section
from serve_bench import ESPS, report

from features.identifiers import IdentifierHasher, to_contract
from features.schema import ReportSubmission
from serving.analyst.schemas import DecisionIn, QueueQuery, Reason
from serving.schemas import (
    ContributionOut,
    Explanation,
    ScoreResponse,
    Thresholds,
    WarningOut,
)
from serving.state.records import Scored
from serving.state.store import StateStore

TODAY = date(2024, 11, 1)
LIMITS = Thresholds(p1=0.05, p2=0.004, p1_share=0.002, p12_share=0.05, policy="bench")


def response(report_id: str, rng: random.Random) -> ScoreResponse:
    """A plausible suggestion (the store's cost does not depend on the model)."""
    probability = rng.random() ** 6
    priority = 1 if probability > 0.05 else 2 if probability > 0.004 else 3
    codes = [
        c for c in ("files_not_viewed", "likely_informational") if rng.random() < 0.4
    ]
    return ScoreResponse(
        report_id=report_id,
        escalation_probability=probability,
        suggested_priority=priority,
        thresholds=LIMITS,
        model_name="tip-escalation",
        model_version="1",
        explanation=Explanation(
            base_value=-8.3,
            raw_score=-6.0,
            note="bench",
            contributions=[
                ContributionOut(
                    feature=f"f{i}", value=i, contribution=0.5 - i / 5, text="..."
                )
                for i in range(5)
            ],
        ),
        warnings=[WarningOut(code=c, text=c) for c in codes],
    )


def timed(call: Callable[[], object], repeats: int = 30) -> float:
    """Median milliseconds of ``repeats`` calls."""
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds) * 1000


def add(store: StateStore, batch: list[Scored]) -> None:
    """Keep a batch of suggestions (one transaction, as the service does)."""
    with store.transaction() as tx:
        tx.add_scored(batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=100_000)
    args = parser.parse_args()
    rng = random.Random(3)
    hasher = IdentifierHasher(b"bench-secret-0123456789abcdef012")
    with tempfile.TemporaryDirectory() as tmp:
        store = StateStore.open(Path(tmp) / "reports.db")
        started = time.perf_counter()
        batch: list[Scored] = []
        for i in tqdm(range(args.reports), desc="fill", unit="report"):
            contract = to_contract(
                ReportSubmission.model_validate(report(i, rng)), hasher
            )
            batch.append(Scored(contract, response(contract.report_id, rng), "b", None))
            if len(batch) == 1000:
                add(store, batch)
                batch = []
        if batch:
            add(store, batch)
        fill = time.perf_counter() - started
        decided = 0
        for i in range(0, args.reports, 10):  # a tenth decided
            store.decide(
                DecisionIn(
                    report_id=f"bench-{i}", action="accept", reason=Reason.AGREE
                ),
                "k",
                "bench",
            )
            decided += 1
        first = store.queue(QueueQuery(), TODAY)
        cursor = first.next_cursor
        for _ in range(200):  # walk 200 pages deep
            cursor = store.queue(QueueQuery(cursor=cursor), TODAY).next_cursor
        rows = {
            "first page (50), no filter": timed(
                lambda: store.queue(QueueQuery(), TODAY)
            ),
            "first page, priority 2": timed(
                lambda: store.queue(QueueQuery(priority=2), TODAY)
            ),
            "first page, one ESP": timed(
                lambda: store.queue(QueueQuery(esp=ESPS[2]), TODAY)
            ),
            "first page, undecided": timed(
                lambda: store.queue(QueueQuery(decided=False), TODAY)
            ),
            "page 201 by cursor": timed(
                lambda: store.queue(QueueQuery(cursor=cursor), TODAY)
            ),
            "one report's stored suggestion": timed(
                lambda: store.latest(f"bench-{args.reports // 2}")
            ),
            "record a decision (fsync'd)": timed(
                lambda: store.decide(
                    DecisionIn(
                        report_id=f"bench-{args.reports - 1}",
                        action="accept",
                        reason=Reason.AGREE,
                    ),
                    "k",
                    "bench",
                )
            ),
            "override rates for the model card": timed(
                lambda: store.override_rates("tip-escalation/1"), 5
            ),
        }
        store.close()
    table = "\n".join(f"| {what} | {ms:.2f} ms |" for what, ms in rows.items())
    body = f"""
{args.reports:,} scored reports in a fresh store ({decided:,} decided); filling it took
{fill:.0f} s including building the contracts. Medians of 30 calls (5 for the rates);
peak memory {peak_rss_mb():.0f} MB.

| what the analyst page asks for | median |
|---|---|
{table}

Pages are keyset-paged (a cursor on priority, probability, report id) over an index, so a
deep page costs what the first does; each page also counts the matching reports.
"""
    write_section(
        "Analyst queue (issue 7)",
        f"python benchmarks/queue_bench.py --reports {args.reports}",
        body,
    )


if __name__ == "__main__":
    main()
