"""A safe interpreter for the small Groovy that Microcks SCRIPT dispatchers are written in.

The script is parsed once into a tree of Python closures; running it evaluates only that tree,
never Python or Groovy code, and has no loops, so it always ends. The subset:

- statements: `import ...` (ignored), `def x = e` / `Type x = e`, `x = e`, `a.b = e`,
  `a[k] = e`, `return e`, `if (c) {...} else if (c) {...} else {...}`,
  `switch (e) { case v: ... break; default: ... }`, expression statements;
- expressions: string (with `${...}` / `$name` in double quotes), number, `true`, `false`,
  `null`, list `[a, b]` and map `[k: v]` literals, `. ?. [] ()`, `! - + * / %`,
  `== != < <= > >= in =~ ==~ && ||`, `c ? a : b`, `a ?: b`, `new JsonSlurper()`,
  `new XmlHolder(text)`;
- objects: `mockRequest` (`requestContent`, `getRequestHeaders()` with `get(name, default)` and
  `hasValues(name)`, `getRequest()` with `getParameter`, `getQueryString`, `getRequestURI`,
  `getMethod`, `getHeader`), `requestContext` (a map the templates can read), `log` (ignored),
  and the common String / List / Map methods.

The value of `return` (or of the last statement) names the example to answer with.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree

from .request import MockRequest, xpath_text


class ScriptError(Exception):
    """The script uses Groovy outside the supported subset, or failed while running."""


def compile_script(source: str) -> Script:
    parser = _Parser(_tokenize(source))
    return Script(parser.program())


class Script:
    def __init__(self, statements: list[_Statement]) -> None:
        self._statements = statements

    def run(self, request: MockRequest) -> str | None:
        env = _Env(
            {
                "mockRequest": _MockRequestHost(request),
                "requestContext": request.context,
                "log": _LOG,
            }
        )
        last: Any = None
        try:
            for statement in self._statements:
                last = statement(env)
        except _Return as done:
            last = done.value
        except _Break:
            pass
        except (ScriptError, RecursionError):
            raise
        except Exception as exc:  # a Python error inside an operation is a script failure
            raise ScriptError(f"{type(exc).__name__}: {exc}") from None
        return None if last is None else groovy_string(last)


# --- tokens -----------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<space>[ \t\r\f]+|\\\n)
    |(?P<comment>//[^\n]*|/\*.*?\*/)
    |(?P<newline>\n)
    |(?P<number>\d+(?:\.\d+)?)(?:[LlGgDdFfIi])?
    |(?P<name>[A-Za-z_]\w*)
    |(?P<string>'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\])*")
    |(?P<op>==~|=~|\?\.|\?:|==|!=|<=|>=|&&|\|\||[-+*/%<>=!?:.,;(){}\[\]])
    """,
    re.VERBOSE | re.DOTALL,
)
_CONTINUES_BEFORE = frozenset({".", "?.", "&&", "||", "?:", "?", ":"})
_ENDS_LINE = frozenset({")", "]", "}", ";"})


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # name, number, string, gstring, op, newline, end
    value: Any
    line: int


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    depth = 0
    line = 1
    position = 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None:
            raise ScriptError(f"line {line}: unexpected character {source[position]!r}")
        kind = match.lastgroup or ""
        text = match.group(kind)
        if kind == "op":
            depth += 1 if text in "([" else -1 if text in ")]" else 0
            tokens.append(_Token("op", text, line))
        elif kind == "newline":
            if depth <= 0:
                tokens.append(_Token("newline", "\n", line))
        elif kind == "number":
            tokens.append(_Token("number", float(text) if "." in text else int(text), line))
        elif kind == "name":
            tokens.append(_Token("name", text, line))
        elif kind == "string":
            if text[0] == '"' and "$" in text:
                tokens.append(_Token("gstring", _gstring_parts(text[1:-1], line), line))
            else:
                tokens.append(_Token("string", _unescape(text[1:-1]), line))
        line += match.group(0).count("\n")
        position = match.end()
    tokens.append(_Token("end", None, line))
    return [token for i, token in enumerate(tokens) if not _joins_lines(tokens, i)]


