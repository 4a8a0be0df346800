"""Every route and tool of every corpus file reaches the upstream as the file declares it.

Each capability file is served for real (`naftiko serve FILE`, every consumes namespace pointed at an
echo upstream that answers 200 `{"ok": true}`, every declared port moved to a free one, fake values for
every variable). Each REST route and each MCP tool is called once with a generated value for every
argument `naftiko list` reports; the echo upstream's record shows what really went out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import httpx
import pytest

from tests.conftest import tripwire
from tests.corpus.corpus import (
    PLACEHOLDER,
    capability_files,
    corpus_id,
    declared_rest_operation,
    declared_tool,
    expected_auth,
    listing,
    load_yaml,
    param_key,
)
from tests.corpus.serving import Served, ServerPool, echo_upstream
from tests.fakes.recording import FakeServer, RecordedRequest

pytestmark = pytest.mark.timeout(60)

_REFERENCE = re.compile(r"^([A-Za-z0-9_-]+)\.(\S+)$")

# Why a case fails today (the runtime's to-do list), by case id, or by corpus file id for all of that
# file's cases with a resolved call. Strict: a case that starts passing fails until its entry goes.
KNOWN_FAILURES: dict[str, str] = {}


@dataclass(frozen=True)
class Case:
    """One REST route or MCP tool of one corpus file, as `naftiko list --format json` reports it."""

    path: Path
    kind: str  # "route" or "tool"
    namespace: str  # the expose's namespace
    name: str  # tool name, or "METHOD /path"
    call: str | None
    arguments: tuple[dict[str, Any], ...]
    method: str = ""
    route: str = ""

    @property
    def id(self) -> str:
        return f"{corpus_id(self.path)}::{self.kind} {self.name}"


def _cases() -> list[Case]:
    cases = []
    for path in capability_files():
        for adapter in listing(path)["adapters"]:
            for route in adapter.get("routes", []) if adapter["type"] == "rest" else []:
                cases.append(
                    Case(
                        path,
                        "route",
                        adapter["namespace"],
                        f"{route['method']} {route['path']}",
                        route["call"],
                        tuple(route["arguments"]),
                        method=route["method"],
                        route=route["path"],
                    )
                )
            for tool in adapter.get("tools", []) if adapter["type"] == "mcp" else []:
                cases.append(
                    Case(path, "tool", adapter["namespace"], tool["name"], tool["call"], tuple(tool["arguments"]))
                )
    return cases


CASES = _cases()


def _known_failure(case: Case) -> list[pytest.MarkDecorator]:
    reason = KNOWN_FAILURES.get(case.id) or (case.call and KNOWN_FAILURES.get(corpus_id(case.path)))
    return [pytest.mark.xfail(reason=reason, strict=True)] if reason else []


def _params(kind: str, resolved: bool) -> list[Any]:
    return [
        pytest.param(case, id=case.id, marks=_known_failure(case))
        for case in CASES
        if case.kind == kind and (case.call is not None) == resolved
    ]


# -- fixtures: one echo upstream for the session, one server (and MCP session) per file


@pytest.fixture(scope="session")
def echo() -> Iterator[FakeServer]:
    with echo_upstream() as server:
        yield server


@pytest.fixture(scope="session")
def pool(echo: FakeServer, request: pytest.FixtureRequest) -> Iterator[ServerPool]:
    servers = ServerPool(echo.url, request.session.items)
    try:
        yield servers
    finally:
        servers.close()


@pytest.fixture
def served(case: Case, pool: ServerPool, request: pytest.FixtureRequest) -> Iterator[Served]:
    """The case's file served; its server stops after the last case of that file in a row."""
    served = pool.serve(case.path)
    yield served
    if pool.is_last_of_its_file_in_a_row(request.node):
        code = pool.finish(case.path)
        assert code == 0, f"naftiko serve exited {code}:\n{served.server.output}"


# -- generated calls


def generated_value(argument: dict[str, Any]) -> Any:
    values = {"integer": 7, "number": 1.5, "boolean": True, "object": {"k": "v"}, "array": ["a"]}
    return values.get(argument["type"], f"v-{argument['name']}")


