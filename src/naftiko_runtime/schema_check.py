"""A JSON Schema 2020-12 check compiled once (on first use), telling each problem by its place.

Messages never repeat the checked value (it may be anything, a secret included): they say what
was expected, from the schema, and which JSON type was found.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from naftiko_runtime.openapi_schema import json_type_of
from naftiko_runtime.schema_fast import TYPE_NAMES, compile_check, is_number

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

MAX_PROBLEMS = 10
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

    A schema made only of keywords `surely_valid` understands is answered without jsonschema
    (its import is megabytes a server may never need). Any other is checked against the draft-07
    meta-schema (four times faster, and it refuses what documents get wrong: types, required
    lists, bounds); only a schema it refuses is checked against the 2020-12 meta-schema, whose
    verdict stands.
    """
    if surely_valid(schema):
        return None
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    if _draft7_meta().is_valid(schema):
        return None
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(part) for part in exc.absolute_path) or "(root)"
        return f"invalid JSON Schema at {where}: {exc.message[:200]}"
    return None


@functools.cache
def _draft7_meta() -> Validator:
    from jsonschema import Draft7Validator

    return Draft7Validator(Draft7Validator.META_SCHEMA)


# What `surely_valid` knows of the 2020-12 meta-schema: keywords whose value is a schema, a
# mapping of schemas or a non-empty list of schemas, and tests for the other keywords' values.
_SUBSCHEMA = frozenset(
    {
        "items",
        "additionalProperties",
        "not",
        "if",
        "then",
        "else",
        "contains",
        "propertyNames",
        "unevaluatedItems",
        "unevaluatedProperties",
        "contentSchema",
    }
)
_SUBSCHEMA_MAPS = frozenset({"properties", "$defs", "patternProperties", "dependentSchemas"})
_SUBSCHEMA_LISTS = frozenset({"prefixItems", "allOf", "anyOf", "oneOf"})


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_string(value: Any) -> bool:
    return isinstance(value, str)


def _is_boolean(value: Any) -> bool:
    return isinstance(value, bool)


def _is_list(value: Any) -> bool:
    return isinstance(value, list)


def _is_anything(value: Any) -> bool:
    return True


def _is_type(value: Any) -> bool:
    if isinstance(value, str):
        return value in TYPE_NAMES
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(name, str) and name in TYPE_NAMES for name in value)
        and len(set(value)) == len(value)
    )


def _is_names(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(name, str) for name in value) and len(set(value)) == len(value)


def _is_positive(value: Any) -> bool:
    return is_number(value) and value > 0


def _is_regex(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        re.compile(value)
    except Exception:  # any failure: unsure, jsonschema decides
        return False
    return True


_VALUE_TESTS: dict[str, Callable[[Any], bool]] = {
    "type": _is_type,
    "required": _is_names,
    "enum": _is_list,
    "examples": _is_list,
    "multipleOf": _is_positive,
    "pattern": _is_regex,
    **dict.fromkeys(("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"), is_number),
    **dict.fromkeys(
        (
            "minLength",
            "maxLength",
            "minItems",
            "maxItems",
            "minContains",
            "maxContains",
            "minProperties",
            "maxProperties",
        ),
        _is_count,
    ),
    **dict.fromkeys(("format", "title", "description", "$comment", "contentEncoding", "contentMediaType"), _is_string),
    **dict.fromkeys(("deprecated", "readOnly", "writeOnly", "uniqueItems"), _is_boolean),
    **dict.fromkeys(("default", "const"), _is_anything),
}
# Keywords of the meta-schema whose values are not tested here (references, identifiers, vocabularies,
# `dependentRequired` and the keywords of earlier drafts): a schema using one goes to jsonschema.
# Unknown keywords are valid in 2020-12 (`nullable`, `discriminator`, `x-...`), except those
# starting with `$`, which are left to jsonschema too.
UNTESTED_KEYWORDS = frozenset(
    {
        "$id",
        "$schema",
        "$ref",
        "$anchor",
        "$dynamicRef",
        "$dynamicAnchor",
        "$vocabulary",
        "$recursiveRef",
        "$recursiveAnchor",
        "dependentRequired",
        "definitions",
        "dependencies",
    }
)
KNOWN_KEYWORDS = _SUBSCHEMA | _SUBSCHEMA_MAPS | _SUBSCHEMA_LISTS | _VALUE_TESTS.keys()


def surely_valid(schema: Any) -> bool:
    """True only when `schema` is certainly valid JSON Schema 2020-12: every keyword met is one whose
    value is tested here, or unknown to 2020-12. False means "not sure" (jsonschema must say)."""
    pending = [schema]
    while pending:
        node = pending.pop()
        if isinstance(node, bool):
            continue
        if not isinstance(node, dict):
            return False
        for key, value in node.items():
            if not isinstance(key, str):
                return False
            if key in _SUBSCHEMA:
                pending.append(value)
            elif key in _SUBSCHEMA_MAPS:
                if not isinstance(value, dict) or not all(isinstance(name, str) for name in value):
                    return False
                if key == "patternProperties" and not all(_is_regex(name) for name in value):
                    return False
                pending.extend(value.values())
            elif key in _SUBSCHEMA_LISTS:
                if not isinstance(value, list) or not value:
                    return False
                pending.extend(value)
            else:
                test = _VALUE_TESTS.get(key)
                if test is not None:
                    if not test(value):
                        return False
                elif key in UNTESTED_KEYWORDS or key.startswith("$"):
                    return False
    return True


class SchemaCheck:
    """`problems(value)`: (place, message) pairs, empty when `value` conforms."""

    __slots__ = ("_compiled", "_fast", "schema")

    def __init__(self, schema: dict[str, Any], *, checked: bool = False) -> None:
        """`checked`: the schema is known valid (built here, or checked with `schema_problem`)."""
        problem = None if checked else schema_problem(schema)
        if problem is not None:
            raise InvalidSchema(problem)
        self.schema = schema
        self._compiled: Validator | None = None
        # What `schema_fast` can check answers most values; jsonschema has the last word on the others.
        self._fast = compile_check(schema)

    @property
    def _validator(self) -> Validator:
        """Compiled on first use: jsonschema is imported only once a value is checked."""
        if self._compiled is None:
            from jsonschema import Draft202012Validator

            self._compiled = Draft202012Validator(self.schema)
        return self._compiled

    def is_valid(self, value: Any) -> bool:
        if self._fast is not None and self._fast(value):
            return True
        return bool(self._validator.is_valid(value))

    def problems(self, value: Any, prefix: str = "") -> list[tuple[str, str]]:
        if self._fast is not None and self._fast(value):
            return []
        validator = self._validator
        if validator.is_valid(value):
            return []
        errors = sorted(validator.iter_errors(value), key=lambda error: [str(p) for p in error.absolute_path])
        found: list[tuple[str, str]] = []
        for error in errors[:MAX_PROBLEMS]:
            found.append(describe(_deepest(error), prefix))
        return found


def _deepest(error: ValidationError) -> ValidationError:
    """For anyOf/oneOf, the error of the branch meant: one whose type matched, if any (then jsonschema's choice)."""
    from jsonschema.exceptions import best_match

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
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import SchemaError

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