def _joins_lines(tokens: list[_Token], index: int) -> bool:
    """A newline between an operator and its operand, or before a `.` chain, does not end a statement."""
    if tokens[index].kind != "newline":
        return False
    before = tokens[index - 1] if index else None
    after = next((t for t in tokens[index + 1 :] if t.kind != "newline"), None)
    if before is not None and before.kind == "op" and before.value not in _ENDS_LINE:
        return True
    return after is not None and after.kind == "op" and after.value in _CONTINUES_BEFORE


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "\\": "\\", "'": "'", '"': '"', "$": "$"}


def _unescape(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        escaped = match.group(1)
        if escaped.startswith("u"):
            return chr(int(escaped[1:], 16))
        return _ESCAPES.get(escaped, escaped)

    return re.sub(r"\\(u[0-9a-fA-F]{4}|.)", replace, text, flags=re.DOTALL)


def _gstring_parts(text: str, line: int) -> list[str | _Node]:
    parts: list[str | _Node] = []
    pattern = re.compile(r"\\.|\$\{(?P<block>[^}]*)\}|\$(?P<path>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)", re.DOTALL)
    literal: list[str] = []
    position = 0
    for match in pattern.finditer(text):
        literal.append(text[position : match.start()])
        position = match.end()
        expression = match.group("block") or match.group("path")
        if expression is None:
            literal.append(_unescape(match.group(0)))
            continue
        parts.append("".join(literal))
        literal = []
        sub = _Parser(_tokenize(expression))
        parts.append(sub.expression())
        sub.expect("end")
    literal.append(text[position:])
    parts.append("".join(literal))
    return [part for part in parts if part != ""]


# --- evaluation ------------------------------------------------------------------------------


class _Env:
    def __init__(self, variables: dict[str, Any]) -> None:
        self.variables = variables


class _Return(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


class _Break(Exception):
    pass


_Statement = Callable[[_Env], Any]


class _Node:
    def evaluate(self, env: _Env) -> Any:
        raise NotImplementedError

    def assign(self, env: _Env, value: Any) -> None:
        raise ScriptError("cannot assign to this expression")


class _Function(_Node):
    def __init__(self, function: Callable[[_Env], Any]) -> None:
        self._function = function

    def evaluate(self, env: _Env) -> Any:
        return self._function(env)


class _Name(_Node):
    def __init__(self, name: str, line: int) -> None:
        self.name = name
        self._line = line

    def evaluate(self, env: _Env) -> Any:
        if self.name not in env.variables:
            raise ScriptError(f"line {self._line}: unknown name '{self.name}'")
        return env.variables[self.name]

    def assign(self, env: _Env, value: Any) -> None:
        env.variables[self.name] = value


class _Member(_Node):
    def __init__(self, target: _Node, name: str) -> None:
        self._target = target
        self._name = name

    def evaluate(self, env: _Env) -> Any:
        return get_property(self._target.evaluate(env), self._name)

    def assign(self, env: _Env, value: Any) -> None:
        target = self._target.evaluate(env)
        if not isinstance(target, dict):
            raise ScriptError(f"cannot set '{self._name}' on {type(target).__name__}")
        target[self._name] = value


class _Index(_Node):
    def __init__(self, target: _Node, key: _Node) -> None:
        self._target = target
        self._key = key

    def evaluate(self, env: _Env) -> Any:
        return get_item(self._target.evaluate(env), self._key.evaluate(env))

    def assign(self, env: _Env, value: Any) -> None:
        target, key = self._target.evaluate(env), self._key.evaluate(env)
        if isinstance(target, dict):
            target[key] = value
        elif isinstance(target, list) and isinstance(key, int) and -len(target) <= key < len(target):
            target[key] = value
        else:
            raise ScriptError("cannot assign to this index")


class _Call(_Node):
    def __init__(self, target: _Node | None, name: str, arguments: list[_Node], safe: bool, line: int) -> None:
        self._target = target
        self._name = name
        self._arguments = arguments
        self._safe = safe
        self._line = line

    def evaluate(self, env: _Env) -> Any:
        arguments = [argument.evaluate(env) for argument in self._arguments]
        if self._target is None:
            if self._name in ("println", "print"):
                return None
            raise ScriptError(f"line {self._line}: unknown function '{self._name}'")
        target = self._target.evaluate(env)
        if target is None and self._safe:
            return None
        return call_method(target, self._name, arguments)


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


class _MockRequestHost(_Host):
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


_LOG = _LogHost()


def _parse_json(text: Any) -> Any:
    try:
        return json.loads(groovy_string(text))
    except ValueError as exc:
        raise ScriptError(f"JsonSlurper: not JSON: {exc}") from None


_CONSTRUCTORS: dict[str, Callable[..., _Host]] = {
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


def _add(left: Any, right: Any) -> Any:
    if isinstance(left, str) or isinstance(right, str):
        return groovy_string(left) + groovy_string(right)
    if isinstance(left, list):
        return [*left, *(right if isinstance(right, list) else [right])]
    return left + right


def _case_matches(case: Any, subject: Any) -> bool:
    if isinstance(case, list):
        return subject in case
    return bool(case == subject)


_BINARY: dict[str, Callable[[Any, Any], Any]] = {
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
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "%": lambda a, b: a % b,
}
_LEVELS: tuple[frozenset[str], ...] = (
    frozenset({"==", "!=", "=~", "==~"}),
    frozenset({"<", "<=", ">", ">=", "in"}),
    frozenset({"+", "-"}),
    frozenset({"*", "/", "%"}),
)


# --- parsing ---------------------------------------------------------------------------------


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self._tokens = tokens
        self._position = 0

    def _peek(self, offset: int = 0) -> _Token:
        return self._tokens[min(self._position + offset, len(self._tokens) - 1)]

    def _advance(self) -> _Token:
        token = self._peek()
        self._position = min(self._position + 1, len(self._tokens) - 1)
        return token

    def _at(self, kind: str, value: Any = None) -> bool:
        token = self._peek()
        return token.kind == kind and (value is None or token.value == value)

    def _accept(self, kind: str, value: Any = None) -> bool:
        if self._at(kind, value):
            self._advance()
            return True
        return False

    def expect(self, kind: str, value: Any = None) -> _Token:
        if not self._at(kind, value):
            token = self._peek()
            wanted = value if value is not None else kind
            found = "end of script" if token.kind == "end" else repr(token.value)
            raise ScriptError(f"line {token.line}: expected {wanted!r}, found {found}")
        return self._advance()

    def _skip_separators(self) -> None:
        while self._at("newline") or self._at("op", ";"):
            self._advance()

    def program(self) -> list[_Statement]:
        statements = self._statements_until(lambda: self._at("end"))
        self.expect("end")
        return statements

    def _statements_until(self, done: Callable[[], bool]) -> list[_Statement]:
        statements: list[_Statement] = []
        self._skip_separators()
        while not done() and not self._at("end"):
            statements.append(self._statement())
            self._skip_separators()
        return statements

    def _block(self) -> list[_Statement]:
        while self._at("newline"):
            self._advance()
        if self._accept("op", "{"):
            statements = self._statements_until(lambda: self._at("op", "}"))
            self.expect("op", "}")
            return statements
        return [self._statement()]

    def _statement(self) -> _Statement:
        token = self._peek()
        if token.kind == "name":
            keyword = token.value
            if keyword == "import":
                while not (self._at("newline") or self._at("op", ";") or self._at("end")):
                    self._advance()
                return lambda env: None
            if keyword == "return":
                self._advance()
                if self._at("newline") or self._at("op", ";") or self._at("op", "}") or self._at("end"):
                    return _raise_return(None)
                return _raise_return(self.expression())
            if keyword == "if":
                return self._if()
            if keyword == "switch":
                return self._switch()
            if keyword == "break":
                self._advance()
                return _raise_break
            if keyword == "def" or (self._peek(1).kind == "name" and self._peek(2).value == "="):
                self._advance()
                name = self.expect("name")
                target = _Name(name.value, name.line)
                value = self.expression() if self._accept("op", "=") else _Function(lambda env: None)
                return _assignment(target, value)
        expression = self.expression()
        if self._accept("op", "="):
            return _assignment(expression, self.expression())
        return expression.evaluate

    def _if(self) -> _Statement:
        self.expect("name", "if")
        self.expect("op", "(")
        condition = self.expression()
        self.expect("op", ")")
        then = self._block()
        otherwise: list[_Statement] = []
        offset = 0
        while self._peek(offset).kind == "newline" or self._peek(offset).value == ";":
            offset += 1
        if self._peek(offset).kind == "name" and self._peek(offset).value == "else":
            self._position += offset + 1
            otherwise = self._block()

        def run(env: _Env) -> Any:
            result: Any = None
            for statement in then if truth(condition.evaluate(env)) else otherwise:
                result = statement(env)
            return result

        return run

    def _switch(self) -> _Statement:
        self.expect("name", "switch")
        self.expect("op", "(")
        subject = self.expression()
        self.expect("op", ")")
        while self._at("newline"):
            self._advance()
        self.expect("op", "{")
        labels: list[tuple[_Node | None, int]] = []  # (case value or None for default, first statement)
        body: list[_Statement] = []
        self._skip_separators()
        while not self._at("op", "}"):
            if self._accept("name", "case"):
                labels.append((self.expression(), len(body)))
                self.expect("op", ":")
            elif self._accept("name", "default"):
                labels.append((None, len(body)))
                self.expect("op", ":")
            else:
                body.append(self._statement())
            self._skip_separators()
        self.expect("op", "}")

        def run(env: _Env) -> Any:
            value = subject.evaluate(env)
            start = next(
                (i for case, i in labels if case is not None and _case_matches(case.evaluate(env), value)),
                next((i for case, i in labels if case is None), None),
            )
            if start is None:
                return None
            try:
                for statement in body[start:]:
                    statement(env)
            except _Break:
                pass
            return None

        return run

    def expression(self) -> _Node:
        condition = self._or()
        if self._accept("op", "?:"):
            fallback = self.expression()
            return _Function(lambda env: _elvis(condition.evaluate(env), fallback, env))
        if self._accept("op", "?"):
            when_true = self.expression()
            self.expect("op", ":")
            when_false = self.expression()
            return _Function(
                lambda env: (when_true if truth(condition.evaluate(env)) else when_false).evaluate(env)
            )
        return condition

    def _or(self) -> _Node:
        left = self._and()
        while self._accept("op", "||"):
            right = self._and()
            left = _Function(lambda env, a=left, b=right: truth(a.evaluate(env)) or truth(b.evaluate(env)))
        return left

    def _and(self) -> _Node:
        left = self._binary(0)
        while self._accept("op", "&&"):
            right = self._binary(0)
            left = _Function(lambda env, a=left, b=right: truth(a.evaluate(env)) and truth(b.evaluate(env)))
        return left

    def _binary(self, level: int) -> _Node:
        if level == len(_LEVELS):
            return self._unary()
        left = self._binary(level + 1)
        while True:
            token = self._peek()
            operator = token.value if token.kind in ("op", "name") else None
            if operator not in _LEVELS[level]:
                return left
            self._advance()
            right = self._binary(level + 1)
            function = _BINARY[str(operator)]
            left = _Function(lambda env, f=function, a=left, b=right: f(a.evaluate(env), b.evaluate(env)))

    def _unary(self) -> _Node:
        if self._accept("op", "!"):
            operand = self._unary()
            return _Function(lambda env: not truth(operand.evaluate(env)))
        if self._accept("op", "-"):
            negated = self._unary()
            return _Function(lambda env: -negated.evaluate(env))
        return self._postfix(self._primary())

    def _postfix(self, node: _Node) -> _Node:
        while True:
            if self._at("op", ".") or self._at("op", "?."):
                safe = self._advance().value == "?."
                name = self.expect("name")
                if self._accept("op", "("):
                    node = _Call(node, name.value, self._arguments(), safe, name.line)
                else:
                    node = _Member(node, name.value)  # reading through null gives null, safe or not
            elif self._accept("op", "["):
                key = self.expression()
                self.expect("op", "]")
                node = _Index(node, key)
            else:
                return node

    def _arguments(self) -> list[_Node]:
        arguments: list[_Node] = []
        while not self._accept("op", ")"):
            arguments.append(self.expression())
            if not self._accept("op", ","):
                self.expect("op", ")")
                break
        return arguments

    def _primary(self) -> _Node:
        token = self._advance()
        if token.kind in ("string", "number"):
            literal = token.value
            return _Function(lambda env: literal)
        if token.kind == "gstring":
            parts: list[str | _Node] = token.value
            return _Function(
                lambda env: "".join(p if isinstance(p, str) else groovy_string(p.evaluate(env)) for p in parts)
            )
        if token.kind == "op" and token.value == "(":
            inner = self.expression()
            self.expect("op", ")")
            return inner
        if token.kind == "op" and token.value == "[":
            return self._collection()
        if token.kind == "name":
            if token.value in _CONSTANTS:
                constant = _CONSTANTS[token.value]
                return _Function(lambda env: constant)
            if token.value == "new":
                return self._new()
            if self._accept("op", "("):
                return _Call(None, token.value, self._arguments(), False, token.line)
            return _Name(token.value, token.line)
        found = "end of script" if token.kind == "end" else repr(token.value)
        raise ScriptError(f"line {token.line}: unexpected {found}")

    def _new(self) -> _Node:
        name = self.expect("name")
        qualified = [name.value]
        while self._accept("op", "."):
            qualified.append(self.expect("name").value)
        self.expect("op", "(")
        arguments = self._arguments()
        constructor = _CONSTRUCTORS.get(qualified[-1])
        if constructor is None:
            raise ScriptError(f"line {name.line}: 'new {'.'.join(qualified)}' is not supported")
        return _Function(lambda env: constructor(*[a.evaluate(env) for a in arguments]))

    def _collection(self) -> _Node:
        if self._accept("op", ":"):
            self.expect("op", "]")
            return _Function(lambda env: {})
        items: list[_Node] = []
        keys: list[_Node] = []
        while not self._accept("op", "]"):
            item = self.expression()
            if self._accept("op", ":"):
                keys.append(item if not isinstance(item, _Name) else _literal(item.name))
                item = self.expression()
            items.append(item)
            if not self._accept("op", ","):
                self.expect("op", "]")
                break
        if keys:
            if len(keys) != len(items):
                raise ScriptError("a map literal needs 'key: value' for every entry")
            pairs = list(zip(keys, items, strict=True))
            return _Function(lambda env: {k.evaluate(env): v.evaluate(env) for k, v in pairs})
        return _Function(lambda env: [item.evaluate(env) for item in items])


_CONSTANTS: dict[str, Any] = {"true": True, "false": False, "null": None}


def _literal(value: Any) -> _Node:
    return _Function(lambda env: value)


def _elvis(value: Any, fallback: _Node, env: _Env) -> Any:
    return value if truth(value) else fallback.evaluate(env)


def _assignment(target: _Node, value: _Node) -> _Statement:
    def run(env: _Env) -> Any:
        result = value.evaluate(env)
        target.assign(env, result)
        return result

    return run


def _raise_return(value: _Node | None) -> _Statement:
    def run(env: _Env) -> Any:
        raise _Return(None if value is None else value.evaluate(env))

    return run


def _raise_break(env: _Env) -> Any:
    raise _Break()
