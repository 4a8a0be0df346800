"""Microcks dispatchers: from a request to the name of the example that answers it.

`x-microcks-operation: {dispatcher, dispatcherRules}` on an operation selects one:

- URI_PARTS (`a && b`): path parameters, as the criteria `/a=1/b=2` (names sorted);
- URI_PARAMS (`a && b`): query parameters, as `?a=1?b=2`;
- URI_ELEMENTS (`a && b ?? c && d`): both, parts then params;
- QUERY_HEADER (`h && k`): headers, as `?h=1?k=2`;
- FALLBACK (JSON `{dispatcher, dispatcherRules, fallback}`): the nested dispatcher, else the
  example named by `fallback`;
- SCRIPT (Groovy): see `script.py`;
- JSON_BODY (JSON `{exp, op, cases}`): a JSON pointer into the body, compared by `equals`,
  `regexp`, `range`, `size` or `presence`;
- RANDOM: any named example.

A criteria string finds the example whose request-side examples (parameters and headers of the
same name) produce the same criteria, or whose name is the criteria itself (`?status=active`).
Without the extension, criteria dispatch is inferred from the parameters that carry examples
named like a response example, as Microcks does on import.
"""

from __future__ import annotations

import json
import logging
import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .request import NOT_JSON, MockRequest, json_pointer
from .script import ScriptError, compile_script

log = logging.getLogger("naftiko_runtime.mock")

Dispatcher = Callable[[MockRequest], str | None]


