"""The skill adapter: a read-only catalogue of Agent Skills (`GET /skills`, `GET /skills/{name}`).

It executes nothing: a skill's tools point at routes and tools of sibling adapters, and the
catalogue carries their input schemas so an agent knows how to call them there.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote

from naftiko_runtime.adapters.asgi import HEALTH_PATHS, Receive, Scope, Send, problem, send_bytes, send_problem
from naftiko_runtime.adapters.health import Health

_JSON = b"application/json"


class SkillApp:
    def __init__(self, skills: Sequence[dict[str, Any]], health: Health) -> None:
        self._health = health
        self._by_name = {skill["name"]: json.dumps(skill).encode() for skill in skills}
        listing = [{key: skill[key] for key in ("name", "description") if key in skill} for skill in skills]
        self._listing = json.dumps({"skills": listing}).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"].rstrip("/") or "/"
        if path in HEALTH_PATHS:
            await self._health(scope, receive, send)
            return
        if not (path == "/skills" or path.startswith("/skills/")):
            await send_problem(send, problem(404, "Not Found", f"no such path {path}; the catalogue is at /skills"))
            return
        if scope["method"] not in ("GET", "HEAD"):
            await send_problem(
                send, problem(405, "Method Not Allowed", "the skill catalogue is read-only"), [(b"allow", b"GET, HEAD")]
            )
            return
        if path == "/skills":
            await send_bytes(send, 200, self._listing, _JSON)
            return
        name = unquote(path.removeprefix("/skills/"))
        body = self._by_name.get(name)
        if body is None:
            await send_problem(send, problem(404, "Not Found", f"no skill named '{name}'"))
            return
        await send_bytes(send, 200, body, _JSON)
