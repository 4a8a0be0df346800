"""The arguments of a route or tool, defined once for both adapters.

A `with` entry `X: rest.Y` (or `tools.Y`, `<expose-namespace>.Y`) means the caller's
argument `Y` feeds upstream parameter `X`. A route's or tool's arguments are its declared
`inputParameters` when it has any; otherwise every `Y` named in `with`, plus the consumed
operation's parameters not named in `with` (passed through by name), plus any placeholder
of the consumed path no parameter declares. Type, description and required-ness come from
the consumed parameter; path parameters are always required.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from naftiko_runtime.consumer.operation import ConsumedParameter, UpstreamOperation
from naftiko_runtime.errors import Problem, invalid_arguments
from naftiko_runtime.json_depth import bounded_loads
from naftiko_runtime.openapi_schema import typed, types_of
from naftiko_runtime.schema_check import SchemaCheck
from naftiko_runtime.spec.dialects import PathPlaceholder, argument_reference, param_key
from naftiko_runtime.spec.models import InputParameter
from naftiko_runtime.templates import Template, is_template

Source = Literal["path", "query", "header", "cookie", "body", "body_field"]
JSON_TYPES = ("string", "number", "integer", "boolean", "array", "object")
_INTEGER = re.compile(r"^[+-]?\d+$")


@dataclass(slots=True)
class Argument:
    name: str
    type: str = "string"
    description: str | None = None
    required: bool = False
    pattern: str | None = None
    # Where a REST caller puts it; MCP callers always pass it in the arguments object.
    source: Source = "query"
    route_name: str | None = None
    # From a companion OpenAPI document (`refine`): the whole schema, its compiled check, and the
    # item type an array's text items (a query string's) are coerced to before the check.
    schema: dict[str, Any] | None = None
    check: SchemaCheck | None = None
    item_type: str | None = None

    @property
    def key(self) -> str:
        return param_key(self.name)

    def json_schema(self) -> dict[str, Any]:
        if self.schema is not None:
            return self.schema
        schema: dict[str, Any] = {"type": self.type}
        if self.type == "array":
            # Outside a JSON body, items travel as text.
            schema["items"] = {} if self.source in ("body", "body_field") else {"type": "string"}
        if self.description:
            schema["description"] = self.description
        if self.pattern and self.type == "string":
            schema["pattern"] = self.pattern
        return schema


@dataclass(slots=True)
class Feed:
    """How one upstream parameter gets its value: from an argument, a template or a literal."""

    target_key: str
    argument_key: str | None = None
    template: Template | None = None
    literal: Any = None


@dataclass(frozen=True, slots=True)
class Finding:
    """A load-time remark about a signature; `error` ones make the file unusable."""

    message: str
    error: bool = False


@dataclass(slots=True)
class Signature:
    arguments: list[Argument]
    feeds: list[Feed]
    by_key: dict[str, Argument] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.by_key = {argument.key: argument for argument in self.arguments}

    def input_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {argument.name: argument.json_schema() for argument in self.arguments},
            "required": [argument.name for argument in self.arguments if argument.required],
            "additionalProperties": False,
        }

    def validate(self, given: Mapping[str, Any], *, where: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Coerce and check the caller's arguments; key them by `param_key`. Raises `CallError` 400."""
        problems: list[Problem] = []
        values: dict[str, Any] = {}
        for name, raw in given.items():
            argument = self.by_key.get(param_key(name))
            label = _label(argument.source if argument else None, name, where)
            if argument is None:
                problems.append(Problem(label, "unknown argument"))
                continue
            if raw is None:
                continue
            try:
                values[argument.key] = coerce(raw, argument.type)
            except ValueError as exc:
                problems.append(Problem(label, str(exc)))
                continue
            value = values[argument.key]
            if argument.pattern and isinstance(value, str) and re.search(argument.pattern, value) is None:
                problems.append(Problem(label, f"does not match pattern {argument.pattern}"))
            if argument.check is not None:
                values[argument.key] = _checked(argument, value, _check_prefix(argument, where), problems)
        for argument in self.arguments:
            if argument.required and argument.key not in values and not _failed(problems, argument, where):
                problems.append(Problem(_label(argument.source, argument.name, where), "required argument is missing"))
        if problems:
            raise invalid_arguments(problems)
        return values

    def fed_keys(self, argument: Argument) -> list[str]:
        """The upstream parameter keys an argument's value reaches (by `with`, or passed through by name)."""
        targets = [feed.target_key for feed in self.feeds if feed.argument_key == argument.key]
        if all(feed.target_key != argument.key for feed in self.feeds):
            targets.insert(0, argument.key)
        return targets

    def refine(
        self, argument: Argument, schema: dict[str, Any], description: str | None, *, checked: bool = False
    ) -> None:
        """Give `argument` a companion document's schema: type, description, enums, formats, ranges, shape.

        Raises `InvalidSchema` (and changes nothing) when the schema is not valid 2020-12 (`checked`:
        it is known valid; spelling out implied types and a description keeps it so).
        """
        kinds = [kind for kind in types_of(schema) if kind != "null"]
        json_type = kinds[0] if len(kinds) == 1 and kinds[0] in JSON_TYPES else argument.type
        refined = typed(schema)
        if "type" not in refined:
            refined["type"] = json_type
        if description or argument.description:
            refined["description"] = description or argument.description
        check = SchemaCheck(refined, checked=checked)
        argument.schema, argument.check, argument.type = refined, check, json_type
        argument.description = refined.get("description")
        items = [kind for kind in types_of(refined.get("items")) if kind != "null"]
        argument.item_type = items[0] if json_type == "array" and len(items) == 1 else None

    def upstream_values(self, arguments: Mapping[str, Any], variables: Mapping[str, Any]) -> dict[str, Any]:
        """Upstream parameter values keyed by `param_key`: arguments passed through, then `with` feeds."""
        values = dict(arguments)
        context: dict[str, Any] | None = None
        for feed in self.feeds:
            if feed.argument_key is not None:
                if feed.argument_key in arguments:
                    values[feed.target_key] = arguments[feed.argument_key]
                elif feed.target_key != feed.argument_key:
                    values.pop(feed.target_key, None)
            elif feed.template is not None:
                if context is None:
                    context = {
                        **variables,
                        **{a.name: arguments[a.key] for a in self.arguments if a.key in arguments},
                    }
                values[feed.target_key] = feed.template.render(context)
            else:
                values[feed.target_key] = feed.literal
        return values


