"""The evaluation tree a parsed SCRIPT dispatcher becomes: nodes that read, assign and call."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from .script_values import ScriptError, call_method, get_item, get_property, truth


class Env:
    def __init__(self, variables: dict[str, Any]) -> None:
        self.variables = variables


class Return(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


class Break(Exception):
    pass


Statement = Callable[[Env], Any]


class Node(ABC):
    @abstractmethod
    def evaluate(self, env: Env) -> Any: ...

    def assign(self, env: Env, value: Any) -> None:
        raise ScriptError("cannot assign to this expression")


class FunctionNode(Node):
    def __init__(self, function: Callable[[Env], Any]) -> None:
        self._function = function

    def evaluate(self, env: Env) -> Any:
        return self._function(env)


class NameNode(Node):
    def __init__(self, name: str, line: int) -> None:
        self.name = name
        self._line = line

    def evaluate(self, env: Env) -> Any:
        if self.name not in env.variables:
            raise ScriptError(f"line {self._line}: unknown name '{self.name}'")
        return env.variables[self.name]

    def assign(self, env: Env, value: Any) -> None:
        env.variables[self.name] = value


class MemberNode(Node):
    def __init__(self, target: Node, name: str) -> None:
        self._target = target
        self._name = name

    def evaluate(self, env: Env) -> Any:
        return get_property(self._target.evaluate(env), self._name)

    def assign(self, env: Env, value: Any) -> None:
        target = self._target.evaluate(env)
        if not isinstance(target, dict):
            raise ScriptError(f"cannot set '{self._name}' on {type(target).__name__}")
        target[self._name] = value


class IndexNode(Node):
    def __init__(self, target: Node, key: Node) -> None:
        self._target = target
        self._key = key

    def evaluate(self, env: Env) -> Any:
        return get_item(self._target.evaluate(env), self._key.evaluate(env))

    def assign(self, env: Env, value: Any) -> None:
        target, key = self._target.evaluate(env), self._key.evaluate(env)
        in_list = isinstance(target, list) and isinstance(key, int) and -len(target) <= key < len(target)
        if isinstance(target, dict) or in_list:
            target[key] = value
        else:
            raise ScriptError("cannot assign to this index")


class LogicalNode(Node):
    def __init__(self, left: Node, right: Node, *, either: bool) -> None:
        self._left = left
        self._right = right
        self._either = either

    def evaluate(self, env: Env) -> Any:
        if truth(self._left.evaluate(env)) == self._either:
            return self._either
        return truth(self._right.evaluate(env))


class BinaryNode(Node):
    def __init__(self, function: Callable[[Any, Any], Any], left: Node, right: Node) -> None:
        self._function = function
        self._left = left
        self._right = right

    def evaluate(self, env: Env) -> Any:
        return self._function(self._left.evaluate(env), self._right.evaluate(env))


class CallNode(Node):
    def __init__(self, target: Node | None, name: str, arguments: list[Node], safe: bool, line: int) -> None:
        self._target = target
        self._name = name
        self._arguments = arguments
        self._safe = safe
        self._line = line

    def evaluate(self, env: Env) -> Any:
        arguments = [argument.evaluate(env) for argument in self._arguments]
        if self._target is None:
            if self._name in ("println", "print"):
                return None
            raise ScriptError(f"line {self._line}: unknown function '{self._name}'")
        target = self._target.evaluate(env)
        if target is None and self._safe:
            return None
        return call_method(target, self._name, arguments)
