"""Issue 20: ``/metrics`` gains live figures with bounded labels; the champion's profile.

On the real server (``bentoml serve``): the families appear after a report is scored and
decided, every label takes values from a fixed set, and the last monitor run's status
file is read on the scrape. Then ``tipscore monitor`` runs on what the service kept,
against the session champion's reference profile (logged by ``train``).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from serving.live_metrics import ALERT_KINDS, PRIORITIES, STATUS_FILE, TIERS, TTL_S
from tests.service.conftest import Deployed, auth, submission
from tipscore.monitor_state import MonitorRequest, monitor
from training import registry
from training.monitor.config import DriftConfig, MonitorConfig
from training.monitor.job import reference_of
from training.monitor.profile import PROFILE_ARTIFACT, PROFILE_FORMAT

BOUNDS = {
    "tipscore_scored_reports_total": {"priority": set(PRIORITIES)},
    "tipscore_scored_reports_by_tier": {"tier": set(TIERS)},
    "tipscore_analyst_decisions_total": {"suggested_priority": set(PRIORITIES)},
    "tipscore_analyst_overrides_total": {"suggested_priority": set(PRIORITIES)},
    "tipscore_monitor_alert": {"kind": set(ALERT_KINDS)},
}


def _scrape(server: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    r = httpx.get(f"{server}/metrics", timeout=10)
    assert r.status_code == 200
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(r.text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((sample.labels, sample.value))
    return out


def test_live_families_appear_with_bounded_labels(
    server: str, deployed: Deployed
) -> None:
    status = {
        "generated_at": "2026-01-02T03:04:05+00:00",
        "alerts": 1,
        "alert_kinds": {"drift": True},
        "platform_tiers": {"Snapchat": "large"},
    }
    (deployed.state / STATUS_FILE).write_text(json.dumps(status))
    with httpx.Client(base_url=server, timeout=30) as client:
        suggested = []
        for i in range(3):
            scored = client.post(
                "/score",
                json={"report": submission(f"live-{i}", esp=f"Made Up {i}")},
                headers=auth(deployed.keys["intake"]),
            )
            assert scored.status_code == 200, scored.text
            suggested.append(scored.json()["suggested_priority"])
        decided = client.post(
            "/decide",
            json={"decision": {
                "report_id": "live-0", "action": "accept", "reason": "other",
                "designation": "referral" if suggested[0] == 1 else "informational"}},
            headers=auth(deployed.keys["analyst"]),
        )  # fmt: skip
        assert decided.status_code in (200, 201), decided.text
    time.sleep(TTL_S + 0.5)  # past any figures cached by an earlier scrape
    samples = _scrape(server)
    for name, bounds in BOUNDS.items():
        assert name in samples, name
        for labels, _ in samples[name]:
            for label, allowed in bounds.items():
                assert labels[label] in allowed, (name, labels)
    assert sum(v for _, v in samples["tipscore_scored_reports_total"]) >= 3
    assert sum(v for _, v in samples["tipscore_analyst_decisions_total"]) >= 1
    alerts = {s[0]["kind"]: s[1] for s in samples["tipscore_monitor_alert"]}
    assert alerts["drift"] == 1 and alerts["volume"] == 0
    (info,) = samples["tipscore_model_info"]
    assert info[0]["name"] == "tip-escalation" and info[1] == 1
    text = httpx.get(f"{server}/metrics", timeout=10).text
    assert "Made Up" not in text and 'endpoint="/score"' in text  # route families kept


def test_monitor_judges_drift_against_the_champions_profile(
    deployed: Deployed, tmp_path: Path
) -> None:
    profile = registry.artifact_json(deployed.run_id, PROFILE_ARTIFACT)
    assert profile["format"] == PROFILE_FORMAT
    assert profile["windows"] == {"features": "train", "scores": "test"}
    reference = reference_of("models:/tip-escalation@champion")
    assert reference.profile is not None and reference.model is not None
    cfg = MonitorConfig(drift=DriftConfig(min_reports=1))
    request = MonitorRequest(
        deployed.state / "reports.db", tmp_path, log=True, progress=False
    )
    result, paths = monitor(request, reference, cfg)
    assert result["reports"] >= 1 and result["drift"]["status"] == "judged"
    names = {r["feature"] for r in result["drift"]["features"]}
    assert "esp" in names and not any(n.startswith("hist_") for n in names)
    run = registry.read_run(paths["run_id"])
    assert run.tags["model_version"] == reference.model["version"]
    assert "monitor_alerts" in run.metrics
    assert (deployed.state / STATUS_FILE).exists()
