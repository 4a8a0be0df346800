"""The official alpha2 lint rules (`naftiko-rules.yml`, a Spectral ruleset) as checks with the same names.

The rules file ships as package data, unchanged, and is interpreted here with Spectral's semantics:

- `given` is evaluated with jsonpath-ng's extended parser. Every expression in the file parses as
  written; like JSONPath-plus/nimma, jsonpath-ng (1.16) applies `[*]` and `[?(...)]` to the
  members of an object as well as to the items of an array. So
  `authentication[?(@.type == 'oauth2')]` selects objects *inside* `authentication`, never the
  `authentication` object itself: in Spectral, and here, the three oauth2 rules do not fire on
  `authentication: {type: oauth2, ...}`.
- `then.field` is a lodash-style lookup on the matched node (the node itself when it is not an
  object or array); a missing field is JavaScript `undefined`.
- Core functions used by the file: `truthy`, `falsy` (JavaScript truthiness: `[]` and `{}` are
  truthy) and `pattern` (`match` / `notMatch`, a JavaScript regular expression tested with
  `RegExp.test`; a non-string target is skipped).
- Custom functions (`functions:` in the file, JavaScript in the official repository) are
  re-implemented from their behaviour: `unique-namespaces`, `aggregate-semantics-consistency`,
  `control-port-validation`, `script-defaults-required`.
- A result is placed at the closest path that exists in the document; its message is the rule's
  `message` with `{{property}}`, `{{value}}`, `{{error}}`, `{{path}}` and `{{description}}`
  replaced (so, as in Spectral, a custom function's own message only shows through `{{error}}`).
  Identical findings (same rule, place and message) are reported once, as Spectral does.
- Rules marked `recommended: false` are off, as in a Spectral ruleset used directly; `all_rules`
  turns them on (Spectral's `[ruleset, all]`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any, Final

import yaml
from jsonpath_ng import JSONPath
from jsonpath_ng.ext.parser import parse as parse_jsonpath
from jsonpath_ng.jsonpath import DatumInContext, Fields, Index

from naftiko_runtime.diagnostics import Diagnostic, FieldPath, Severity, format_field_path
from naftiko_runtime.spec.source import Source

if TYPE_CHECKING:
    from naftiko_runtime.spec.loader import LoadedDocument

RULES_FILE = "naftiko-rules.yml"


class _Undefined:
    """JavaScript `undefined`: a field that is not there (YAML `null` is `None`)."""

    def __repr__(self) -> str:
        return "undefined"


UNDEFINED: Final = _Undefined()


@dataclass(frozen=True, slots=True)
class Result:
    """One finding of a rule function; `path` (from the document root) defaults to the target's."""

    message: str
    path: FieldPath | None = None


RuleFunction = Callable[[Any, Any], list[Result] | None]


@dataclass(frozen=True, slots=True)
class Then:
    field: str | None
    function: RuleFunction
    options: Any


@dataclass(frozen=True, slots=True)
class LintRule:
    name: str
    severity: Severity | None  # None: `off`
    recommended: bool
    message: str | None
    description: str | None
    given: tuple[tuple[str, JSONPath], ...]  # (expression, parsed)
    then: tuple[Then, ...]


def check_rules(document: Source | LoadedDocument, *, all_rules: bool = False) -> list[Diagnostic]:
    """Every official lint finding on the raw document, placed at the matched node.

    Works on the raw data and positions only, so files the model cannot load are linted too.
    Paths are paths in the file (no `kept_indices` remapping).
    """
    source = document if isinstance(document, Source) else document.source
    data = source.data
    findings: dict[tuple[str, FieldPath, str], Diagnostic] = {}
    matched: dict[str, list[tuple[FieldPath, Any]]] = {}  # rules share `given` expressions
    for rule in ruleset():
        if rule.severity is None or not (rule.recommended or all_rules):
            continue
        for given_path, node in _matches(rule, data, matched):
            for then in rule.then:
                for target_path, target in _targets(node, then.field):
                    results = then.function(target, then.options)
                    for result in results or ():
                        path = result.path if result.path is not None else (*given_path, *target_path)
                        diagnostic = _diagnostic(rule, result, path, data, source)
                        findings.setdefault((rule.name, diagnostic.field, diagnostic.message), diagnostic)
    return sorted(
        findings.values(), key=lambda d: (d.location.line, d.location.column, d.code, format_field_path(d.field))
    )


