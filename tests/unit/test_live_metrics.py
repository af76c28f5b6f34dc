"""``/metrics``' live figures: counts from the store, the monitor's status, the model."""

from __future__ import annotations

import json
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from serving import live_metrics
from serving.live_metrics import LiveFigures
from serving.state.store import StateStore
from tests.monitor_fixtures import _decision as decision
from tests.monitor_fixtures import day_reports
from training.monitor.job import ALERT_KINDS


def _samples(text: bytes) -> dict[str, list[tuple[dict[str, str], float]]]:
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text.decode()):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((sample.labels, sample.value))
    return out


def _store(tmp_path: Path) -> StateStore:
    store = StateStore.open(tmp_path / "reports.db")
    reports = day_reports(changed=False)[:60]
    with store.transaction() as tx:
        tx.add_scored(reports)
    for i, entry in enumerate(reports[:12]):
        store.decide(
            decision(entry.report.report_id, entry.response.suggested_priority, i),
            "k",
            "a",
        )
    return store


def test_counts_tiers_alerts_and_model_with_bounded_labels(tmp_path: Path) -> None:
    store = _store(tmp_path)
    status = tmp_path / live_metrics.STATUS_FILE
    status.write_text(
        json.dumps(
            {
                "format": "tipscore-monitor-status/1",
                "generated_at": "2026-01-02T03:04:05+00:00",
                "alerts": 1,
                "alert_kinds": {"volume": True, "completeness": False},
                "platform_tiers": {"Discord": "large", "Instagram": "medium"},
            }
        )
    )
    text = LiveFigures(store, status, lambda: ("tip-escalation", "7")).text()
    samples = _samples(text)
    scored = {s[0]["priority"]: s[1] for s in samples["tipscore_scored_reports_total"]}
    assert set(scored) == {"1", "2", "3"} and sum(scored.values()) == 60
    tiers = {s[0]["tier"]: s[1] for s in samples["tipscore_scored_reports_by_tier"]}
    assert set(tiers) == set(live_metrics.TIERS) and sum(tiers.values()) == 60
    assert tiers["large"] == 20 and tiers["medium"] == 10 and tiers["untiered"] == 30
    decided = sum(v for _, v in samples["tipscore_analyst_decisions_total"])
    overridden = sum(v for _, v in samples["tipscore_analyst_overrides_total"])
    assert decided == 12 and overridden == 3
    alerts = {s[0]["kind"]: s[1] for s in samples["tipscore_monitor_alert"]}
    assert alerts == {k: float(k == "volume") for k in ALERT_KINDS}
    assert samples["tipscore_monitor_status_ok"][0][1] == 1
    assert samples["tipscore_monitor_last_run_timestamp_seconds"][0][1] > 1.7e9
    assert samples["tipscore_model_info"] == [
        ({"name": "tip-escalation", "version": "7"}, 1.0)
    ]
    store.close()


def test_no_status_file_or_a_broken_one_is_not_an_error(tmp_path: Path) -> None:
    store = _store(tmp_path)
    status = tmp_path / live_metrics.STATUS_FILE
    for content in (None, "{not json"):
        if content is not None:
            status.write_text(content)
        samples = _samples(LiveFigures(store, status, lambda: None).text())
        assert samples["tipscore_monitor_status_ok"][0][1] == 0
        assert all(v == 0 for _, v in samples["tipscore_monitor_alert"])
        tiers = {s[0]["tier"]: s[1] for s in samples["tipscore_scored_reports_by_tier"]}
        assert tiers["untiered"] == 60
        assert "tipscore_model_info" not in samples  # no model: no sample
    store.close()


def test_the_alert_kinds_are_the_monitors() -> None:
    assert live_metrics.ALERT_KINDS == ALERT_KINDS


def test_the_model_and_monitor_figures_survive_a_database_outage(
    tmp_path: Path,
) -> None:
    """Every tipscore_* family vanished while PostgreSQL was down, the model's too (an
    outside operator test, session 9): only the counts need the database."""
    import psycopg

    store = _store(tmp_path)

    def down() -> None:
        raise psycopg.OperationalError("connection refused")

    store.live_counts = down  # type: ignore[method-assign,assignment]
    text = LiveFigures(store, tmp_path / "none.json", lambda: ("m", "3")).text()
    samples = _samples(text)
    assert "tipscore_model_info" in samples
    assert "tipscore_scored_reports" not in samples
