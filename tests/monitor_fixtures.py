"""A state store filled as the service fills it, for the monitor's tests.

Reports over eight weeks from five platforms (ten a day each), written through the real
write path (``Transaction.add_scored``); ``changed=True`` makes the last two weeks differ:
one platform's volume triples and another's upload-IP rate halves.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from serving.analyst.schemas import DecisionIn, Reason
from serving.state.records import Scored
from serving.state.store import StateStore
from tests.factories import make_report, stored_response

PLATFORMS = ("Discord", "Instagram", "Snapchat", "TikTok", "Facebook")
TRIPLED, HALVED = "Snapchat", "Instagram"
START = date(2024, 3, 4)  # a Monday
DAYS = 56
PER_DAY = 10
UPLOAD_IP_RATE = 0.6


def _report(
    rng: np.random.Generator, n: int, platform: str, day: date, ip_rate: float
) -> Scored:
    received = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(
        minutes=int(rng.integers(0, 1440))
    )
    files = [
        {"media_kind": "image", "viewed_by_esp": bool(rng.random() < 0.5)}
        for _ in range(int(rng.integers(0, 3)))
    ]
    report = make_report(
        report_id=f"mon{n}",
        received_at=received,
        incident_at=received - timedelta(days=int(rng.integers(0, 30))),
        esp=platform,
        reported_person={
            "count": 1,
            "esp_user_id": bool(rng.random() < 0.8),
            "upload_ip": bool(rng.random() < ip_rate),
        },
        location={"country_code": "US", "source": "supplied"}
        if rng.random() < 0.7
        else {},
        files=files,
    )
    priority = int(rng.choice([1, 2, 3], p=[0.01, 0.09, 0.9]))
    return Scored(report, stored_response(report.report_id, priority), "req", None)


def day_reports(changed: bool, seed: int = 7) -> list[Scored]:
    """Every report of the eight weeks, in order of receipt per day."""
    rng = np.random.default_rng(seed)
    out: list[Scored] = []
    for offset in range(DAYS):
        day = START + timedelta(days=offset)
        recent = changed and offset >= DAYS - 14
        for platform in PLATFORMS:
            count = PER_DAY * (3 if recent and platform == TRIPLED else 1)
            rate = (
                UPLOAD_IP_RATE / 2 if recent and platform == HALVED else UPLOAD_IP_RATE
            )
            for _ in range(count):
                out.append(_report(rng, len(out), platform, day, rate))
    return out


def fill_store(path: Path, changed: bool, decide_every: int = 7) -> int:
    """Write the reports (one transaction a day's worth) and some decisions; the count."""
    reports = day_reports(changed)
    store = StateStore.open(path)
    try:
        for start in range(0, len(reports), 500):
            with store.transaction() as tx:
                tx.add_scored(reports[start : start + 500])
        for i, entry in enumerate(reports[::decide_every]):
            suggested = entry.response.suggested_priority
            store.decide(
                _decision(entry.report.report_id, suggested, i), "k1", "analyst"
            )
    finally:
        store.close()
    return len(reports)


def _decision(report_id: str, suggested: int, i: int) -> DecisionIn:
    fields: dict[str, Any] = {"report_id": report_id, "reason": Reason.OTHER}
    if i % 4 == 0:  # one decision in four sets another priority
        priority = 3 if suggested != 3 else 2
        fields |= {"action": "override", "priority": priority}
    else:
        fields |= {"action": "accept"}
    fields["designation"] = (
        "referral" if fields.get("priority", suggested) == 1 else "informational"
    )
    return DecisionIn(**fields)