@cache
def ruleset() -> tuple[LintRule, ...]:
    """The official rules, parsed once."""
    text = files("naftiko_runtime.spec").joinpath(RULES_FILE).read_text(encoding="utf-8")
    return load_ruleset(text)


def load_ruleset(text: str) -> tuple[LintRule, ...]:
    loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    definition = yaml.load(text, Loader=loader)
    rules = []
    for name, rule in (definition.get("rules") or {}).items():
        givens = rule["given"] if isinstance(rule["given"], list) else [rule["given"]]
        thens = rule["then"] if isinstance(rule["then"], list) else [rule["then"]]
        rules.append(
            LintRule(
                name=name,
                severity=_severity(rule.get("severity", "warn")),
                recommended=rule.get("recommended") is not False,
                message=rule.get("message"),
                description=rule.get("description"),
                given=tuple((given, _parse_given(given)) for given in givens),
                then=tuple(_then(name, then) for then in thens),
            )
        )
    return tuple(rules)


def _severity(value: object) -> Severity | None:
    named = {"error": Severity.ERROR, "warn": Severity.WARNING, "info": Severity.NOTE, "hint": Severity.NOTE}
    numbered = {0: Severity.ERROR, 1: Severity.WARNING, 2: Severity.NOTE, 3: Severity.NOTE}
    if value in ("off", -1):
        return None
    found = named.get(value) if isinstance(value, str) else numbered.get(value) if isinstance(value, int) else None
    if found is None:
        raise ValueError(f"unknown rule severity {value!r}")
    return found


@cache
def _parse_given(expression: str) -> JSONPath:
    try:
        return parse_jsonpath(expression)
    except Exception:
        # Older jsonpath-ng releases spell JSONPath-plus's `&&` as `&`.
        return parse_jsonpath(expression.replace("&&", "&"))


def _then(rule: str, then: dict[str, Any]) -> Then:
    name = then["function"]
    function = FUNCTIONS.get(name)
    if function is None:
        raise ValueError(f"rule {rule}: function {name!r} is not implemented")
    field = then.get("field")
    if field is not None and (field == "@key" or field.startswith("$")):
        raise ValueError(f"rule {rule}: field {field!r} (a key or JSONPath field) is not implemented")
    return Then(field=field, function=function, options=then.get("functionOptions"))


# -- given and field -------------------------------------------------------------------------------


def _matches(
    rule: LintRule, data: Any, matched: dict[str, list[tuple[FieldPath, Any]]]
) -> Iterator[tuple[FieldPath, Any]]:
    for text, expression in rule.given:
        if text not in matched:
            matched[text] = [(_datum_path(match, data), match.value) for match in expression.find(data)]
        yield from matched[text]


def _datum_path(datum: DatumInContext, data: Any) -> FieldPath:
    parts: list[Any] = []
    current: DatumInContext | None = datum
    while current is not None and isinstance(current, DatumInContext):
        step = current.path
        if isinstance(step, Fields):
            parts.extend(step.fields)
        elif isinstance(step, Index):
            parts.extend(getattr(step, "indices", None) or (getattr(step, "index", 0),))
        current = current.context
    parts.reverse()
    return _in_document(parts, data)


def _in_document(parts: list[Any], data: Any) -> FieldPath:
    """Keys as the document spells them (a YAML key may be an int or a bool)."""
    path: list[str | int] = []
    node = data
    for part in parts:
        if isinstance(node, dict) and part not in node:
            part = next((key for key in node if str(key) == str(part)), part)
        path.append(part if isinstance(part, str | int) else str(part))
        node = node.get(part) if isinstance(node, dict) else node[part] if _has_index(node, part) else None
    return tuple(path)


