"""No raw identifier at rest after a full run, done the way its users do it.

In a fresh folder, with the CLI and the real server: generate a history, train, promote,
make keys, serve, score JSON and XML reports seeded with distinctive raw identifiers (and
the raw values of the shared XML samples), decide on them as an analyst, export the
decisions, retrain with them. Then read every file the project wrote there — the MLflow
database and artifacts, the state store (audit log, linkage, reports; WAL files included), the
keys, the exports, the models — and every line the commands and the server printed: none
of the raw values appears.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.serving_fixtures import start_server, stop_server
from tests.unit.test_no_raw_identifiers import DOCUMENTS
from tests.unit.test_no_raw_identifiers import RAW as SAMPLE_RAW

TIPSCORE = str(Path(sys.executable).with_name("tipscore"))
SEEDED = {
    "accounts": ["zq-raw-account-77813"],
    "screen_names": ["zq_raw_screen_77813"],
    "emails": ["zq.raw.person77813@example.org"],
    "phones": ["+1 555 778 1399"],
    "ips": ["198.51.100.177"],
    "devices": ["ZQ-RAW-DEVICE-77813"],
}
# fields that are not identifiers but could carry one (issue 18, point 5): an ESP name
# outside the vocabulary, a near-miss incidentType, odd element names, refused report
# ids, obfuscated notes, the body of a refused request
RAW_ESP = "zq-raw-esp-555-778-1400"
NEAR_MISS = "ONLINE ENTICEMENT OF CHILDREN FOR SEXUAL ACTS 555-778-1401"
ODD_ELEMENTS = ("zq-raw-elem-77813", "zqRawLongElement" + "q" * 50_000)
REFUSED_IDS = (
    "198.51.100.178",
    "2001:db8::7781",
    "555-778-1402",
    # the report-id rule's review: other separators, bare runs, hex, MAC, spelled email
    "198_51_100_179",
    "555:778:1404",
    "5557781405",
    "ip-0xC0A84D51-zq77819",  # a bare 8-hex token passes as a short hash (the rule)
    "2001-db8--7782",
    "02:77:81:3a:bc:de",
    "zq77818_at_example_com",
    # the second review: a trailing newline, shapes glued to letters
    "198.51.100.181\n",
    "ip198.51.100.182",
    "555-778-1407x",
)
REFUSED_NOTES = (
    "john.doe77813(at)example.com",
    "192[.]168[.]77[.]81",
    "(555) 778-1403",
    "zq77813\uff20example.com",
    # the note filter's review: escaped @, other full stops, spoken TLDs, comma IPs
    "zq77814%40example.com",
    "zq77815&#64;example.com",
    "zq77816 at example dot photography",
    "zq77817@example\u3002com",
    "192,168,77,82",
    "555\u200b778\u200b1406",
    # the second review: spoken dots after an @, Unicode dashes, a MAC address
    "zq77820@example dot com",
    "555\u2013778\u20131408",
    "02:77:81:3a:bc:df",
)
REFUSED_BODY = "zq-refused-body-77813"
RAW = (
    [v for values in SEEDED.values() for v in values]
    + [v for v in SAMPLE_RAW if len(v) >= 6 and not v.replace(".", "").isdigit()]
    + [RAW_ESP, NEAR_MISS, "555-778-1401", *ODD_ELEMENTS, REFUSED_BODY]
    + [*REFUSED_IDS, "john.doe77813", "192[.]168[.]77[.]81", "778-1403"]
    + ["zq77814", "zq77815", "zq77816", "zq77817", "192,168,77,82"]
    + ["555\u200b778\u200b1406", "198.51.100.181", "zq77820", "778\u20131408"]
    + ["02:77:81:3a:bc:df"]
)


def _run(args: list[str], env: dict[str, str], log: list[str]) -> str:
    done = subprocess.run(
        [TIPSCORE, *args], env=env, capture_output=True, text=True, check=False
    )
    log += [done.stdout, done.stderr]
    assert done.returncode == 0, (args, done.stderr[-3000:])
    return done.stdout


def _leaks(files: list[Path]) -> list[tuple[str, str]]:
    """(file, raw value) for every raw value found in a file's bytes, case-insensitive."""
    found = []
    for path in files:
        data = path.read_bytes().lower()
        found += [(str(path), raw) for raw in RAW if raw.lower().encode() in data]
    return found


def _report(i: int) -> dict[str, Any]:
    identifiers = {
        k: [f"{v[0]}" if i == 0 else f"{v[0]}-{i}"] for k, v in SEEDED.items()
    }
    return {
        "report_id": f"pii-{i}",
        "incident_type": "Online Enticement of Children for Sexual Acts",
        "incident_at": "2024-12-20T10:00:00Z",
        "received_at": "2024-12-21T10:00:00Z",
        "esp": RAW_ESP if i == 2 else "Discord",
        "esp_escalated": i % 2 == 0,
        "identifiers": identifiers,
        "reported_person": {"count": 1, "esp_user_id": True, "email": True},
        "location": {"country_code": "US", "source": "supplied"},
        "files": [{"media_kind": "image", "viewed_by_esp": True}],
    }


