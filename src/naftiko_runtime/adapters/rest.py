"""The REST adapter: routes of `rest` exposes, as a plain ASGI app.

Routing works on the raw (still percent-encoded) path, so `a%2F..%2Fb` stays one
path value and can never change the upstream path.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

from naftiko_runtime.adapters.asgi import (
    HEALTH_PATHS,
    PROBLEM_JSON,
    BodyTooLarge,
    Message,
    Receive,
    Scope,
    Send,
    problem,
    read_body,
    send_bytes,
    send_problem,
)
from naftiko_runtime.adapters.cors import CorsPolicy
from naftiko_runtime.adapters.docs_page import ALLOW as DOCS_ALLOW
from naftiko_runtime.adapters.docs_page import DocsPage
from naftiko_runtime.adapters.health import Health
from naftiko_runtime.adapters.inbound_auth import InboundAuth
from naftiko_runtime.adapters.upstream_headers import passed_headers
from naftiko_runtime.engine import Action
from naftiko_runtime.errors import CallError, Problem, UpstreamAnswer, invalid_arguments
from naftiko_runtime.exchange import send_to
from naftiko_runtime.forward import Forward
from naftiko_runtime.json_depth import JsonTooDeep, bounded_loads
from naftiko_runtime.observability.context import INBOUND
from naftiko_runtime.observability.inbound import RequestIds
from naftiko_runtime.openapi_export import OPENAPI_PATH
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
# A forward relays every method, so a CORS preflight for its paths admits them all.
_FORWARD_ALLOW = b"GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"


@dataclass(frozen=True, slots=True)
class _Handler:
    """One method of a route: its action, its own placeholder names in path order, and whether
    any argument comes from the body (decided at load: other calls never wait for a body)."""

    action: Action
    placeholders: list[str]
    needs_body: bool


@dataclass(slots=True)
class _Route:
    pattern: re.Pattern[str]
    has_placeholders: bool
    methods: dict[str, _Handler]
    # The `Allow` value: the declared methods, HEAD where GET is, OPTIONS (set once every route is in).
    allow: bytes = b""


class RestApp:
    def __init__(
        self,
        actions: Sequence[Action],
        health: Health,
        max_body: int = DEFAULT_MAX_BODY,
        forwards: Sequence[Forward] = (),
        cors: CorsPolicy | None = None,
        openapi: bytes | None = None,
        request_ids: RequestIds | None = None,
    ) -> None:
        """`request_ids`: each request's id (and trace headers) read and set for its calls, the id
        returned on its answer (`observability/inbound.py`; given when anything observes calls)."""
        self._health = health
        self._request_ids = request_ids
        self._forwards = list(forwards)
        self._max_body = max_body
        self._cors = cors
        self._openapi = openapi  # the port's OpenAPI document (openapi_export.py), served at OPENAPI_PATH
        self._docs = DocsPage()
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
            needs_body = any(argument.source in ("body", "body_field") for argument in action.signature.arguments)
            route.methods.setdefault(action.method, _Handler(action, placeholders, needs_body))
        for route in by_shape.values():
            route.allow = _allow(route.methods)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        # Request ids are read here, not by a middleware: one coroutine fewer on every call's path.
        ids = self._request_ids.enter(scope, send) if self._request_ids is not None else None
        if ids is not None:
            send = ids[1]
        try:
            if self._cors is not None:
                send = self._cors.wrap(scope, send)
            method = scope["method"]
            if method == "HEAD":
                send = _headers_only(send)
            raw = scope.get("raw_path")
            path = _normalise(raw.decode("latin-1") if raw else scope["path"])
            if path in HEALTH_PATHS:
                await self._health(scope, receive, send)
                return
            route, match = self._match(path)
            if route is None or match is None:
                await self._unrouted(path, scope, receive, send)
                return
            found = route.methods.get(method)
            if found is None and method == "HEAD":
                found = route.methods.get("GET")
            if method == "OPTIONS" and (found is None or (self._cors is not None and self._cors.is_preflight(scope))):
                await self._options(scope, send, route.allow)
                return
            if found is None:
                await _send_not_allowed(send, method, route.allow)
                return
            action = found.action
            if action.inbound_auth is not None and not await _admitted(action.inbound_auth, scope, send, action):
                return
            arguments: dict[str, Any] | None = None
            try:
                raw = await read_body(scope, receive, self._max_body) if found.needs_body else None
                given, body_problem = _arguments(action, scope, raw, found.placeholders, match)
                arguments = _validated(action, given, body_problem)
                outcome = await action.invoke(arguments)
            except CallError as error:
                if arguments is None:
                    action.refused("validation", error.status)
                await send_problem(send, error.as_problem())
                return
            except BodyTooLarge:
                action.refused("too_large", 413)
                await send_problem(
                    send, problem(413, "Content Too Large", f"request body exceeds {self._max_body} bytes")
                )
                return
            except Exception:
                logger.exception("route %s failed unexpectedly", action.name)
                await send_problem(
                    send, problem(500, "Internal Server Error", f"route {action.name} failed; see the server log")
                )
                return
            if isinstance(outcome, UpstreamAnswer):
                headers = passed_headers(outcome.headers)
                if not outcome.body and not outcome.content_type:
                    await _send_empty(send, outcome.status, headers)
                else:
                    content_type = (outcome.content_type or "application/json").encode("latin-1")
                    await send_bytes(send, outcome.status, outcome.body, content_type, headers)
            elif outcome.media is not None:
                headers = passed_headers(outcome.headers, body_as_is=True)
                await send_bytes(
                    send, outcome.status, outcome.media.body, outcome.media.content_type.encode("latin-1"), headers
                )
            elif outcome.is_empty:
                # An empty answer (204, or a 200 with no body) stays empty.
                await _send_empty(send, outcome.status, passed_headers(outcome.headers))
            else:
                body = outcome.raw_json if outcome.raw_json is not None else json.dumps(outcome.value).encode()
                await send_bytes(send, outcome.status, body, _JSON, passed_headers(outcome.headers))
        finally:
            if ids is not None:
                INBOUND.reset(ids[0])

    async def _unrouted(self, path: str, scope: Scope, receive: Receive, send: Send) -> None:
        """A path no route claims: the docs page, the OpenAPI document, a forward, else 404."""
        method = scope["method"]
        if self._docs.handles(path):
            if method == "OPTIONS":
                await self._options(scope, send, DOCS_ALLOW)
            else:
                await self._docs(path, method, send)
            return
        if path == OPENAPI_PATH and self._openapi is not None:
            await self._openapi_document(self._openapi, scope, send)
            return
        forward = next(((f, m) for f in self._forwards if (m := f.pattern.match(path))), None)
        if forward is None:
            await send_problem(send, problem(404, "Not Found", f"no route for {scope['path']}"))
            return
        if method == "OPTIONS" and self._cors is not None and self._cors.is_preflight(scope):
            # A preflight carries no credentials and asks this server, not the upstream, what it admits.
            await self._options(scope, send, _FORWARD_ALLOW)
            return
        if not await _admitted(forward[0].inbound_auth, scope, send):
            return
        await self._relay(forward[0], forward[1].group("tail") or "", scope, receive, send)

    async def _openapi_document(self, document: bytes, scope: Scope, send: Send) -> None:
        method = scope["method"]
        if method == "OPTIONS":
            await self._options(scope, send, DOCS_ALLOW)
        elif method in ("GET", "HEAD"):
            await send_bytes(send, 200, document, _JSON)
        else:
            await _send_not_allowed(send, method, DOCS_ALLOW)

    async def _options(self, scope: Scope, send: Send, allow: bytes) -> None:
        """OPTIONS on a known path: `Allow`, plus the CORS preflight answer when the request is one."""
        headers = [(b"allow", allow)]
        if self._cors is not None:
            headers += self._cors.preflight(scope, allow) or []
        await _send_empty(send, 204, headers)

    async def _relay(self, forward: Forward, tail: str, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            body = await read_body(scope, receive, self._max_body)
            request = forward.request(scope["method"], tail, scope.get("query_string", b""), scope["headers"], body)
            assert forward.client is not None and forward.action is not None
            relay = send_to(forward.target, forward.client, request, f"forward {forward.path}")
            response = await forward.action.observe(relay)
        except BodyTooLarge:
            await send_problem(send, problem(413, "Content Too Large", f"request body exceeds {self._max_body} bytes"))
            return
        except CallError as error:
            await send_problem(send, error.as_problem())
            return
        content_type = response.content_type or "application/octet-stream"
        headers = passed_headers(response.headers, body_as_is=True)
        await send_bytes(send, response.status, response.body, content_type.encode("latin-1"), headers)

    def _match(self, path: str) -> tuple[_Route | None, re.Match[str] | None]:
        route = self._literal.get(path)
        if route is not None:
            return route, route.pattern.match(path)
        for route in self._patterned:
            match = route.pattern.match(path)
            if match is not None:
                return route, match
        return None, None


def _arguments(
    action: Action, scope: Scope, raw: bytes | None, placeholders: list[str], match: re.Match[str]
) -> tuple[dict[str, Any], Problem | None]:
    """The caller's arguments by name (`raw`: the body, read when an argument comes from it), and
    what is wrong with the body when it is not JSON."""
    route_values = (
        {name: unquote(value) for name, value in zip(placeholders, match.groups(), strict=True)} if placeholders else {}
    )
    body: Any = None
    body_problem: Problem | None = None
    if raw is not None and raw.strip():
        try:
            body = bounded_loads(raw)
        except JsonTooDeep as exc:
            body_problem = Problem("body", f"request body is {exc}")
        except ValueError:
            body_problem = Problem("body", "request body is not valid JSON")
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
    return given, body_problem


def _validated(action: Action, given: dict[str, Any], body_problem: Problem | None) -> dict[str, Any]:
    """The arguments checked; a body that is not JSON is reported beside every other problem."""
    try:
        arguments = action.signature.validate(given, where=_WHERE)
    except CallError as error:
        if body_problem is None:
            raise
        # Body fields read as missing only because the body could not be read.
        others = [p for p in error.problems if p.location != "body" and not p.location.startswith(("body.", "body["))]
        raise invalid_arguments([body_problem, *others]) from None
    if body_problem is not None:
        raise invalid_arguments([body_problem])
    return arguments


async def _admitted(auth: InboundAuth | None, scope: Scope, send: Send, action: Action | None = None) -> bool:
    """Each route asks for its own file's authentication (files with different ones can share a port)."""
    refused = None if auth is None else await auth.check(scope)
    if refused is None:
        return True
    if action is not None:
        action.refused("auth", refused.status)
    await send_problem(send, problem(refused.status, refused.title, f"this route {refused.reason}"), refused.headers)
    return False


def _allow(methods: Iterable[str]) -> bytes:
    allowed = list(methods)
    if "GET" in allowed and "HEAD" not in allowed:
        allowed.append("HEAD")
    if "OPTIONS" not in allowed:
        allowed.append("OPTIONS")
    return ", ".join(allowed).encode()


async def _send_not_allowed(send: Send, method: str, allow: bytes) -> None:
    detail = f"{method} is not allowed here; allowed: {allow.decode()}"
    await send_problem(send, problem(405, "Method Not Allowed", detail), [(b"allow", allow)])


async def _send_empty(send: Send, status: int, headers: list[tuple[bytes, bytes]]) -> None:
    if status not in (204, 304) and status >= 200:
        headers = [(b"content-length", b"0"), *headers]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


def _headers_only(send: Send) -> Send:
    """`send` for a HEAD request: the status and headers a GET gets (Content-Length included), no body."""

    def send_head(message: Message) -> Awaitable[None]:
        if message["type"] == "http.response.body" and message.get("body"):
            message = {**message, "body": b""}
        return send(message)

    return send_head


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
