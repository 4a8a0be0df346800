"""runtime.py: several capabilities on shared ports — merging, clashes, prefixes, moving a group."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from naftiko_runtime.diagnostics import CapabilityError
from naftiko_runtime.runtime import RuntimeOptions, build_runtime

ROOT = Path(__file__).resolve().parents[1]


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


def test_routes_and_tools_of_files_with_different_authentication_keep_their_own_on_one_port(tmp_path: Path) -> None:
    paths = _write(
        tmp_path,
        a=capability("a", tool="x", route="/x", auth="token-a"),
        b=capability("b", tool="y", route="/y"),
    )
    runtime = build_runtime(paths, RuntimeOptions(environ={}))
    by_type = {listener.type: listener for listener in runtime.listeners}
    assert len(runtime.listeners) == 2 and by_type["mcp"].namespaces == ["a-mcp", "b-mcp"]
    for listener in runtime.listeners:
        auths = {action.name: action.inbound_auth for adapter in listener.adapters for action in adapter.actions}
        protected = auths["GET /x"] if listener.type == "rest" else auths["x"]
        assert protected is not None and protected.expected == "token-a"
        assert (auths["GET /y"] if listener.type == "rest" else auths["y"]) is None


def test_a_port_option_parts_mcp_adapters_asking_different_authentication(tmp_path: Path) -> None:
    paths = _write(
        tmp_path, a=capability("a", tool="x", route="/x", auth="token-a"), b=capability("b", tool="y", route="/y")
    )
    runtime = build_runtime(paths, RuntimeOptions(environ={}, ports={"9090": 19090, "a-mcp": 19091}))
    ports = sorted((listener.port, listener.namespaces) for listener in runtime.listeners if listener.type == "mcp")
    assert ports == [(19090, ["b-mcp"]), (19091, ["a-mcp"])]


def test_auto_ports_moves_an_adapter_whose_port_another_type_holds_and_says_so(tmp_path: Path) -> None:
    clashing = (
        capability("b", tool="y", route="/y").replace("port: 8080", "port: 8081").replace("port: 9090", "port: 8080")
    )
    paths = _write(tmp_path, a=capability("a", tool="x", route="/x"), b=clashing)
    with pytest.raises(CapabilityError) as caught:
        build_runtime(paths, RuntimeOptions(environ={}))
    assert any("wants port 8080" in d.message and "--auto-ports" in d.message for d in caught.value.diagnostics)
    runtime = build_runtime(paths, RuntimeOptions(environ={}, auto_ports=True))
    ports = sorted((listener.type, listener.port, tuple(listener.namespaces)) for listener in runtime.listeners)
    assert ports == [
        ("mcp", 0, ("b-mcp",)),
        ("mcp", 9090, ("a-mcp",)),
        ("rest", 8080, ("a-rest",)),
        ("rest", 8081, ("b-rest",)),
    ]
    assert any(d.code == "port-moved" and "b-mcp" in d.message for d in runtime.diagnostics)


def test_a_wildcard_address_and_a_loopback_one_on_one_port_clash(tmp_path: Path) -> None:
    wide = capability("b", tool="y", route="/y").replace("port: 8080", "port: 8080\n    address: 0.0.0.0")
    paths = _write(
        tmp_path,
        a=capability("a", tool="x", route="/x").replace("port: 8080", "port: 8080\n    address: localhost"),
        b=wide,
    )
    with pytest.raises(CapabilityError) as caught:
        build_runtime(paths, RuntimeOptions(environ={}))
    assert any("on 0.0.0.0 and localhost" in d.message for d in caught.value.diagnostics)


def test_building_kombo_imports_neither_jsonschema_nor_jsonpath_until_a_value_needs_them() -> None:
    """Megabytes an idle server does not need: its companion schemas are checked without jsonschema,
    and its whole-value mappings need no JSONPath parser; a checked value brings jsonschema in."""
    script = """
import sys
from pathlib import Path
from naftiko_runtime.runtime import RuntimeOptions, build_runtime
runtime = build_runtime([Path("capabilities/kombo.yaml")], RuntimeOptions(environ={"KOMBO_API_KEY": "x"}))
print(sorted(name for name in ("jsonschema", "jsonpath_ng") if name in sys.modules))
adapters = [adapter for capability in runtime.capabilities for adapter in capability.adapters]
arguments = [argument for adapter in adapters for action in adapter.actions for argument in action.signature.arguments]
checks = [argument.check for argument in arguments if argument.check]
checks[0].is_valid(None)
print(len(checks) > 0, "jsonschema" in sys.modules)
"""
    ran = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )

    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines() == ["[]", "True True"]
