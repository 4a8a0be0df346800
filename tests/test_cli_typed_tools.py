"""cli.py: companion documents and the result cap as a user reaches them (`list`, `validate`, `serve`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from naftiko_runtime.cli import main

ROOT = Path(__file__).resolve().parents[1]
KOMBO = ROOT / "capabilities" / "kombo.yaml"
KOMBO_DOCUMENT = ROOT / "capabilities" / "kombo.openapi.yaml"


def tools_of(output: str) -> dict[str, dict[str, object]]:
    report = json.loads(output)
    return {
        tool["name"]: tool for adapter in report["adapters"] if adapter["type"] == "mcp" for tool in adapter["tools"]
    }


def test_list_says_which_tools_the_document_beside_the_capability_typed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", str(KOMBO), "--format", "json"]) == 0

    tools = tools_of(capsys.readouterr().out)
    assert tools["trigger-sync"]["typedFrom"] == "kombo.openapi.yaml POST /force-sync"
    assert tools["trigger-sync"]["outputSchema"] == "kombo.openapi.yaml POST /force-sync"


def test_list_takes_a_document_named_for_a_namespace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    alone = tmp_path / "kombo.yaml"
    shutil.copy(KOMBO, alone)

    assert main(["list", str(alone), "--format", "json"]) == 0
    assert all(tool["typedFrom"] is None for tool in tools_of(capsys.readouterr().out).values())
    assert main(["list", str(alone), "--format", "json", "--openapi", f"kombo-general={KOMBO_DOCUMENT}"]) == 0
    assert all(tool["typedFrom"] for tool in tools_of(capsys.readouterr().out).values())


def test_validate_warns_of_a_companion_document_it_cannot_read_and_stays_valid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(KOMBO, tmp_path / "kombo.yaml")
    (tmp_path / "kombo.openapi.yaml").write_text("openapi: 3.1.0\npaths: [unclosed\n")

    assert main(["validate", str(tmp_path / "kombo.yaml")]) == 0

    out = capsys.readouterr().out
    assert "kombo.openapi.yaml: warning: not valid YAML" in out and "are not typed from it" in out


def test_serve_refuses_a_result_limit_that_is_not_a_byte_count(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", str(KOMBO), "--max-result-bytes", "-5"])

    assert exited.value.code == 2
    assert "--max-result-bytes: expected a number of bytes (0 or more), got '-5'" in capsys.readouterr().err
