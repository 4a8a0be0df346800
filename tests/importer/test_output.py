"""importer/output.py: deterministic readable YAML, the companion beside it, no silent overwrite."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from naftiko_runtime.importer import ImportFailure, ImportOptions, import_openapi
from naftiko_runtime.importer.output import companion_path, render_yaml, write_files
from tests.importer.support import PETSTORE


def test_the_same_document_always_gives_the_same_text() -> None:
    first = import_openapi(PETSTORE, ImportOptions()).to_yaml()
    second = import_openapi(PETSTORE, ImportOptions()).to_yaml()
    assert first == second


def test_yaml_is_block_style_in_the_order_built_with_a_header_comment() -> None:
    text = render_yaml({"naftiko": "1.0.0-alpha2", "info": {"label": "L", "description": "one\ntwo\n"}}, ["Made here."])
    assert text == "# Made here.\nnaftiko: 1.0.0-alpha2\ninfo:\n  label: L\n  description: |\n    one\n    two\n"


def test_a_value_used_twice_is_written_twice_not_as_an_alias() -> None:
    shared = {"type": "string"}
    text = render_yaml({"a": shared, "b": shared}, [])
    assert "&" not in text and "*" not in text
    assert yaml.safe_load(text) == {"a": shared, "b": shared}


@pytest.mark.parametrize(
    ("document", "companion"),
    [("api.json", "crm.openapi.json"), ("api.yaml", "crm.openapi.yaml"), ("api.yml", "crm.openapi.yaml")],
)
def test_the_companion_is_named_after_the_output_in_the_documents_format(document: str, companion: str) -> None:
    assert companion_path(Path("out/crm.yaml"), Path(document)) == Path("out") / companion


def test_the_capability_and_its_companion_are_written(tmp_path: Path) -> None:
    output = tmp_path / "sub" / "pets.yaml"
    companion = write_files("text\n", output, PETSTORE, force=False)
    assert output.read_text() == "text\n"
    assert companion == tmp_path / "sub" / "pets.openapi.yaml"
    assert companion.read_bytes() == PETSTORE.read_bytes()


@pytest.mark.parametrize("existing", ["pets.yaml", "pets.openapi.yaml"])
def test_existing_files_are_not_overwritten_without_force(tmp_path: Path, existing: str) -> None:
    (tmp_path / existing).write_text("mine")
    with pytest.raises(ImportFailure, match=f"{existing}: already exists; pass --force to overwrite it"):
        write_files("text\n", tmp_path / "pets.yaml", PETSTORE, force=False)
    assert (tmp_path / existing).read_text() == "mine"


def test_force_overwrites_both(tmp_path: Path) -> None:
    for name in ("pets.yaml", "pets.openapi.yaml"):
        (tmp_path / name).write_text("old")
    write_files("new\n", tmp_path / "pets.yaml", PETSTORE, force=True)
    assert (tmp_path / "pets.yaml").read_text() == "new\n"
    assert (tmp_path / "pets.openapi.yaml").read_bytes() == PETSTORE.read_bytes()


def test_a_document_already_named_as_the_companion_is_left_in_place(tmp_path: Path) -> None:
    document = tmp_path / "pets.openapi.yaml"
    document.write_bytes(PETSTORE.read_bytes())
    assert write_files("text\n", tmp_path / "pets.yaml", document, force=False) == document
    assert document.read_bytes() == PETSTORE.read_bytes()


def test_the_document_itself_is_never_the_output(tmp_path: Path) -> None:
    document = tmp_path / "pets.yaml"
    document.write_bytes(PETSTORE.read_bytes())
    with pytest.raises(ImportFailure, match="this is the OpenAPI document being imported"):
        write_files("text\n", document, document, force=True)
    assert document.read_bytes() == PETSTORE.read_bytes()


def test_no_companion_is_written_when_not_wanted(tmp_path: Path) -> None:
    assert write_files("text\n", tmp_path / "pets.yaml", PETSTORE, force=False, companion=False) is None
    assert sorted(path.name for path in tmp_path.iterdir()) == ["pets.yaml"]
