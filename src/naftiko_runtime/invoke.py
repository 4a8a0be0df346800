"""`naftiko call`: one tool call through the same engine, without serving."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from naftiko_runtime.errors import CallError, UpstreamAnswer
from naftiko_runtime.runtime import RuntimeOptions, build_runtime


async def call_tool_once(path: Path, tool: str, arguments: dict[str, Any], options: RuntimeOptions) -> tuple[bool, str]:
    """(succeeded, text to print): the mapped JSON result, or what went wrong."""
    runtime = build_runtime([path], options)
    try:
        actions = {a.name: a for c in runtime.capabilities for ad in c.adapters if ad.type == "mcp" for a in ad.actions}
        action = actions.get(tool)
        if action is None:
            known = ", ".join(sorted(actions)) or "(none)"
            return False, f"unknown tool '{tool}'; tools: {known}"
        try:
            outcome = await action.invoke(action.signature.validate(arguments))
        except CallError as error:
            return False, json.dumps(error.as_problem(), indent=2)
        if isinstance(outcome, UpstreamAnswer):
            return False, f"upstream {outcome.operation} answered HTTP {outcome.status}: {outcome.message()}"
        return True, json.dumps(outcome.value, indent=2)
    finally:
        await runtime.close()
