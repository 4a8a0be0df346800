"""Paths and small helpers shared by the mock upstream tests."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from naftiko_runtime.consumer.client import UpstreamResponse
from naftiko_runtime.mock import MockApi

DATA = Path(__file__).parent / "data"
REGISTRY = DATA / "naftiko-shipyard-maritime-registry-api.yaml"
DOCKYARD = DATA / "naftiko-shipyard-legacy-dockyard-api.yaml"
CONFORMANCE_LIST = DATA / "tests.yml"
KOMBO = Path(__file__).resolve().parents[2] / "capabilities" / "kombo.openapi.yaml"

REGISTRY_BASE = "/rest/naftiko-shipyard-maritime-registry-api/1.0.0-alpha2"


def ask(
    api: MockApi,
    method: str,
    path: str,
    query: Sequence[tuple[str, str]] = (),
    headers: Mapping[str, str] | None = None,
    body: Any = None,
) -> UpstreamResponse:
    """Call `respond`; a non-bytes `body` is sent as JSON."""
    raw = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
    return api.respond(method, path, query, dict(headers or {}), raw)


def data(response: UpstreamResponse) -> Any:
    return json.loads(response.body)


def document(paths: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """A minimal OpenAPI 3.1 document around `paths`."""
    return {"openapi": "3.1.0", "info": {"title": "test", "version": "1"}, "paths": dict(paths), **extra}


def ok(examples: Mapping[str, Any], status: str = "200", media: str = "application/json") -> dict[str, Any]:
    """A `responses` entry whose content has the given named examples."""
    content = {media: {"examples": {name: {"value": value} for name, value in examples.items()}}}
    return {status: {"description": "answer", "content": content}}
