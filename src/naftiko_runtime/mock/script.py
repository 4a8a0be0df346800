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

from typing import Any

from .request import MockRequest
from .script_syntax import Parser, tokenize
from .script_tree import Break, Env, Return, Statement
from .script_values import LOG, MockRequestHost, ScriptError, groovy_string

__all__ = ["Script", "ScriptError", "compile_script"]


def compile_script(source: str) -> Script:
    return Script(Parser(tokenize(source)).program())


class Script:
    def __init__(self, statements: list[Statement]) -> None:
        self._statements = statements

    def run(self, request: MockRequest) -> str | None:
        env = Env({"mockRequest": MockRequestHost(request), "requestContext": request.context, "log": LOG})
        last: Any = None
        try:
            for statement in self._statements:
                last = statement(env)
        except Return as done:
            last = done.value
        except Break:
            pass
        except (ScriptError, RecursionError):
            raise
        except Exception as exc:  # a Python error inside an operation is a script failure
            raise ScriptError(f"{type(exc).__name__}: {exc}") from None
        return None if last is None else groovy_string(last)