def _has_index(node: Any, part: Any) -> bool:
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _targets(node: Any, field: str | None) -> list[tuple[FieldPath, Any]]:
    """Spectral's lint targets: the node, or (lodash `get`) its `field` when the node is an object."""
    if field is None or not isinstance(node, dict | list):
        return [((), node)]
    path: list[str | int] = []
    value: Any = node
    for key in re.findall(r"[^.[\]]+", field):
        if isinstance(value, list) and key.isdigit():
            path.append(int(key))
            value = value[int(key)] if int(key) < len(value) else UNDEFINED
        else:
            path.append(key)
            value = value.get(key, UNDEFINED) if isinstance(value, dict) else UNDEFINED
    return [(tuple(path), value)]


def _closest(data: Any, path: FieldPath) -> tuple[FieldPath, Any]:
    """The longest prefix of `path` that exists in the document, and its value."""
    node = data
    for depth, part in enumerate(path):
        if (isinstance(node, dict) and part in node) or _has_index(node, part):
            node = node[part]
        else:
            return path[:depth], node
    return path, node


# -- messages --------------------------------------------------------------------------------------


def _diagnostic(rule: LintRule, result: Result, wanted: FieldPath, data: Any, source: Source) -> Diagnostic:
    path, value = _closest(data, wanted)
    if len(wanted) > len(path):
        prop: str | int = format_field_path(wanted[len(path) - 1 :] if path else wanted[-1:])
    else:
        prop = path[-1] if path else ""
    variables: dict[str, Any] = {
        "property": prop,
        "error": result.message,
        "path": _pointer(path),
        "description": rule.description,
        "value": value,
    }
    variables["error"] = render_message(result.message, variables)
    if rule.message is not None:
        text = render_message(rule.message, variables)
    else:
        text = rule.description if rule.description is not None else variables["error"]
    assert rule.severity is not None
    return Diagnostic(rule.severity, text.strip(), source.locate(path), path, code=rule.name)


_PLACEHOLDER = re.compile(r"#?\{\{([^}\n]+)\}\}")
_PRINT = re.compile(r"""print\(\s*["'](\w+)["']\s*\)""")


def render_message(template: str, variables: dict[str, Any]) -> str:
    """Spectral's message templates: `{{name}}` and `#{{print("name")}}` (other expressions: empty)."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if not match.group(0).startswith("#"):
            return js_string(variables[name]) if name in variables else ""
        printed = _PRINT.fullmatch(name.strip())
        if printed is None:
            return ""
        which = printed.group(1)
        if which == "property":
            prop = variables.get("property")
            return f"`{prop}` property " if prop not in (None, "") else "The document "
        if which == "value":
            return print_value(variables.get("value", UNDEFINED))
        found = variables.get(which)
        return "" if found is None else js_string(found)

    return _PLACEHOLDER.sub(replace, template)


def _pointer(path: FieldPath) -> str:
    return "#" + "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def js_string(value: Any) -> str:
    """JavaScript `String(value)`."""
    if value is UNDEFINED:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _js_number(value)
    if isinstance(value, list):
        return ",".join("" if item is None or item is UNDEFINED else js_string(item) for item in value)
    if isinstance(value, dict):
        return "[object Object]"
    return str(value)


def _js_number(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return repr(value)


def print_value(value: Any) -> str:
    """Spectral's `printValue`."""
    if value is UNDEFINED:
        return "undefined"
    if isinstance(value, list):
        return "Array[]"
    if isinstance(value, dict):
        return "Object{}"
    if isinstance(value, float) and not math.isfinite(value):
        return "null"
    return json.dumps(value, ensure_ascii=False, default=str)


