"""capability.py: a capability file compiled, with its load-time cross-checks."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from naftiko_runtime.capability import CompiledCapability, LoadOptions, load_capability
from naftiko_runtime.diagnostics import CapabilityError, Severity

DATA = Path(__file__).parent / "data"
KOMBO = Path(__file__).parents[1] / "capabilities" / "kombo.yaml"

SHOP = """\
naftiko: 1.0.0-alpha2
capability:
  consumes:
  - type: http
    namespace: shop
    baseUri: http://shop.invalid
    resources:
    - name: orders
      path: /orders/{order_id}
      operations:
      - name: get-order
        method: {method}
        inputParameters:
        - name: order_id
          in: path
  exposes:
  - type: mcp
    namespace: shop-mcp
    port: 9000
    tools:
    - name: order
      description: One order
      call: {call}
{extra}
"""


def write(tmp_path: Path, text: str, name: str = "capability.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def shop(tmp_path: Path, *, method: str = "GET", call: str = "shop.get-order", extra: str = "") -> Path:
    return write(tmp_path, SHOP.replace("{method}", method).replace("{call}", call).replace("{extra}", extra))


def load(path: Path, **options: object) -> CompiledCapability:
    return load_capability(path, LoadOptions(environ=options.pop("environ", {}), **options))  # type: ignore[arg-type]


def test_the_seed_capability_compiles_thirteen_operations_routes_and_tools() -> None:
    capability = load(KOMBO, environ={"KOMBO_API_KEY": "k"})

    assert len(capability.operations) == 13
    assert [(a.type, a.namespace, a.declared_port) for a in capability.adapters] == [
        ("rest", "kombo-general-rest", 8080),
        ("mcp", "kombo-general-mcp", 9090),
    ]
    assert [len(adapter.actions) for adapter in capability.adapters] == [13, 13]
    assert all(action.target is not None for adapter in capability.adapters for action in adapter.actions)
    assert capability.label == "Kombo API"
    assert capability.not_ready() == []


def test_an_unset_credential_is_a_warning_and_makes_the_capability_not_ready() -> None:
    capability = load(KOMBO)

    missing = [d for d in capability.diagnostics if d.code == "missing-variable"]
    assert [d.severity for d in missing] == [Severity.WARNING]
    assert "KOMBO_API_KEY" in missing[0].message
    assert capability.not_ready() == ["missing variable KOMBO_API_KEY"]


@pytest.mark.parametrize(
    "relative",
    ["library.yaml", "zoo.yaml", "official/step-4-shipyard-output-shaping.yml", "generated/video-conferencing.yaml"],
)
def test_non_kombo_capabilities_of_both_dialects_compile_without_errors(relative: str) -> None:
    capability = load(DATA / relative)

    assert capability.adapters
    assert all(action.target is not None for adapter in capability.adapters for action in adapter.actions)
    assert not [d for d in capability.diagnostics if d.severity is Severity.ERROR]


def test_a_bind_file_beside_the_capability_feeds_its_variables(tmp_path: Path) -> None:
    capability = load(DATA / "library.yaml", environ={"LIBRARY_TOKEN": "t"})

    assert capability.variables.values == {"LIBRARY_TOKEN": "t", "LIBRARY_VERSION": "2024-10"}
    assert capability.not_ready() == []


def test_an_unresolved_call_is_a_warning_at_the_call_and_the_tool_answers_501(tmp_path: Path) -> None:
    capability = load(shop(tmp_path, call="shop.get-orders"))

    [warning] = [d for d in capability.diagnostics if d.code == "unresolved-call"]
    assert warning.severity is Severity.WARNING
    assert warning.field_path == "capability.exposes[0].tools[0].call"
    assert warning.location.line == 23
    assert "'shop.get-orders'" in warning.message
    action = capability.adapters[0].actions[0]
    assert action.unresolved is not None
    assert action.unresolved.status == 501
    assert "shop.get-orders" in action.unresolved.detail


def test_a_tool_without_call_is_a_warning_and_answers_501(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        naftiko: 1.0.0-alpha2
        capability:
          exposes:
          - type: mcp
            namespace: m
            port: 9000
            tools:
            - name: nothing
              description: No call
        """,
    )

    capability = load(path)

    assert any("has no 'call'" in d.message for d in capability.diagnostics)
    action = capability.adapters[0].actions[0]
    assert action.unresolved is not None and action.unresolved.status == 501


def test_with_naming_an_unknown_upstream_parameter_is_a_warning_at_with(tmp_path: Path) -> None:
    capability = load(shop(tmp_path, extra="      with:\n        order: shop-mcp.order_id\n"))

    [warning] = [d for d in capability.diagnostics if "names no parameter" in d.message]
    assert warning.severity is Severity.WARNING
    assert "'order'" in warning.message and "shop.get-order" in warning.message
    assert warning.field_path == "capability.exposes[0].tools[0].with"
    assert warning.location.line == 24


def test_with_referring_to_an_undeclared_argument_is_an_error(tmp_path: Path) -> None:
    extra = (
        "      inputParameters:\n"
        "      - name: id\n"
        "        type: string\n"
        "        description: Order id\n"
        "      with:\n"
        "        order_id: shop-mcp.orderId\n"
    )

    with pytest.raises(CapabilityError) as caught:
        load(shop(tmp_path, extra=extra))

    errors = [d for d in caught.value.diagnostics if d.severity is Severity.ERROR]
    assert len(errors) == 1
    assert "'orderId'" in errors[0].message and "not declared" in errors[0].message
    assert errors[0].field_path == "capability.exposes[0].tools[0].with"


