"""Every shared XML sample through all three forms of ``/score_xml`` on the real server.

The JSON form (documents as strings), the raw body (``application/xml``, facts as query
parameters and headers) and multipart (``report`` and ``fileDetails`` parts, facts as form
fields) must answer alike: the same status and the same body, for reports that score and
for documents that are refused (a lone ``<fileDetails>`` is no report, in any form).
Responses carry no request id, so whole bodies are compared.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import SAMPLES
from tests.service.conftest import Deployed, auth

ROOT = Path(__file__).resolve().parents[2]
RECEIVED = "2024-06-02T10:00:00Z"
GROUPS = {
    "jatools_report_all_fields.xml": [
        "jatools_fileDetails_all_fields.xml",
        "jatools_fileDetails_supplemental_potentialMeme.xml",
        "jatools_fileDetails_technical_metadata.xml",
    ],
    "ncmec_doc_6_1_report_example.xml": [
        "lumeweb_valid_fileDetails.xml",
        "lumeweb_fileDetails_ipCaptureEvent_ipOnly.xml",
    ],
}
"""Reports with the ``<fileDetails>`` samples that share their ``reportId``."""


def _sample_names() -> list[str]:
    """Every shared sample; none found is a failure, never an empty (skipped) test set."""
    names = sorted(p.name for p in SAMPLES.glob("*.xml")) if SAMPLES.is_dir() else []
    if not names:
        raise FileNotFoundError(
            f"no XML samples in {SAMPLES}: the shared samples are needed"
        )
    return names


def _facts(name: str) -> dict[str, str]:
    """Varied facts: an ESP or none, a public report, always a fixed receipt time."""
    facts = {"received_at": RECEIVED}
    if "jatools" in name:
        facts["esp"] = "Discord"
    if "nachtalb" in name:
        facts["reporter_type"] = "public"
    return facts


def _three_forms(
    server: str, key: str, documents: list[Path], facts: dict[str, Any]
) -> list[httpx.Response]:
    report, *files = (d.read_bytes() for d in documents)
    matches = facts.get("hash_matches", {})
    json_form = {
        "report_xml": report.decode(),
        "file_details_xml": [f.decode() for f in files],
        **facts,
    }
    flat = {k: v for k, v in facts.items() if k != "hash_matches"}
    pairs = [f"{file_id}={result}" for file_id, result in matches.items()]
    headers = auth(key)
    answers = [
        httpx.post(
            f"{server}/score_xml", json={"submission": json_form}, headers=headers
        ),
        httpx.post(
            f"{server}/score_xml",
            files=[("report", ("report.xml", report, "application/xml"))]
            + [
                ("fileDetails", (f"f{i}.xml", f, "text/xml"))
                for i, f in enumerate(files)
            ],
            data={**flat, "hash_matches": pairs},
            headers=headers,
        ),
    ]
    if not files:  # the raw form carries the <report> alone
        query = {k: v for k, v in flat.items() if k != "esp"}
        esp = {"X-Tipscore-Esp": flat["esp"]} if "esp" in flat else {}
        raw = httpx.post(
            f"{server}/score_xml",
            content=report,
            params=query,
            headers={**headers, **esp, "content-type": "application/xml"},
        )
        answers.append(raw)
    return answers


def _same(answers: list[httpx.Response]) -> dict[str, Any]:
    first = answers[0]
    for other in answers[1:]:
        assert (other.status_code, other.json()) == (first.status_code, first.json())
    return dict(first.json())


@pytest.mark.parametrize("name", _sample_names())
def test_every_sample_answers_alike_in_all_three_forms(
    server: str, deployed: Deployed, name: str
) -> None:
    answers = _three_forms(
        server, deployed.keys["intake"], [SAMPLES / name], _facts(name)
    )
    assert len(answers) == 3
    body = _same(answers)
    if "fileDetails" in name:
        assert answers[0].status_code == 400
        assert "report_count" in body["error"]
    else:
        assert answers[0].status_code == 200, body
        assert body["warnings"] and "escalation_probability" in body


@pytest.mark.parametrize("report", sorted(GROUPS))
def test_reports_with_their_files_answer_alike(
    server: str, deployed: Deployed, report: str
) -> None:
    documents = [SAMPLES / report] + [SAMPLES / f for f in GROUPS[report]]
    facts = {**_facts(report), "hash_matches": {"FILE789": "known", "NOPE": "novel"}}
    answers = _three_forms(server, deployed.keys["intake"], documents, facts)
    body = _same(answers)
    assert answers[0].status_code == 200, body
    codes = {w["code"] for w in body["warnings"]}
    assert "xml_hash_match_no_file" in codes


def _readme_xml_block() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("```bash\n", text.index("CyberTipline XML is scored as"))
    return text[start + len("```bash\n") : text.index("```", start + 8)]


def test_the_readme_curl_commands_score_as_printed(
    server: str, deployed: Deployed
) -> None:
    assert shutil.which("curl"), (
        "curl is needed to run the README's commands as printed"
    )
    script = _readme_xml_block().replace("http://127.0.0.1:3000", server)
    done = subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=ROOT,
        env={**os.environ, "KEY": deployed.keys["intake"]},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    decoder, answers, rest = json.JSONDecoder(), [], done.stdout.strip()
    while rest:
        answer, end = decoder.raw_decode(rest)
        answers.append(answer)
        rest = rest[end:].strip()
    assert len(answers) == 2, done.stdout
    raw, multipart = answers
    assert "escalation_probability" in raw and "escalation_probability" in multipart
    assert multipart["report_id"] == "100001"  # the fileDetails' reportId
    assert len(raw["warnings"]) >= 1
