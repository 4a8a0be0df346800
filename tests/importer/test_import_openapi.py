"""`naftiko import openapi` as a user runs it: files written, summary, exit codes, strict validity."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.importer.support import PETSTORE, SWAGGER2, cli, listing, openapi, strict_verdict, write_document


def test_import_writes_the_capability_and_its_companion_in_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = cli("import", "openapi", str(PETSTORE))
    assert code == 0, err
    assert out == ""
    assert sorted(path.name for path in tmp_path.iterdir()) == ["petstore.openapi.yaml", "petstore.yaml"]
    assert (tmp_path / "petstore.openapi.yaml").read_bytes() == PETSTORE.read_bytes()
    assert err.splitlines()[:5] == [
        "naftiko: wrote petstore.yaml from petstore.yaml (OpenAPI 3.0.3)",
        "  5 operations: 5 REST routes on :8080 (pet-store-rest), 5 MCP tools on :9090 (pet-store-mcp)",
        "  companion: petstore.openapi.yaml (the OpenAPI document; `naftiko serve --mock` answers from it)",
        "  set before serving: PET_STORE_API_KEY",
        "  warning: HEAD /store/orders/{order.id} skipped: alpha2 has no HEAD operations",
    ]


@pytest.mark.parametrize("document", [PETSTORE, SWAGGER2], ids=lambda path: path.name)
def test_imported_capabilities_pass_strict_validation_without_a_remark(tmp_path: Path, document: Path) -> None:
    output = tmp_path / "out.yaml"
    assert cli("import", "openapi", str(document), "--output", str(output))[0] == 0
    assert strict_verdict(output) == (True, [])


def test_a_bare_document_without_servers_or_operation_ids_still_validates(tmp_path: Path) -> None:
    body = {"content": {"application/json": {"schema": {"type": "object"}}}}
    document = openapi(
        {
            "/": {"get": {"responses": {}}},
            "/items/{id}": {"put": {"requestBody": body, "responses": {}}, "delete": {"responses": {}}},
        },
        info={"title": "", "version": ""},
    )
    output = tmp_path / "bare.yaml"
    code, _, err = cli("import", "openapi", str(write_document(tmp_path, document)), "--output", str(output))
    assert code == 0, err
    assert "base URI: a placeholder (the document names no server); serve with --base-uri api=URL" in err
    valid, diagnostics = strict_verdict(output)
    assert valid
    # A route at the root is `/`, which the official lint's no-trailing-slash rule dislikes (a warning).
    assert {(d["severity"], d["code"]) for d in diagnostics} <= {
        ("note", "no-authentication"),
        ("warning", "naftiko-rest-resource-path-no-trailing-slash"),
    }
    report = listing(output)
    tools = next(adapter for adapter in report["adapters"] if adapter["type"] == "mcp")["tools"]
    assert [tool["name"] for tool in tools] == ["get-root", "put-items-id", "delete-items-id"]


def test_the_routes_keep_the_upstream_path_so_a_client_only_changes_the_host(tmp_path: Path) -> None:
    output = tmp_path / "pets.yaml"
    assert cli("import", "openapi", str(PETSTORE), "--output", str(output))[0] == 0
    report = listing(output)
    rest = next(adapter for adapter in report["adapters"] if adapter["type"] == "rest")
    upstream = {operation["ref"].split(".")[1]: operation["url"] for operation in report["operations"]}
    for route in rest["routes"]:
        assert upstream[route["call"].split(".")[1]] == "https://eu.petstore.test" + route["path"]


def test_base_uri_replaces_the_documents_server(tmp_path: Path) -> None:
    output = tmp_path / "pets.yaml"
    code, _, err = cli(
        "import", "openapi", str(PETSTORE), "--output", str(output), "--base-uri", "http://127.0.0.1:9/x"
    )
    assert code == 0, err
    assert {operation["url"].split("/x/")[0] for operation in listing(output)["operations"]} == {"http://127.0.0.1:9"}


def test_tags_and_namespace_options_are_applied(tmp_path: Path) -> None:
    output = tmp_path / "store.yaml"
    code, _, err = cli(
        "import", "openapi", str(PETSTORE), "--tag", "store", "--namespace", "shop", "--output", str(output)
    )
    assert code == 0, err
    report = listing(output)
    assert [operation["ref"] for operation in report["operations"]] == ["shop.put-store-orders-order-id"]
    assert "set before serving: SHOP_API_KEY" in err


def test_an_existing_output_is_refused_with_exit_1_and_kept(tmp_path: Path) -> None:
    output = tmp_path / "pets.yaml"
    output.write_text("mine")
    code, _, err = cli("import", "openapi", str(PETSTORE), "--output", str(output))
    assert (code, err) == (1, f"naftiko: {output}: already exists; pass --force to overwrite it\n")
    assert output.read_text() == "mine"
    assert cli("import", "openapi", str(PETSTORE), "--output", str(output), "--force")[0] == 0


def test_a_broken_document_is_one_clear_line_and_exit_1(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("openapi: 3.0.0\npaths:\n  /x: {get: [\n")
    code, out, err = cli("import", "openapi", str(broken), "--output", str(tmp_path / "out.yaml"))
    assert code == 1
    assert out == ""
    assert err.startswith(f"naftiko: {broken}: not valid YAML: line ")
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1
    assert not (tmp_path / "out.yaml").exists()


def test_a_swagger_2_document_gets_no_companion_and_the_summary_says_why(tmp_path: Path) -> None:
    output = tmp_path / "inventory.yaml"
    code, _, err = cli("import", "openapi", str(SWAGGER2), "--output", str(output))
    assert code == 0, err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["inventory.yaml"]
    assert "no companion: `naftiko serve --mock` reads OpenAPI 3.x, not Swagger 2.0" in err


def test_the_imported_capability_answers_from_its_companion_under_mock(tmp_path: Path) -> None:
    output = tmp_path / "pets.yaml"
    assert cli("import", "openapi", str(PETSTORE), "--output", str(output))[0] == 0
    code, out, err = cli(
        "call", str(output), "get-pets-pet-id", "--arg", "petId=1", "--arg", "X-Request-Id=r1", "--mock"
    )
    assert code == 0, err
    assert json.loads(out) == {"id": 1, "name": "Rex"}