def _send_what_must_not_be_kept(
    client: httpx.Client, intake: str, analyst: str, samples: Path
) -> None:
    """Identifiers in fields that are not identifiers: kept closed, redacted or refused."""
    key = {"Authorization": f"Bearer {intake}"}
    report = (samples / DOCUMENTS[0]).read_text()
    odd = "".join(f"<{name}/>" for name in ODD_ELEMENTS)
    near = re.sub(
        r"<incidentType>[^<]*</incidentType>",
        f"<incidentType>{NEAR_MISS}</incidentType>",
        report,
    ).replace("</report>", f"{odd}</report>")
    xml = {"report_xml": near, "esp": "Discord", "report_id": "pii-xml-2"}
    r = client.post("/score_xml", json={"submission": xml}, headers=key)
    assert r.status_code == 200, r.text
    assert {"xml_enum_near_miss", "xml_unknown_element"} <= {
        w["code"] for w in r.json()["warnings"]
    }
    for report_id in REFUSED_IDS:
        body = {"report": {**_report(9), "report_id": report_id}}
        r = client.post("/score", json=body, headers=key)
        assert r.status_code == 400 and "report_id" in r.text, r.text
    for note in REFUSED_NOTES:
        decision = {"report_id": "pii-0", "action": "accept", "reason": "other"}
        r = client.post(
            "/decide",
            json={"decision": {**decision, "note": note}},
            headers={"Authorization": f"Bearer {analyst}"},
        )
        assert r.status_code == 400, r.text
    r = client.post("/score", json={"report": {"report_id": REFUSED_BODY}})
    assert r.status_code == 401


def test_no_raw_identifier_anywhere_after_a_full_run(
    tmp_path: Path, samples: Path
) -> None:
    root = tmp_path / "run"
    root.mkdir()
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{root}/mlruns/mlflow.db",
        "TIPSCORE_STATE_DIR": str(root / "state"),
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    }
    (root / "mlruns").mkdir()
    log: list[str] = []
    history = root / "history.parquet"
    _run(
        ["generate", "--rows", "60000", "--seed", "5", "--out", str(history)], env, log
    )
    out = _run(["train", "--data", str(history)], env, log)
    run_id = next(
        line.split()[2] for line in out.splitlines() if line.startswith("run id:")
    )
    _run(["promote", "--run", run_id, "--force", "--reason", "pii test"], env, log)
    intake = _run(["keys", "add", "--role", "intake"], env, log).strip()
    analyst = _run(["keys", "add", "--role", "analyst", "--note", "PII Test"], env, log)
    url, process = start_server(env)
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            suggested = {}
            for i in range(3):
                r = client.post(
                    "/score",
                    json={"report": _report(i)},
                    headers={"Authorization": f"Bearer {intake}"},
                )
                assert r.status_code == 200, r.text
                suggested[f"pii-{i}"] = r.json()["suggested_priority"]
            xml = {
                "report_xml": (samples / DOCUMENTS[0]).read_text(),
                "file_details_xml": [(samples / d).read_text() for d in DOCUMENTS[1:]],
                "esp": "Discord",
                "received_at": "2024-12-22T10:00:00Z",
            }
            r = client.post(
                "/score_xml",
                json={"submission": xml},
                headers={"Authorization": f"Bearer {intake}"},
            )
            assert r.status_code == 200, r.text
            xml_id = r.json()["report_id"]
            suggested[xml_id] = r.json()["suggested_priority"]
            _send_what_must_not_be_kept(client, intake, analyst.strip(), samples)
            for report_id in ("pii-0", xml_id):
                r = client.post(
                    "/decide",
                    json={
                        "decision": {
                            "report_id": report_id,
                            "action": "override",
                            "priority": 1 if suggested[report_id] != 1 else 2,
                            "reason": "model_missed_context",
                            "note": "see the linked case file",
                        }
                    },
                    headers={"Authorization": f"Bearer {analyst.strip()}"},
                )
                assert r.status_code == 200, r.text
    finally:
        log.append(stop_server(process))
    exported = root / "decisions.parquet"
    _run(["export-decisions", "--out", str(exported)], env, log)
    retrained = _run(
        ["train", "--data", str(history), "--decisions", str(exported)], env, log
    )
    assert "analyst-decided rows" in retrained  # the decisions fell in the test window

    files = [p for p in root.rglob("*") if p.is_file()]
    planted = tmp_path / "planted.bin"  # the scan finds a raw value where there is one
    planted.write_bytes(b"\x00" + RAW[0].upper().encode() + b"\x00")
    assert _leaks([planted]) == [(str(planted), RAW[0])]
    state_db = next(
        p for p in files if p.name == "reports.db"
    )  # the one state database
    audit = sqlite3.connect(f"file:{state_db}?mode=ro", uri=True)
    try:  # the audit log, linkage rows and suggestions are in what was scanned
        for table in ("requests", "link", "scored", "access"):
            assert audit.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] > 0
    finally:
        audit.close()
    assert exported in files
    found = _leaks(files)
    printed = "\n".join(log).lower()
    found += [("output", raw) for raw in RAW if raw.lower() in printed]
    assert not found, json.dumps(found[:20], indent=1)
