"""The control adapter: the management plane of a running capability.

`GET /health/live`, `GET /health/ready` (management.health, on by default), `GET /status` and
`GET /config` (management.info), `POST /config/validate` (management.validate: a dry run of
the capability YAML in the request body), `POST /config/reload` (management.reload: load the
served files again and switch to them), `GET /metrics` and `GET /traces` (observability: what
`Telemetry.control_routes` gives). Nothing here ever shows a variable's value.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from naftiko_runtime.adapters.asgi import (
    BodyTooLarge,
    Receive,
    Scope,
    Send,
    problem,
    read_body,
    send_bytes,
    send_problem,
)
from naftiko_runtime.adapters.health import Health
from naftiko_runtime.capability import CompiledCapability, LoadOptions, load_capability
from naftiko_runtime.diagnostics import CapabilityError, Severity
from naftiko_runtime.spec.models import ControlManagement

_JSON = b"application/json"
MAX_VALIDATE_BODY = 1024 * 1024
Handler = Callable[[Scope, Receive, Send], Awaitable[None]]


class ControlApp:
    def __init__(
        self,
        capabilities: Sequence[CompiledCapability],
        management: ControlManagement,
        health: Health,
        reload: Callable[[], Awaitable[dict[str, Any]]] | None = None,
        observability: Mapping[str, Handler] | None = None,
    ) -> None:
        """`observability`: GET handlers by path (`/metrics`, `/traces`), as the adapter's settings allow."""
        self._reload = reload
        self._capabilities = list(capabilities)
        self._management = management
        self._health = health
        self._started = time.time()
        self._routes: dict[tuple[str, str], Handler] = {}
        if management.health:
            self._routes[("GET", "/health/live")] = self._live
            self._routes[("GET", "/health/ready")] = self._ready
        if management.info:
            self._routes[("GET", "/status")] = self._status
            self._routes[("GET", "/config")] = self._config
        if management.validate_:
            self._routes[("POST", "/config/validate")] = self._validate
        if management.reload and reload is not None:
            self._routes[("POST", "/config/reload")] = self._reload_files
        for path, handler in (observability or {}).items():
            self._routes[("GET", path)] = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"].rstrip("/") or "/"
        if path in ("/healthz", "/readyz"):
            await self._health(scope, receive, send)
            return
        handler = self._routes.get((scope["method"], path))
        if handler is None:
            allowed = [method for method, route in self._routes if route == path]
            if allowed:
                await send_problem(
                    send,
                    problem(405, "Method Not Allowed", f"{scope['method']} is not allowed on {path}"),
                    [(b"allow", ", ".join(allowed).encode())],
                )
            else:
                await send_problem(send, problem(404, "Not Found", f"{path} is not enabled on this control port"))
            return
        await handler(scope, receive, send)

    async def _live(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send_bytes(send, 200, b'{"status":"UP"}', _JSON)

    async def _ready(self, scope: Scope, receive: Receive, send: Send) -> None:
        ready, report = self._health.readiness()
        body = {"status": "UP" if ready else "DOWN", **{k: v for k, v in report.items() if k != "status"}}
        await send_bytes(send, 200 if ready else 503, json.dumps(body).encode(), _JSON)

    async def _status(self, scope: Scope, receive: Receive, send: Send) -> None:
        status = {
            "uptimeSeconds": round(time.time() - self._started, 3),
            "capabilities": [
                {
                    "file": str(capability.path),
                    "label": capability.label,
                    "ready": not capability.not_ready(),
                    "adapters": [
                        {"type": a.type, "namespace": a.namespace, "actions": len(a.actions)}
                        for a in capability.adapters
                    ],
                }
                for capability in self._capabilities
            ],
        }
        await send_bytes(send, 200, json.dumps(status).encode(), _JSON)

    async def _config(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The documents as written: templates such as {{TOKEN}}, never their values.
        documents = [
            capability.loaded.document.model_dump(mode="json", by_alias=True, exclude_none=True)
            for capability in self._capabilities
        ]
        await send_bytes(send, 200, json.dumps({"capabilities": documents}).encode(), _JSON)

    async def _reload_files(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self._reload is not None
        outcome = await self._reload()
        await send_bytes(send, 200 if outcome["reloaded"] else 409, json.dumps(outcome).encode(), _JSON)

    async def _validate(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            body = await read_body(scope, receive, MAX_VALIDATE_BODY)
        except BodyTooLarge:
            await send_problem(send, problem(413, "Content Too Large", "the capability is larger than 1 MiB"))
            return
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / "capability.yaml"
            path.write_bytes(body)
            try:
                diagnostics = load_capability(path, LoadOptions(environ={})).diagnostics
            except CapabilityError as exc:
                diagnostics = exc.diagnostics
        found = [{**d.as_dict(), "file": "request body"} for d in diagnostics if d.code != "missing-variable"]
        valid = not any(d.severity is Severity.ERROR for d in diagnostics)
        await send_bytes(send, 200, json.dumps({"valid": valid, "diagnostics": found}).encode(), _JSON)