def _label(source: str | None, name: str, where: Mapping[str, str] | None) -> str:
    if where is None:
        return name
    return f"{where.get(source or '', source or 'arguments')}.{name}"


def _check_prefix(argument: Argument, where: Mapping[str, str] | None) -> str:
    """Where a problem inside the value is placed: `body.field` for a field of a whole JSON body."""
    if where is not None and argument.source == "body":
        return where.get("body", "body")
    return _label(argument.source, argument.name, where)


def _checked(argument: Argument, value: Any, prefix: str, problems: list[Problem]) -> Any:
    """`value` with text items coerced to the item type; what breaks the argument's schema goes to `problems`."""
    assert argument.check is not None
    if argument.item_type is not None and isinstance(value, list):
        items = []
        for index, item in enumerate(value):
            try:
                items.append(coerce(item, argument.item_type))
            except ValueError as exc:
                problems.append(Problem(f"{prefix}[{index}]", str(exc)))
                return value
        value = items
    problems.extend(Problem(place, message) for place, message in argument.check.problems(value, prefix))
    return value


def _failed(problems: list[Problem], argument: Argument, where: Mapping[str, str] | None) -> bool:
    return any(
        problem.location.endswith("." + argument.name) or problem.location == argument.name for problem in problems
    )


def coerce(value: Any, json_type: str) -> Any:
    """The value as `json_type` when that loses nothing; ValueError saying why otherwise."""
    if json_type == "string":
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float) and math.isfinite(value):
            return str(value)
    elif json_type == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and _INTEGER.match(value.strip()):
            return int(value)
    elif json_type == "number":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                pass
            else:
                if math.isfinite(number):
                    return int(number) if _INTEGER.match(value.strip()) else number
    elif json_type == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
    elif json_type == "object":
        if isinstance(value, dict):
            return value
        # JSON text (a query string or header can carry nothing else) is the object it spells.
        if isinstance(value, str) and value.lstrip().startswith("{") and isinstance(parsed := _json(value), dict):
            return parsed
    elif json_type == "array":
        if isinstance(value, list):
            return value
        if isinstance(value, str) and value.lstrip().startswith("[") and isinstance(parsed := _json(value), list):
            return parsed
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return [value]
    else:
        return value
    return _refuse(value, json_type)


def _json(text: str) -> Any:
    try:
        return bounded_loads(text)
    except ValueError:
        return None


def _refuse(value: Any, json_type: str) -> Any:
    kind = "null" if value is None else type(value).__name__.replace("dict", "object").replace("list", "array")
    kind = {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}.get(kind, kind)
    raise ValueError(f"expected {json_type}, got {kind}")


