"""tool_names.py: tool names checked against the MCP rule and common client limits."""

from __future__ import annotations

from pathlib import Path

from naftiko_runtime.capability import CompiledCapability, LoadOptions, load_capability
from naftiko_runtime.runtime import RuntimeOptions, build_runtime
from naftiko_runtime.tool_names import served_name


def test_a_valid_name_is_served_as_it_is() -> None:
    assert served_name("get-custom-fields.v2_beta") == ("get-custom-fields.v2_beta", [])


def test_a_name_breaking_the_mcp_rule_is_served_sanitised_with_a_warning_naming_both() -> None:
    name, [remark] = served_name("list users/by team")

    assert name == "list_users_by_team"
    assert "'list users/by team'" in remark and "'list_users_by_team'" in remark


def test_a_name_over_64_characters_is_kept_with_a_warning_and_one_over_128_is_cut() -> None:
    long_name, [remark] = served_name("a" * 70)
    cut, remarks = served_name("b" * 130)

    assert long_name == "a" * 70 and "at most 64" in remark
    assert cut == "b" * 128 and len(remarks) == 2


def capability_with_tool(name: str) -> str:
    return f"""\
naftiko: 1.0.0-alpha2
capability:
  consumes:
  - {{type: http, namespace: things, baseUri: "http://things.invalid",
     resources: [{{name: things, path: /things, operations: [{{name: list, method: GET}}]}}]}}
  exposes:
  - type: mcp
    namespace: things-mcp
    port: 9090
    tools:
    - {{name: "{name}", description: d, call: things.list}}
"""


def tools_of(capability: CompiledCapability) -> list[str]:
    return [action.name for adapter in capability.adapters for action in adapter.actions]


def test_loading_serves_a_sanitised_name_and_warns_at_the_tool(tmp_path: Path) -> None:
    path = tmp_path / "things.yaml"
    path.write_text(capability_with_tool("list things!"))

    capability = load_capability(path, LoadOptions(environ={}))

    assert tools_of(capability) == ["list_things_"]
    [warning] = [d for d in capability.diagnostics if d.code == "tool-name"]
    assert "'list things!'" in warning.message and "'list_things_'" in warning.message
    assert warning.location.line == 11


def test_a_prefixed_name_is_checked_again_and_every_tool_gets_the_result_limit(tmp_path: Path) -> None:
    path = tmp_path / "my things.yaml"
    path.write_text(capability_with_tool("list"))

    runtime = build_runtime([path], RuntimeOptions(prefix_tools=True, max_result_bytes=1234, environ={}))

    [tool] = [
        action for capability in runtime.capabilities for adapter in capability.adapters for action in adapter.actions
    ]
    assert (tool.name, tool.result_limit) == ("my_things.list", 1234)
    assert any(d.code == "tool-name" and "'my_things.list'" in d.message for d in runtime.diagnostics)
