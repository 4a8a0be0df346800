"""spec/loader.py: a capability file to a model, every finding placed at file:line:column."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from naftiko_runtime.diagnostics import CapabilityError, Severity
from naftiko_runtime.spec.loader import NotACapability, load_document

DATA = Path(__file__).parents[1] / "data"
KOMBO = Path(__file__).parents[2] / "capabilities" / "kombo.yaml"

MINIMAL = """\
naftiko: 1.0.0-alpha2
capability:
  consumes:
  - type: http
    namespace: shop
    baseUri: http://shop.invalid
    resources:
    - name: orders
      path: /orders
      operations:
      - name: list-orders
        method: GET
  exposes:
  - type: mcp
    namespace: shop-mcp
    port: 9000
    tools:
    - name: list-orders
      description: List orders
      call: shop.list-orders
"""

WriteYaml = Callable[..., Path]


def errors_of(caught: pytest.ExceptionInfo[CapabilityError]) -> list[str]:
    return [str(d) for d in caught.value.diagnostics if d.severity is Severity.ERROR]


def test_a_valid_capability_loads_without_diagnostics(write_yaml: WriteYaml) -> None:
    loaded = load_document(write_yaml(MINIMAL))

    assert loaded.diagnostics == []
    capability = loaded.document.capability
    assert capability is not None
    assert capability.consumes[0].resources[0].operations[0].name == "list-orders"
    assert capability.exposes[0].type == "mcp"


def test_a_missing_required_field_names_file_line_column_and_field_path(write_yaml: WriteYaml) -> None:
    path = write_yaml(MINIMAL.replace("    namespace: shop\n", ""))

    with pytest.raises(CapabilityError) as caught:
        load_document(path)

    [diagnostic] = caught.value.diagnostics
    assert diagnostic.field_path == "capability.consumes[0].namespace"
    assert (diagnostic.location.line, diagnostic.location.column) == (4, 5)
    assert str(diagnostic).startswith(f"{path}:4:5: error: required field is missing")


def test_an_invalid_enum_value_is_placed_on_its_own_line_and_quoted(write_yaml: WriteYaml) -> None:
    path = write_yaml(MINIMAL.replace("method: GET", "method: FETCH"))

    with pytest.raises(CapabilityError) as caught:
        load_document(path)

    [diagnostic] = caught.value.diagnostics
    assert diagnostic.field_path == "capability.consumes[0].resources[0].operations[0].method"
    assert diagnostic.location.line == 12
    assert "'FETCH'" in diagnostic.message


def test_every_error_of_a_file_is_reported_at_once(write_yaml: WriteYaml) -> None:
    text = MINIMAL.replace("method: GET", "method: FETCH").replace("port: 9000", "port: lots")

    with pytest.raises(CapabilityError) as caught:
        load_document(write_yaml(text))

    fields = {d.field_path for d in caught.value.diagnostics}
    assert fields == {
        "capability.consumes[0].resources[0].operations[0].method",
        "capability.exposes[0].port",
    }


def test_a_port_out_of_range_is_an_error_at_the_port(write_yaml: WriteYaml) -> None:
    with pytest.raises(CapabilityError) as caught:
        load_document(write_yaml(MINIMAL.replace("port: 9000", "port: 70000")))

    assert [d.field_path for d in caught.value.diagnostics] == ["capability.exposes[0].port"]
    assert caught.value.diagnostics[0].location.line == 16


def test_malformed_yaml_is_a_capability_error_with_position(write_yaml: WriteYaml) -> None:
    path = write_yaml("naftiko: 1.0.0-alpha2\ncapability:\n  consumes: [\n")

    with pytest.raises(CapabilityError) as caught:
        load_document(path)

    [diagnostic] = caught.value.diagnostics
    assert diagnostic.severity is Severity.ERROR
    assert diagnostic.location.file == str(path)
    assert diagnostic.location.line > 0 and diagnostic.location.column > 0
    assert "invalid YAML" in diagnostic.message


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("", "an empty document"),
        ("- a\n- b\n", "a list"),
        ("registry-bearer-token: x\nother: y\n", "'registry-bearer-token', 'other'"),
        ("just a string\n", "a str"),
    ],
)
def test_yaml_that_is_not_a_capability_is_refused_as_such(write_yaml: WriteYaml, text: str, found: str) -> None:
    with pytest.raises(NotACapability) as caught:
        load_document(write_yaml(text))

    [diagnostic] = caught.value.diagnostics
    assert diagnostic.code == "not-a-capability"
    assert "not a Naftiko capability" in diagnostic.message
    assert found in diagnostic.message


def test_unknown_expose_types_are_skipped_with_a_warning_at_their_type(write_yaml: WriteYaml) -> None:
    text = MINIMAL + "  - type: workers-kv\n    namespace: shop-skills\n    port: 9001\n"

    loaded = load_document(write_yaml(text))

    [warning] = loaded.diagnostics
    assert warning.severity is Severity.WARNING
    assert warning.code == "unsupported-type"
    assert "'workers-kv'" in warning.message and "skipped" in warning.message
    assert warning.field_path == "capability.exposes[1].type"
    assert warning.location.line == 21
    assert loaded.document.capability is not None
    assert [expose.type for expose in loaded.document.capability.exposes] == ["mcp"]


def test_unknown_consumes_types_are_skipped_with_a_warning(write_yaml: WriteYaml) -> None:
    text = MINIMAL.replace("  exposes:\n", "  - type: grpc\n    namespace: rpc\n  exposes:\n")

    loaded = load_document(write_yaml(text))

    assert [d.field_path for d in loaded.diagnostics] == ["capability.consumes[1].type"]
    assert "'grpc'" in loaded.diagnostics[0].message
    assert loaded.document.capability is not None
    assert [c.namespace for c in loaded.document.capability.consumes] == ["shop"]


def test_a_shared_consumes_file_loads_with_a_warning_that_nothing_is_served(write_yaml: WriteYaml) -> None:
    text = "naftiko: 1.0.0-alpha2\nconsumes:\n- type: http\n  namespace: shared\n  baseUri: http://x\n"

    loaded = load_document(write_yaml(text))

    assert loaded.document.capability is None
    [warning] = loaded.diagnostics
    assert warning.severity is Severity.WARNING
    assert "nothing to serve" in warning.message


def test_unknown_fields_are_kept_rather_than_refused(write_yaml: WriteYaml) -> None:
    text = MINIMAL.replace(
        "    baseUri: http://shop.invalid\n", "    baseUri: http://shop.invalid\n    x-owner: team\n"
    )

    loaded = load_document(write_yaml(text))

    assert not [d for d in loaded.diagnostics if d.severity is Severity.ERROR]
    assert loaded.document.capability is not None
    assert loaded.document.capability.consumes[0].model_extra == {"x-owner": "team"}


def test_plain_loading_says_which_unknown_field_it_ignored(write_yaml: WriteYaml) -> None:
    text = MINIMAL.replace("    baseUri: http://shop.invalid\n", "    baseURI: http://shop.invalid\n")

    loaded = load_document(write_yaml(text))

    ignored = [d for d in loaded.diagnostics if "baseURI" in d.message]
    assert ignored, [str(d) for d in loaded.diagnostics]
    assert ignored[0].location.line == 6


def test_a_key_repeated_in_one_mapping_is_reported_at_its_second_occurrence(write_yaml: WriteYaml) -> None:
    text = MINIMAL.replace("      call: shop.list-orders\n", "      call: shop.list-orders\n      call: shop.other\n")

    try:
        diagnostics = load_document(write_yaml(text)).diagnostics
    except CapabilityError as exc:
        diagnostics = exc.diagnostics

    assert [(d.location.line, "call" in d.message) for d in diagnostics] == [(21, True)]


def test_the_seed_capability_loads_with_its_thirteen_operations_and_two_adapters() -> None:
    loaded = load_document(KOMBO)

    capability = loaded.document.capability
    assert capability is not None
    operations = [op for resource in capability.consumes[0].resources for op in resource.operations]
    assert len(operations) == 13
    assert [expose.type for expose in capability.exposes] == ["rest", "mcp"]
    assert loaded.diagnostics == []


@pytest.mark.parametrize(
    "relative",
    [
        "official/mcp-capability.yaml",
        "official/nested-object-output-capability.yaml",
        "official/step-1-shipyard-mock.yml",
        "official/step-4-shipyard-output-shaping.yml",
        "generated/notion-pages.yaml",
        "generated/video-conferencing.yaml",
        "generated/kombo-kombo-connect.yaml",
        "library.yaml",
        "zoo.yaml",
    ],
)
def test_corpus_files_of_both_dialects_load_without_errors(relative: str) -> None:
    loaded = load_document(DATA / relative)

    assert not [d for d in loaded.diagnostics if d.severity is Severity.ERROR]
    assert loaded.document.capability is not None
    assert loaded.document.capability.exposes


def test_consumes_imported_from_a_shared_file_are_resolved(tmp_path: Path) -> None:
    shutil.copytree(DATA / "official", tmp_path / "official")

    loaded = load_document(tmp_path / "official" / "step-5-shipyard-multi-source.yml")

    assert loaded.document.capability is not None
    assert {c.namespace for c in loaded.document.capability.consumes} == {"registry", "legacy"}
