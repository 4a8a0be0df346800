"""openapi_export.py and `naftiko export openapi`: one OpenAPI 3.1 document per REST port, as it is served."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import yaml
from openapi_spec_validator import validate

from naftiko_runtime.cli import main
from naftiko_runtime.openapi_export import listener_url, served_document
from naftiko_runtime.runtime import Listener, RuntimeOptions, build_runtime
from naftiko_runtime.selection import Selection
from tests.openapi_shop import SHOP, TOKEN, exported, shop, write

ROOT = Path(__file__).resolve().parents[1]
KOMBO = ROOT / "capabilities" / "kombo.yaml"
DEPOT = SHOP.replace("label: Shop", "label: Depot").replace("  tags: [Retail]\n", "").replace("shop-rest", "depot-rest")
METHODS = {"get", "put", "post", "delete", "patch"}


def operations(document: dict[str, object]) -> list[dict[str, object]]:
    paths = document["paths"]
    assert isinstance(paths, dict)
    return [operation for item in paths.values() for operation in item.values()]


def test_the_document_is_valid_openapi_31_and_its_info_is_the_capabilitys(tmp_path: Path) -> None:
    document = shop(tmp_path)
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert document["info"] == {"title": "Shop", "description": "Items and notes.", "version": "2026-01-02"}


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        ("127.0.0.1", 8080, "http://127.0.0.1:8080"),
        ("0.0.0.0", 8080, "http://localhost:8080"),
        ("::1", 8081, "http://[::1]:8081"),
        ("127.0.0.1", 0, "/"),
    ],
)
def test_the_server_is_where_the_listener_is_reached(host: str, port: int, url: str) -> None:
    assert listener_url(Listener("rest", host, port, [])) == url


def test_every_operation_is_tagged_with_the_capabilitys_info_tags(tmp_path: Path) -> None:
    document = shop(tmp_path)
    assert document["tags"] == [{"name": "Retail"}]
    assert {tuple(operation["tags"]) for operation in operations(document)} == {("Retail",)}


def test_a_file_without_info_tags_tags_its_operations_with_its_label(tmp_path: Path) -> None:
    document = exported([write(tmp_path, DEPOT)]).document
    assert document["tags"] == [{"name": "Depot", "description": "Items and notes."}]


def test_head_is_documented_where_get_is_and_options_on_every_path(tmp_path: Path) -> None:
    paths = shop(tmp_path)["paths"]
    for template, item in paths.items():
        assert "options" in item, template
        assert ("head" in item) == ("get" in item), template
    head = paths["/items/{id}"]["head"]
    assert head["operationId"] == "get-item-head"
    assert all("content" not in response for response in head["responses"].values())
    assert set(paths["/items/{id}"]["options"]["responses"]["204"]["headers"]) == {"Allow"}


def test_operation_ids_are_the_operations_names_and_unique(tmp_path: Path) -> None:
    ids = [operation["operationId"] for operation in operations(shop(tmp_path))]
    assert len(ids) == len(set(ids))
    assert {"get-item", "delete-item", "add-note", "replace-notes", "hello", "broken"} <= set(ids)


def test_a_merged_port_tags_each_file_and_qualifies_a_repeated_name_by_its_file(tmp_path: Path) -> None:
    paths = [write(tmp_path, SHOP), write(tmp_path, DEPOT, "depot.yaml")]
    document = exported(paths, prefix_routes=True).document
    validate(document)
    assert document["info"]["title"] == "Shop + Depot"
    assert [tag["name"] for tag in document["tags"]] == ["Shop", "Retail", "Depot"]
    assert document["paths"]["/shop/notes"]["post"]["tags"] == ["Shop", "Retail"]
    assert document["paths"]["/depot/notes"]["post"]["tags"] == ["Depot"]
    assert document["paths"]["/shop/notes"]["post"]["operationId"] == "add-note"
    assert document["paths"]["/depot/notes"]["post"]["operationId"] == "depot.add-note"
    # The same scheme is declared once.
    assert list(document["components"]["securitySchemes"]) == ["bearerAuth"]


def test_merged_files_asking_for_different_keys_get_a_scheme_each(tmp_path: Path) -> None:
    keyed = SHOP.replace("type: bearer\n        token:", "type: apikey\n        key: X-Shop\n        value:")
    other = keyed.replace("X-Shop", "X-Depot").replace("shop-rest", "depot-rest")
    document = exported([write(tmp_path, keyed), write(tmp_path, other, "depot.yaml")], prefix_routes=True).document
    schemes = document["components"]["securitySchemes"]
    assert [(name, scheme["name"]) for name, scheme in schemes.items()] == [
        ("apiKeyAuth", "X-Shop"),
        ("depot-rest.apiKeyAuth", "X-Depot"),
    ]
    assert document["paths"]["/depot/notes"]["post"]["security"] == [{"depot-rest.apiKeyAuth": []}]


def test_read_only_documents_only_the_routes_it_serves(tmp_path: Path) -> None:
    document = shop(tmp_path, selection=Selection(read_only=True))
    methods = {method for item in document["paths"].values() for method in item}
    assert methods == {"get", "head", "options"}


def test_a_route_served_at_the_documents_path_is_warned_about(tmp_path: Path) -> None:
    text = SHOP.replace("- path: /hello", "- path: /openapi.json")
    warnings = exported([write(tmp_path, text)]).warnings
    assert any("/openapi.json" in warning and "instead of the OpenAPI document" in warning for warning in warnings)


def test_the_served_bytes_are_the_json_document_and_its_warnings_are_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = SHOP.replace("- path: /hello", "- path: /openapi.json")
    runtime = build_runtime([write(tmp_path, text)], RuntimeOptions(environ={"SHOP_TOKEN": TOKEN}))
    [listener] = [listener for listener in runtime.listeners if listener.type == "rest"]
    with caplog.at_level(logging.WARNING, logger="naftiko.openapi"):
        served = served_document(listener)
    assert json.loads(served)["paths"]["/notes"]["post"]["operationId"] == "add-note"
    assert any("instead of the OpenAPI document" in record.getMessage() for record in caplog.records)
    assert TOKEN.encode() not in served


# -- naftiko export openapi


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_export_prints_the_kombo_document_with_all_13_routes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "export", "openapi", str(KOMBO))
    assert code == 0, err
    document = json.loads(out)
    validate(document)
    assert document["servers"][0]["url"] == "http://127.0.0.1:8080"
    assert sum(1 for item in document["paths"].values() for method in item if method in METHODS) == 13


def test_export_writes_yaml_to_a_file_and_says_what_it_wrote(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "kombo.openapi.out.yaml"
    code, out, err = run(capsys, "export", "openapi", str(KOMBO), "--format", "yaml", "--output", str(target))
    assert code == 0 and out == ""
    assert f"wrote {target} (12 paths, 30 operations)" in err
    code, printed, _ = run(capsys, "export", "openapi", str(KOMBO))
    written = target.read_text(encoding="utf-8")
    assert yaml.safe_load(written) == json.loads(printed)
    assert "&id" not in written  # shared tags and parameters are written out, not aliased


def test_export_moves_the_server_with_port_and_host(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "export", "openapi", str(KOMBO), "--port", "8080=18080", "--host", "0.0.0.0")
    assert code == 0
    assert json.loads(out)["servers"][0]["url"] == "http://localhost:18080"


def test_export_asks_which_port_when_the_files_serve_several(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    apart = DEPOT.replace("port: 8080", "port: 8082")
    files = [str(write(tmp_path, SHOP)), str(write(tmp_path, apart, "depot.yaml"))]
    code, out, err = run(capsys, "export", "openapi", *files)
    assert code == 2 and out == ""
    assert "2 REST ports (shop-rest, depot-rest); choose one with --adapter NS" in err
    code, out, _ = run(capsys, "export", "openapi", *files, "--adapter", "depot-rest")
    assert code == 0 and json.loads(out)["info"]["title"] == "Depot"
    code, _, err = run(capsys, "export", "openapi", *files, "--adapter", "nope")
    assert code == 2 and "--adapter nope names no REST adapter; REST adapters: shop-rest, depot-rest" in err


def test_export_of_files_without_a_rest_expose_says_there_is_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    only_mcp = SHOP[: SHOP.index("  exposes:")] + "  exposes:\n    - type: mcp\n      namespace: m\n      port: 9090\n"
    code, out, err = run(capsys, "export", "openapi", str(write(tmp_path, only_mcp)))
    assert code == 1 and out == ""
    assert "nothing to export (no rest exposes)" in err


def test_export_to_an_unwritable_place_fails_clearly(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "export", "openapi", str(KOMBO), "--output", str(tmp_path / "missing" / "x.json"))
    assert code == 1
    assert "cannot write" in err and "Traceback" not in err
