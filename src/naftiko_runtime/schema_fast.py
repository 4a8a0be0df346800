"""A fast check for the JSON Schema keywords tool schemas are made of, compiled into closures.

jsonschema walks a schema anew for every value and costs tens of microseconds for a tool's
result; every MCP call checks one. `compile_check` turns a schema made only of the keywords below
into a predicate that agrees with jsonschema's Draft 2020-12 verdict (formats not asserted, as
`SchemaCheck` uses it), and returns None for any schema with another applicator or assertion
(`$ref`, `not`, `if`, `uniqueItems`, ...): those are left to jsonschema. `SchemaCheck` asks
jsonschema again whenever this says "invalid", for the places and messages of the problems.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sized
from typing import Any

Check = Callable[[Any], bool]

# Keywords that only annotate: they never make a value invalid.
_ANNOTATIONS = frozenset(
    {"title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly", "$comment", "format"}
    | {"contentMediaType", "contentEncoding", "contentSchema"}
)
# Every other keyword Draft 2020-12 applies; those without a compiler here make the schema unsupported.
_APPLIED = frozenset(
    {"type", "enum", "const", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum"}
    | {"maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems", "maxContains", "minContains"}
    | {"maxProperties", "minProperties", "required", "dependentRequired", "prefixItems", "items", "contains"}
    | {"additionalProperties", "properties", "patternProperties", "dependentSchemas", "propertyNames"}
    | {"if", "then", "else", "allOf", "anyOf", "oneOf", "not", "unevaluatedItems", "unevaluatedProperties"}
)


class _Unsupported(Exception):
    pass


def compile_check(schema: Any) -> Check | None:
    """A predicate exactly as strict as jsonschema's, or None when the schema uses what it does not know."""
    try:
        return _compile(schema)
    except _Unsupported:
        return None