def js_truthy(value: Any) -> bool:
    """JavaScript truthiness: `[]` and `{}` are truthy; `undefined`, `null`, `false`, 0, NaN, '' are not."""
    if value is UNDEFINED or value is None or value is False:
        return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value != 0 and not math.isnan(value)
    if isinstance(value, str):
        return value != ""
    return True


# -- core functions --------------------------------------------------------------------------------


def truthy(target: Any, options: Any) -> list[Result] | None:
    return None if js_truthy(target) else [Result('#{{print("property")}}must be truthy')]


def falsy(target: Any, options: Any) -> list[Result] | None:
    return [Result('#{{print("property")}}must be falsy')] if js_truthy(target) else None


_REGEX_LITERAL = re.compile(r"^/(.+)/([a-z]*)$")


@cache
def js_regex(pattern: str) -> re.Pattern[str]:
    """A JavaScript regular expression (`source` or `/source/flags`) as a Python one.

    Without the `m` flag JavaScript's `$` matches only at the very end; Python's also matches
    before a final newline, so a bare `$` becomes `\\Z`.
    """
    literal = _REGEX_LITERAL.match(pattern)
    source, flags = (literal.group(1), literal.group(2)) if literal else (pattern, "")
    python_flags = 0
    for flag, value in (("i", re.IGNORECASE), ("m", re.MULTILINE), ("s", re.DOTALL)):
        if flag in flags:
            python_flags |= value
    if "m" not in flags:
        source = _end_anchors(source)
    return re.compile(source, python_flags)


def _end_anchors(source: str) -> str:
    out = []
    escaped = in_class = False
    for char in source:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        elif char == "$" and not in_class:
            out.append(r"\Z")
            continue
        out.append(char)
    return "".join(out)


def pattern(target: Any, options: Any) -> list[Result] | None:
    if not isinstance(target, str):
        return None  # Spectral skips input that is not a string
    results = []
    if "match" in options and not js_regex(options["match"]).search(target):
        results.append(Result(f'#{{{{print("value")}}}} must match the pattern {print_value(options["match"])}'))
    if "notMatch" in options and js_regex(options["notMatch"]).search(target):
        results.append(Result(f'#{{{{print("value")}}}} must not match the pattern {print_value(options["notMatch"])}'))
    return results or None


# -- custom functions (the official JavaScript functions' behaviour) -------------------------------


def _get(value: Any, key: str) -> Any:
    """`value.key` in JavaScript, for the shapes a YAML document has."""
    return value.get(key, UNDEFINED) if isinstance(value, dict) else UNDEFINED


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _object(value: Any) -> Any:
    """`value && typeof value === "object" ? value : {}`."""
    return value if isinstance(value, dict | list) else {}


def unique_namespaces(document: Any, options: Any) -> list[Result] | None:
    """A namespace is declared once across root and capability consumes, exposes and binds."""
    if not isinstance(document, dict):
        return None
    capability = _object(document.get("capability"))
    sections: list[tuple[FieldPath, Any, str]] = [
        (("consumes",), document.get("consumes"), "adapter"),
        (("capability", "consumes"), _get(capability, "consumes"), "adapter"),
        (("capability", "exposes"), _get(capability, "exposes"), "adapter"),
        (("binds",), document.get("binds"), "bind"),
        (("capability", "binds"), _get(capability, "binds"), "bind"),
    ]
    first: dict[str, tuple[FieldPath, str]] = {}
    results = []
    for prefix, entries, kind in sections:
        for index, entry in enumerate(_items(entries)):
            namespace = _get(entry, "namespace")
            if not isinstance(namespace, str) or not namespace:
                continue
            path = (*prefix, index, "namespace")
            if namespace not in first:
                first[namespace] = (path, kind)
                continue
            earlier, earlier_kind = first[namespace]
            scope = kind if kind == earlier_kind else "adapter and bind"
            where = "/".join(str(part) for part in earlier)
            results.append(Result(f"namespace '{namespace}' is also declared at {where} (unique across {scope})", path))
    return results


