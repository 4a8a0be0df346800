"""spec/schema.py: `validate --strict` against the official alpha2 JSON Schema."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from naftiko_runtime.diagnostics import Severity
from naftiko_runtime.spec.loader import load_document
from naftiko_runtime.spec.schema import check_schema

DATA = Path(__file__).parents[1] / "data"
KOMBO = Path(__file__).parents[2] / "capabilities" / "kombo.yaml"


@pytest.mark.parametrize(
    "relative",
    [
        "official/mcp-capability.yaml",
        "official/nested-object-output-capability.yaml",
        "official/step-1-shipyard-mock.yml",
        "official/step-4-shipyard-output-shaping.yml",
        "library.yaml",
    ],
)
def test_official_examples_meet_the_official_schema(relative: str) -> None:
    assert check_schema(load_document(DATA / relative)) == []


def test_the_generated_dialect_departs_from_the_schema_and_each_finding_has_a_place() -> None:
    findings = check_schema(load_document(KOMBO))

    assert findings
    assert all(d.severity is Severity.ERROR and d.code == "schema" for d in findings)
    assert all(d.location.file == str(KOMBO) and d.location.line > 0 for d in findings)
    extra_properties = [d for d in findings if "'type' were unexpected" in d.message]
    assert extra_properties, [d.message for d in findings]
    assert extra_properties[0].field_path.startswith("capability.consumes[0].resources[")
    assert ".inputParameters[" in extra_properties[0].field_path


MISSPELLED = """
naftiko: "1.0.0-alpha2"
capability:
  consumes:
    - type: http
      namespace: shop
      baseURI: "http://shop.invalid"
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


def test_a_misspelled_field_loads_leniently_but_strict_validation_flags_its_entry(
    write_yaml: Callable[..., Path],
) -> None:
    loaded = load_document(write_yaml(MISSPELLED))
    assert not [d for d in loaded.diagnostics if d.severity is Severity.ERROR]

    findings = check_schema(loaded)

    assert findings
    assert {d.field_path for d in findings} == {"capability.consumes[0]"}
    assert {d.location.line for d in findings} == {4}


def test_strict_validation_says_what_is_wrong_with_a_misspelled_field(write_yaml: Callable[..., Path]) -> None:
    findings = check_schema(load_document(write_yaml(MISSPELLED)))

    messages = " | ".join(d.message for d in findings)
    assert "'baseURI' was unexpected" in messages or "'baseUri' is a required property" in messages
