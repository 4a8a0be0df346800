"""A tool's `outputSchema`: from its typed output parameters or a companion document's answer.

Only object results get one (protocol revisions up to 2025-11-25 require an object root). A
mapped value the upstream did not send comes out as null, so properties built from output
parameters admit null; an unnamed `type: object` with no properties says nothing a client can
use, so it gives no schema (its results still carry structured content).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from naftiko_runtime.openapi_schema import json_type_of
from naftiko_runtime.schema_check import SchemaCheck
from naftiko_runtime.spec.models import OutputParameter
from naftiko_runtime.templates import is_template

_TYPES = {
    "string": "string",
    "str": "string",
    "text": "string",
    "number": "number",
    "float": "number",
    "double": "number",
    "decimal": "number",
    "integer": "integer",
    "int": "integer",
    "long": "integer",
    "boolean": "boolean",
    "bool": "boolean",
    "array": "array",
    "list": "array",
    "object": "object",
    "map": "object",
}


class OutputSchema:
    """The advertised schema and its compiled check (`SchemaCheck`)."""

    __slots__ = ("check", "schema", "source")

    def __init__(self, schema: dict[str, Any], source: str, *, checked: bool = False) -> None:
        """Raises `InvalidSchema` unless `schema` is valid 2020-12 (`checked`: known to be)."""
        self.schema = schema
        self.check = SchemaCheck(schema, checked=checked)
        self.source = source


def schema_from_outputs(parameters: Sequence[OutputParameter]) -> dict[str, Any] | None:
    """The object schema typed output parameters describe, or None."""
    if not parameters:
        return None
    if len(parameters) == 1 and not parameters[0].name:
        only = parameters[0]
        if _json_type(only.type) != "object" or not only.properties:
            return None
        return _object(only.properties, only.description, nullable=False)
    named = {parameter.name or f"value{index}": parameter for index, parameter in enumerate(parameters)}
    return _object(named, None, nullable=False)


def schema_from_answer(schema: dict[str, Any] | None) -> dict[str, Any] | None:
    """A companion answer schema when its root is an object (`type: object`, or properties alone)."""
    if not schema:
        return None
    kind = schema.get("type")
    if kind == "object" or (kind is None and isinstance(schema.get("properties"), dict)):
        return {**schema, "type": "object"}
    return None


def _object(fields: dict[str, OutputParameter], description: str | None, *, nullable: bool) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": ["object", "null"] if nullable else "object",
        "properties": {name: _schema(field) for name, field in fields.items()},
    }
    if description:
        schema["description"] = description
    return schema


def _schema(parameter: OutputParameter) -> dict[str, Any]:
    kind = _json_type(parameter.type)
    if parameter.properties:
        return _object(parameter.properties, parameter.description, nullable=True)
    schema: dict[str, Any] = {}
    if parameter.value is not None:
        # A fixed value is sent as written, a template as the text it renders.
        kind = "string" if is_template(parameter.value) else json_type_of(parameter.value)
    if kind is not None:
        schema["type"] = [kind, "null"] if kind != "null" else "null"
    if kind == "array":
        items = parameter.items
        if isinstance(items, list):
            item_fields = {field.name or f"field{index}": field for index, field in enumerate(items)}
            schema["items"] = _object(item_fields, None, nullable=True)
        else:
            schema["items"] = _schema(items) if items is not None else {}
    if parameter.description:
        schema["description"] = parameter.description
    return schema


def _json_type(name: str | None) -> str | None:
    return _TYPES.get(name.lower()) if name else None