@dataclass(frozen=True)
class KnownExamples:
    """What one operation's document offers to dispatch between."""

    names: Sequence[str]
    """Response example names, in document order."""
    path: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Example name -> path parameter -> value, from the parameters' `examples`."""
    query: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    header: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Example name -> lower-case header name -> value."""


def compile_dispatcher(extension: Any, known: KnownExamples, where: str, warnings: list[str]) -> Dispatcher | None:
    """The dispatcher `x-microcks-operation` describes (inferred when absent); None answers the default."""
    if isinstance(extension, Mapping) and extension.get("dispatcher"):
        return _compile(str(extension["dispatcher"]), extension.get("dispatcherRules"), known, where, warnings)
    return _infer(known)


def _compile(kind: str, rules: Any, known: KnownExamples, where: str, warnings: list[str]) -> Dispatcher | None:
    kind = kind.strip().upper()
    rules_text = "" if rules is None else rules if isinstance(rules, str) else json.dumps(rules)
    if kind == "URI_PARTS":
        return _criteria(_names(rules_text), (), (), known)
    if kind == "URI_PARAMS":
        return _criteria((), _names(rules_text), (), known)
    if kind == "URI_ELEMENTS":
        parts, _, params = rules_text.partition("??")
        return _criteria(_names(parts), _names(params), (), known)
    if kind == "QUERY_HEADER":
        return _criteria((), (), _names(rules_text.lower()), known)
    if kind == "FALLBACK":
        return _fallback(rules, known, where, warnings)
    if kind == "SCRIPT":
        return _script(rules_text, where, warnings)
    if kind == "JSON_BODY":
        return _json_body(rules, where, warnings)
    if kind == "RANDOM":
        names = list(known.names)
        return (lambda request: random.choice(names)) if names else None
    warnings.append(f"{where}: dispatcher {kind} is not supported; answering the first 2xx example")
    return None


def _infer(known: KnownExamples) -> Dispatcher | None:
    names = set(known.names)
    parts = sorted({p for name, values in known.path.items() if name in names for p in values})
    params = sorted({p for name, values in known.query.items() if name in names for p in values})
    if not parts and not params:
        return None
    return _criteria(parts, params, (), known)


def _names(rules: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in rules.split("&&") if name.strip())


def _criteria(parts: Sequence[str], params: Sequence[str], headers: Sequence[str], known: KnownExamples) -> Dispatcher:
    part_names, param_names, header_names = frozenset(parts), frozenset(params), frozenset(headers)

    def criteria(path: Mapping[str, str], query: Sequence[tuple[str, str]], head: Mapping[str, str]) -> str:
        return (
            "".join(f"/{k}={v}" for k, v in sorted(path.items()) if k in part_names)
            + "".join(f"?{k}={v}" for k, v in sorted(query) if k in param_names)
            + "".join(f"?{k}={v}" for k, v in sorted(head.items()) if k in header_names)
        )

    table: dict[str, str] = {}
    for name in known.names:
        table.setdefault(name, name)
    for name in known.names:
        key = criteria(known.path.get(name, {}), list(known.query.get(name, {}).items()), known.header.get(name, {}))
        # An example no request-side example points at (empty criteria) is no better a match than
        # the default answer, and may be an error example: leave "" to the default.
        if key:
            table.setdefault(key, name)

    def dispatch(request: MockRequest) -> str | None:
        return table.get(criteria(request.path_params, request.query, request.headers))

    return dispatch


def _fallback(rules: Any, known: KnownExamples, where: str, warnings: list[str]) -> Dispatcher | None:
    spec = _json_rules(rules, where, warnings)
    if spec is None:
        return None
    fallback = spec.get("fallback")
    inner = _compile(str(spec.get("dispatcher", "")), spec.get("dispatcherRules"), known, where, warnings)
    names = frozenset(known.names)

    def dispatch(request: MockRequest) -> str | None:
        name = inner(request) if inner is not None else None
        return name if name in names else fallback if isinstance(fallback, str) else None

    return dispatch


def _script(source: str, where: str, warnings: list[str]) -> Dispatcher | None:
    try:
        script = compile_script(source)
    except (ScriptError, RecursionError) as exc:
        warnings.append(f"{where}: SCRIPT dispatcher not supported ({exc}); answering the first 2xx example")
        return None

    def dispatch(request: MockRequest) -> str | None:
        try:
            return script.run(request)
        except (ScriptError, RecursionError) as exc:
            log.warning("%s: SCRIPT dispatcher failed: %s", where, exc)
            return None

    return dispatch


def _json_body(rules: Any, where: str, warnings: list[str]) -> Dispatcher | None:
    spec = _json_rules(rules, where, warnings)
    if spec is None:
        return None
    pointer, operator, cases = str(spec.get("exp", "")), str(spec.get("op", "equals")), spec.get("cases")
    if not isinstance(cases, Mapping) or operator not in _OPERATORS:
        warnings.append(f"{where}: JSON_BODY rules need 'cases' and a known 'op'; answering the first 2xx example")
        return None
    test = _OPERATORS[operator]
    choices = [(str(key), str(name)) for key, name in cases.items() if key != "default"]
    default = cases.get("default")

    def dispatch(request: MockRequest) -> str | None:
        document = request.json
        value = None if document is NOT_JSON else json_pointer(document, pointer)
        for key, name in choices:
            if test(key, value):
                return name
        return str(default) if default is not None else None

    return dispatch


def _json_rules(rules: Any, where: str, warnings: list[str]) -> Mapping[str, Any] | None:
    if isinstance(rules, Mapping):
        return rules
    try:
        parsed = json.loads(str(rules))
    except ValueError:
        parsed = None
    if not isinstance(parsed, Mapping):
        warnings.append(f"{where}: dispatcherRules is not a JSON object; answering the first 2xx example")
        return None
    return parsed


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _in_range(key: str, number: float) -> bool:
    match = re.fullmatch(r"\s*([\[\]])\s*(-?[\d.]*)\s*;\s*(-?[\d.]*)\s*([\[\]])\s*", key)
    if match is None:
        return False
    opening, low, high, closing = match.groups()
    above = not low or (number >= float(low) if opening == "[" else number > float(low))
    below = not high or (number <= float(high) if closing == "]" else number < float(high))
    return above and below


def _range(key: str, value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and _in_range(key, value)


def _size(key: str, value: Any) -> bool:
    return isinstance(value, list) and _in_range(key, len(value))


def _regexp(key: str, value: Any) -> bool:
    try:
        return value is not None and re.fullmatch(key, _text(value)) is not None
    except re.error:
        return False


_OPERATORS: dict[str, Callable[[str, Any], bool]] = {
    "equals": lambda key, value: value is not None and _text(value) == key,
    "range": _range,
    "size": _size,
    "regexp": _regexp,
    "presence": lambda key, value: key == "found" and value is not None,
}
