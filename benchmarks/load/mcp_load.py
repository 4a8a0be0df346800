"""MCP load generator: N Streamable HTTP sessions repeating `tools/call`.

Each session does the handshake on protocol 2025-06-18 (`initialize`, then
`notifications/initialized`), keeps the `mcp-session-id` if the server gave one, then calls
the tool with the given arguments as fast as answers come. A call counts only when its
answer is a JSON-RPC result that is not `isError` (JSON or SSE answers are both read).
Prints one JSON object (see common.Result).
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from common import Call, Setup, arguments, main

PROTOCOL = "2025-06-18"
BASE_HEADERS = {
    "content-type": "application/json",
    "accept": "application/json, text/event-stream",
    "mcp-protocol-version": PROTOCOL,
}


class McpFailure(Exception):
    pass


def decode(content_type: str, body: bytes) -> dict[str, Any]:
    """The JSON-RPC message of a JSON answer, or the last `data:` message of an SSE answer."""
    if content_type.startswith("text/event-stream"):
        messages = [line[5:].strip() for line in body.splitlines() if line.startswith(b"data:")]
        messages = [m for m in messages if m]
        if not messages:
            raise McpFailure("SSE answer without a data line")
        body = messages[-1]
    message: dict[str, Any] = json.loads(body)
    return message


def make_setup(url: str, tool: str, arguments_json: str) -> Setup:
    async def setup(session: aiohttp.ClientSession) -> Call:
        headers = dict(BASE_HEADERS)
        initialize = {
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {
                "protocolVersion": PROTOCOL,
                "capabilities": {},
                "clientInfo": {"name": "naftiko-bench", "version": "0"},
            },
        }
        async with session.post(url, data=json.dumps(initialize), headers=headers) as response:
            body = await response.read()
            if response.status != 200:
                raise McpFailure(f"initialize answered {response.status}: {body[:300]!r}")
            answer = decode(response.headers.get("content-type", ""), body)
            if "result" not in answer:
                raise McpFailure(f"initialize failed: {answer}")
            session_id = response.headers.get("mcp-session-id")
        if session_id:
            headers["mcp-session-id"] = session_id
        notification = b'{"jsonrpc":"2.0","method":"notifications/initialized"}'
        async with session.post(url, data=notification, headers=headers) as response:
            await response.read()
            if response.status not in (200, 202, 204):
                raise McpFailure(f"notifications/initialized answered {response.status}")
        counter = 0
        template = '{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":%s,"arguments":%s}}'
        name = json.dumps(tool)

        async def call() -> bool:
            nonlocal counter
            counter += 1
            payload = (template % (counter, name, arguments_json)).encode()
            async with session.post(url, data=payload, headers=headers) as response:
                body = await response.read()
                if response.status != 200:
                    raise McpFailure(f"tools/call answered {response.status}: {body[:300]!r}")
                answer = decode(response.headers.get("content-type", ""), body)
            result = answer.get("result")
            if answer.get("id") != counter or not isinstance(result, dict):
                raise McpFailure(f"tools/call failed: {str(answer)[:300]}")
            if result.get("isError"):
                raise McpFailure(f"tool error: {str(result)[:300]}")
            return True

        return call

    return setup


if __name__ == "__main__":
    parser = arguments(__doc__ or "")
    parser.add_argument("--tool", default="check-api-key")
    parser.add_argument("--arguments", default="{}", help="the tool's arguments as JSON")
    args = parser.parse_args()
    main(make_setup(args.url, args.tool, json.dumps(json.loads(args.arguments))), args)
