"""Issue 20, done-when: ``monitor`` raises exactly the two alerts of a changed store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.monitor_fixtures import HALVED, TRIPLED, fill_store
from tipscore.monitor_state import MonitorRequest, monitor
from training.monitor.config import load_monitor_config
from training.monitor.job import STATUS_FILE, Reference

NO_REFERENCE = Reference(None, None, "no champion in this test")


def _run(tmp_path: Path, changed: bool) -> tuple[dict, dict]:  # type: ignore[type-arg]
    db = tmp_path / "state" / "reports.db"
    count = fill_store(db, changed)
    assert count > 2500
    cfg, _ = load_monitor_config()
    request = MonitorRequest(db, tmp_path / "out", log=False, progress=False)
    return monitor(request, NO_REFERENCE, cfg)


def test_tripled_volume_and_halved_upload_ip_are_the_only_alerts(
    tmp_path: Path,
) -> None:
    result, paths = _run(tmp_path, changed=True)
    found = sorted((a["kind"], a["platform"], a.get("field")) for a in result["alerts"])
    assert found == [
        ("completeness", HALVED, "upload_ip"),
        ("volume", TRIPLED, None),
    ]
    volume = next(a for a in result["alerts"] if a["kind"] == "volume")
    assert volume["direction"] == "jump" and 2.5 < volume["ratio"] < 3.5
    ip = next(a for a in result["alerts"] if a["kind"] == "completeness")
    assert ip["direction"] == "drop" and ip["recent"] < ip["baseline"] / 1.5
    page = paths["html"].read_text()
    assert TRIPLED in page and HALVED in page and "volume jump" in page
    assert "upload_ip share drop" in page and "<script" not in page
    assert "data:image/png;base64," in page
    written = json.loads(paths["json"].read_text())
    assert written["alerts"] == result["alerts"]
    status = json.loads((tmp_path / "state" / STATUS_FILE).read_text())
    assert status["alerts"] == 2
    assert status["alert_kinds"]["volume"] and status["alert_kinds"]["completeness"]
    assert not status["alert_kinds"]["drift"]
    assert result["drift"]["status"] == "skipped"


def test_an_unchanged_store_raises_no_alert(tmp_path: Path) -> None:
    result, paths = _run(tmp_path, changed=False)
    assert result["alerts"] == []
    assert "No alert." in paths["html"].read_text()
    rates = result["overrides"]
    assert rates["decided"] >= 250 and 0.15 < rates["override_rate"] < 0.35
    assert set(rates["by_suggested_priority"]) <= {"1", "2", "3"}
    assert set(rates["by_tier"]) == {"medium"}  # ten reports a day each
    assert len(rates["weekly"]) >= 6
    card = {r["platform"]: r for r in result["completeness"]["scorecard"]}
    assert set(card) == {"Discord", "Instagram", "Snapchat", "TikTok", "Facebook"}
    assert card["Discord"]["upload_ip"] == pytest.approx(0.6, abs=0.08)
