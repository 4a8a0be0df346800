"""runtime.py: several capabilities on shared ports — merging, clashes, prefixes, moving a group."""

from __future__ import annotations

from pathlib import Path

import pytest

from naftiko_runtime.diagnostics import CapabilityError
from naftiko_runtime.runtime import RuntimeOptions, build_runtime


def capability(namespace: str, tool: str = "get-thing", route: str = "/things", auth: str = "") -> str:
    inbound = f"    authentication: {{type: bearer, token: {auth}}}\n" if auth else ""
    return f"""\
naftiko: 1.0.0-alpha2
capability:
  consumes:
  - type: http
    namespace: {namespace}
    baseUri: http://{namespace}.invalid
    resources:
    - name: things
      path: /things
      operations:
      - {{name: list, method: GET}}
  exposes:
  - type: rest
    namespace: {namespace}-rest
    port: 8080
{inbound}    resources:
    - path: {route}
      operations:
      - {{method: GET, call: {namespace}.list}}
  - type: mcp
    namespace: {namespace}-mcp
    port: 9090
{inbound}    tools:
    - {{name: {tool}, description: d, call: {namespace}.list}}
"""


def _write(tmp_path: Path, **files: str) -> list[Path]:
    paths = []
    for name, text in files.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(text)
        paths.append(path)
    return paths


def test_adapters_of_one_type_on_one_port_merge_into_one_listener(tmp_path: Path) -> None:
    paths = _write(tmp_path, a=capability("a", tool="a-tool", route="/a"), b=capability("b", tool="b-tool", route="/b"))
    runtime = build_runtime(paths, RuntimeOptions(environ={}))
    listeners = {listener.type: listener for listener in runtime.listeners}
    assert len(runtime.listeners) == 2
    assert listeners["rest"].namespaces == ["a-rest", "b-rest"] and listeners["rest"].action_count == 2
    assert listeners["mcp"].port == 9090 and listeners["mcp"].action_count == 2


def test_a_tool_or_route_claimed_twice_is_an_error_naming_both_places(tmp_path: Path) -> None:
    paths = _write(tmp_path, a=capability("a"), b=capability("b"))
    with pytest.raises(CapabilityError) as caught:
        build_runtime(paths, RuntimeOptions(environ={}))
    messages = [str(d) for d in caught.value.diagnostics]
    assert any("tool 'get-thing'" in m and "a.yaml" in m and "b.yaml" in m and "--prefix-tools" in m for m in messages)
    assert any("route 'GET /things'" in m and "--prefix-routes" in m for m in messages)


def test_prefixes_resolve_the_clash_with_the_file_stem(tmp_path: Path) -> None:
    paths = _write(tmp_path, a=capability("a"), b=capability("b"))
    runtime = build_runtime(paths, RuntimeOptions(environ={}, prefix_tools=True, prefix_routes=True))
    names = sorted(
        action.name for listener in runtime.listeners for adapter in listener.adapters for action in adapter.actions
    )
    assert names == ["GET /a/things", "GET /b/things", "a.get-thing", "b.get-thing"]


def test_a_port_option_naming_one_member_moves_the_whole_merged_group(tmp_path: Path) -> None:
    paths = _write(tmp_path, a=capability("a", tool="x", route="/x"), b=capability("b", tool="y", route="/y"))
    runtime = build_runtime(paths, RuntimeOptions(environ={}, ports={"b-mcp": 19090}))
    mcp = next(listener for listener in runtime.listeners if listener.type == "mcp")
    assert mcp.port == 19090 and mcp.namespaces == ["a-mcp", "b-mcp"]


def test_routes_of_files_with_different_authentication_keep_their_own(tmp_path: Path) -> None:
    paths = _write(
        tmp_path,
        a=capability("a", tool="x", route="/x", auth="token-a"),
        b=capability("b", tool="y", route="/y"),
    )
    with pytest.raises(CapabilityError) as caught:
        build_runtime(paths, RuntimeOptions(environ={}))
    assert any("different authentication" in d.message for d in caught.value.diagnostics)
    runtime = build_runtime(paths, RuntimeOptions(environ={}, ports={"b-mcp": 19091}))
    rest = next(listener for listener in runtime.listeners if listener.type == "rest")
    auths = {action.path: action.inbound_auth for adapter in rest.adapters for action in adapter.actions}
    assert auths["/x"] is not None and auths["/x"].expected == "token-a" and auths["/y"] is None


def test_the_same_consumes_namespace_in_two_files_keeps_each_files_own(tmp_path: Path) -> None:
    paths = _write(tmp_path, a=capability("shop", tool="x", route="/x"), b=capability("shop", tool="y", route="/y"))
    runtime = build_runtime(paths, RuntimeOptions(environ={}))
    clients = {id(a.client) for c in runtime.capabilities for ad in c.adapters for a in ad.actions}
    assert len(clients) == 2
