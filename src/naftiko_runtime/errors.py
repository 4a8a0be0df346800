"""Errors of a call, as values every adapter can render (problem+json, MCP isError)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from naftiko_runtime.json_depth import bounded_loads


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the caller's input: where (`path.integration_id`) and why."""

    location: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"location": self.location, "message": self.message}


class CallError(Exception):
    """A call the runtime answers itself; `detail` is safe to show (never a secret)."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        operation: str | None = None,
        problems: list[Problem] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.operation = operation
        self.problems = problems or []
        self.extra = extra or {}

    def as_problem(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": "about:blank",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.operation:
            body["operation"] = self.operation
        if self.problems:
            body["errors"] = [problem.as_dict() for problem in self.problems]
        body.update(self.extra)
        return body


def invalid_arguments(problems: list[Problem]) -> CallError:
    detail = "; ".join(f"{p.location}: {p.message}" for p in problems)
    return CallError(400, "Bad Request", f"invalid arguments: {detail}", problems=problems)


@dataclass(frozen=True, slots=True)
class UpstreamAnswer:
    """A non-2xx answer of the upstream, passed through to the caller."""

    operation: str
    status: int
    content_type: str
    body: bytes
    # The upstream's response headers, as they came (REST passes an allowlist of them on).
    headers: Mapping[str, str] = field(default_factory=dict)

    def message(self) -> str:
        """The upstream's own error message when its body says one, else a short excerpt."""
        return upstream_message(self.body)


def upstream_message(body: bytes) -> str:
    try:
        data = bounded_loads(body)
    except ValueError:
        text = body.decode("utf-8", "replace").strip()
        return text[:500] if text else "(empty body)"
    for candidate in _message_candidates(data):
        if isinstance(candidate, str) and candidate:
            return candidate
    return json.dumps(data)[:500]


def _message_candidates(data: Any) -> list[Any]:
    if not isinstance(data, dict):
        return []
    nested = data.get("error")
    candidates: list[Any] = []
    if isinstance(nested, dict):
        candidates += [nested.get("message"), nested.get("title"), nested.get("code")]
    elif isinstance(nested, str):
        candidates.append(nested)
    candidates += [data.get("message"), data.get("detail"), data.get("title"), data.get("error_description")]
    return candidates
