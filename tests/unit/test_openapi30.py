"""The JSON Schema → OpenAPI 3.0 rewrite and the naming of the document, on small documents."""

from __future__ import annotations

from typing import Any

from openapi_spec_validator import OpenAPIV30SpecValidator
from pydantic import BaseModel, Field

from serving.openapi30 import as_openapi_30, schema_30
from serving.openapi_names import operation_id
from serving.openapi_schemas import dangling, name_bodies, prune

REF = "#/components/schemas/"


class Inner(BaseModel):
    code: str = "x"


class Outer(BaseModel):
    when: str | None = None
    inner: Inner | None = None
    kind: int = Field(default=1, gt=0, examples=[2])
    fixed: str = Field(default="a", json_schema_extra={"const": "a"})
    defaulted: Inner = Inner()
    described: Inner = Field(default_factory=Inner, description="why")


def _document(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.pop("$defs", {})
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/x": {
                "post": {
                    "operationId": "x",
                    "requestBody": {
                        "content": {"application/json": {"schema": schema}}
                    },
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
        "components": {"schemas": components},
    }


def test_a_pydantic_schema_becomes_valid_openapi_30() -> None:
    schema = Outer.model_json_schema(ref_template=REF + "{model}")
    document = as_openapi_30(_document(schema))
    assert document["openapi"] == "3.0.3"
    assert list(OpenAPIV30SpecValidator(document).iter_errors()) == []
    body = document["paths"]["/x"]["post"]["requestBody"]["content"]
    fields = body["application/json"]["schema"]["properties"]
    assert fields["when"]["nullable"] is True
    assert fields["when"]["anyOf"] == [{"type": "string", "nullable": True}]
    assert fields["inner"]["anyOf"] == [{"$ref": REF + "Inner"}]
    assert fields["kind"]["minimum"] == 0 and fields["kind"]["exclusiveMinimum"] is True
    assert fields["kind"]["example"] == 2 and "examples" not in fields["kind"]
    assert fields["fixed"]["enum"] == ["a"] and "const" not in fields["fixed"]
    assert fields["defaulted"] == {
        "$ref": REF + "Inner"
    }  # generators refuse the default
    assert fields["described"] == {
        "allOf": [{"$ref": REF + "Inner"}],
        "description": "why",
    }


def test_type_lists_and_nullable_enums() -> None:
    assert schema_30({"type": ["integer", "null"]}) == {
        "type": "integer",
        "nullable": True,
    }
    assert schema_30({"type": ["integer", "string"]}) == {
        "anyOf": [{"type": "integer"}, {"type": "string"}]
    }
    nullable_enum = schema_30({"anyOf": [{"enum": [1, 2]}, {"type": "null"}]})
    assert nullable_enum["anyOf"] == [{"enum": [1, 2, None], "nullable": True}]


def test_inline_answers_become_named_components_and_unused_ones_go() -> None:
    answer = {"type": "object", "title": "ThingIODescriptor", "properties": {}}
    document = {
        "paths": {
            "/a": {
                "post": {
                    "operationId": "makeThing",
                    "responses": {
                        "200": {"content": {"application/json": {"schema": answer}}},
                        "201": {
                            "content": {
                                "application/json": {
                                    "schema": {"type": "object", "title": "Other"}
                                }
                            }
                        },
                    },
                }
            }
        },
        "components": {"schemas": {"Unused": {"type": "string"}}},
    }
    name_bodies(document)
    prune(document)
    responses = document["paths"]["/a"]["post"]["responses"]
    assert responses["200"]["content"]["application/json"]["schema"] == {
        "$ref": REF + "Thing"
    }
    assert responses["201"]["content"]["application/json"]["schema"] == {
        "$ref": REF + "MakeThingResponse"
    }
    assert set(document["components"]["schemas"]) == {"Thing", "MakeThingResponse"}
    assert dangling(document) == set()


def test_operation_ids_are_stable_and_camel_case() -> None:
    assert operation_id("/score_xml", "post", 1) == "scoreXml"
    assert operation_id("/model_card", "get", 2) == "getModelCard"
    assert operation_id("/livez", "get", 1) == "livez"
    assert operation_id("/admin/new_thing", "post", 2) == "postAdminNewThing"
