"""`/healthz` (the process answers) and `/readyz` (calls can work), shared by every adapter."""

from __future__ import annotations

import json
from collections.abc import Sequence

from naftiko_runtime.adapters.asgi import Receive, Scope, Send, send_bytes
from naftiko_runtime.capability import CompiledCapability


class Health:
    def __init__(self, capabilities: Sequence[CompiledCapability]) -> None:
        self._capabilities = list(capabilities)

    def readiness(self) -> tuple[bool, dict[str, object]]:
        report = {str(c.path): reasons for c in self._capabilities if (reasons := c.not_ready())}
        if report:
            return False, {"status": "not ready", "not_ready": report}
        return True, {"status": "ready"}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/healthz":
            await send_bytes(send, 200, b'{"status":"ok"}', b"application/json")
            return
        ready, body = self.readiness()
        await send_bytes(send, 200 if ready else 503, json.dumps(body).encode(), b"application/json")
