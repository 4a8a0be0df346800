"""Every tool of every real capability file has schemas strict MCP clients accept.

The files are the in-repo copies (`tests/corpus/data`, the official examples and tutorial) and,
when the shared corpus sits beside the checkout, all four of its folders.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from naftiko_runtime.adapters.mcp import tool_definition
from naftiko_runtime.capability import CompiledCapability, LoadOptions, load_capability
from naftiko_runtime.diagnostics import CapabilityError
from naftiko_runtime.schema_check import strict_problems
from naftiko_runtime.tool_names import VALID

TESTS = Path(__file__).resolve().parents[1]
SHARED = TESTS.parents[1] / "shared" / "corpus"
FOLDERS = ("api-evangelist", "kombo", "naftiko-alpha2", "naftiko-sandbox")
IN_REPO = (TESTS / "corpus" / "data", TESTS / "data" / "official", TESTS / "conformance" / "tutorial")


def capability_files() -> list[Path]:
    roots = [*IN_REPO, *(SHARED / folder for folder in FOLDERS if (SHARED / folder).is_dir())]
    files = sorted(path for root in roots for path in root.rglob("*") if path.suffix in (".yaml", ".yml"))
    return [path for path in files if _is_capability(path)]


def _is_capability(path: Path) -> bool:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        return False
    return isinstance(document, dict) and "naftiko" in document and "capability" in document


FILES = [pytest.param(path, id=str(path.relative_to(path.parents[2]))) for path in capability_files()]


def test_the_shared_corpus_is_covered_when_it_is_beside_the_checkout() -> None:
    if not SHARED.is_dir():
        pytest.skip("the shared corpus is not beside the checkout; only the in-repo copies are checked")
    covered = {folder for folder in FOLDERS for param in FILES if f"/corpus/{folder}/" in str(param.values[0])}
    assert covered == set(FOLDERS)


@pytest.mark.parametrize("path", FILES)
def test_every_tool_has_a_strict_input_schema_a_valid_name_an_object_output_schema_and_its_place(path: Path) -> None:
    try:
        capability = load_capability(path, LoadOptions(environ={}, companion_schemas=True))
    except CapabilityError:
        pytest.skip("does not load (its errors are the validate tests' business)")
    for adapter in capability.adapters:
        for action in adapter.actions:
            if action.kind != "tool":
                continue
            definition = tool_definition(action)
            assert VALID.match(definition.name), definition.name
            assert strict_problems(definition.input_schema) == [], definition.name
            if definition.output_schema is not None:
                Draft202012Validator.check_schema(definition.output_schema)
                assert definition.output_schema["type"] == "object", definition.name
                assert strict_problems(definition.output_schema, tool_input=False) == [], definition.name
        for skill in adapter.skills:
            for tool in skill.get("tools", []):
                if "inputSchema" in tool:
                    assert strict_problems(tool["inputSchema"]) == [], tool["name"]
    assert_tools_in_declaration_order(path, capability)


def assert_tools_in_declaration_order(path: Path, capability: CompiledCapability) -> None:
    """`tools/list` gives the tools in the order the file declares them."""
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    exposes = [e for e in document["capability"].get("exposes") or [] if isinstance(e, dict) and e.get("type") == "mcp"]
    adapters = [adapter for adapter in capability.adapters if adapter.type == "mcp"]
    for expose, adapter in zip(exposes, adapters, strict=True):
        declared = [tool.get("name") or tool.get("ref", "").partition(".")[2] for tool in expose.get("tools") or []]
        assert [action.name for action in adapter.actions] == declared
