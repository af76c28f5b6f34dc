"""``/docs.json`` from the real server as a client generator and Swagger UI read it.

Valid OpenAPI for the version it declares (``openapi-spec-validator``), the package's
version, short stable names, every ``$ref`` resolvable, the bearer key declared on
exactly the operations that refuse a caller without one, and nothing in it that would
make a browser contact another host.
"""

from __future__ import annotations

import json
import re
from importlib.metadata import version
from typing import Any

import httpx
import pytest
from openapi_spec_validator import OpenAPIV30SpecValidator, validate

from tests.service.conftest import Deployed, auth

OPERATIONS = {
    ("post", "/score"): "score",
    ("post", "/score_batch"): "scoreBatch",
    ("post", "/score_xml"): "scoreXml",
    ("post", "/queue"): "queue",
    ("post", "/report"): "report",
    ("post", "/decide"): "decide",
    ("get", "/model_card"): "getModelCard",
    ("post", "/model_card"): "postModelCard",
    ("post", "/admin/reload"): "reload",
}
CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*$")
PASCAL = re.compile(r"^[A-Z][a-zA-Z0-9]*$")


@pytest.fixture(scope="module")
def spec(server: str) -> dict[str, Any]:
    r = httpx.get(f"{server}/docs.json")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    document: dict[str, Any] = r.json()
    return document


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
    ]


def test_the_document_is_valid_for_the_version_it_declares(
    spec: dict[str, Any],
) -> None:
    assert spec["openapi"].startswith("3.0.")
    errors = [e.message for e in OpenAPIV30SpecValidator(spec).iter_errors()]
    assert errors == []
    validate(spec)  # the validator picks the version from the document itself
    text = json.dumps(spec)
    assert '"type": "null"' not in text and '"const"' not in text


def test_it_carries_the_package_version(spec: dict[str, Any]) -> None:
    assert spec["info"]["version"] == version("tipscore") != "None"


def test_operations_and_schemas_have_short_stable_names(spec: dict[str, Any]) -> None:
    ids = {(m, p): op["operationId"] for m, p, op in _operations(spec)}
    assert {k: ids[k] for k in OPERATIONS} == OPERATIONS
    assert all(CAMEL.match(i) for i in ids.values()), ids
    assert len(set(ids.values())) == len(ids)
    names = set(spec["components"]["schemas"])
    assert {"ScoreResponse", "BatchResponse", "ReportSubmission", "XmlSubmission"} <= (
        names
    )
    assert all(PASCAL.match(n) for n in names), names
    text = json.dumps(spec)
    for leak in ("IODescriptor", "__Input", "tipscore__", "Service APIs"):
        assert leak not in text
    score = spec["paths"]["/score"]["post"]["responses"]["200"]["content"]
    assert score["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ScoreResponse"
    }


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*map(_refs, node.values()))
    if isinstance(node, list):
        return set().union(*map(_refs, node))
    return set()


def test_every_ref_resolves_and_every_component_is_used(spec: dict[str, Any]) -> None:
    refs = _refs(spec)
    names = set(spec["components"]["schemas"])
    assert {r.removeprefix("#/components/schemas/") for r in refs} == names


@pytest.mark.parametrize("caller", ["none", "admin"])
def test_bearer_security_is_declared_where_a_key_is_needed(
    spec: dict[str, Any], server: str, deployed: Deployed, caller: str
) -> None:
    """Each operation's ``security`` says what the live server does without a key."""
    scheme = spec["components"]["securitySchemes"]["bearerKey"]
    assert scheme == {**scheme, "type": "http", "scheme": "bearer"}
    headers = auth(deployed.keys["admin"]) if caller == "admin" else {}
    for method, path, op in _operations(spec):
        if path == "/admin/reload" and caller == "admin":
            continue  # reloading is not what this test is about
        body = {} if "requestBody" in op else None
        r = httpx.request(method, f"{server}{path}", json=body, headers=headers)
        needs_key = op["security"] == [{"bearerKey": []}]
        assert needs_key or op["security"] == [], (path, op["security"])
        if caller == "none":
            assert (r.status_code == 401) == needs_key, (method, path, r.status_code)
        else:  # the declared scheme is the one the service takes
            assert r.status_code != 401, (method, path, r.text)
        if needs_key:
            assert "Key roles:" in op["description"]


def test_nothing_in_it_points_a_browser_elsewhere(spec: dict[str, Any]) -> None:
    """BentoML's description had badge images from other hosts and a contact."""
    text = json.dumps(spec["info"]) + json.dumps(spec.get("tags", []))
    assert "http://" not in text and "https://" not in text
    assert "BentoML" not in spec["info"].get("description", "")
    assert spec.get("servers", [{"url": "."}]) == [{"url": "."}]


@pytest.mark.reliability  # a regression of the security test's review (body timeout)
def test_every_operation_with_a_body_documents_the_body_timeouts_408(
    spec: dict[str, Any],
) -> None:
    """``serving.body_timeout`` answers 408 to any request whose body stalls."""
    with_body = [
        (method, path, op)
        for method, path, op in _operations(spec)
        if "requestBody" in op
    ]
    assert {(m, p) for m, p, _ in with_body} >= {
        ("post", "/score"),
        ("post", "/score_batch"),
        ("post", "/score_xml"),
        ("post", "/queue"),
        ("post", "/decide"),
    }
    for method, path, op in with_body:
        answer = op["responses"].get("408")
        assert answer is not None, (method, path)
        schema = answer["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/Refusal"}, (method, path)
