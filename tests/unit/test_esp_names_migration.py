"""Rows kept before the ESP vocabulary lose their raw names when the state opens (issue 18).

Before: rows scored before ``features.platforms`` kept the ESP name as sent (``scored.esp``,
the flattened row, the reporter key fact, ``queue.esp``), so a phone number sent as an ESP
name stayed on disk for good.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

import pytest

from features.platforms import Platforms
from serving.key_facts import OTHER_ESP_TEXT
from serving.settings import ServingSettings
from serving.state.esp_names import SOURCE
from serving.state.migrate import open_state

pytestmark = pytest.mark.reliability  # an issue-18 regression: `make test-reliability`

RAW = (
    "555-701-9999"  # a phone number sent as the ESP's name, kept before the vocabulary
)


def _old_rows(settings: ServingSettings) -> None:
    """A store with rows as older versions kept them: raw names in every place."""
    open_state(settings).close()  # no vocabulary: the tables, nothing rewritten
    db = sqlite3.connect(settings.reports_path)
    for seq, (report_id, esp) in enumerate(
        [("r-1", RAW), ("r-2", "snap chat"), ("r-3", "MyLocalESP"), ("r-4", None)], 1
    ):
        facts = [{"code": "reporter", "label": "Reporter", "text": esp or "An ESP"}]
        warnings = [  # the XML intake quoted the platform's name as given
            {
                "code": "xml_esp_from_platform",
                "text": "/report/reporter/reportingPerson: reporting ESP not supplied; "
                f"used the platform the report names: {esp!r}",
            }
        ]
        db.execute(
            "INSERT INTO scored (report_id, request_id, scored_at, received_at, esp, "
            "incident_type, priority, probability, model_version, deadline, codes, "
            "response, flat) VALUES (?, 'q', '2024-06-02T10:00:00+00:00', "
            "'2024-06-02T10:00:00+00:00', ?, 'x', 2, 0.5, 'm/1', NULL, '[]', ?, ?)",
            (
                report_id,
                esp,
                json.dumps(
                    {"report_id": report_id, "key_facts": facts, "warnings": warnings}
                ),
                json.dumps({"esp": esp, "files": 1}),
            ),
        )
        db.execute(
            "INSERT INTO queue (report_id, scored_seq, priority, probability, esp) "
            "VALUES (?, ?, 2, 0.5, ?)",
            (report_id, seq, esp),
        )
    db.commit()
    db.close()


def _dump(path: Path) -> str:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return "\n".join(db.iterdump())
    finally:
        db.close()


def test_old_raw_esp_names_are_rewritten_once_at_open(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = ServingSettings(state_dir=tmp_path / "state")
    _old_rows(settings)
    assert RAW in _dump(settings.reports_path)
    caplog.set_level(logging.WARNING)
    platforms = Platforms(["MyLocalESP"])  # an operator-registered name stays
    open_state(settings, platforms).close()
    db = sqlite3.connect(settings.reports_path)
    kept = dict(db.execute("SELECT report_id, esp FROM scored").fetchall())
    queued = dict(db.execute("SELECT report_id, esp FROM queue").fetchall())
    assert (
        kept
        == queued
        == {
            "r-1": "other",
            "r-2": "Snapchat",
            "r-3": "MyLocalESP",
            "r-4": None,
        }
    )
    response, flat = db.execute(
        "SELECT response, flat FROM scored WHERE report_id = 'r-1'"
    ).fetchone()
    assert json.loads(flat)["esp"] == "other"
    assert json.loads(response)["key_facts"][0]["text"] == OTHER_ESP_TEXT
    assert json.loads(response)["warnings"][0]["text"].endswith("names: 'other'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE scored SET esp = 'x'")  # the trigger is back
    db.close()
    assert RAW not in _dump(settings.reports_path).replace("'migrated'", "")
    assert "2 stored suggestion(s)" in caplog.text
    before = _dump(settings.reports_path)
    open_state(settings, Platforms()).close()  # recorded: a restart rewrites nothing
    assert _dump(settings.reports_path) == before
    db = sqlite3.connect(settings.reports_path)
    assert db.execute(
        "SELECT rows FROM migrated WHERE source = ?", (SOURCE,)
    ).fetchone() == (2,)
    db.close()
