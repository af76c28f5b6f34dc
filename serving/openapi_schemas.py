"""Every response schema of the OpenAPI document as a named component.

BentoML writes the scoring APIs' answers inline (titled ``ScoreResponseIODescriptor``)
and keeps unused copies among the components (``score__Input``, ``TaskStatusResponse``);
client generators then invent class names from the operation and title
(``TipscoreScoreScoreResponseIODescriptor``). Here each inline answer refers to a
component with the model's own name (``ScoreResponse``, ``BatchResponse``; else
``<OperationId>Response``) and components no operation reaches are dropped, so every
``$ref`` names something that is there and nothing else is.

Request bodies stay inline, as documented: an object keyed by the parameter name
(``{"report": ReportSubmission}``), titled ``Input``, which generators name after the
operation (``ScoreInput``, ``QueueInput``); what is inside them is referenced by name.
"""

from __future__ import annotations

from typing import Any

REF = "#/components/schemas/"
BENTOML_SUFFIX = "IODescriptor"


def _inline_object(schema: Any) -> bool:
    return (
        isinstance(schema, dict)
        and "$ref" not in schema
        and (schema.get("type") == "object" or "properties" in schema)
    )


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two schemas say the same thing (title and description aside)."""
    plain = {"title": None, "description": None}
    return {**a, **plain} == {**b, **plain}


def _component(components: dict[str, Any], name: str, schema: dict[str, Any]) -> str:
    """The name under which ``schema`` is a component: ``name``, or the same one there."""
    existing = components.get(name)
    if existing is not None and not _same(existing, schema):
        name = f"{name}Body"
    components.setdefault(name, {**schema, "title": name})
    return name


def _response_name(operation_id: str, schema: dict[str, Any]) -> str:
    title = str(schema.get("title", ""))
    if title.endswith(BENTOML_SUFFIX):  # BentoML's title of the output model
        return title.removesuffix(BENTOML_SUFFIX)
    return f"{operation_id[:1].upper()}{operation_id[1:]}Response"


def name_bodies(spec: dict[str, Any]) -> None:
    """Move inline answers into named components."""
    components = spec.setdefault("components", {}).setdefault("schemas", {})
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            op_id = str(operation["operationId"])
            for status, response in operation.get("responses", {}).items():
                media = response.get("content", {}).get("application/json", {})
                schema = media.get("schema")
                if status.startswith("2") and _inline_object(schema):
                    name = _component(components, _response_name(op_id, schema), schema)
                    media["schema"] = {"$ref": REF + name}


def _refs(node: Any) -> set[str]:
    """The component names ``node`` refers to."""
    if isinstance(node, list):
        return set().union(*map(_refs, node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found = set().union(*map(_refs, node.values())) if node else set()
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith(REF):
        found.add(ref.removeprefix(REF))
    return found


def prune(spec: dict[str, Any]) -> None:
    """Drop the components no operation reaches (BentoML's unused copies)."""
    components = spec.get("components", {}).get("schemas", {})
    reached: set[str] = set()
    todo = _refs(spec.get("paths", {}))
    while todo:
        name = todo.pop()
        if name in reached or name not in components:
            continue
        reached.add(name)
        todo |= _refs(components[name])
    for name in set(components) - reached:
        del components[name]


def dangling(spec: dict[str, Any]) -> set[str]:
    """References to components that are not there (none in a sound document)."""
    return _refs(spec) - set(spec.get("components", {}).get("schemas", {}))
