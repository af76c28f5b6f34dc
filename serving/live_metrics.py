"""Live figures on ``/metrics``: suggestions, decisions, the last monitor run, the model.

Read from the state store when Prometheus scrapes (at most once per ``TTL_S``), not
counted in the worker's memory: the two logs they count are append-only and shared by
every worker, so each scrape sees the same totals whichever worker answers, and a restart
loses nothing. Every label set is bounded whatever reports arrive:

- ``tipscore_scored_reports_total{priority}``: suggestions made, by suggested priority
  (1, 2, 3);
- ``tipscore_scored_reports_by_tier{tier}``: the same, by the size tier of their platform
  as the last monitor run set it (``large``, ``medium``, ``small``, ``public``;
  ``untiered``: a platform the monitor has not seen), never by platform name;
- ``tipscore_analyst_decisions_total`` / ``tipscore_analyst_overrides_total``
  ``{suggested_priority}``: decisions recorded, and those that set another priority;
- ``tipscore_monitor_alert{kind}`` (0/1 per alert kind), ``tipscore_monitor_alerts``,
  ``tipscore_monitor_last_run_timestamp_seconds`` and ``tipscore_monitor_status_ok``:
  from ``monitor_status.json``, written by ``tipscore monitor`` beside ``reports.db``;
- ``tipscore_model_info{name, version}``: 1 for the model being served.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from serving.errors import is_outage
from serving.state.store import StateStore

logger = logging.getLogger(__name__)
STATUS_FILE = "monitor_status.json"
PRIORITIES = ("1", "2", "3")
TIERS = ("large", "medium", "small", "public", "untiered")
ALERT_KINDS = ("volume", "completeness", "drift", "score_drift", "priority_mix_drift")
"""As ``training.monitor.job.ALERT_KINDS`` (a test keeps the two equal)."""
TTL_S = 5.0
"""Scrapes within this many seconds reuse the last figures (one store read)."""


class MonitorStatus(BaseModel):
    """What the service reads of ``monitor_status.json`` (docs/operations.md)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    generated_at: datetime
    alerts: int
    alert_kinds: dict[str, bool]
    platform_tiers: dict[str, str]


def read_status(path: Path) -> MonitorStatus | None:
    """The last monitor run's status, or None if there is none or it cannot be read."""
    try:
        return MonitorStatus.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValidationError) as exc:
        logger.warning("cannot read %s: %s", path, str(exc).splitlines()[0])
        return None


class LiveFigures:
    """The families above, from the store, the status file and the served model."""

    def __init__(
        self,
        store: StateStore,
        status_path: Path,
        model: Callable[[], tuple[str, str] | None],
    ) -> None:
        self.store, self.status_path, self.model = store, status_path, model
        self._lock = threading.Lock()
        self._cached: tuple[float, bytes] | None = None

    def text(self) -> bytes:
        """The Prometheus text of the live figures (cached for ``TTL_S``)."""
        with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] > TTL_S:
                self._cached = (now, self._render())
            return self._cached[1]

    def _render(self) -> bytes:
        import prometheus_client as prom

        registry = prom.CollectorRegistry(auto_describe=False)
        registry.register(_Collector(self))
        return prom.generate_latest(registry)


def _tier_counts(
    scored: dict[tuple[int, str], int], tiers: dict[str, str]
) -> dict[str, int]:
    counts = dict.fromkeys(TIERS, 0)
    for (_, platform), n in scored.items():
        tier = tiers.get(platform, "untiered")
        counts[tier if tier in counts else "untiered"] += n
    return counts


class _Collector:
    def __init__(self, figures: LiveFigures) -> None:
        self.figures = figures

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        status = read_status(self.figures.status_path)
        try:
            counts = self.figures.store.live_counts()
        except Exception as exc:  # what needs no database is still told
            # (every tipscore_* family vanished, the model's and the monitor's too, so
            # TipscoreNoModel fired for the wrong cause; an outside operator test)
            if is_outage(exc):
                logger.warning("live counts unavailable: the state database is down")
            else:
                logger.exception("live counts unavailable")
            yield from _monitor(status)
            yield from _model(self.figures.model())
            return
        by_priority = dict.fromkeys(PRIORITIES, 0)
        for (number, _), n in counts.scored.items():
            if str(number) in by_priority:  # 1-3 by the schema: the label set is fixed
                by_priority[str(number)] += n
        scored = CounterMetricFamily(
            "tipscore_scored_reports",
            "Suggestions made, by suggested priority",
            labels=["priority"],
        )
        for priority in PRIORITIES:
            scored.add_metric([priority], by_priority[priority])
        yield scored
        tiers = GaugeMetricFamily(
            "tipscore_scored_reports_by_tier",
            "Suggestions made, by the size tier of their platform (last monitor run)",
            labels=["tier"],
        )
        for tier, n in _tier_counts(
            counts.scored, status.platform_tiers if status else {}
        ).items():
            tiers.add_metric([tier], n)
        yield tiers
        yield from _decisions(counts.decided, counts.overridden)
        yield from _monitor(status)
        yield from _model(self.figures.model())


def _decisions(decided: dict[int, int], overridden: dict[int, int]) -> Iterator[Any]:
    from prometheus_client.core import CounterMetricFamily

    for name, values, what in (
        ("tipscore_analyst_decisions", decided, "Analysts' decisions recorded"),
        (
            "tipscore_analyst_overrides",
            overridden,
            "Decisions that set another priority",
        ),
    ):
        family = CounterMetricFamily(
            name, f"{what}, by suggested priority", labels=["suggested_priority"]
        )
        for priority in PRIORITIES:
            family.add_metric([priority], values.get(int(priority), 0))
        yield family


def _monitor(status: MonitorStatus | None) -> Iterator[Any]:
    from prometheus_client.core import GaugeMetricFamily

    yield GaugeMetricFamily(
        "tipscore_monitor_status_ok",
        "1 if the last monitor run's status file was read, else 0",
        value=0 if status is None else 1,
    )
    alert = GaugeMetricFamily(
        "tipscore_monitor_alert",
        "1 if the last monitor run raised this kind of alert",
        labels=["kind"],
    )
    for kind in ALERT_KINDS:
        alert.add_metric([kind], int(bool(status and status.alert_kinds.get(kind))))
    yield alert
    if status is not None:
        yield GaugeMetricFamily(
            "tipscore_monitor_alerts",
            "Alerts of the last monitor run",
            value=status.alerts,
        )
        yield GaugeMetricFamily(
            "tipscore_monitor_last_run_timestamp_seconds",
            "When the last monitor run finished (Unix time)",
            value=status.generated_at.timestamp(),
        )


def _model(about: tuple[str, str] | None) -> Iterator[Any]:
    from prometheus_client.core import GaugeMetricFamily

    info = GaugeMetricFamily(
        "tipscore_model_info",
        "The model being served (value 1)",
        labels=["name", "version"],
    )
    if about is not None:
        info.add_metric(list(about), 1)
    yield info


_LIVE: list[LiveFigures] = []


def install(figures: LiveFigures) -> None:
    """Make ``figures`` part of this process's ``/metrics`` (the service, at start)."""
    _LIVE[:] = [figures]


def live_text() -> bytes:
    """The live figures' text, or nothing before the service installed them."""
    if not _LIVE:
        return b""
    try:
        return _LIVE[0].text()
    except (
        Exception
    ):  # a scrape never fails for want of these: the route metrics remain
        logger.exception("live figures unavailable")
        return b""