def test_two_adapters_claiming_one_port_is_an_error_naming_both(tmp_path: Path) -> None:
    extra = "  - type: rest\n    namespace: shop-rest\n    port: 9000\n    resources: []\n"

    with pytest.raises(CapabilityError) as caught:
        load(shop(tmp_path, extra=extra))

    [error] = [d for d in caught.value.diagnostics if d.severity is Severity.ERROR]
    assert "'shop-mcp'" in error.message and "'shop-rest'" in error.message and "9000" in error.message
    assert error.field_path == "capability.exposes[1].port"
    assert error.location.line == 26


def test_adapters_without_a_port_do_not_collide(tmp_path: Path) -> None:
    text = SHOP.replace("    port: 9000\n", "").replace("{method}", "GET").replace("{call}", "shop.get-order")
    extra = "  - type: rest\n    namespace: shop-rest\n    resources: []\n"

    capability = load(write(tmp_path, text.replace("{extra}", extra)))

    assert [adapter.declared_port for adapter in capability.adapters] == [None, None]


@pytest.mark.parametrize(
    ("method", "read_only", "destructive", "idempotent"),
    [
        ("GET", True, False, True),
        ("POST", False, False, False),
        ("PUT", False, False, True),
        ("PATCH", False, False, False),
        ("DELETE", False, True, True),
    ],
)
def test_tool_hints_default_from_the_http_method(
    tmp_path: Path, method: str, read_only: bool, destructive: bool, idempotent: bool
) -> None:
    hints = load(shop(tmp_path, method=method)).adapters[0].actions[0].hints

    assert (hints.read_only, hints.destructive, hints.idempotent, hints.open_world) == (
        read_only,
        destructive,
        idempotent,
        True,
    )


def test_declared_hints_win_over_the_method_defaults(tmp_path: Path) -> None:
    extra = "      hints:\n        readOnly: true\n        openWorld: false\n"

    hints = load(shop(tmp_path, method="DELETE", extra=extra)).adapters[0].actions[0].hints

    assert (hints.read_only, hints.destructive, hints.idempotent, hints.open_world) == (True, False, True, False)


def test_a_tool_label_becomes_its_title(tmp_path: Path) -> None:
    action = load(shop(tmp_path, extra="      label: Get an order\n")).adapters[0].actions[0]

    assert action.title == "Get an order"
    assert action.description == "One order"


def test_an_empty_base_uri_loads_with_a_warning_and_the_capability_is_not_ready(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        SHOP.replace("http://shop.invalid", "''")
        .replace("{method}", "GET")
        .replace("{call}", "shop.get-order")
        .replace("{extra}", ""),
    )

    capability = load(path)

    [warning] = [d for d in capability.diagnostics if "empty baseUri" in d.message]
    assert "--base-uri shop=URL" in warning.message
    assert warning.field_path == "capability.consumes[0].baseUri"
    assert capability.not_ready() == ["no baseUri for consumes namespace shop"]


def test_a_base_uri_override_replaces_an_empty_base_uri_without_warning(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        SHOP.replace("http://shop.invalid", "''")
        .replace("{method}", "GET")
        .replace("{call}", "shop.get-order")
        .replace("{extra}", ""),
    )

    capability = load(path, base_uris={"shop": "http://127.0.0.1:9/"})

    assert not [d for d in capability.diagnostics if "baseUri" in d.message]
    assert capability.operations["shop.get-order"].base_uri == "http://127.0.0.1:9"
    assert capability.not_ready() == []


def test_an_invalid_output_json_path_is_an_error_at_the_output_parameters(tmp_path: Path) -> None:
    extra = "      outputParameters:\n      - type: string\n        mapping: $.[[\n"

    with pytest.raises(CapabilityError) as caught:
        load(shop(tmp_path, extra=extra))

    [error] = [d for d in caught.value.diagnostics if d.severity is Severity.ERROR]
    assert "invalid JSONPath" in error.message
    assert error.field_path == "capability.exposes[0].tools[0].outputParameters"


def test_an_operation_defined_twice_is_a_warning_and_the_first_is_used(tmp_path: Path) -> None:
    text = SHOP.replace(
        "  exposes:\n",
        "      - name: get-order\n        method: DELETE\n  exposes:\n",
    )
    path = write(tmp_path, text.replace("{method}", "GET").replace("{call}", "shop.get-order").replace("{extra}", ""))

    capability = load(path)

    assert any("defined twice" in d.message for d in capability.diagnostics)
    assert capability.operations["shop.get-order"].method == "GET"


def test_the_generated_dialect_keeps_one_argument_per_name_whatever_its_spelling() -> None:
    capability = load(DATA / "zoo.yaml", environ={"ZOO_TOKEN": "t"})
    routes = {action.name: action for action in capability.adapters[0].actions}

    arguments = routes["GET /v1/zoos/{zoo-id}/animals/{ANIMAL_ID}"].signature.arguments

    assert [(a.name, a.source, a.route_name) for a in arguments] == [
        ("ZOO-ID", "path", "zoo-id"),
        ("animal_id", "path", "ANIMAL_ID"),
        ("include_details", "query", None),
        ("X-Request-Id", "header", None),
    ]
    assert [a.type for a in arguments] == ["string", "string", "boolean", "string"]


def test_a_generated_tool_with_neither_with_nor_input_parameters_takes_the_operations_parameters() -> None:
    capability = load(DATA / "zoo.yaml", environ={"ZOO_TOKEN": "t"})
    tools = {action.name: action for action in capability.adapters[1].actions}

    schema = tools["list-keepers"].signature.input_schema()

    assert schema["properties"] == {
        "page_size": {"type": "integer", "description": "Page size."},
        "shift": {"type": "string", "description": "Shift of the day."},
    }
    assert schema["required"] == ["shift"]
