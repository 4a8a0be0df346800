"""Fakes and capability files the resilience tests share."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from starlette.types import Receive, Scope, Send

from tests.fakes import FakeServer


async def _echo(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers every request with what it was: method, raw path and raw query."""
    body = json.dumps(
        {
            "method": scope["method"],
            "path": (scope.get("raw_path") or scope["path"].encode()).decode("latin-1"),
            "query": scope.get("query_string", b"").decode("latin-1"),
        }
    ).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def echo_upstream() -> FakeServer:
    return FakeServer(_echo)


def capability(base_uri: str, *, version: str = "v1", second_tool: bool = False, rest_port: int = 8080) -> str:
    """A REST route and an MCP tool calling one upstream operation; `version` shows in every answer."""
    extra = (
        """
    - name: get-other
      description: Another thing, added by an edit.
      call: up.get-thing
      outputParameters:
      - {name: version, type: string, value: "other"}
"""
        if second_tool
        else ""
    )
    return f"""\
naftiko: 1.0.0-alpha2
capability:
  consumes:
  - type: http
    namespace: up
    baseUri: "{base_uri}"
    resources:
    - name: thing
      path: /things/{{{{id}}}}
      operations:
      - name: get-thing
        method: GET
        inputParameters:
        - {{name: id, in: path}}
  exposes:
  - type: rest
    namespace: api
    port: {rest_port}
    resources:
    - path: /things/{{{{id}}}}
      name: thing
      operations:
      - method: GET
        name: get-thing
        inputParameters:
        - {{name: id, in: path, type: string}}
        call: up.get-thing
        with: {{id: api.id}}
        outputParameters:
        - {{name: version, type: string, value: "{version}"}}
        - {{name: path, type: string, mapping: "$.path"}}
  - type: mcp
    namespace: tools
    port: 9090
    tools:
    - name: get-thing
      description: One thing by its id.
      inputParameters:
      - {{name: id, type: string, required: true, description: The id.}}
      call: up.get-thing
      with: {{id: tools.id}}
      outputParameters:
      - {{name: version, type: string, value: "{version}"}}
      - {{name: path, type: string, mapping: "$.path"}}
{extra}"""


def passthrough_capability(base_uri: str, *, namespace: str = "up") -> str:
    """A REST route and an MCP tool passing one upstream operation's answer on unchanged."""
    return f"""\
naftiko: 1.0.0-alpha2
capability:
  consumes:
  - type: http
    namespace: {namespace}
    baseUri: "{base_uri}"
    resources:
    - name: thing
      path: /things/{{{{id}}}}
      operations:
      - name: get-thing
        method: GET
        inputParameters:
        - {{name: id, in: path}}
  exposes:
  - type: rest
    namespace: api
    port: 8080
    resources:
    - path: /things/{{{{id}}}}
      name: thing
      operations:
      - method: GET
        name: get-thing
        inputParameters:
        - {{name: id, in: path, type: string}}
        call: {namespace}.get-thing
        with: {{id: api.id}}
  - type: mcp
    namespace: tools
    port: 9090
    tools:
    - name: get-thing
      description: One thing by its id.
      inputParameters:
      - {{name: id, type: string, required: true, description: The id.}}
      call: {namespace}.get-thing
      with: {{id: tools.id}}
"""


def wait_until(condition: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    """Poll `condition` every 50 ms until it holds; AssertionError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(0.05)


def hostile_capability(base_uri: str) -> str:
    """Caller arguments reaching every part of an upstream request: path, header, query, cookie."""
    return f"""\
naftiko: 1.0.0-alpha2
capability:
  consumes:
  - type: http
    namespace: up
    baseUri: "{base_uri}/base"
    resources:
    - name: item
      path: /items/{{{{id}}}}/detail
      operations:
      - name: get-item
        method: GET
        inputParameters:
        - {{name: id, in: path}}
        - {{name: X-Trace, in: header}}
        - {{name: X-Tenant, in: header, value: "tenant-{{{{tenant}}}}"}}
        - {{name: q, in: query}}
        - {{name: session, in: cookie}}
  exposes:
  - type: rest
    namespace: api
    port: 8080
    resources:
    - path: /items/{{{{id}}}}
      name: item
      operations:
      - method: GET
        name: get-item
        inputParameters:
        - {{name: id, in: path, type: string}}
        - {{name: trace, in: query, type: string}}
        - {{name: tenant, in: query, type: string}}
        - {{name: q, in: query, type: string}}
        - {{name: session, in: query, type: string}}
        call: up.get-item
        with: {{id: api.id, X-Trace: api.trace, q: api.q, session: api.session}}
  - type: mcp
    namespace: tools
    port: 9090
    tools:
    - name: get-item
      description: One item.
      inputParameters:
      - {{name: id, type: string, required: true, description: The id.}}
      - {{name: trace, type: string, required: false, description: A trace id sent as a header.}}
      - {{name: tenant, type: string, required: false, description: The tenant.}}
      - {{name: q, type: string, required: false, description: A query.}}
      - {{name: session, type: string, required: false, description: A cookie.}}
      call: up.get-item
      with: {{id: tools.id, X-Trace: tools.trace, q: tools.q, session: tools.session}}
"""