def aggregate_semantics_consistency(document: Any, options: Any) -> list[Result] | None:
    """Tool hints and REST methods that contradict the semantics of the aggregate function they `ref`."""
    if not isinstance(document, dict):
        return None
    capability = _object(document.get("capability"))
    aggregates = _items(_get(capability, "aggregates"))
    if not aggregates:
        return None
    semantics_of: dict[str, Any] = {}
    for aggregate in aggregates:
        namespace = _get(aggregate, "namespace")
        if not isinstance(namespace, str):
            continue
        for function in _items(_get(aggregate, "functions")):
            name = _get(function, "name")
            if isinstance(name, str):
                semantics = _get(function, "semantics")
                semantics_of[f"{namespace}.{name}"] = semantics if isinstance(semantics, dict | list) else None
    results: list[Result] = []
    for e, adapter in enumerate(_items(_get(capability, "exposes"))):
        if _get(adapter, "type") == "mcp":
            for t, tool in enumerate(_items(_get(adapter, "tools"))):
                ref, hints = _get(tool, "ref"), _get(tool, "hints")
                semantics = semantics_of.get(ref) if isinstance(ref, str) else None
                if semantics is None or not isinstance(hints, dict | list):
                    continue
                base = ("capability", "exposes", e, "tools", t, "hints")
                results.extend(_hint_conflicts(ref, semantics, hints, base))
        elif _get(adapter, "type") == "rest":
            for r, resource in enumerate(_items(_get(adapter, "resources"))):
                for o, operation in enumerate(_items(_get(resource, "operations"))):
                    ref, method = _get(operation, "ref"), _get(operation, "method")
                    if not isinstance(ref, str) or not isinstance(method, str):
                        continue
                    semantics = semantics_of.get(ref)
                    if semantics is None:
                        continue
                    path = ("capability", "exposes", e, "resources", r, "operations", o, "method")
                    results.extend(Result(m, path) for m in _method_conflicts(ref, semantics, method.upper()))
    return results


def _hint_conflicts(ref: str, semantics: Any, hints: Any, base: FieldPath) -> list[Result]:
    safe, idempotent = _get(semantics, "safe"), _get(semantics, "idempotent")
    read_only, destructive, hinted_idempotent = (_get(hints, key) for key in ("readOnly", "destructive", "idempotent"))
    found = []
    if safe is True and read_only is False:
        found.append(Result(f"'{ref}' is safe but the tool hints readOnly=false", (*base, "readOnly")))
    if safe is False and read_only is True:
        found.append(Result(f"'{ref}' is not safe but the tool hints readOnly=true", (*base, "readOnly")))
    if safe is True and destructive is True:
        found.append(Result(f"'{ref}' is safe but the tool hints destructive=true", (*base, "destructive")))
    if idempotent is True and hinted_idempotent is False:
        found.append(Result(f"'{ref}' is idempotent but the tool hints idempotent=false", (*base, "idempotent")))
    if idempotent is False and hinted_idempotent is True:
        found.append(Result(f"'{ref}' is not idempotent but the tool hints idempotent=true", (*base, "idempotent")))
    return found


def _method_conflicts(ref: str, semantics: Any, method: str) -> list[str]:
    safe, idempotent = _get(semantics, "safe"), _get(semantics, "idempotent")
    found = []
    if safe is True and method != "GET":
        found.append(f"'{ref}' is safe but the REST operation uses {method} (expected GET)")
    if safe is False and method == "GET":
        found.append(f"'{ref}' is not safe but the REST operation uses GET")
    if idempotent is True and method == "POST":
        found.append(f"'{ref}' is idempotent but the REST operation uses POST")
    return found


