"""A JSON Schema 2020-12 check compiled once, telling each problem by its place.

Messages never repeat the checked value (it may be anything, a secret included): they say what
was expected, from the schema, and which JSON type was found.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from jsonschema import Draft7Validator, Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError, best_match

from naftiko_runtime.openapi_schema import json_type_of

MAX_PROBLEMS = 10
_DRAFT7_META = Draft7Validator(Draft7Validator.META_SCHEMA)
_BOUNDS = {
    "minimum": "must be >= {}",
    "maximum": "must be <= {}",
    "exclusiveMinimum": "must be > {}",
    "exclusiveMaximum": "must be < {}",
    "minLength": "must be at least {} characters long",
    "maxLength": "must be at most {} characters long",
    "minItems": "must have at least {} items",
    "maxItems": "must have at most {} items",
    "minProperties": "must have at least {} properties",
    "maxProperties": "must have at most {} properties",
    "multipleOf": "must be a multiple of {}",
    "pattern": "does not match pattern {}",
}


class InvalidSchema(Exception):
    """The schema is not valid JSON Schema 2020-12; the message says where."""


def schema_problem(schema: Any) -> str | None:
    """Why `schema` is not valid JSON Schema 2020-12, or None.

    The draft-07 meta-schema is checked first (four times faster, and it refuses what documents
    get wrong: types, required lists, bounds); only a schema it refuses is checked against the
    2020-12 meta-schema, whose verdict stands.
    """
    if _DRAFT7_META.is_valid(schema):
        return None
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(part) for part in exc.absolute_path) or "(root)"
        return f"invalid JSON Schema at {where}: {exc.message[:200]}"
    return None


class SchemaCheck:
    """`problems(value)`: (place, message) pairs, empty when `value` conforms."""

    __slots__ = ("_validator", "schema")

    def __init__(self, schema: dict[str, Any], *, checked: bool = False) -> None:
        """`checked`: the schema is known valid (built here, or checked with `schema_problem`)."""
        problem = None if checked else schema_problem(schema)
        if problem is not None:
            raise InvalidSchema(problem)
        self.schema = schema
        self._validator = Draft202012Validator(schema)

    def is_valid(self, value: Any) -> bool:
        return bool(self._validator.is_valid(value))

    def problems(self, value: Any, prefix: str = "") -> list[tuple[str, str]]:
        if self._validator.is_valid(value):
            return []
        errors = sorted(self._validator.iter_errors(value), key=lambda error: [str(p) for p in error.absolute_path])
        found: list[tuple[str, str]] = []
        for error in errors[:MAX_PROBLEMS]:
            found.append(describe(_deepest(error), prefix))
        return found


def _deepest(error: ValidationError) -> ValidationError:
    """For anyOf/oneOf, the error of the branch meant: one whose type matched, if any (then jsonschema's choice)."""
    while error.context:
        meant = [branch for branch in error.context if branch.validator != "type"]
        chosen = best_match(meant or error.context)
        if chosen is None:
            break
        error = chosen
    return error


def describe(error: ValidationError, prefix: str = "") -> tuple[str, str]:
    place = prefix + place_of(error.absolute_path)
    keyword = str(error.validator)
    expected: Any = error.validator_value
    if keyword == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        return place, f"expected {' or '.join(map(str, kinds))}, got {json_type_of(error.instance)}"
    if keyword == "required" and isinstance(error.instance, dict):
        listed = expected if isinstance(expected, list) else []
        missing = next((name for name in listed if name not in error.instance), "?")
        return f"{place}.{missing}" if place else str(missing), "required property is missing"
    if keyword in ("additionalProperties", "unevaluatedProperties") and isinstance(error.instance, dict):
        known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        extra = next((name for name in error.instance if name not in known), "?")
        return f"{place}.{extra}" if place else str(extra), "unknown property"
    if keyword == "enum":
        return place, f"must be one of {_short(expected)}"
    if keyword == "const":
        return place, f"must be {_short(expected)}"
    if keyword in _BOUNDS:
        return place, _BOUNDS[keyword].format(expected)
    if keyword in ("anyOf", "oneOf"):
        return place, f"matches {'none' if keyword == 'anyOf' else 'not exactly one'} of the allowed shapes"
    return place, f"does not satisfy '{keyword}'"


def place_of(path: Iterable[Any]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)


def _short(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def strict_problems(schema: Any, *, tool_input: bool = True, meta: bool = True) -> list[str]:
    """Why a strict client could refuse `schema`: not valid 2020-12 (`meta`), not an object at the root,
    an untyped property of the root, an array without `items`, a `$ref` (nothing to resolve it against)."""
    problems: list[str] = []
    if meta:
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            problems.append(f"not valid JSON Schema 2020-12: {exc.message[:200]}")
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return [*problems, "the root is not `type: object`"]
    if tool_input:
        for name, child in (schema.get("properties") or {}).items():
            if not isinstance(child, dict) or not child.get("type"):
                problems.append(f"property '{name}' has no type")
    problems.extend(_walk(schema, ""))
    return problems


def _walk(node: Any, where: str) -> Sequence[str]:
    if isinstance(node, list):
        return [problem for index, child in enumerate(node) for problem in _walk(child, f"{where}[{index}]")]
    if not isinstance(node, dict):
        return []
    problems: list[str] = []
    if "$ref" in node:
        problems.append(f"{where or '(root)'} has a $ref")
    kinds = node.get("type")
    is_array = kinds == "array" or (isinstance(kinds, list) and "array" in kinds)
    if is_array and "items" not in node and "prefixItems" not in node:
        problems.append(f"{where or '(root)'} is an array without items")
    for key, child in node.items():
        if key in ("enum", "const", "default", "examples", "required"):
            continue
        problems.extend(_walk(child, f"{where}.{key}" if key != "properties" else where + ".properties"))
    return problems
