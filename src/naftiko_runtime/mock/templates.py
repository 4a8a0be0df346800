"""Microcks-style `{{ ... }}` expressions in examples: request values, context values, functions.

Supported: `request.body`, `request.body/<JSON pointer or simple XPath>`, `request.path[n]`,
`request.params[name]`, `request.headers[name]`, context variables set by a SCRIPT dispatcher,
`a || b` fallbacks, `expr > put(name)`, and the functions now/timestamp, uuid/guid/randomUUID,
randomInt, randomString, randomValue, randomBoolean (also as Postman `$name`). An expression
outside that set is left in the answer as written.
"""

from __future__ import annotations

import calendar
import json
import random
import re
import string
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from .request import NOT_JSON, MockRequest, json_pointer, xpath_text

Renderer = Callable[[MockRequest], Any]
Expression = Callable[[MockRequest], Any]

_MARKER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_CALL = re.compile(r"^\$?([A-Za-z_]\w*)(?:\((.*)\))?$", re.DOTALL)
_REQUEST_ITEM = re.compile(r"^request\.(path|params|headers)(?:\[\s*['\"]?(.*?)['\"]?\s*\]|\.([\w.-]+))$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][\w.-]*$")


def compile_value(value: Any) -> Renderer | None:
    """A renderer for a JSON example holding `{{ }}` expressions anywhere; None when it is static."""
    if isinstance(value, str):
        return _compile_string(value)
    if isinstance(value, dict):
        parts = {key: compile_value(item) for key, item in value.items()}
        if all(part is None for part in parts.values()):
            return None
        return lambda request: {key: (value[key] if part is None else part(request)) for key, part in parts.items()}
    if isinstance(value, list):
        items = [compile_value(item) for item in value]
        if all(item is None for item in items):
            return None
        return lambda request: [value[i] if item is None else item(request) for i, item in enumerate(items)]
    return None


def compile_text(text: str) -> Callable[[MockRequest], str] | None:
    """A renderer for a non-JSON body (XML, plain text); None when it holds no expression."""
    pieces = _split(text)
    if pieces is None:
        return None
    return lambda request: "".join(p if isinstance(p, str) else as_text(p(request)) for p in pieces)


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _compile_string(text: str) -> Renderer | None:
    pieces = _split(text)
    if pieces is None:
        return None
    if len(pieces) == 1 and not isinstance(pieces[0], str):
        whole = pieces[0]

        def render_whole(request: MockRequest) -> Any:
            # An object or array fills the whole field as JSON; scalars stay strings, as in Microcks.
            value = whole(request)
            return value if isinstance(value, dict | list) else as_text(value)

        return render_whole
    return lambda request: "".join(p if isinstance(p, str) else as_text(p(request)) for p in pieces)


def _split(text: str) -> list[str | Expression] | None:
    if "{{" not in text:
        return None
    pieces: list[str | Expression] = []
    position = 0
    dynamic = False
    for match in _MARKER.finditer(text):
        if match.start() > position:
            pieces.append(text[position : match.start()])
        expression = compile_expression(match.group(1))
        if expression is None:
            pieces.append(match.group(0))
        else:
            pieces.append(expression)
            dynamic = True
        position = match.end()
    if position < len(text):
        pieces.append(text[position:])
    return pieces if dynamic else None


def compile_expression(source: str) -> Expression | None:
    """One `{{ }}` body; None when it is not an expression we know."""
    stages = _split_top_level(source.strip(), ">")
    value = _compile_alternatives(stages[0])
    if value is None:
        return None
    stores: list[str] = []
    for stage in stages[1:]:
        match = _CALL.match(stage.strip())
        if match is None or match.group(1) != "put" or not (match.group(2) or "").strip():
            return None
        stores.append((match.group(2) or "").strip())
    if not stores:
        return value
    produce = value

    def store(request: MockRequest) -> Any:
        result = produce(request)
        for name in stores:
            request.context[name] = result
        return result

    return store


def _compile_alternatives(source: str) -> Expression | None:
    alternatives = [_compile_term(part.strip()) for part in _split_top_level(source, "||")]
    if any(alternative is None for alternative in alternatives):
        return None
    terms = [alternative for alternative in alternatives if alternative is not None]
    if len(terms) == 1:
        return terms[0]

    def first_present(request: MockRequest) -> Any:
        result: Any = None
        for term in terms:
            result = term(request)
            if result not in (None, ""):
                return result
        return result

    return first_present


def _compile_term(source: str) -> Expression | None:
    if source == "request.body":
        return lambda request: request.text
    if source.startswith("request.body/"):
        return _body_lookup(source.removeprefix("request.body"))
    item = _REQUEST_ITEM.match(source)
    if item is not None:
        return _request_item(item.group(1), item.group(2) if item.group(2) is not None else item.group(3))
    if len(source) >= 2 and source[0] == source[-1] and source[0] in "'\"":
        literal = source[1:-1]
        return lambda request: literal
    call = _CALL.match(source)
    if call is not None and (call.group(2) is not None or source.startswith("$")):
        function = FUNCTIONS.get(call.group(1))
        if function is None:
            return None
        arguments = [a.strip().strip("'\"") for a in _split_top_level(call.group(2) or "", ",") if a.strip()]
        return lambda request: function(arguments)
    if _IDENTIFIER.match(source):
        return lambda request: request.context.get(source)
    return None