def derive_signature(
    *,
    expose_namespace: str,
    declared: Sequence[InputParameter],
    with_map: Mapping[str, Any],
    target: UpstreamOperation | None,
    route_placeholders: Sequence[str] = (),
    declared_required_default: bool = True,
) -> Signature:
    feeds: list[Feed] = []
    findings: list[Finding] = []
    referenced: dict[str, list[ConsumedParameter | None]] = {}
    template_names: list[str] = []
    for target_name, value in with_map.items():
        target_key = param_key(target_name)
        consumed = target.parameter(target_key) if target else None
        if target is not None and consumed is None and target_key not in target.input_keys():
            findings.append(Finding(f"'with' key '{target_name}' names no parameter of {target.ref}"))
        reference = argument_reference(value, expose_namespace)
        if reference is not None:
            feeds.append(Feed(target_key, argument_key=param_key(reference)))
            referenced.setdefault(reference, []).append(consumed)
        elif is_template(value):
            template = Template(value)
            feeds.append(Feed(target_key, template=template))
            template_names.extend(name for name in template.variables if "." not in name)
        else:
            feeds.append(Feed(target_key, literal=value))

    arguments: dict[str, Argument] = {}
    if declared:
        for parameter in declared:
            argument = _declared_argument(parameter, declared_required_default)
            if argument.pattern is not None and (reason := _bad_pattern(argument.pattern)) is not None:
                message = f"input parameter '{argument.name}': pattern {argument.pattern!r} is not a regular expression"
                findings.append(Finding(f"{message} ({reason})", error=True))
                argument.pattern = None
            arguments.setdefault(argument.key, argument)
        for name in referenced:
            if param_key(name) not in arguments:
                findings.append(
                    Finding(f"'with' refers to argument '{name}', which is not declared in inputParameters", error=True)
                )
    else:
        for name, consumed_list in referenced.items():
            _merge(arguments, _argument_from_consumed(name, consumed_list))
        fed = {feed.target_key for feed in feeds}
        if target is not None:
            for consumed in target.parameters:
                if consumed.key not in fed and not consumed.has_fixed_value and consumed.location != "environment":
                    _merge(arguments, _argument_from_consumed(consumed.name, [consumed]))
            declared_keys = {consumed.key for consumed in target.parameters}
            for part_key, part_name in _placeholders(target):
                if part_key not in declared_keys and part_key not in fed:
                    _merge(arguments, Argument(part_name, required=True, source="path"))
            template_names.extend(name for name in target.template_arguments if param_key(name) not in fed)
        for name in template_names:
            if param_key(name) not in arguments:
                _merge(arguments, Argument(name, required=True))
    route_keys = {param_key(name): name for name in route_placeholders}
    for key, name in route_keys.items():
        if key not in arguments:
            arguments[key] = Argument(name, required=True, source="path")
    for argument in arguments.values():
        if argument.key in route_keys:
            argument.source, argument.route_name, argument.required = "path", route_keys[argument.key], True
    return Signature(list(arguments.values()), feeds, findings=findings)


def _bad_pattern(pattern: str) -> str | None:
    """Why `pattern` cannot be compiled, checked at load so a call never fails on it."""
    try:
        re.compile(pattern)
    except re.error as exc:
        return str(exc)
    return None


def _placeholders(target: UpstreamOperation) -> list[tuple[str, str]]:
    return [(part.key, part.name) for part in target.path_parts if isinstance(part, PathPlaceholder)]


def _merge(arguments: dict[str, Argument], argument: Argument) -> None:
    existing = arguments.get(argument.key)
    if existing is None:
        arguments[argument.key] = argument
    else:
        existing.required = existing.required or argument.required


def _declared_argument(parameter: InputParameter, required_default: bool) -> Argument:
    location = parameter.location or "query"
    source = _source(location, whole_body=param_key(parameter.name) == "body")
    return Argument(
        name=parameter.name,
        type=parameter.type or "string",
        description=parameter.description,
        required=parameter.required if parameter.required is not None else (required_default or location == "path"),
        pattern=parameter.pattern,
        source=source,
    )


_SOURCES: dict[str, Source] = {"path": "path", "query": "query", "header": "header", "cookie": "cookie"}


def _source(location: str, *, whole_body: bool) -> Source:
    """Where a REST caller supplies an argument whose parameter lives at `location`."""
    if location == "body":
        return "body" if whole_body else "body_field"
    return _SOURCES.get(location, "query")


def _argument_from_consumed(name: str, consumed_list: Sequence[ConsumedParameter | None]) -> Argument:
    consumed = next((item for item in consumed_list if item is not None), None)
    if consumed is None:
        return Argument(name, required=False)
    # A consumed path parameter the route has no placeholder for is read from the query.
    source = _source("query" if consumed.location == "path" else consumed.location, whole_body=consumed.whole_body)
    json_type = consumed.type if consumed.type in JSON_TYPES else ("object" if consumed.whole_body else "string")
    return Argument(
        name=name,
        type=json_type,
        description=consumed.description,
        required=consumed.required or consumed.location == "path",
        source=source,
    )
