"""The OpenAPI document made to say what the service really answers.

BentoML generates ``/docs.json`` from the scoring APIs' signatures and merges in the paths
of the mounted analyst app (``serving.analyst``, which documents its own answers). For
the scoring APIs it does not know the middleware (401/403/413 refusals, 503 when no model
is served; and for every operation with a body, the body timeout's 408), it marks request bodies optional although every API needs one, and it types
the ``detail`` of a 400 as a string although validation errors carry a list; it drops the
null of nullable fields. Intake systems generate clients from this document and the API
fuzzer checks every answer against it, so it must be exact: ``complete`` fixes those
points on the generated document, then names everything for clients and declares the
bearer key (``serving.openapi_names``, ``serving.openapi_schemas``) and rewrites the
schemas into the OpenAPI 3.0 the document declares (``serving.openapi30``).
"""

from __future__ import annotations

import copy
import types
import typing
from functools import cache
from typing import Any

from pydantic import BaseModel

from features import schema as contract_models
from features.report_limits import ReportLimits
from features.schema import MAX_FILE_HASHES, MAX_FILES, MAX_IDENTIFIERS, SCHEMA_VERSION
from serving import schemas
from serving.analyst import schemas as analyst_schemas
from serving.auth import ROLES_BY_PATH
from serving.openapi30 import as_openapi_30
from serving.openapi_names import describe, name_operations
from serving.openapi_schemas import name_bodies, prune
from serving.settings import current
from serving.xml_openapi import add_xml_forms

IDENTIFIER_KINDS = frozenset(
    {"accounts", "screen_names", "emails", "phones", "ips", "devices"}
)

REFUSAL = {
    "type": "object",
    "title": "Refusal",
    "required": ["error"],
    "properties": {
        "error": {"type": "string", "title": "Code"},
        "message": {"type": "string", "title": "Message"},
    },
}
DETAIL = {
    "title": "Error Detail",
    "anyOf": [
        {"type": "string"},
        {"type": "array", "items": {"type": "object"}},
    ],
}
REFUSALS = {
    "401": "no key, or an unknown key",
    "403": "the key's role may not use this route",
    "413": "the body is over the size cap",
    "503": "no model is being served (or the keys file cannot be read)",
}

BODY_TIMEOUT = (
    "the request body did not arrive within the body timeout "
    "(`TIPSCORE_BODY_TIMEOUT_S`); the connection is closed"
)
"""The 408 of ``serving.body_timeout``: any operation with a request body may answer it."""


UNSUPPORTED_JSON = {
    "description": "the body is not JSON by its Content-Type (send application/json)",
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Refusal"}}
    },
}


@cache
def nullable_fields() -> dict[str, frozenset[str]]:
    """Model name → its properties that may be null (BentoML's document drops the null)."""
    found: dict[str, frozenset[str]] = {}
    for module in (contract_models, schemas, analyst_schemas):
        for model in vars(module).values():
            if not (isinstance(model, type) and issubclass(model, BaseModel)):
                continue
            found[model.__name__] = frozenset(
                field.alias or name
                for name, field in model.model_fields.items()
                if type(None) in typing.get_args(field.annotation)
                or field.annotation is types.NoneType
            )
    return found


def _allow_null(node: Any, nullable: dict[str, frozenset[str]]) -> None:
    """Mark nullable properties in every object schema of the document, nested too.

    A schema is matched to its model by its title (BentoML titles the top-level request
    and response schemas ``<Model>IODescriptor``; components keep the model's name).
    """
    if isinstance(node, list):
        for item in node:
            _allow_null(item, nullable)
        return
    if not isinstance(node, dict):
        return
    properties = node.get("properties")
    if isinstance(properties, dict):
        title = str(node.get("title", "")).removesuffix("IODescriptor")
        for prop in nullable.get(title, frozenset()) & properties.keys():
            value = properties[prop]
            if "$ref" in value:
                value = {"allOf": [{"$ref": value["$ref"]}]}
            properties[prop] = {**value, "nullable": True}
    for value in node.values():
        _allow_null(value, nullable)


def _response(description: str, schema: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}
        },
    }


def add_request_forms(spec: dict[str, Any]) -> None:
    """Request bodies in other forms than JSON: the raw and multipart forms of /score_xml.

    Runs after the real answers are added and before naming and the 3.0 rewrite, so a
    form may use pydantic's schemas as they are (``$ref`` to ``#/components/schemas/``).
    """
    add_xml_forms(spec)
    for path in ROLES_BY_PATH:  # JSON only (/score_xml: its forms, documented above)
        operation = spec.get("paths", {}).get(path, {}).get("post")
        if isinstance(operation, dict):
            operation.setdefault("responses", {}).setdefault("415", UNSUPPORTED_JSON)


def complete(spec: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """A copy of BentoML's document with the service's real answers added, named for clients.

    ``schemas`` are components the mounted app's request bodies refer to (BentoML merges
    only what FastAPI generated, and the analyst app reads its bodies itself).
    """
    spec = _answers(copy.deepcopy(spec), schemas)
    limit_items(spec, current().report_limits)
    add_request_forms(spec)
    describe(spec)
    name_operations(spec)
    name_bodies(spec)
    prune(spec)
    done = as_openapi_30(spec)
    done.setdefault("info", {})["x-contract-version"] = SCHEMA_VERSION  # the request's
    return done


def limit_items(node: Any, limits: ReportLimits) -> None:
    """The schema's ``maxItems`` of files and identifier lists as the limits in force.

    The contract's limits are in the schema already; a service that lowers them
    (``serving.settings``) documents the lower ones. A list is matched by its property
    name and the contract's limit it carries, so no other list is touched.
    """
    if isinstance(node, list):
        for item in node:
            limit_items(item, limits)
        return
    if not isinstance(node, dict):
        return
    for name, prop in (node.get("properties") or {}).items():
        if isinstance(prop, dict) and "maxItems" in prop:
            prop["maxItems"] = _limited(name, prop["maxItems"], limits)
    for value in node.values():
        limit_items(value, limits)


def _limited(name: str, most: int, limits: ReportLimits) -> int:
    if name in ("files", "file_details_xml") and most == MAX_FILES:
        return limits.files  # a <fileDetails> document describes a file
    if name == "file_hashes" and most == MAX_FILE_HASHES:
        return limits.file_hashes
    if name in IDENTIFIER_KINDS and most in (MAX_IDENTIFIERS, 2 * MAX_IDENTIFIERS):
        return limits.identifiers * (most // MAX_IDENTIFIERS)  # linkage.accounts: 2x
    return most


def _answers(spec: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """The refusals, required bodies and nullable fields BentoML's document leaves out."""
    components = spec.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in schemas.items():
        components.setdefault(name, copy.deepcopy(schema))
    components["Refusal"] = REFUSAL
    _allow_null(spec, nullable_fields())
    for schema in components.values():
        if "detail" in schema.get("properties", {}):
            schema["properties"]["detail"] = DETAIL
    for path, operations in spec.get("paths", {}).items():
        for operation in operations.values():
            responses = {str(k): v for k, v in operation.get("responses", {}).items()}
            operation["responses"] = responses  # FastAPI's keys may be ints
            if "requestBody" in operation:
                operation["requestBody"]["required"] = True
                responses.setdefault("408", _response(BODY_TIMEOUT, "Refusal"))
            if path in ROLES_BY_PATH:  # the analyst app documents its own
                for status, why in REFUSALS.items():
                    responses.setdefault(status, _response(why, "Refusal"))
            if path == "/readyz":
                responses.setdefault("503", {"description": "no model is being served"})
    return spec
