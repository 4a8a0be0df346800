"""Groovy values as SCRIPT dispatchers see them: truth, strings, members, methods, host objects."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree

from .request import MockRequest, xpath_text


class ScriptError(Exception):
    """The script uses Groovy outside the supported subset, or failed while running."""


def truth(value: Any) -> bool:
    return bool(value) if isinstance(value, str | int | float | list | dict | tuple) or value is None else True


def groovy_string(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(groovy_string(item) for item in value) + "]"
    if isinstance(value, dict):
        return "[" + ", ".join(f"{groovy_string(k)}:{groovy_string(v)}" for k, v in value.items()) + "]"
    return str(value)


def get_property(target: Any, name: str) -> Any:
    if target is None:
        return None  # lenient where Groovy would throw: a missing branch reads as null
    if isinstance(target, _Host):
        return target.property(name)
    if isinstance(target, dict):
        return target.get(name)
    if isinstance(target, list):
        return [get_property(item, name) for item in target]
    raise ScriptError(f"{type(target).__name__} has no property '{name}'")


def get_item(target: Any, key: Any) -> Any:
    if target is None:
        return None
    if isinstance(target, _Host):
        return target.call("getAt", [key])
    if isinstance(target, dict):
        return target.get(key)
    if isinstance(target, list | str) and isinstance(key, int):
        return target[key] if -len(target) <= key < len(target) else None
    raise ScriptError(f"cannot index {type(target).__name__}")


def call_method(target: Any, name: str, arguments: list[Any]) -> Any:
    if isinstance(target, _Host):
        return target.call(name, arguments)
    for kind, methods in _VALUE_METHODS:
        if isinstance(target, kind) and name in methods:
            return methods[name](target, *arguments)
    if name == "toString" and not arguments:
        return groovy_string(target)
    if name == "equals" and len(arguments) == 1:
        return target == arguments[0]
    raise ScriptError(f"{type(target).__name__} has no method '{name}'")


def _to_int(value: str) -> int:
    return int(value.strip())


_STRING_METHODS: dict[str, Callable[..., Any]] = {
    "contains": lambda s, x: groovy_string(x) in s,
    "startsWith": lambda s, x: s.startswith(x),
    "endsWith": lambda s, x: s.endswith(x),
    "equalsIgnoreCase": lambda s, x: isinstance(x, str) and s.lower() == x.lower(),
    "toLowerCase": lambda s: s.lower(),
    "toUpperCase": lambda s: s.upper(),
    "trim": lambda s: s.strip(),
    "size": lambda s: len(s),
    "length": lambda s: len(s),
    "isEmpty": lambda s: not s,
    "toInteger": _to_int,
    "toLong": _to_int,
    "isNumber": lambda s: re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", s) is not None,
    "matches": lambda s, pattern: re.fullmatch(pattern, s) is not None,
    "substring": lambda s, start, end=None: s[start:end],
    "split": lambda s, separator=r"\s+": re.split(separator, s),
    "indexOf": lambda s, x: s.find(x),
}
_LIST_METHODS: dict[str, Callable[..., Any]] = {
    "size": lambda items: len(items),
    "isEmpty": lambda items: not items,
    "contains": lambda items, x: x in items,
    "get": lambda items, i: get_item(items, i),
    "first": lambda items: items[0] if items else None,
    "last": lambda items: items[-1] if items else None,
    "join": lambda items, separator="": separator.join(groovy_string(i) for i in items),
}
_MAP_METHODS: dict[str, Callable[..., Any]] = {
    "get": lambda m, key, default=None: m.get(key, default),
    "containsKey": lambda m, key: key in m,
    "put": lambda m, key, value: m.__setitem__(key, value),
    "size": lambda m: len(m),
    "isEmpty": lambda m: not m,
    "keySet": lambda m: list(m),
    "values": lambda m: list(m.values()),
}
_VALUE_METHODS: tuple[tuple[type, dict[str, Callable[..., Any]]], ...] = (
    (str, _STRING_METHODS),
    (list, _LIST_METHODS),
    (dict, _MAP_METHODS),
)


class _Host:
    """A script-visible object: methods by name, `x.foo` read through `getFoo()`."""

    def methods(self) -> Mapping[str, Callable[..., Any]]:
        return {}

    def call(self, name: str, arguments: list[Any]) -> Any:
        method = self.methods().get(name)
        if method is None:
            raise ScriptError(f"{type(self).__name__.strip('_')} has no method '{name}'")
        try:
            return method(*arguments)
        except TypeError:
            raise ScriptError(f"wrong arguments for '{name}'") from None

    def property(self, name: str) -> Any:
        getter = "get" + name[:1].upper() + name[1:]
        if getter in self.methods():
            return self.call(getter, [])
        raise ScriptError(f"{type(self).__name__.strip('_')} has no property '{name}'")


class MockRequestHost(_Host):
    def __init__(self, request: MockRequest) -> None:
        self._request = request

    def methods(self) -> Mapping[str, Callable[..., Any]]:
        return {
            "getRequestContent": lambda: self._request.text,
            "getRequestHeaders": lambda: _HeadersHost(self._request),
            "getRequest": lambda: _HttpRequestHost(self._request),
        }


class _HeadersHost(_Host):
    def __init__(self, request: MockRequest) -> None:
        self._request = request

    def methods(self) -> Mapping[str, Callable[..., Any]]:
        headers = self._request.headers
        return {
            "get": lambda name, default=None: headers.get(str(name).lower(), default),
            "getAt": lambda name: headers.get(str(name).lower()),
            "hasValues": lambda name: str(name).lower() in headers,
            "containsKey": lambda name: str(name).lower() in headers,
            "keySet": lambda: list(headers),
        }


class _HttpRequestHost(_Host):
    def __init__(self, request: MockRequest) -> None:
        self._request = request

    def methods(self) -> Mapping[str, Callable[..., Any]]:
        request = self._request
        return {
            "getParameter": lambda name: request.param(str(name)),
            "getQueryString": lambda: urlencode(list(request.query)) or None,
            "getRequestURI": lambda: request.path,
            "getPathInfo": lambda: request.path,
            "getMethod": lambda: request.method,
            "getHeader": lambda name: request.header(str(name)),
        }


class _LogHost(_Host):
    def call(self, name: str, arguments: list[Any]) -> Any:
        return None


class _JsonSlurperHost(_Host):
    def methods(self) -> Mapping[str, Callable[..., Any]]:
        return {"parseText": _parse_json}


class _XmlHolderHost(_Host):
    def __init__(self, text: Any) -> None:
        self._text = groovy_string(text)

    def methods(self) -> Mapping[str, Callable[..., Any]]:
        return {"getAt": self._select, "getNodeValue": self._select}

    def _select(self, expression: Any) -> str | None:
        # Parsed per lookup: XmlHolder is rare and scripts query it once or twice.
        try:
            root = ElementTree.fromstring(self._text)
        except ElementTree.ParseError as exc:
            raise ScriptError(f"XmlHolder: not XML: {exc}") from None
        return xpath_text(root, str(expression))


LOG = _LogHost()


def _parse_json(text: Any) -> Any:
    try:
        return json.loads(groovy_string(text))
    except ValueError as exc:
        raise ScriptError(f"JsonSlurper: not JSON: {exc}") from None


CONSTRUCTORS: dict[str, Callable[..., _Host]] = {
    "JsonSlurper": _JsonSlurperHost,
    "XmlHolder": _XmlHolderHost,
}


def _compare(operator: str, left: Any, right: Any) -> bool:
    try:
        if operator == "<":
            return bool(left < right)
        if operator == "<=":
            return bool(left <= right)
        if operator == ">":
            return bool(left > right)
        return bool(left >= right)
    except TypeError:
        raise ScriptError(f"cannot compare {type(left).__name__} with {type(right).__name__}") from None


_MAX_REPEAT = 100_000


def _multiply(left: Any, right: Any) -> Any:
    # `'x' * n` repeats; a bound keeps a script from exhausting memory.
    if isinstance(left, str | list) and isinstance(right, int) and len(left) * right > _MAX_REPEAT:
        raise ScriptError(f"repetition longer than {_MAX_REPEAT}")
    return left * right


def _add(left: Any, right: Any) -> Any:
    if isinstance(left, str) or isinstance(right, str):
        return groovy_string(left) + groovy_string(right)
    if isinstance(left, list):
        return [*left, *(right if isinstance(right, list) else [right])]
    return left + right


def case_matches(case: Any, subject: Any) -> bool:
    if isinstance(case, list):
        return subject in case
    return bool(case == subject)


BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: _compare("<", a, b),
    "<=": lambda a, b: _compare("<=", a, b),
    ">": lambda a, b: _compare(">", a, b),
    ">=": lambda a, b: _compare(">=", a, b),
    "in": lambda a, b: a in b if isinstance(b, list | dict | str) else False,
    "=~": lambda a, b: re.search(groovy_string(b), groovy_string(a)) is not None,
    "==~": lambda a, b: re.fullmatch(groovy_string(b), groovy_string(a)) is not None,
    "+": _add,
    "-": lambda a, b: a - b,
    "*": lambda a, b: _multiply(a, b),
    "/": lambda a, b: a / b,
    "%": lambda a, b: a % b,
}
OPERATOR_LEVELS: tuple[frozenset[str], ...] = (
    frozenset({"==", "!=", "=~", "==~"}),
    frozenset({"<", "<=", ">", ">=", "in"}),
    frozenset({"+", "-"}),
    frozenset({"*", "/", "%"}),
)
