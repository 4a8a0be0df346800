"""runtime.py: which MCP adapters are served over stdin/stdout, merged into one server."""

from __future__ import annotations

from pathlib import Path

import pytest

from naftiko_runtime.diagnostics import CapabilityError
from naftiko_runtime.runtime import RuntimeOptions, build_runtime
from tests.test_runtime import capability


def stdio_declared(namespace: str, tool: str) -> str:
    return capability(namespace, tool=tool, route=f"/{namespace}").replace("    port: 9090\n", "    transport: stdio\n")


def write(tmp_path: Path, **files: str) -> list[Path]:
    paths = []
    for name, text in files.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(text)
        paths.append(path)
    return paths


def test_the_stdio_option_merges_every_mcp_adapter_and_serves_nothing_over_http(tmp_path: Path) -> None:
    paths = write(tmp_path, a=capability("a", tool="a-tool", route="/a"), b=capability("b", tool="b-tool", route="/b"))
    runtime = build_runtime(paths, RuntimeOptions(environ={}, stdio=True))
    assert runtime.listeners == []
    assert runtime.stdio is not None and runtime.stdio.namespaces == ["a-mcp", "b-mcp"]
    notes = [d.message for d in runtime.diagnostics if d.code == "stdio"]
    assert notes == [
        "rest adapter 'a-rest' is not served: --stdio serves only MCP adapters",
        "rest adapter 'b-rest' is not served: --stdio serves only MCP adapters",
    ]


def test_exposes_declaring_stdio_merge_while_the_other_adapters_keep_their_ports(tmp_path: Path) -> None:
    paths = write(
        tmp_path,
        a=stdio_declared("a", "a-tool"),
        b=stdio_declared("b", "b-tool"),
        c=capability("c", tool="c-tool", route="/c"),
    )
    runtime = build_runtime(paths, RuntimeOptions(environ={}))
    assert runtime.stdio is not None and runtime.stdio.namespaces == ["a-mcp", "b-mcp"]
    by_type = {listener.type: listener.namespaces for listener in runtime.listeners}
    assert by_type == {"rest": ["a-rest", "b-rest", "c-rest"], "mcp": ["c-mcp"]}


def test_without_stdio_anywhere_there_is_no_stdio_server(tmp_path: Path) -> None:
    runtime = build_runtime(write(tmp_path, a=capability("a")), RuntimeOptions(environ={}))
    assert runtime.stdio is None


def test_one_tool_name_twice_over_stdio_is_an_error_naming_stdio_and_the_remedy(tmp_path: Path) -> None:
    paths = write(tmp_path, a=stdio_declared("a", "same"), b=stdio_declared("b", "same"))
    with pytest.raises(CapabilityError) as raised:
        build_runtime(paths, RuntimeOptions(environ={}))
    [error] = raised.value.diagnostics
    assert "both are served over stdio: rename one or use --prefix-tools" in error.message


def test_an_authenticated_expose_over_stdio_gets_a_note_that_its_check_does_not_apply(tmp_path: Path) -> None:
    paths = write(tmp_path, a=capability("a", auth="t0k3n"))
    runtime = build_runtime(paths, RuntimeOptions(environ={}, stdio=True))
    assert any("is served over stdio: its authentication does not apply" in d.message for d in runtime.diagnostics)
