"""A small value valid for a JSON Schema / OpenAPI schema, for operations without examples.

Prefers what the schema itself offers (`const`, `example`, `examples`, `default`, `enum`), then
builds the least that satisfies it: required properties only, `minItems` items, bounds respected.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .document import Resolver

_FORMATTED_STRINGS: dict[str, str] = {
    "date-time": "1970-01-01T00:00:00Z",
    "date": "1970-01-01",
    "time": "00:00:00Z",
    "duration": "P0D",
    "email": "user@example.com",
    "idn-email": "user@example.com",
    "hostname": "example.com",
    "idn-hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "iri": "https://example.com/",
    "uri-reference": "/",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "byte": "",
    "binary": "",
    "password": "",
}


def minimal_value(schema: Any, resolver: Resolver) -> Any:
    return _Generator(resolver).value(schema, ())


class _Generator:
    def __init__(self, resolver: Resolver) -> None:
        self._resolver = resolver

    def value(self, schema: Any, refs: tuple[str, ...]) -> Any:
        if schema is True or schema is None:
            return None
        if not isinstance(schema, Mapping):
            return None
        ref = schema.get("$ref")
        if isinstance(ref, str):
            if ref in refs:
                return None  # a required cycle cannot be satisfied finitely; stop here
            refs = (*refs, ref)
        schema = self._resolver.deref(schema)
        if not isinstance(schema, Mapping):
            return None
        offered = _offered(schema)
        if offered is not _NOTHING:
            return offered
        if "allOf" in schema:
            return self._all_of(schema, refs)
        for key in ("oneOf", "anyOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                return self.value(_first_not_null(options, self._resolver), refs)
        kind = _type_of(schema)
        if kind == "object":
            return self._object(schema, refs)
        if kind == "array":
            count = int(schema.get("minItems", 0) or 0)
            return [self.value(schema.get("items", {}), refs) for _ in range(count)]
        if kind == "string":
            return _string(schema)
        if kind in ("integer", "number"):
            return _number(schema, integer=kind == "integer")
        if kind == "boolean":
            return False
        return None

    def _object(self, schema: Mapping[str, Any], refs: tuple[str, ...]) -> dict[str, Any]:
        properties = schema.get("properties", {})
        result: dict[str, Any] = {}
        for name in schema.get("required", []):
            subschema = properties.get(name, {}) if isinstance(properties, Mapping) else {}
            result[str(name)] = self.value(subschema, refs)
        return result

    def _all_of(self, schema: Mapping[str, Any], refs: tuple[str, ...]) -> Any:
        merged: Any = None
        rest = {k: v for k, v in schema.items() if k != "allOf"}
        parts = [*schema["allOf"], rest] if rest else list(schema["allOf"])
        for part in parts:
            value = self.value(part, refs)
            if isinstance(merged, dict) and isinstance(value, dict):
                merged = {**merged, **value}
            elif merged is None:
                merged = value
        return merged


_NOTHING: Any = object()


def _offered(schema: Mapping[str, Any]) -> Any:
    if "const" in schema:
        return schema["const"]
    if "example" in schema:
        return schema["example"]
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        return examples[0]
    if "default" in schema:
        return schema["default"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return next((item for item in enum if item is not None), enum[0])
    return _NOTHING


def _type_of(schema: Mapping[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if isinstance(kind, str):
        return kind
    if "properties" in schema or "required" in schema or "additionalProperties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return None


def _first_not_null(options: list[Any], resolver: Resolver) -> Any:
    for option in options:
        resolved = resolver.deref(option)
        if not (isinstance(resolved, Mapping) and resolved.get("type") == "null"):
            return option
    return options[0]


def _string(schema: Mapping[str, Any]) -> str:
    text = _FORMATTED_STRINGS.get(str(schema.get("format", "")), "")
    minimum = int(schema.get("minLength", 0) or 0)
    if len(text) < minimum:
        text += "x" * (minimum - len(text))
    return text


def _number(schema: Mapping[str, Any], *, integer: bool) -> int | float:
    low, high = schema.get("minimum"), schema.get("maximum")
    exclusive_low, exclusive_high = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if isinstance(exclusive_low, bool):  # OpenAPI 3.0 spelling: a flag on `minimum`
        low, exclusive_low = (None, low) if exclusive_low else (low, None)
    if isinstance(exclusive_high, bool):
        high, exclusive_high = (None, high) if exclusive_high else (high, None)
    value: float = 0
    if isinstance(low, int | float) and value < low:
        value = low
    if isinstance(exclusive_low, int | float) and value <= exclusive_low:
        value = exclusive_low + 1
    if isinstance(high, int | float) and value > high:
        value = high
    if isinstance(exclusive_high, int | float) and value >= exclusive_high:
        value = exclusive_high - 1
    return int(value) if integer else value
