"""`validate` and `list` of directories: per-file status for CI, a summary, where things come from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from naftiko_runtime.cli import main

GOOD = """\
naftiko: 1.0.0-alpha2
capability:
  consumes:
  - type: http
    namespace: shop
    baseUri: http://shop.invalid
    resources: [{name: r, path: /r, operations: [{name: op}]}]
  exposes:
  - {type: mcp, namespace: shop-mcp, port: 9000, tools: [{name: t, description: d, call: shop.op}]}
"""


def _tree(tmp_path: Path) -> Path:
    (tmp_path / "caps").mkdir()
    (tmp_path / "caps" / "good.yaml").write_text(GOOD)
    (tmp_path / "caps" / "bad.yaml").write_text(GOOD.replace("port: 9000", "port: lots"))
    (tmp_path / "caps" / "notes.yml").write_text("slug: not-a-capability\n")
    return tmp_path / "caps"


def test_validate_of_a_directory_reports_each_file_as_json_and_fails_on_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["validate", str(_tree(tmp_path)), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    status = {Path(f["file"]).name: f["valid"] for f in report["files"]}
    assert code == 1 and report["valid"] is False
    assert status == {"good.yaml": True, "bad.yaml": False, "notes.yml": None}


def test_validate_of_a_directory_ends_with_a_summary_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["validate", str(_tree(tmp_path))])
    out = capsys.readouterr().out
    assert "3 file(s):" in out
    assert "valid     1" in out and "invalid   1" in out and "skipped   1" in out


def test_list_of_a_directory_shows_each_files_tools(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    caps = _tree(tmp_path)
    (caps / "bad.yaml").unlink()
    assert main(["list", str(caps), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert Path(report["file"]).name == "good.yaml"
    assert report["adapters"][0]["tools"][0]["name"] == "t"
