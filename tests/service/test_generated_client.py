"""A Python client generated from ``/docs.json``, used as a real intake system would.

``openapi-python-client`` (pinned in ``codegen-requirements.txt``; it needs an older typer
than the project, so ``make install`` gives it a venv of its own, ``$VENV/codegen``)
generates a package from the live document in a temporary folder, offline, without its
formatting hooks. The test imports that package and, with its typed models and
``AuthenticatedClient`` (bearer key), scores a JSON report and a CyberTipline XML report
(the JSON-wrapped form) against the real server and checks the typed answers.
"""

from __future__ import annotations

import importlib
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.service.conftest import Deployed, submission

PACKAGE = "tipscore_generated_client"
GENERATOR = Path(
    os.environ.get(
        "TIPSCORE_OPENAPI_CLIENT",
        Path(sys.prefix) / "codegen" / "bin" / "openapi-python-client",
    )
)
ARGS = ["generate", "--path", "docs.json", "--config", "config.yaml", "--meta", "none"]
CONFIG = (
    f"package_name_override: {PACKAGE}\npost_hooks: []\n"
    # the raw XML forms of /score_xml: generated as a binary body (it knows no XML)
    "content_type_overrides:\n"
    "  application/xml: application/octet-stream\n"
    "  text/xml: application/octet-stream\n"
)


@pytest.fixture(scope="module")
def generated(server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The generated package, imported from a temporary folder."""
    if not GENERATOR.exists():
        pytest.fail(
            f"{GENERATOR} not found: `make install` creates the generator's venv "
            "(codegen-requirements.txt), or set TIPSCORE_OPENAPI_CLIENT"
        )
    root = tmp_path_factory.mktemp("client")
    (root / "docs.json").write_text(httpx.get(f"{server}/docs.json").text)
    (root / "config.yaml").write_text(CONFIG)
    done = subprocess.run(
        [str(GENERATOR), *ARGS, "--output-path", PACKAGE],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warning" not in done.stdout + done.stderr, done.stdout + done.stderr
    sys.path.insert(0, str(root))
    try:
        yield _module("")
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}{name}")


def _client(server: str, key: str) -> Any:
    return _module("").AuthenticatedClient(base_url=server, token=key, timeout=60.0)


def test_the_generated_client_scores_a_json_report(
    generated: Any, server: str, deployed: Deployed
) -> None:
    models = _module(".models")
    score = _module(".api.scoring.score")
    report = models.ReportSubmission.from_dict(submission("generated-json-1"))
    with _client(server, deployed.keys["intake"]) as client:
        answer = score.sync_detailed(
            client=client, body=models.ScoreInput(report=report)
        )
    assert answer.status_code == 200, answer.content
    result = answer.parsed
    assert isinstance(result, models.ScoreResponse)
    assert result.report_id == "generated-json-1"
    assert result.suggested_priority in (1, 2, 3)
    assert 0.0 <= result.escalation_probability <= 1.0
    assert isinstance(result.thresholds, models.Thresholds)
    assert isinstance(result.explanation, models.Explanation)
    assert all(isinstance(w, models.WarningOut) for w in result.warnings)
    assert result.model_name == "tip-escalation"


def test_the_generated_client_scores_an_xml_report(
    generated: Any, server: str, deployed: Deployed, samples: Path
) -> None:
    models = _module(".models")
    score_xml = _module(".api.scoring.score_xml")
    xml = (samples / "nachtalb_doc_section6_1_example_report.xml").read_text()
    submission_ = models.XmlSubmission(
        report_xml=xml,
        esp="Discord",
        report_id="generated-xml-1",
        received_at=datetime(2024, 6, 2, 10, 0, tzinfo=UTC),
    )
    types = _module(".types")
    with _client(server, deployed.keys["intake"]) as client:
        result = score_xml.sync(
            client=client, body=models.ScoreXmlJsonInput(submission=submission_)
        )
        raw = score_xml.sync(  # the raw form: the document as the body, facts as query
            client=client,
            body=types.File(payload=io.BytesIO(xml.encode()), file_name="report.xml"),
            esp="Discord",
            report_id="generated-xml-1",
            received_at=datetime(2024, 6, 2, 10, 0, tzinfo=UTC),
        )
    assert isinstance(result, models.ScoreResponse), result
    assert result.report_id == "generated-xml-1"
    assert result.suggested_priority in (1, 2, 3)
    assert isinstance(result.explanation, models.Explanation)
    assert isinstance(raw, models.ScoreResponse), raw
    assert raw.escalation_probability == result.escalation_probability


def test_the_generated_client_reads_refusals_and_batches(
    generated: Any, server: str, deployed: Deployed
) -> None:
    models = _module(".models")
    batch = _module(".api.scoring.score_batch")
    reports = [
        models.ReportSubmission.from_dict(submission(f"generated-batch-{i}"))
        for i in range(2)
    ]
    body = models.ScoreBatchInput(reports=reports)
    with _client(server, "not-a-key") as client:
        refused = batch.sync(client=client, body=body)
    assert isinstance(refused, models.Refusal) and refused.error == "unauthorized"
    with _client(server, deployed.keys["intake"]) as client:
        answer = batch.sync(client=client, body=body)
    assert isinstance(answer, models.BatchResponse)
    assert [r.report_id for r in answer.results] == [
        "generated-batch-0",
        "generated-batch-1",
    ]
