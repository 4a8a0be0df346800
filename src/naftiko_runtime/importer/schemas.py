"""The JSON type of an OpenAPI schema, as far as a parameter's `type` needs it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from naftiko_runtime.importer.document import OpenApiDocument

JSON_TYPES = ("string", "number", "integer", "boolean", "array", "object")
_DEPTH = 16


def json_type(document: OpenApiDocument, schema: Any, default: str = "string") -> str:
    return _type(document, schema, _DEPTH) or default


def _type(document: OpenApiDocument, schema: Any, depth: int) -> str | None:
    schema = document.deref(schema)
    if not isinstance(schema, Mapping) or depth == 0:
        return None
    declared = schema.get("type")
    # OpenAPI 3.1 writes a nullable type as a list: [string, "null"].
    names = declared if isinstance(declared, list) else [declared]
    for name in names:
        if name in JSON_TYPES:
            return str(name)
    for combinator in ("allOf", "oneOf", "anyOf"):
        branches = schema.get(combinator)
        if isinstance(branches, list):
            found = {_type(document, branch, depth - 1) for branch in branches} - {None, "null"}
            if len(found) == 1:
                return found.pop()
            if found <= {"integer", "number"} and found:
                return "number"
            if found:
                return None
    if "properties" in schema or "additionalProperties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        kinds = {type(value) for value in enum if value is not None}
        if kinds == {bool}:
            return "boolean"
        if kinds == {int}:
            return "integer"
        if kinds <= {int, float} and kinds:
            return "number"
        return "string"
    return None


def enum_values(document: OpenApiDocument, schema: Any) -> list[Any]:
    schema = document.deref(schema)
    enum = schema.get("enum") if isinstance(schema, Mapping) else None
    return [value for value in enum if value is not None] if isinstance(enum, list) else []
