"""Real-world capability files validate, and `naftiko list` reports exactly what each declares."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from naftiko_runtime.cli import main as naftiko
from tests.corpus.corpus import (
    COUNTED_ADAPTERS,
    NOT_A_CAPABILITY,
    capability_files,
    corpus_id,
    declared_exposes,
    declared_routes,
    declared_tools,
    load_yaml,
)

FILES = [pytest.param(path, id=corpus_id(path)) for path in capability_files()]


def test_the_corpus_holds_every_copied_capability_file() -> None:
    assert len(capability_files()) == 81
    assert NOT_A_CAPABILITY not in capability_files()


@pytest.mark.parametrize("path", FILES)
def test_each_corpus_file_validates(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = naftiko(["validate", str(path)])
    captured = capsys.readouterr()
    assert code == 0, captured.out + captured.err
    assert "valid" in captured.out + captured.err


@pytest.mark.parametrize("path", FILES)
def test_list_reports_exactly_the_routes_and_tools_each_file_declares(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = naftiko(["list", str(path), "--format", "json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    listed = json.loads(captured.out)
    exposes = [expose for expose in declared_exposes(load_yaml(path)) if expose.get("type") in COUNTED_ADAPTERS]
    adapters = [adapter for adapter in listed["adapters"] if adapter["type"] in COUNTED_ADAPTERS]
    assert [(a["type"], a["namespace"]) for a in adapters] == [(e["type"], e.get("namespace")) for e in exposes]
    for expose, adapter in zip(exposes, adapters, strict=True):
        if expose["type"] == "rest":
            routes = [(route["method"], route["path"]) for route in adapter["routes"]]
            assert len(routes) == len(declared_routes(expose))
            assert Counter(routes) == Counter(declared_routes(expose))
        else:
            tools = [tool["name"] for tool in adapter["tools"]]
            assert len(tools) == len(declared_tools(expose))
            assert Counter(tools) == Counter(declared_tools(expose))


def test_validate_says_clearly_that_a_non_capability_yaml_is_not_one(capsys: pytest.CaptureFixture[str]) -> None:
    code = naftiko(["validate", str(NOT_A_CAPABILITY)])
    captured = capsys.readouterr()
    assert code == 1
    assert "not a Naftiko capability" in captured.out + captured.err
