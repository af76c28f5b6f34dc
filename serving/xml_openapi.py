"""The raw and multipart forms of ``/score_xml`` in the OpenAPI document, with examples.

BentoML documents ``/score_xml`` from its signature: the JSON form only. The other two
forms are served by ``serving.xml_forms`` in front of the route, so BentoML cannot know
them; ``add_xml_forms`` adds them to the generated document (called by
``serving.openapi_doc.complete``): the ``application/xml``, ``text/xml`` and
``multipart/form-data`` request bodies with an example each, an example for the JSON form,
the facts as query parameters and headers, and the 415 answer. Kept apart from the rest
of the document's fix-ups so either can change without the other.
"""

from __future__ import annotations

import copy
from typing import Any

from serving.xml_facts import FACTS, HASH_MATCH_FORMAT

REPORT_EXAMPLE = """<?xml version="1.0" encoding="UTF-8"?>
<report>
  <incidentSummary>
    <incidentType>Online Enticement of Children for Sexual Acts</incidentType>
    <platform>Discord</platform>
    <incidentDateTime>2024-06-01T10:00:00Z</incidentDateTime>
  </incidentSummary>
  <reporter>
    <reportingPerson><email>trust-safety@example.com</email></reportingPerson>
  </reporter>
  <personOrUserReported>
    <espIdentifier>user-1234</espIdentifier>
  </personOrUserReported>
</report>"""

FACT_SCHEMAS: dict[str, dict[str, Any]] = {
    "esp": {
        "type": "string",
        "description": "the reporting ESP; when absent (an ESP's report), the platform "
        "the XML names is used, with the warning xml_esp_from_platform",
    },
    "report_id": {
        "type": "string",
        "description": "the report's id (default: the fileDetails' reportId, else "
        "derived from the document)",
    },
    "received_at": {
        "type": "string",
        "format": "date-time",
        "description": "when the report was received, ISO 8601 with a zone (default: "
        "now, with the warning received_at_defaulted)",
    },
    "reporter_type": {
        "type": "string",
        "enum": ["esp", "public"],
        "description": "esp (default) or public",
    },
    "hash_matches": {
        "type": "array",
        "items": {"type": "string"},
        "description": f"hash-match results by file id: {HASH_MATCH_FORMAT}",
    },
}
EXAMPLES = {
    "esp": "Discord",
    "received_at": "2024-06-02T10:00:00Z",
    "reporter_type": "esp",
}
MEDIA_TYPES = ("application/xml", "text/xml")
DESCRIPTION = (
    "\n\nThree forms, one answer: the raw `<report>` document as the body "
    "(`application/xml` or `text/xml`; the charset parameter is honoured, else the XML "
    "declaration), with the facts as query parameters or `X-Tipscore-*` headers; a "
    "`multipart/form-data` body with one `report` part, any number of `fileDetails` "
    "parts and the facts as form fields; or the JSON form. Any other Content-Type: 415."
)
UNSUPPORTED = {
    "description": "the Content-Type is not XML, multipart or JSON, or its charset "
    "is unknown",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["error", "message"],
                "properties": {
                    "error": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
            "example": {
                "error": "unsupported_media_type",
                "message": "Content-Type 'text/plain' is not accepted on /score_xml",
            },
        }
    },
}


def _parameters() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for name, schema in FACT_SCHEMAS.items():
        for place, key in (("query", name), ("header", FACTS[name].title())):
            parameter: dict[str, Any] = {
                "name": key,
                "in": place,
                "required": False,
                "description": f"{schema['description']} (raw and multipart forms "
                "only: the JSON form has it as a field, and refuses it here)",
                "schema": _schema(schema, place),
            }
            if name in EXAMPLES:
                parameter["example"] = EXAMPLES[name]
            found.append(parameter)
    return found


def _schema(fact: dict[str, Any], place: str) -> dict[str, Any]:
    """A fact's parameter schema; a header is declared as the plain string it is.

    Client generators refuse typed headers (``openapi-python-client``: "datetime is not
    allowed in header"), and a header's value is text on the wire anyway: a time in ISO
    8601, hash matches comma-separated.
    """
    schema = {k: v for k, v in fact.items() if k != "description"}
    if place != "header":
        return schema
    return {"type": "string", **({"enum": fact["enum"]} if "enum" in fact else {})}


def _multipart() -> dict[str, Any]:
    document = {"type": "string", "format": "binary"}
    properties: dict[str, Any] = {
        "report": {**document, "description": "the <report> document"},
        "fileDetails": {
            "type": "array",
            "items": document,
            "description": "the <fileDetails> documents",
        },
        **copy.deepcopy(FACT_SCHEMAS),
    }
    xml = ", ".join(MEDIA_TYPES)
    return {
        "schema": {"type": "object", "required": ["report"], "properties": properties},
        "encoding": {
            "report": {"contentType": xml},
            "fileDetails": {"contentType": xml},
        },
        "example": {"report": REPORT_EXAMPLE, **EXAMPLES},
    }


def _json_example() -> dict[str, Any]:
    return {"submission": {"report_xml": REPORT_EXAMPLE, **EXAMPLES}}


def add_xml_forms(spec: dict[str, Any]) -> None:
    """Add the raw and multipart forms of ``POST /score_xml`` to ``spec`` (in place)."""
    operation = spec.get("paths", {}).get("/score_xml", {}).get("post")
    if not isinstance(operation, dict):
        return
    body = operation.setdefault("requestBody", {"required": True})
    content = body.setdefault("content", {})
    if "application/json" in content:
        content["application/json"].setdefault("example", _json_example())
    for media_type in MEDIA_TYPES:
        content[media_type] = {
            # bytes, as sent (the charset decides the text): a file to upload in the API
            # page, and a binary body in generated clients
            "schema": {
                "type": "string",
                "format": "binary",
                "description": "the <report> document",
            },
            "example": REPORT_EXAMPLE,
        }
    content["multipart/form-data"] = _multipart()
    parameters = operation.setdefault("parameters", [])
    declared = {(p.get("name"), p.get("in")) for p in parameters}
    parameters += [p for p in _parameters() if (p["name"], p["in"]) not in declared]
    operation.setdefault("responses", {}).setdefault("415", UNSUPPORTED)
    if DESCRIPTION not in operation.get("description", ""):
        operation["description"] = operation.get("description", "") + DESCRIPTION