def as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def rest_request(served: Served, case: Case) -> httpx.Request:
    """The route called with every argument where `naftiko list` says it goes."""
    by_key = {param_key(argument["name"]): argument for argument in case.arguments}
    in_route: set[str] = set()

    def fill(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        argument = by_key.get(param_key(name))
        if argument is None:
            return quote(f"v-{name}", safe="")
        in_route.add(argument["name"])
        return quote(as_text(generated_value(argument)), safe="")

    route = PLACEHOLDER.sub(fill, case.route)
    query: list[tuple[str, str]] = []
    headers: dict[str, str] = {}
    body: Any = None
    for argument in case.arguments:
        name, where, value = argument["name"], argument["in"], generated_value(argument)
        if name in in_route:
            continue
        if where in ("query", "path"):  # a path argument the route has no placeholder for can only be a query
            query += [(name, as_text(item)) for item in value] if isinstance(value, list) else [(name, as_text(value))]
        elif where == "header":
            headers[name] = as_text(value)
        elif where == "cookie":
            headers["cookie"] = f"{name}={as_text(value)}"
        elif where == "body":
            body = value
        elif where == "body_field":
            body = {**(body or {}), name: value}
        else:
            raise AssertionError(f"{case.id}: argument {name} is in {where!r}, which these tests do not place")
    url = served.server.urls_by_namespace[case.namespace] + route
    content = None if body is None else json.dumps(body).encode()
    if content is not None:
        headers["content-type"] = "application/json"
    return served.http.build_request(case.method, url, params=query, headers=headers, content=content)


def tool_arguments(case: Case) -> dict[str, Any]:
    return {argument["name"]: generated_value(argument) for argument in case.arguments}


# -- what the upstream must have seen


def declared_action(case: Case) -> dict[str, Any]:
    document = load_yaml(case.path)
    if case.kind == "route":
        return declared_rest_operation(document, case.namespace, case.method, case.route)
    return declared_tool(document, case.namespace, case.name)


def placeholder_value(case: Case, placeholder: str) -> str | None:
    """The text the consumed path's placeholder must be filled with, or None when the file leaves it open."""
    by_key = {param_key(argument["name"]): argument for argument in case.arguments}
    with_ = declared_action(case).get("with") or {}
    bound = [value for key, value in with_.items() if param_key(str(key)) == param_key(placeholder)]
    if bound:
        value = bound[0]
        reference = _REFERENCE.match(value.strip()) if isinstance(value, str) else None
        if reference and reference.group(1) in ("rest", "tools", case.namespace):
            argument = by_key.get(param_key(reference.group(2)))
            return as_text(generated_value(argument)) if argument else None
        if isinstance(value, str) and "{{" in value:
            return None
        return as_text(value)
    argument = by_key.get(param_key(placeholder))
    return as_text(generated_value(argument)) if argument else None


def expected_path(case: Case) -> tuple[str, str]:
    """(the consumed operation's URL path as declared, the HTTP method it declares)."""
    assert case.call is not None
    operations = {operation["ref"]: operation for operation in listing(case.path)["operations"]}
    operation = operations[case.call]
    url = operation["url"]
    path = urlsplit(url).path if "://" in url else url.split("?", 1)[0]
    return path, operation["method"]


def assert_path_filled(case: Case, raw_path: str) -> None:
    declared, _ = expected_path(case)
    assert "{" not in raw_path and "}" not in raw_path, f"placeholder left in {raw_path!r} (declared {declared!r})"
    assert "%7B" not in raw_path.upper() and "%7D" not in raw_path.upper(), f"encoded placeholder in {raw_path!r}"
    pattern, names, start = "", [], 0
    for match in PLACEHOLDER.finditer(declared):
        pattern += re.escape(declared[start : match.start()]) + "([^/]*)"
        names.append(match.group(1) or match.group(2))
        start = match.end()
    pattern += re.escape(declared[start:])
    filled = re.fullmatch(pattern, raw_path)
    assert filled, f"upstream path {raw_path!r} is not the declared {declared!r} with its placeholders filled"
    for name, text in zip(names, filled.groups(), strict=True):
        assert text, f"placeholder {{{name}}} of {declared!r} filled with nothing: {raw_path!r}"
        expected = placeholder_value(case, name)
        if expected is not None:
            assert unquote(text) == expected, f"placeholder {{{name}}} of {declared!r}: {raw_path!r}"


def assert_upstream_saw_the_declared_request(case: Case, requests: list[RecordedRequest], answer: str) -> None:
    assert len(requests) == 1, f"expected one upstream request, got {len(requests)}; the caller got: {answer}"
    seen = requests[0]
    _, method = expected_path(case)
    assert seen.method == method, f"upstream got {seen.method} {seen.raw_path}"
    assert_path_filled(case, seen.raw_path)
    assert case.call is not None
    for where, name, value in expected_auth(case.path, case.call.split(".", 1)[0]):
        if where == "header":
            assert seen.headers.get(name) == value, f"header {name}: {seen.headers.get(name)!r}, expected {value!r}"
        else:
            assert (name, value) in seen.query, f"query {name}={value!r} missing from {seen.query_string!r}"


def call_route(served: Served, echo: FakeServer, case: Case) -> tuple[httpx.Response, list[RecordedRequest]]:
    echo.reset()
    response = served.http.send(rest_request(served, case))
    tripwire().record(f"REST {case.id}", response.text)
    return response, echo.requests


def call_tool(served: Served, echo: FakeServer, case: Case) -> tuple[Any, str, list[RecordedRequest]]:
    assert served.mcp is not None
    echo.reset()
    result = served.mcp.call_tool(case.name, tool_arguments(case))
    text = "\n".join(getattr(block, "text", "") for block in result.content)
    tripwire().record(f"MCP {case.id}", text)
    return result, text, echo.requests


# -- the tests


@pytest.mark.parametrize("case", _params("route", resolved=True))
def test_each_route_sends_the_declared_request_upstream(served: Served, echo: FakeServer, case: Case) -> None:
    response, requests = call_route(served, echo, case)
    assert_upstream_saw_the_declared_request(case, requests, f"{response.status_code} {response.text}")
    assert response.is_success, f"{response.status_code} {response.text}"


@pytest.mark.parametrize("case", _params("tool", resolved=True))
def test_each_tool_sends_the_declared_request_upstream(served: Served, echo: FakeServer, case: Case) -> None:
    result, text, requests = call_tool(served, echo, case)
    assert_upstream_saw_the_declared_request(case, requests, text)
    assert not result.is_error, text


@pytest.mark.parametrize("case", _params("route", resolved=False))
def test_a_route_whose_call_is_unresolved_answers_501_problem(served: Served, echo: FakeServer, case: Case) -> None:
    response, requests = call_route(served, echo, case)
    assert response.status_code == 501, f"{response.status_code} {response.text}"
    assert response.headers["content-type"].startswith("application/problem+json")
    assert str(declared_action(case)["call"]) in response.json()["detail"], response.text
    assert requests == []


@pytest.mark.parametrize("case", _params("tool", resolved=False))
def test_a_tool_whose_call_is_unresolved_answers_an_error_result(served: Served, echo: FakeServer, case: Case) -> None:
    result, text, requests = call_tool(served, echo, case)
    assert result.is_error, text
    assert str(declared_action(case)["call"]) in text, text
    assert requests == []
