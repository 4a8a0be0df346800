"""The REST adapter: routes of `rest` exposes, as a plain ASGI app.

Routing works on the raw (still percent-encoded) path, so `a%2F..%2Fb` stays one
path value and can never change the upstream path.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

from naftiko_runtime.adapters.asgi import (
    HEALTH_PATHS,
    PROBLEM_JSON,
    BodyTooLarge,
    Receive,
    Scope,
    Send,
    problem,
    read_body,
    send_bytes,
    send_empty,
    send_problem,
)
from naftiko_runtime.adapters.health import Health
from naftiko_runtime.adapters.inbound_auth import InboundAuth
from naftiko_runtime.engine import Action
from naftiko_runtime.errors import CallError, Problem, UpstreamAnswer, invalid_arguments
from naftiko_runtime.exchange import send_to
from naftiko_runtime.forward import Forward
from naftiko_runtime.spec.dialects import PathLiteral, split_path

logger = logging.getLogger("naftiko.rest")

DEFAULT_MAX_BODY = 4 * 1024 * 1024
_JSON = b"application/json"
_WHERE = {
    "path": "path",
    "query": "query",
    "header": "header",
    "cookie": "cookie",
    "body": "body",
    "body_field": "body",
}


@dataclass(slots=True)
class _Route:
    pattern: re.Pattern[str]
    has_placeholders: bool
    # Per method: the action and its own placeholder names, in path order.
    methods: dict[str, tuple[Action, list[str]]]


class RestApp:
    def __init__(
        self,
        actions: Sequence[Action],
        health: Health,
        max_body: int = DEFAULT_MAX_BODY,
        forwards: Sequence[Forward] = (),
    ) -> None:
        self._health = health
        self._forwards = list(forwards)
        self._max_body = max_body
        self._literal: dict[str, _Route] = {}
        self._patterned: list[_Route] = []
        by_shape: dict[str, _Route] = {}
        for action in actions:
            regex, placeholders = _compile_path(action.path)
            route = by_shape.get(regex)
            if route is None:
                route = by_shape[regex] = _Route(re.compile(regex), bool(placeholders), {})
                if route.has_placeholders:
                    self._patterned.append(route)
                else:
                    self._literal[_normalise(action.path)] = route
            route.methods.setdefault(action.method, (action, placeholders))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        raw = scope.get("raw_path")
        path = _normalise(raw.decode("latin-1") if raw else scope["path"])
        if path in HEALTH_PATHS:
            await self._health(scope, receive, send)
            return
        route, match = self._match(path)
        if route is None or match is None:
            forward = next(((f, m) for f in self._forwards if (m := f.pattern.match(path))), None)
            if forward is not None and not await _admitted(forward[0].inbound_auth, scope, send):
                return
            if forward is not None:
                await self._relay(forward[0], forward[1].group("tail") or "", scope, receive, send)
                return
            await send_problem(send, problem(404, "Not Found", f"no route for {scope['path']}"))
            return
        found = route.methods.get(scope["method"])
        if found is None:
            allowed = ", ".join(route.methods)
            await send_problem(
                send,
                problem(405, "Method Not Allowed", f"{scope['method']} is not allowed here; allowed: {allowed}"),
                [(b"allow", allowed.encode())],
            )
            return
        action, placeholders = found
        if not await _admitted(action.inbound_auth, scope, send):
            return
        try:
            given = await self._arguments(action, scope, receive, placeholders, match)
            arguments = action.signature.validate(given, where=_WHERE)
            outcome = await action.invoke(arguments)
        except CallError as error:
            await send_problem(send, error.as_problem())
            return
        except BodyTooLarge:
            await send_problem(send, problem(413, "Content Too Large", f"request body exceeds {self._max_body} bytes"))
            return
        except Exception:
            logger.exception("route %s failed unexpectedly", action.name)
            await send_problem(
                send, problem(500, "Internal Server Error", f"route {action.name} failed; see the server log")
            )
            return
        if isinstance(outcome, UpstreamAnswer):
            await send_bytes(send, outcome.status, outcome.body, (outcome.content_type or "application/json").encode())
        elif outcome.media is not None:
            await send_bytes(send, outcome.status, outcome.media.body, outcome.media.content_type.encode("latin-1"))
        elif outcome.is_empty:
            # An empty answer (204, or a 200 with no body) stays empty.
            await send_empty(send, outcome.status)
        else:
            body = outcome.raw_json if outcome.raw_json is not None else json.dumps(outcome.value).encode()
            await send_bytes(send, outcome.status, body, _JSON)

    async def _relay(self, forward: Forward, tail: str, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            body = await read_body(scope, receive, self._max_body)
            request = forward.request(scope["method"], tail, scope.get("query_string", b""), scope["headers"], body)
            assert forward.client is not None
            response = await send_to(forward.target, forward.client, request, f"forward {forward.path}")
        except BodyTooLarge:
            await send_problem(send, problem(413, "Content Too Large", f"request body exceeds {self._max_body} bytes"))
            return
        except CallError as error:
            await send_problem(send, error.as_problem())
            return
        content_type = response.content_type or "application/octet-stream"
        await send_bytes(send, response.status, response.body, content_type.encode())

    def _match(self, path: str) -> tuple[_Route | None, re.Match[str] | None]:
        route = self._literal.get(path)
        if route is not None:
            return route, route.pattern.match(path)
        for route in self._patterned:
            match = route.pattern.match(path)
            if match is not None:
                return route, match
        return None, None

    async def _arguments(
        self, action: Action, scope: Scope, receive: Receive, placeholders: list[str], match: re.Match[str]
    ) -> dict[str, Any]:
        route_values = {name: unquote(value) for name, value in zip(placeholders, match.groups(), strict=True)}
        needs_body = any(argument.source in ("body", "body_field") for argument in action.signature.arguments)
        body: Any = None
        if needs_body:
            raw = await read_body(scope, receive, self._max_body)
            if raw.strip():
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise invalid_arguments([Problem("body", "request body is not valid JSON")]) from None
        query: dict[str, list[str]] | None = None
        headers: dict[str, str] | None = None
        given: dict[str, Any] = {}
        for argument in action.signature.arguments:
            source = argument.source
            if source == "path" and argument.route_name is not None:
                given[argument.name] = route_values.get(argument.route_name)
                continue
            if source in ("query", "path"):
                if query is None:
                    query = _query(scope)
                values = query.get(argument.name)
                if values is not None:
                    given[argument.name] = values if argument.type == "array" else values[-1]
            elif source in ("header", "cookie"):
                if headers is None:
                    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
                value = headers.get(argument.name.lower()) if source == "header" else _cookie(headers, argument.name)
                if value is not None:
                    given[argument.name] = value
            elif source == "body":
                if body is not None:
                    given[argument.name] = body
            elif isinstance(body, dict) and argument.name in body:
                given[argument.name] = body[argument.name]
        return given


async def _admitted(auth: InboundAuth | None, scope: Scope, send: Send) -> bool:
    """Each route asks for its own file's authentication (files with different ones can share a port)."""
    refused = None if auth is None else await auth.check(scope)
    if refused is None:
        return True
    await send_problem(send, problem(refused.status, refused.title, f"this route {refused.reason}"), refused.headers)
    return False


def _compile_path(path: str) -> tuple[str, list[str]]:
    pieces = []
    placeholders = []
    for part in split_path(_normalise(path)):
        if isinstance(part, PathLiteral):
            pieces.append(re.escape(part.text))
        else:
            pieces.append("([^/]+)")
            placeholders.append(part.name)
    return "^" + "".join(pieces) + "/?$", placeholders


def _normalise(path: str) -> str:
    return path[:-1] if len(path) > 1 and path.endswith("/") else path


def _query(scope: Scope) -> dict[str, list[str]]:
    query: dict[str, list[str]] = {}
    for name, value in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True):
        query.setdefault(name, []).append(value)
    return query


def _cookie(headers: dict[str, str], name: str) -> str | None:
    for pair in headers.get("cookie", "").split(";"):
        key, _, value = pair.strip().partition("=")
        if key == name:
            return unquote(value)
    return None


__all__ = ["PROBLEM_JSON", "RestApp"]
