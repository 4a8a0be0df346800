"""One OpenAPI document compiled into a mock upstream: routes, dispatchers, canned answers."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..consumer.client import UpstreamResponse
from .dispatch import Dispatcher, compile_dispatcher
from .document import MockDocumentError, Resolver, check_document, load_file, server_base_path
from .examples import Answers, collect_answers
from .paths import PathTemplate, Segments, compile_path, split_path, strip_prefix
from .request import MockRequest

log = logging.getLogger("naftiko_runtime.mock")

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class _Operation:
    method: str
    template: PathTemplate
    dispatcher: Dispatcher | None
    answers: Answers

    def respond(self, request: MockRequest) -> UpstreamResponse:
        name = self.dispatcher(request) if self.dispatcher is not None else None
        canned = self.answers.named.get(name) if name is not None else None
        if canned is None:
            if name is not None:
                log.debug("%s %s: no example named %r; answering the default", self.method, self.template, name)
            canned = self.answers.default
        return canned.answer(request)


class MockApi:
    """Answers the operations of one OpenAPI 3.x document from its examples."""

    def __init__(self, source: str, base_path: str, operations: Sequence[_Operation], warnings: Sequence[str]) -> None:
        self.source = source
        self.warnings = tuple(warnings)
        self._base = split_path(base_path) if base_path else ("",)
        self._routes = sorted(operations, key=lambda op: op.template.precedence)

    @classmethod
    def from_file(cls, path: Path) -> MockApi:
        return cls.from_document(load_file(path), str(path))

    @classmethod
    def from_document(cls, doc: Mapping[str, Any], source: str) -> MockApi:
        check_document(doc, source)
        resolver = Resolver(doc, source)
        warnings: list[str] = []
        operations: list[_Operation] = []
        for template, item in (doc.get("paths") or {}).items():
            item = resolver.deref(item)
            if not isinstance(item, Mapping):
                raise MockDocumentError(f"{source}: path '{template}' is not a mapping")
            compiled = compile_path(str(template))
            shared = _parameters(item, resolver)
            for method in METHODS:
                operation = item.get(method)
                if not isinstance(operation, Mapping):
                    continue
                where = f"{source}: {method.upper()} {template}"
                try:
                    parameters = _merge(shared, _parameters(operation, resolver))
                    answers = collect_answers(operation, parameters, resolver)
                    dispatcher = compile_dispatcher(
                        operation.get("x-microcks-operation"), answers.known, where, warnings
                    )
                except MockDocumentError:
                    raise
                except (TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:
                    # Shapes the OpenAPI schema forbids (a list where a mapping belongs, ...).
                    raise MockDocumentError(f"{where}: malformed operation ({exc})") from None
                operations.append(_Operation(method.upper(), compiled, dispatcher, answers))
        for warning in warnings:
            log.warning("%s", warning)
        return cls(source, server_base_path(doc), operations, warnings)

    def describes(self, method: str, path: str) -> bool:
        return self._find(method, path) is not None

    def respond(
        self,
        method: str,
        path: str,
        query: Sequence[tuple[str, str]],
        headers: Mapping[str, str],
        body: bytes,
    ) -> UpstreamResponse:
        found = self._find(method, path)
        if found is None:
            return not_implemented(method, path)
        operation, params, relative = found
        request = MockRequest(
            method=method.upper(),
            path="/".join(relative) or "/",
            path_params=params,
            query=tuple(query),
            headers={k.lower(): v for k, v in headers.items()},
            body=body,
        )
        return operation.respond(request)

    def _find(self, method: str, path: str) -> tuple[_Operation, dict[str, str], Segments] | None:
        method = method.upper()
        segments = split_path(path.split("?", 1)[0])
        candidates = [segments]
        stripped = strip_prefix(segments, self._base)
        if stripped is not None:
            candidates.append(stripped)
        best: tuple[_Operation, dict[str, str], Segments] | None = None
        for candidate in candidates:
            for operation in self._routes:
                if operation.method != method:
                    continue
                params = operation.template.match(candidate)
                if params is not None:
                    if best is None or operation.template.precedence < best[0].template.precedence:
                        best = (operation, params, candidate)
                    break
        return best

    def __repr__(self) -> str:
        return f"MockApi({self.source!r}, {len(self._routes)} operations)"


def not_implemented(method: str, path: str) -> UpstreamResponse:
    problem = {
        "type": "about:blank",
        "title": "Not Implemented",
        "status": 501,
        "detail": f"no mock document describes {method.upper()} {path}",
    }
    return UpstreamResponse(
        status=501,
        headers={"content-type": "application/problem+json"},
        body=json.dumps(problem).encode(),
    )


def _parameters(node: Mapping[str, Any], resolver: Resolver) -> list[Mapping[str, Any]]:
    raw = node.get("parameters")
    if not isinstance(raw, list):
        return []
    resolved = (resolver.deref(parameter) for parameter in raw)
    return [parameter for parameter in resolved if isinstance(parameter, Mapping)]


def _merge(shared: list[Mapping[str, Any]], own: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Path-level parameters overridden by the operation's own of the same name and location."""
    keys = {(p.get("name"), p.get("in")) for p in own}
    return [p for p in shared if (p.get("name"), p.get("in")) not in keys] + own
