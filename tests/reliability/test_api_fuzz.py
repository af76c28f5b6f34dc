"""API fuzzing: schemathesis against the live service's OpenAPI document.

Every operation in ``/docs.json`` gets generated requests — bodies that match its schema
(positive) and bodies that break it (negative) — sent with an admin key (which may use
every route): no 5xx, and every response must match what the document says (status code,
content type, headers, body schema). At least 500 cases per mode, 1,000 in all.

Schemathesis's own pytest plugin does not run on this pytest version, so the test drives
its Hypothesis strategies directly (``APIOperation.as_strategy``), with its checks. One
is left out: ``positive_data_acceptance`` (a schema-valid body must get a 2xx). The API
validates beyond what a JSON schema can say — incident_at not after received_at, a
location source that matches its country code, a cursor it gave out, well-formed and safe
XML, no base64 file content, no identifier in a note, an override that changes the
priority, a report that was scored here — and answers those with a documented 400 or 404
naming the field. Every other check runs, ``not_a_server_error`` and
``negative_data_rejection`` (schema-invalid bodies must be refused) included.

Random text would almost never name a scored report or be a CyberTipline document, so
half the positive cases of ``/report`` and ``/decide`` name a report scored before the
run, and half of ``/score_xml``'s carry a sample ``<report>`` (with the other fields
still generated): the fuzzer then reaches the decision and XML-scoring code too.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode, checks

from tests.service.conftest import auth, submission
from tests.serving_fixtures import Deployed

PER_OPERATION = 80  # per generation mode
RELOADS = 3  # each reload loads the model again: a few are enough
SCORED = [f"fuzz-seed-{i}" for i in range(4)]
NESTED_ID = {"/report": "report", "/decide": "decision"}


@pytest.fixture(scope="module")
def operations(server: str, deployed: Deployed) -> list[Any]:
    for report_id in SCORED:
        r = httpx.post(
            f"{server}/score",
            json={"report": submission(report_id)},
            headers=auth(deployed.keys["intake"]),
        )
        assert r.status_code == 200, r.text
    schema = schemathesis.openapi.from_url(f"{server}/docs.json")
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) >= 13
    return found


@pytest.fixture
def report_xml(samples: Path) -> list[str]:
    return [path.read_text() for path in sorted(samples.glob("*_report*.xml"))]


def _steer(case: Any, choice: tuple[bool, str, str]) -> Any:
    """Half the time, name a scored report or send a real ``<report>`` document."""
    steer, report_id, xml = choice
    body = case.body
    if not (steer and isinstance(body, dict)):
        return case
    path = case.operation.path
    inner = body.get(NESTED_ID.get(path, "submission"))
    if path in NESTED_ID and isinstance(inner, dict) and "report_id" in inner:
        inner["report_id"] = report_id
    elif path == "/score_xml" and isinstance(inner, dict):
        inner["report_xml"] = xml
    return case


def _strategy(operation: Any, mode: GenerationMode, xml: list[str]) -> Any:
    cases = operation.as_strategy(generation_mode=mode)
    if mode == GenerationMode.NEGATIVE:
        return cases
    choices = st.tuples(st.booleans(), st.sampled_from(SCORED), st.sampled_from(xml))
    return st.tuples(cases, choices).map(lambda pair: _steer(*pair))


def _fuzz(
    operation: Any, strategy: Any, headers: dict[str, str], seen: Counter[str]
) -> None:
    examples = RELOADS if operation.path == "/admin/reload" else PER_OPERATION

    @given(case=strategy)
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case: Any) -> None:
        response = case.call_and_validate(
            headers=headers,
            timeout=60,
            excluded_checks=[checks.positive_data_acceptance],
        )
        seen[f"{operation.label} {response.status_code}"] += 1

    run()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_as_documented(
    operations: list[Any],
    deployed: Deployed,
    report_xml: list[str],
    mode: GenerationMode,
) -> None:
    headers = auth(deployed.keys["admin"])
    seen: Counter[str] = Counter()
    for operation in operations:
        if (
            mode == GenerationMode.NEGATIVE
            and "requestBody" not in operation.definition.raw
        ):
            continue  # nothing to break in a request without a body or parameters
        _fuzz(operation, _strategy(operation, mode, report_xml), headers, seen)
    assert sum(seen.values()) >= 500, dict(seen)
    if mode == GenerationMode.POSITIVE:  # the steering reached the deeper code
        for reached in ("POST /decide 200", "POST /report 200", "POST /score_xml 200"):
            assert seen[reached] > 0, dict(seen)