def _body_lookup(path: str) -> Expression:
    def lookup(request: MockRequest) -> Any:
        document = request.json
        if document is not NOT_JSON:
            return json_pointer(document, path)
        root = request.xml
        return None if root is None else xpath_text(root, path)

    return lookup


def _request_item(kind: str, key: str) -> Expression | None:
    if kind == "path":
        if not key.isdigit():
            return None
        index = int(key)
        return lambda request: request.segments[index] if index < len(request.segments) else None
    if kind == "params":
        return lambda request: request.param(key)
    return lambda request: request.header(key)


def _split_top_level(source: str, separator: str) -> list[str]:
    """Split on `separator` outside quotes, brackets and parentheses."""
    parts: list[str] = []
    depth = 0
    quote = ""
    start = 0
    i = 0
    while i < len(source):
        char = source[i]
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif depth == 0 and source.startswith(separator, i):
            parts.append(source[start:i])
            i += len(separator)
            start = i
            continue
        i += 1
    parts.append(source[start:])
    return parts


def _now(arguments: Sequence[str]) -> Any:
    moment = datetime.now(UTC)
    if not arguments:
        return int(moment.timestamp() * 1000)
    if len(arguments) > 1:
        moment = _shift(moment, arguments[1])
    return format_java_date(moment, arguments[0])


def _shift(moment: datetime, amount: str) -> datetime:
    match = re.fullmatch(r"\s*(-?\d+)\s*([yMwdHhms])\s*", amount)
    if match is None:
        return moment
    count, unit = int(match.group(1)), match.group(2)
    if unit in "yM":
        months = moment.month - 1 + count * (12 if unit == "y" else 1)
        year, month = moment.year + months // 12, months % 12 + 1
        day = min(moment.day, calendar.monthrange(year, month)[1])
        return moment.replace(year=year, month=month, day=day)
    seconds = {"w": 604800, "d": 86400, "H": 3600, "h": 3600, "m": 60, "s": 1}[unit]
    return moment + timedelta(seconds=count * seconds)


_DATE_FIELDS: dict[str, Callable[[datetime, int], str]] = {
    "y": lambda d, n: f"{d.year % 100:02d}" if n == 2 else f"{d.year:0{n}d}",
    "M": lambda d, n: d.strftime("%B") if n >= 4 else d.strftime("%b") if n == 3 else f"{d.month:0{n}d}",
    "d": lambda d, n: f"{d.day:0{n}d}",
    "H": lambda d, n: f"{d.hour:0{n}d}",
    "h": lambda d, n: f"{(d.hour % 12) or 12:0{n}d}",
    "m": lambda d, n: f"{d.minute:0{n}d}",
    "s": lambda d, n: f"{d.second:0{n}d}",
    "S": lambda d, n: f"{d.microsecond // 1000:03d}"[:n] if n <= 3 else f"{d.microsecond // 1000:0{n}d}",
    "a": lambda d, n: d.strftime("%p"),
    "E": lambda d, n: d.strftime("%A") if n >= 4 else d.strftime("%a"),
    "Z": lambda d, n: d.strftime("%z"),
    "X": lambda d, n: "Z" if d.utcoffset() == timedelta(0) else d.isoformat()[-6:],
    "z": lambda d, n: d.strftime("%Z"),
}


def format_java_date(moment: datetime, pattern: str) -> str:
    """Render `moment` with a Java SimpleDateFormat pattern (the common letters)."""
    out: list[str] = []
    for match in re.finditer(r"'([^']*)'|([A-Za-z])\2*|[^A-Za-z']+", pattern):
        if match.group(1) is not None:
            out.append(match.group(1) or "'")
        elif match.group(2) is not None:
            field = _DATE_FIELDS.get(match.group(2))
            out.append(match.group(0) if field is None else field(moment, len(match.group(0))))
        else:
            out.append(match.group(0))
    return "".join(out)


def _uuid(arguments: Sequence[str]) -> Any:
    return str(uuid.uuid4())


def _random_int(arguments: Sequence[str]) -> Any:
    try:
        bounds = [int(a) for a in arguments]
    except ValueError:
        return random.randint(-65635, 65635)
    if len(bounds) >= 2:
        return random.randint(min(bounds[:2]), max(bounds[:2]))
    if len(bounds) == 1:
        return random.randint(0, max(bounds[0], 0))
    return random.randint(-65635, 65635)


def _random_string(arguments: Sequence[str]) -> Any:
    length = int(arguments[0]) if arguments and arguments[0].isdigit() else 32
    return "".join(random.choices(string.ascii_letters + string.digits, k=length))


def _random_value(arguments: Sequence[str]) -> Any:
    return random.choice(arguments) if arguments else ""


def _random_boolean(arguments: Sequence[str]) -> Any:
    return random.choice((True, False))


FUNCTIONS: dict[str, Callable[[Sequence[str]], Any]] = {
    "now": _now,
    "timestamp": _now,
    "uuid": _uuid,
    "guid": _uuid,
    "randomUUID": _uuid,
    "randomInt": _random_int,
    "randomString": _random_string,
    "randomValue": _random_value,
    "randomBoolean": _random_boolean,
}
