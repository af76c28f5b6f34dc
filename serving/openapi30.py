"""JSON Schema as pydantic writes it, turned into the OpenAPI 3.0 dialect the document declares.

Pydantic (and so BentoML and FastAPI) write JSON Schema 2020-12: ``{"type": "null"}`` in an
``anyOf`` for an optional field, ``const``, ``examples`` lists, ``$ref`` beside other
keywords. OpenAPI 3.0 knows none of these: it has ``nullable: true`` and ``example``, and a
``$ref`` replaces its whole object (so one beside other keywords moves into ``allOf``). The document says ``openapi: 3.0.3`` because the tools
that read it (Swagger UI, client generators, the API fuzzer) all read 3.0 well, so every
schema in it is rewritten here to mean the same thing in 3.0: ``anyOf: [X, {type: null}]``
becomes ``anyOf: [X], nullable: true``. ``openapi-spec-validator``
checks the result in the tests.
"""

from __future__ import annotations

from typing import Any

OPENAPI_VERSION = "3.0.3"
NULL = {"type": "null"}
SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
SUBSCHEMA_KEYS = ("items", "not", "additionalProperties")


def as_openapi_30(spec: dict[str, Any]) -> dict[str, Any]:
    """Rewrite every schema of the document (in place) into OpenAPI 3.0; return it."""
    spec["openapi"] = OPENAPI_VERSION
    schemas = spec.get("components", {}).get("schemas", {})
    for name, schema in schemas.items():
        schemas[name] = schema_30(schema)
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict):
                _operation_30(operation)
    return spec


def _operation_30(operation: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        if "schema" in parameter:
            parameter["schema"] = schema_30(parameter["schema"])
    bodies = [operation.get("requestBody", {})]
    bodies += list(operation.get("responses", {}).values())
    for body in bodies:
        for header in body.get("headers", {}).values():
            if "schema" in header:
                header["schema"] = schema_30(header["schema"])
        for media in body.get("content", {}).values():
            if "schema" in media:
                media["schema"] = schema_30(media["schema"])


def schema_30(schema: Any) -> Any:
    """One schema, and all the schemas inside it, in the OpenAPI 3.0 dialect."""
    if not isinstance(schema, dict):
        return schema
    schema = _nullable(dict(schema))
    schema = _keywords(schema)
    if "properties" in schema:
        schema["properties"] = {
            name: schema_30(value) for name, value in schema["properties"].items()
        }
    for key in SUBSCHEMA_LISTS:
        if key in schema:
            schema[key] = [schema_30(item) for item in schema[key]]
    for key in SUBSCHEMA_KEYS:
        if isinstance(schema.get(key), dict):
            schema[key] = schema_30(schema[key])
    return schema


def _is_null(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("type") == "null"


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """``anyOf: [X, {type: null}]`` → X with ``nullable: true``; ``type`` lists likewise."""
    types = schema.get("type")
    if isinstance(types, list):
        kinds = [t for t in types if t != "null"]
        if len(kinds) < len(types):
            schema["nullable"] = True
        if len(kinds) == 1:
            schema["type"] = kinds[0]
        else:
            del schema["type"]
            schema["anyOf"] = [{"type": t} for t in kinds]
    elif types == "null":  # a field that can only be null
        del schema["type"]
        schema.update(nullable=True, enum=[None])
    for key in ("anyOf", "oneOf"):
        members = schema.get(key)
        if isinstance(members, list) and any(map(_is_null, members)):
            # {anyOf: [X + nullable], nullable: true}: the shape pydantic gave, so
            # readers find X where they looked before; X itself must allow the null,
            # as in 3.0 ``nullable`` adds null only to a ``type`` beside it
            schema[key] = [_allows_null(m) for m in members if not _is_null(m)]
            schema["nullable"] = True
    enum = schema.get("enum")
    if schema.get("nullable") and isinstance(enum, list) and None not in enum:
        schema["enum"] = [*enum, None]
    return schema


def _allows_null(schema: Any) -> Any:
    """A member of a nullable ``anyOf``, with the null allowed where 3.0 can say so.

    A ``$ref`` cannot carry ``nullable``; tools read the ``nullable`` beside its
    ``anyOf`` as allowing the null (the usual 3.0 idiom).
    """
    if isinstance(schema, dict) and "$ref" not in schema:
        return {**schema, "nullable": True}
    return schema


def _keywords(schema: dict[str, Any]) -> dict[str, Any]:
    """Keywords JSON Schema 2020-12 has and OpenAPI 3.0 spells differently (or not at all)."""
    if "$ref" in schema and isinstance(schema.get("default"), dict):
        # a nested model's default is what its own fields' defaults make; client
        # generators cannot take an object there (openapi-python-client drops the model)
        del schema["default"]
    if "$ref" in schema and len(schema) > 1:
        ref = schema.pop("$ref")
        schema["allOf"] = [{"$ref": ref}, *schema.get("allOf", [])]
    if "const" in schema:
        schema["enum"] = [schema.pop("const")]
    examples = schema.pop("examples", None)
    if isinstance(examples, list) and examples and "example" not in schema:
        schema["example"] = examples[0]
    for bound, plain in (
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ):
        value = schema.get(bound)
        if isinstance(value, int | float) and not isinstance(value, bool):
            schema[plain], schema[bound] = value, True
    for key in ("$schema", "$id", "$defs", "contentMediaType", "contentEncoding"):
        schema.pop(key, None)
    return schema
