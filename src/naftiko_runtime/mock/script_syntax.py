"""Parsing the Groovy subset of SCRIPT dispatchers into a tree of evaluable nodes."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .script_tree import (
    BinaryNode,
    Break,
    CallNode,
    Env,
    FunctionNode,
    IndexNode,
    LogicalNode,
    MemberNode,
    NameNode,
    Node,
    Return,
    Statement,
)
from .script_values import (
    BINARY,
    CONSTRUCTORS,
    OPERATOR_LEVELS,
    ScriptError,
    case_matches,
    groovy_string,
    truth,
)

_TOKEN = re.compile(
    r"""
    (?P<space>[ \t\r\f]+|\\\n)
    |(?P<comment>//[^\n]*|/\*.*?\*/)
    |(?P<newline>\n)
    |(?P<number>\d+(?:\.\d+)?)(?:[LlGgDdFf](?!\w))?
    |(?P<name>[A-Za-z_]\w*)
    |(?P<string>'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\])*")
    |(?P<op>==~|=~|\?\.|\?:|==|!=|<=|>=|&&|\|\||[-+*/%<>=!?:.,;(){}\[\]])
    """,
    re.VERBOSE | re.DOTALL,
)
_CONTINUES_BEFORE = frozenset({".", "?.", "&&", "||", "?:", "?", ":"})
_ENDS_LINE = frozenset({")", "]", "}", ";"})


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # name, number, string, gstring, op, newline, end
    value: Any
    line: int


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
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
            tokens.append(Token("op", text, line))
        elif kind == "newline":
            if depth <= 0:
                tokens.append(Token("newline", "\n", line))
        elif kind == "number":
            tokens.append(Token("number", float(text) if "." in text else int(text), line))
        elif kind == "name":
            tokens.append(Token("name", text, line))
        elif kind == "string":
            if text[0] == '"' and "$" in text:
                tokens.append(Token("gstring", _gstring_parts(text[1:-1]), line))
            else:
                tokens.append(Token("string", _unescape(text[1:-1]), line))
        line += match.group(0).count("\n")
        position = match.end()
    tokens.append(Token("end", None, line))
    return [token for i, token in enumerate(tokens) if not _joins_lines(tokens, i)]


def _joins_lines(tokens: list[Token], index: int) -> bool:
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


_INTERPOLATION = re.compile(r"\\.|\$\{(?P<block>[^}]*)\}|\$(?P<path>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)", re.DOTALL)


def _gstring_parts(text: str) -> list[str | Node]:
    """A double-quoted string split into literal text and `${expr}` / `$name.path` expressions."""
    parts: list[str | Node] = []
    literal: list[str] = []
    position = 0
    for match in _INTERPOLATION.finditer(text):
        literal.append(text[position : match.start()])
        position = match.end()
        expression = match.group("block") or match.group("path")
        if expression is None:
            literal.append(_unescape(match.group(0)))
            continue
        parts.append("".join(literal))
        literal = []
        sub = Parser(tokenize(expression))
        parts.append(sub.expression())
        sub.expect("end")
    literal.append(text[position:])
    parts.append("".join(literal))
    return [part for part in parts if part != ""]


class Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self._tokens = tokens
        self._position = 0

    def _peek(self, offset: int = 0) -> Token:
        return self._tokens[min(self._position + offset, len(self._tokens) - 1)]

    def _advance(self) -> Token:
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

    def expect(self, kind: str, value: Any = None) -> Token:
        if not self._at(kind, value):
            token = self._peek()
            wanted = value if value is not None else kind
            found = "end of script" if token.kind == "end" else repr(token.value)
            raise ScriptError(f"line {token.line}: expected {wanted!r}, found {found}")
        return self._advance()

    def _skip_separators(self) -> None:
        while self._at("newline") or self._at("op", ";"):
            self._advance()

    def program(self) -> list[Statement]:
        statements = self._statements_until(lambda: self._at("end"))
        self.expect("end")
        return statements

    def _statements_until(self, done: Callable[[], bool]) -> list[Statement]:
        statements: list[Statement] = []
        self._skip_separators()
        while not done() and not self._at("end"):
            statements.append(self._statement())
            self._skip_separators()
        return statements

    def _block(self) -> list[Statement]:
        while self._at("newline"):
            self._advance()
        if self._accept("op", "{"):
            statements = self._statements_until(lambda: self._at("op", "}"))
            self.expect("op", "}")
            return statements
        return [self._statement()]

    def _statement(self) -> Statement:
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
                target = NameNode(name.value, name.line)
                value = self.expression() if self._accept("op", "=") else FunctionNode(lambda env: None)
                return _assignment(target, value)
        expression = self.expression()
        if self._accept("op", "="):
            return _assignment(expression, self.expression())
        return expression.evaluate

    def _if(self) -> Statement:
        self.expect("name", "if")
        self.expect("op", "(")
        condition = self.expression()
        self.expect("op", ")")
        then = self._block()
        otherwise: list[Statement] = []
        offset = 0
        while self._peek(offset).kind == "newline" or self._peek(offset).value == ";":
            offset += 1
        if self._peek(offset).kind == "name" and self._peek(offset).value == "else":
            self._position += offset + 1
            otherwise = self._block()

        def run(env: Env) -> Any:
            result: Any = None
            for statement in then if truth(condition.evaluate(env)) else otherwise:
                result = statement(env)
            return result

        return run

    def _switch(self) -> Statement:
        self.expect("name", "switch")
        self.expect("op", "(")
        subject = self.expression()
        self.expect("op", ")")
        while self._at("newline"):
            self._advance()
        self.expect("op", "{")
        labels: list[tuple[Node | None, int]] = []  # (case value or None for default, first statement)
        body: list[Statement] = []
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

        def run(env: Env) -> Any:
            value = subject.evaluate(env)
            start = next(
                (i for case, i in labels if case is not None and case_matches(case.evaluate(env), value)),
                next((i for case, i in labels if case is None), None),
            )
            if start is None:
                return None
            try:
                for statement in body[start:]:
                    statement(env)
            except Break:
                pass
            return None

        return run

    def expression(self) -> Node:
        condition = self._or()
        if self._accept("op", "?:"):
            fallback = self.expression()
            return FunctionNode(lambda env: _elvis(condition.evaluate(env), fallback, env))
        if self._accept("op", "?"):
            when_true = self.expression()
            self.expect("op", ":")
            when_false = self.expression()
            return FunctionNode(lambda env: (when_true if truth(condition.evaluate(env)) else when_false).evaluate(env))
        return condition

    def _or(self) -> Node:
        left = self._and()
        while self._accept("op", "||"):
            right = self._and()
            left = LogicalNode(left, right, either=True)
        return left

    def _and(self) -> Node:
        left = self._binary(0)
        while self._accept("op", "&&"):
            right = self._binary(0)
            left = LogicalNode(left, right, either=False)
        return left

    def _binary(self, level: int) -> Node:
        if level == len(OPERATOR_LEVELS):
            return self._unary()
        left = self._binary(level + 1)
        while True:
            token = self._peek()
            operator = token.value if token.kind in ("op", "name") else None
            if operator not in OPERATOR_LEVELS[level]:
                return left
            self._advance()
            right = self._binary(level + 1)
            left = BinaryNode(BINARY[str(operator)], left, right)

    def _unary(self) -> Node:
        if self._accept("op", "!"):
            operand = self._unary()
            return FunctionNode(lambda env: not truth(operand.evaluate(env)))
        if self._accept("op", "-"):
            negated = self._unary()
            return FunctionNode(lambda env: -negated.evaluate(env))
        return self._postfix(self._primary())

    def _postfix(self, node: Node) -> Node:
        while True:
            if self._at("op", ".") or self._at("op", "?."):
                safe = self._advance().value == "?."
                name = self.expect("name")
                if self._accept("op", "("):
                    node = CallNode(node, name.value, self._arguments(), safe, name.line)
                else:
                    node = MemberNode(node, name.value)  # reading through null gives null, safe or not
            elif self._accept("op", "["):
                key = self.expression()
                self.expect("op", "]")
                node = IndexNode(node, key)
            else:
                return node

    def _arguments(self) -> list[Node]:
        arguments: list[Node] = []
        while not self._accept("op", ")"):
            arguments.append(self.expression())
            if not self._accept("op", ","):
                self.expect("op", ")")
                break
        return arguments

    def _primary(self) -> Node:
        token = self._advance()
        if token.kind in ("string", "number"):
            literal = token.value
            return FunctionNode(lambda env: literal)
        if token.kind == "gstring":
            parts: list[str | Node] = token.value
            return FunctionNode(
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
                return FunctionNode(lambda env: constant)
            if token.value == "new":
                return self._new()
            if self._accept("op", "("):
                return CallNode(None, token.value, self._arguments(), False, token.line)
            return NameNode(token.value, token.line)
        found = "end of script" if token.kind == "end" else repr(token.value)
        raise ScriptError(f"line {token.line}: unexpected {found}")

    def _new(self) -> Node:
        name = self.expect("name")
        qualified = [name.value]
        while self._accept("op", "."):
            qualified.append(self.expect("name").value)
        self.expect("op", "(")
        arguments = self._arguments()
        constructor = CONSTRUCTORS.get(qualified[-1])
        if constructor is None:
            raise ScriptError(f"line {name.line}: 'new {'.'.join(qualified)}' is not supported")
        return FunctionNode(lambda env: constructor(*[a.evaluate(env) for a in arguments]))

    def _collection(self) -> Node:
        if self._accept("op", ":"):
            self.expect("op", "]")
            return FunctionNode(lambda env: {})
        items: list[Node] = []
        keys: list[Node] = []
        while not self._accept("op", "]"):
            item = self.expression()
            if self._accept("op", ":"):
                keys.append(item if not isinstance(item, NameNode) else _literal(item.name))
                item = self.expression()
            items.append(item)
            if not self._accept("op", ","):
                self.expect("op", "]")
                break
        if keys:
            if len(keys) != len(items):
                raise ScriptError("a map literal needs 'key: value' for every entry")
            pairs = list(zip(keys, items, strict=True))
            return FunctionNode(lambda env: {k.evaluate(env): v.evaluate(env) for k, v in pairs})
        return FunctionNode(lambda env: [item.evaluate(env) for item in items])


_CONSTANTS: dict[str, Any] = {"true": True, "false": False, "null": None}


def _literal(value: Any) -> Node:
    return FunctionNode(lambda env: value)


def _elvis(value: Any, fallback: Node, env: Env) -> Any:
    return value if truth(value) else fallback.evaluate(env)


def _assignment(target: Node, value: Node) -> Statement:
    def run(env: Env) -> Any:
        result = value.evaluate(env)
        target.assign(env, result)
        return result

    return run


def _raise_return(value: Node | None) -> Statement:
    def run(env: Env) -> Any:
        raise Return(None if value is None else value.evaluate(env))

    return run


def _raise_break(env: Env) -> Any:
    raise Break()