def control_port_validation(document: Any, options: Any) -> list[Result] | None:
    """At most one control adapter, on a port no other adapter uses."""
    if not isinstance(document, dict):
        return None
    capability = _object(document.get("capability"))
    controls: list[tuple[int, Any]] = []
    others: list[tuple[int, Any, Any]] = []
    for index, adapter in enumerate(_items(_get(capability, "exposes"))):
        if not js_truthy(adapter):
            continue
        if _get(adapter, "type") == "control":
            controls.append((index, _get(adapter, "port")))
        elif js_truthy(_get(adapter, "port")):
            others.append((index, _get(adapter, "type"), _get(adapter, "port")))
    results = [
        Result(f"a second control adapter at exposes[{index}]", ("capability", "exposes", index, "type"))
        for index, _ in controls[1:]
    ]
    for index, port in controls:
        results.extend(
            Result(
                f"control port {js_string(port)} is also used by the {js_string(kind)} adapter at exposes[{other}]",
                ("capability", "exposes", index, "port"),
            )
            for other, kind, other_port in others
            if _strictly_equal(port, other_port)
        )
    return results


def _strictly_equal(left: Any, right: Any) -> bool:
    """JavaScript `===` for the values a YAML port can hold."""
    if _is_number(left) and _is_number(right):
        return bool(left == right)
    if isinstance(left, dict | list) or isinstance(right, dict | list):
        return left is right
    return type(left) is type(right) and bool(left == right)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def script_defaults_required(document: Any, options: Any) -> list[Result] | None:
    """A script step names its `location` and `language`, or the control adapter sets defaults."""
    if not isinstance(document, dict):
        return None
    capability = _object(document.get("capability"))
    exposes = _items(_get(capability, "exposes"))
    default_location = default_language = False
    for adapter in exposes:
        management = _get(adapter, "management")
        if _get(adapter, "type") == "control" and js_truthy(management) and js_truthy(_get(management, "scripting")):
            scripting = _get(management, "scripting")
            default_location = isinstance(_get(scripting, "defaultLocation"), str)
            default_language = isinstance(_get(scripting, "defaultLanguage"), str)
            break
    if default_location and default_language:
        return None
    results = []
    for step, path in _steps(capability, exposes):
        if _get(step, "type") != "script":
            continue
        name = _get(step, "name")
        label = js_string(name) if js_truthy(name) else "unnamed"
        for key, has_default, default in (
            ("location", default_location, "defaultLocation"),
            ("language", default_language, "defaultLanguage"),
        ):
            if not js_truthy(_get(step, key)) and not has_default:
                results.append(
                    Result(
                        f"script step '{label}' has no '{key}' and the control adapter sets no "
                        f"'management.scripting.{default}': add one of them",
                        (*path, key),
                    )
                )
    return results


def _steps(capability: Any, exposes: list[Any]) -> Iterator[tuple[Any, FieldPath]]:
    for e, adapter in enumerate(exposes):
        if _get(adapter, "type") == "mcp":
            for t, tool in enumerate(_items(_get(adapter, "tools"))):
                for s, step in enumerate(_items(_get(tool, "steps"))):
                    yield step, ("capability", "exposes", e, "tools", t, "steps", s)
        if _get(adapter, "type") == "rest":
            for r, resource in enumerate(_items(_get(adapter, "resources"))):
                for o, operation in enumerate(_items(_get(resource, "operations"))):
                    for s, step in enumerate(_items(_get(operation, "steps"))):
                        yield step, ("capability", "exposes", e, "resources", r, "operations", o, "steps", s)
    for a, aggregate in enumerate(_items(_get(capability, "aggregates"))):
        for f, function in enumerate(_items(_get(aggregate, "functions"))):
            for s, step in enumerate(_items(_get(function, "steps"))):
                yield step, ("capability", "aggregates", a, "functions", f, "steps", s)


FUNCTIONS: Final[dict[str, RuleFunction]] = {
    "truthy": truthy,
    "falsy": falsy,
    "pattern": pattern,
    "unique-namespaces": unique_namespaces,
    "aggregate-semantics-consistency": aggregate_semantics_consistency,
    "control-port-validation": control_port_validation,
    "script-defaults-required": script_defaults_required,
}
