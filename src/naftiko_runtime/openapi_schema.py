"""An OpenAPI schema object made a self-contained JSON Schema 2020-12.

Local `$ref`s are inlined (a reference back into a schema being inlined is cut, keeping only
its type), OpenAPI 3.0 spellings become 2020-12 ones (`nullable`, boolean `exclusiveMinimum`),
keywords only OpenAPI knows and examples are dropped (they bloat a tool list), and properties
that do not travel in the direction at hand (`readOnly` in a request, `writeOnly` in an
answer) are left out. What cannot be resolved is cut to an open schema and reported once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote

Direction = Literal["request", "response"]
Lookup = Callable[[str], Any]

JSON_TYPES = ("string", "number", "integer", "boolean", "array", "object", "null")
# Keywords JSON Schema 2020-12 does not define that OpenAPI documents carry.
_DROPPED = frozenset(
    {"nullable", "discriminator", "xml", "externalDocs", "example", "examples", "$schema", "$id", "$anchor"}
)
_DROPPED_ALWAYS = frozenset({"$defs", "definitions", "$dynamicRef", "$dynamicAnchor", "$comment"})
_SCHEMA_MAPS = ("properties", "patternProperties", "dependentSchemas")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_VALUES = (
    "items",
    "additionalProperties",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedProperties",
    "unevaluatedItems",
    "additionalItems",
)
# Deeper than this, or bigger than this many schema nodes, a schema is cut: an enormous
# expansion helps no client and would slow loading.
MAX_DEPTH = 40
MAX_NODES = 20_000


@dataclass(slots=True)
class Inliner:
    """Inlines one document's schemas; `lookup` resolves a local `$ref` or raises LookupError."""

    lookup: Lookup
    openapi_30: bool = False
    problems: list[str] = field(default_factory=list)
    _nodes: int = 0

    def inline(self, schema: Any, direction: Direction) -> dict[str, Any]:
        """A self-contained copy of `schema` (a dict; anything else is the open schema)."""
        self._nodes = 0
        converted = self._convert(schema, direction, (), 0)
        return converted if isinstance(converted, dict) else {}

    def _convert(self, node: Any, direction: Direction, stack: tuple[str, ...], depth: int) -> Any:
        if isinstance(node, bool):
            return node
        if not isinstance(node, Mapping):
            return {}
        self._nodes += 1
        if depth > MAX_DEPTH or self._nodes > MAX_NODES:
            self._remark("a schema is too deep or too large; the rest of it is left open")
            return {}
        ref = node.get("$ref")
        if isinstance(ref, str):
            return self._follow(ref, node, direction, stack, depth)
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in _DROPPED or key in _DROPPED_ALWAYS or key.startswith("x-") or key == "$ref":
                continue
            if key in _SCHEMA_MAPS and isinstance(value, Mapping):
                out[key] = {
                    str(name): self._convert(child, direction, stack, depth + 1) for name, child in value.items()
                }
            elif key in _SCHEMA_LISTS and isinstance(value, list):
                out[key] = [self._convert(child, direction, stack, depth + 1) for child in value]
            elif key in _SCHEMA_VALUES:
                out[key] = self._convert(value, direction, stack, depth + 1)
            else:
                out[key] = value
        if self.openapi_30:
            _from_openapi_30(node, out)
        _drop_one_way_properties(out, "readOnly" if direction == "request" else "writeOnly")
        return out

    def _follow(
        self, ref: str, node: Mapping[str, Any], direction: Direction, stack: tuple[str, ...], depth: int
    ) -> Any:
        siblings = {key: value for key, value in node.items() if key != "$ref"}
        try:
            target = self.lookup(ref)
        except LookupError as exc:
            self._remark(str(exc))
            return self._convert(siblings, direction, stack, depth) if siblings else {}
        if ref in stack:
            # A recursive shape: one level is described, deeper ones keep only their type.
            cut: dict[str, Any] = {}
            if isinstance(target, Mapping) and target.get("type") is not None:
                cut["type"] = target["type"]
            cut["description"] = f"{_ref_name(ref)} (recursive; not expanded further)"
            return cut
        merged = {**target, **siblings} if isinstance(target, Mapping) else target
        return self._convert(merged, direction, (*stack, ref), depth + 1)

    def _remark(self, message: str) -> None:
        if message not in self.problems:
            self.problems.append(message)


def _from_openapi_30(node: Mapping[str, Any], out: dict[str, Any]) -> None:
    if node.get("nullable") is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        flag = out.get(exclusive)
        if isinstance(flag, bool):
            del out[exclusive]
            if flag and bound in out:
                out[exclusive] = out.pop(bound)


def _drop_one_way_properties(out: dict[str, Any], marker: str) -> None:
    properties = out.get("properties")
    if not isinstance(properties, dict):
        return
    dropped = [name for name, child in properties.items() if isinstance(child, dict) and child.get(marker) is True]
    for name in dropped:
        del properties[name]
    if dropped and isinstance(out.get("required"), list):
        out["required"] = [name for name in out["required"] if name not in dropped]


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1] or ref


def json_type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def types_of(schema: Any) -> list[str]:
    """The JSON types a schema names (`type`, or what its enum, const or branches imply); [] when open."""
    if not isinstance(schema, Mapping):
        return []
    declared = schema.get("type")
    if isinstance(declared, str):
        return [declared]
    if isinstance(declared, list):
        return [kind for kind in declared if isinstance(kind, str)]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return list(dict.fromkeys(json_type_of(value) for value in schema["enum"]))
    if "const" in schema:
        return [json_type_of(schema["const"])]
    if any(key in schema for key in ("properties", "additionalProperties", "required", "patternProperties")):
        return ["object"]
    if "items" in schema or "prefixItems" in schema:
        return ["array"]
    for key in ("anyOf", "oneOf"):
        branches = schema.get(key)
        if isinstance(branches, list) and branches:
            per_branch = [types_of(branch) for branch in branches]
            if all(per_branch):
                return list(dict.fromkeys(kind for branch in per_branch for kind in branch))
    branches = schema.get("allOf")
    if isinstance(branches, list):
        for branch in branches:
            if kinds := types_of(branch):
                return kinds
    return []


def typed(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with `type` spelled out wherever it is implied, and `items` on every array, recursively.

    Strict clients want both; an open leaf (`{}`) stays open.
    """
    out = dict(schema)
    kinds = types_of(out)
    if kinds and "type" not in out:
        out["type"] = kinds[0] if len(kinds) == 1 else kinds
    if "array" in kinds and "items" not in out and "prefixItems" not in out:
        out["items"] = {}
    for key in _SCHEMA_MAPS:
        if isinstance(out.get(key), dict):
            out[key] = {name: typed(child) if isinstance(child, dict) else child for name, child in out[key].items()}
    for key in _SCHEMA_LISTS:
        if isinstance(out.get(key), list):
            out[key] = [typed(child) if isinstance(child, dict) else child for child in out[key]]
    for key in _SCHEMA_VALUES:
        if isinstance(out.get(key), dict):
            out[key] = typed(out[key])
    return out


def resolve_local_ref(document: Any, ref: str) -> Any:
    """The node a document-local `$ref` (`#/a/b~1c`) names; LookupError saying why when there is none."""
    if not ref.startswith("#"):
        raise LookupError(f"$ref '{ref}' points outside the document")
    node: Any = document
    for raw in ref[1:].split("/")[1:] if ref != "#" else []:
        token = unquote(raw).replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise LookupError(f"$ref '{ref}' does not resolve")
    return node