def is_number(value: Any) -> bool:
    """A JSON number: an int or a float, never a bool (Python's bool is an int)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


_TYPES: dict[str, Check] = {
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "string": lambda value: isinstance(value, str),
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
    "number": is_number,
    "integer": lambda value: is_number(value) and (isinstance(value, int) or value.is_integer()),
}
TYPE_NAMES = frozenset(_TYPES)


def _compile(schema: Any) -> Check:
    if schema is True:
        return lambda value: True
    if schema is False:
        return lambda value: False
    if not isinstance(schema, dict):
        raise _Unsupported
    checks: list[Check] = []
    for keyword, argument in schema.items():
        if keyword in _ANNOTATIONS:
            continue
        if keyword.startswith("$") or (keyword in _APPLIED and keyword not in _COMPILERS):
            raise _Unsupported
        compiler = _COMPILERS.get(keyword)
        if compiler is not None:  # an unknown keyword is an annotation in 2020-12
            checks.append(compiler(argument, schema))
    if not checks:
        return lambda value: True
    if len(checks) == 1:
        return checks[0]
    return lambda value: all(check(value) for check in checks)


def _type(argument: Any, schema: dict[str, Any]) -> Check:
    names = argument if isinstance(argument, list) else [argument]
    if not names or not all(isinstance(name, str) and name in _TYPES for name in names):
        raise _Unsupported
    if len(names) == 1:
        return _TYPES[names[0]]
    allowed = [_TYPES[name] for name in names]
    return lambda value: any(check(value) for check in allowed)


def _members(argument: Any) -> tuple[frozenset[str], bool, frozenset[bool]]:
    """Strings, null and booleans only: for them Python's equality is JSON's (1 is not true)."""
    if not isinstance(argument, list):
        raise _Unsupported
    if not all(member is None or isinstance(member, str | bool) for member in argument):
        raise _Unsupported
    strings = frozenset(member for member in argument if isinstance(member, str))
    booleans = frozenset(member for member in argument if isinstance(member, bool))
    return strings, None in argument, booleans


def _member_check(strings: frozenset[str], null: bool, booleans: frozenset[bool]) -> Check:
    def check(value: Any) -> bool:
        if isinstance(value, str):
            return value in strings
        if value is None:
            return null
        return isinstance(value, bool) and value in booleans

    return check


def _enum(argument: Any, schema: dict[str, Any]) -> Check:
    return _member_check(*_members(argument))


def _const(argument: Any, schema: dict[str, Any]) -> Check:
    return _member_check(*_members([argument]))


def _bound(fails: Callable[[Any, Any], bool]) -> Callable[[Any, dict[str, Any]], Check]:
    """`fails(value, limit)` written as jsonschema writes it (so NaN fares the same)."""

    def compiler(argument: Any, schema: dict[str, Any]) -> Check:
        if not is_number(argument):
            raise _Unsupported
        return lambda value: not is_number(value) or not fails(value, argument)

    return compiler


def _length(kind: type[Sized], compare: Callable[[int, int], bool]) -> Callable[[Any, dict[str, Any]], Check]:
    def compiler(argument: Any, schema: dict[str, Any]) -> Check:
        if not isinstance(argument, int) or isinstance(argument, bool) or argument < 0:
            raise _Unsupported
        return lambda value: not isinstance(value, kind) or compare(len(value), argument)

    return compiler


def _pattern(argument: Any, schema: dict[str, Any]) -> Check:
    if not isinstance(argument, str):
        raise _Unsupported
    try:
        search = re.compile(argument).search
    except re.error:
        raise _Unsupported from None
    return lambda value: not isinstance(value, str) or search(value) is not None


def _required(argument: Any, schema: dict[str, Any]) -> Check:
    if not isinstance(argument, list) or not all(isinstance(name, str) for name in argument):
        raise _Unsupported
    names = tuple(argument)
    return lambda value: not isinstance(value, dict) or all(name in value for name in names)


def _properties(argument: Any, schema: dict[str, Any]) -> Check:
    if not isinstance(argument, dict):
        raise _Unsupported
    compiled = [(name, _compile(child)) for name, child in argument.items()]

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return True
        return all(child(value[name]) for name, child in compiled if name in value)

    return check


def _additional(argument: Any, schema: dict[str, Any]) -> Check:
    declared = schema.get("properties", {})
    if not isinstance(declared, dict):
        raise _Unsupported
    known = frozenset(declared)
    child = _compile(argument)

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return True
        return all(child(item) for name, item in value.items() if name not in known)

    return check


def _items(argument: Any, schema: dict[str, Any]) -> Check:
    child = _compile(argument)  # a list here is the older drafts' tuple form: unsupported
    return lambda value: not isinstance(value, list) or all(child(item) for item in value)


def _subschemas(argument: Any) -> list[Check]:
    if not isinstance(argument, list) or not argument:
        raise _Unsupported
    return [_compile(child) for child in argument]


def _all_of(argument: Any, schema: dict[str, Any]) -> Check:
    children = _subschemas(argument)
    return lambda value: all(child(value) for child in children)


def _any_of(argument: Any, schema: dict[str, Any]) -> Check:
    children = _subschemas(argument)
    return lambda value: any(child(value) for child in children)


def _one_of(argument: Any, schema: dict[str, Any]) -> Check:
    children = _subschemas(argument)
    return lambda value: sum(1 for child in children if child(value)) == 1


_COMPILERS: dict[str, Callable[[Any, dict[str, Any]], Check]] = {
    "type": _type,
    "enum": _enum,
    "const": _const,
    "minimum": _bound(lambda value, limit: value < limit),
    "maximum": _bound(lambda value, limit: value > limit),
    "exclusiveMinimum": _bound(lambda value, limit: value <= limit),
    "exclusiveMaximum": _bound(lambda value, limit: value >= limit),
    "minLength": _length(str, lambda size, limit: size >= limit),
    "maxLength": _length(str, lambda size, limit: size <= limit),
    "minItems": _length(list, lambda size, limit: size >= limit),
    "maxItems": _length(list, lambda size, limit: size <= limit),
    "minProperties": _length(dict, lambda size, limit: size >= limit),
    "maxProperties": _length(dict, lambda size, limit: size <= limit),
    "pattern": _pattern,
    "required": _required,
    "properties": _properties,
    "additionalProperties": _additional,
    "items": _items,
    "allOf": _all_of,
    "anyOf": _any_of,
    "oneOf": _one_of,
}
