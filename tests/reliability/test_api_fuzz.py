"""API fuzzing: schemathesis against the live service's OpenAPI document.

Every operation in ``/docs.json`` gets generated requests — bodies that match its schema
and bodies that break it — sent with an admin key (which may use every route): no 5xx, and
every response must match what the document says (status code, content type, headers,
body schema). At least 1,000 cases in all.

Schemathesis's own pytest plugin does not run on this pytest version, so the test drives
its Hypothesis strategies directly (``APIOperation.as_strategy``), with its checks. One
is left out: ``positive_data_acceptance`` (a schema-valid body must get a 2xx). The API
validates beyond what a JSON schema can say — a cursor must be one it gave out, XML must be
well-formed and safe, a string must not carry base64 file content, a note must not carry
an email or phone number, an override must change the priority — and answers those with a
documented 400 naming the field. Every other check runs, ``not_a_server_error`` and
``negative_data_rejection`` (schema-invalid bodies must be refused) included.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode, checks

from tests.serving_fixtures import Deployed

PER_OPERATION = 80  # per generation mode (valid and invalid bodies)
RELOADS = 3  # each reload loads the model again: a few are enough
COUNTS: Counter[str] = Counter()


@pytest.fixture(scope="module")
def operations(server: str) -> list[Any]:
    schema = schemathesis.openapi.from_url(f"{server}/docs.json")
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) >= 10
    return found


def _fuzz(operation: Any, mode: GenerationMode, headers: dict[str, str]) -> None:
    examples = RELOADS if operation.path == "/admin/reload" else PER_OPERATION

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case: Any) -> None:
        COUNTS[f"{operation.label} {mode.value}"] += 1
        case.call_and_validate(
            headers=headers,
            timeout=60,
            excluded_checks=[checks.positive_data_acceptance],
        )

    run()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_as_documented(
    operations: list[Any], deployed: Deployed, mode: GenerationMode
) -> None:
    headers = {"Authorization": f"Bearer {deployed.keys['admin']}"}
    for operation in operations:
        if (
            mode == GenerationMode.NEGATIVE
            and "requestBody" not in operation.definition.raw
        ):
            continue  # nothing to break in a request without a body or parameters
        _fuzz(operation, mode, headers)


def test_enough_cases_were_generated() -> None:
    """Runs after the fuzzing above (file order): at least 1,000 calls in all."""
    assert sum(COUNTS.values()) >= 1000, dict(COUNTS)
    assert any("/score_xml" in label for label in COUNTS)
