"""listing.py: what `naftiko list` tells about a capability."""

from __future__ import annotations

from pathlib import Path

from naftiko_runtime.capability import LoadOptions, load_capability
from naftiko_runtime.listing import describe, render_text

DATA = Path(__file__).parent / "data"
KOMBO = Path(__file__).parents[1] / "capabilities" / "kombo.yaml"


def test_the_seed_capability_lists_thirteen_routes_thirteen_tools_and_thirteen_operations() -> None:
    report = describe(load_capability(KOMBO, LoadOptions(environ={})))

    rest, mcp = report["adapters"]
    assert (rest["type"], rest["namespace"], rest["port"]) == ("rest", "kombo-general-rest", 8080)
    assert (mcp["type"], mcp["namespace"], mcp["port"]) == ("mcp", "kombo-general-mcp", 9090)
    assert len(rest["routes"]) == 13
    assert len(mcp["tools"]) == 13
    assert len(report["operations"]) == 13
    assert report["label"] == "Kombo API"
    assert report["file"] == str(KOMBO)


def test_routes_show_method_path_call_and_where_each_argument_goes() -> None:
    report = describe(load_capability(KOMBO, LoadOptions(environ={})))
    routes = {(route["method"], route["path"]): route for route in report["adapters"][0]["routes"]}

    passthrough = routes[("POST", "/v1/passthrough/{tool}/{api}")]

    assert passthrough["call"] == "kombo-general.postpassthroughtoolapi"
    assert {argument["name"]: (argument["in"], argument["required"]) for argument in passthrough["arguments"]} == {
        "X-Integration-Id": ("header", True),
        "tool": ("path", True),
        "api": ("path", True),
        "body": ("body", False),
    }


def test_tools_show_their_annotations() -> None:
    report = describe(load_capability(KOMBO, LoadOptions(environ={})))
    tools = {tool["name"]: tool for tool in report["adapters"][1]["tools"]}

    assert tools["delete-integration"]["annotations"] == {
        "readOnlyHint": False,
        "destructiveHint": True,
        "idempotentHint": True,
        "openWorldHint": True,
    }
    assert tools["check-api-key"]["annotations"]["readOnlyHint"] is True
    assert tools["check-api-key"]["call"] == "kombo-general.getcheckapikey"


def test_operations_show_their_full_upstream_url_and_a_base_uri_override() -> None:
    report = describe(
        load_capability(KOMBO, LoadOptions(environ={}, base_uris={"kombo-general": "http://127.0.0.1:9/v1"}))
    )

    urls = {operation["ref"]: (operation["method"], operation["url"]) for operation in report["operations"]}
    assert urls["kombo-general.gettoolscategory"] == ("GET", "http://127.0.0.1:9/v1/tools/{category}")


def test_an_unresolved_call_is_listed_as_such(tmp_path: Path) -> None:
    path = tmp_path / "ghost.yaml"
    path.write_text(
        "naftiko: 1.0.0-alpha2\ncapability:\n  exposes:\n  - type: mcp\n    namespace: m\n    port: 9001\n    tools:\n"
        "    - name: ghost\n      description: d\n      call: nowhere.nothing\n"
    )
    capability = load_capability(path, LoadOptions(environ={}))

    report = describe(capability)

    assert report["adapters"][0]["tools"][0]["call"] is None
    assert "ghost  [open-world]  -> (unresolved)" in render_text([report])


def test_the_text_rendering_shows_adapters_routes_tools_and_operations() -> None:
    report = describe(load_capability(DATA / "library.yaml", LoadOptions(environ={})))

    text = render_text([report])

    lines = text.splitlines()
    assert lines[0] == f"{DATA / 'library.yaml'}: Library Catalog"
    assert "  REST library-rest :18080 (3 routes)" in lines
    assert "  MCP  library-mcp :19090 (3 tools)" in lines
    assert any(line.split() == ["GET", "/books", "->", "catalog.search-books"] for line in lines)
    assert any(
        line.split() == ["find-books", "[read-only,", "idempotent,", "open-world]", "->", "catalog.search-books"]
        for line in lines
    )
    assert "  consumes 4 operations" in lines
    assert any("http://catalog.invalid/api/shelves/{{shelf}}/books/{{isbn}}" in line for line in lines)


def test_a_generated_capability_lists_kebab_route_placeholders_with_snake_argument_names() -> None:
    report = describe(load_capability(DATA / "zoo.yaml", LoadOptions(environ={})))

    route = report["adapters"][0]["routes"][0]

    assert route["path"] == "/v1/zoos/{zoo-id}/animals/{ANIMAL_ID}"
    assert [(a["name"], a["in"], a["type"]) for a in route["arguments"]] == [
        ("ZOO-ID", "path", "string"),
        ("animal_id", "path", "string"),
        ("include_details", "query", "boolean"),
        ("X-Request-Id", "header", "string"),
    ]


def test_typed_routes_and_tools_say_which_document_operation_typed_them() -> None:
    report = describe(load_capability(KOMBO, LoadOptions(environ={}, companion_schemas=True)))
    rest, mcp = report["adapters"]
    tools = {tool["name"]: tool for tool in mcp["tools"]}

    assert tools["get-tools"]["typedFrom"] == "kombo.openapi.yaml GET /tools/{category}"
    assert tools["get-tools"]["outputSchema"] == "kombo.openapi.yaml GET /tools/{category}"
    assert all(route["typedFrom"] for route in rest["routes"])
    text = render_text([report])
    assert "get-tools  [read-only, idempotent, open-world]  -> kombo-general.gettoolscategory  " in text
    assert "{typed: kombo.openapi.yaml, outputSchema}" in text


def test_untyped_tools_say_nothing_unless_their_output_parameters_give_a_schema() -> None:
    report = describe(load_capability(DATA / "library.yaml", LoadOptions(environ={}, companion_schemas=True)))
    tools = {
        tool["name"]: tool for adapter in report["adapters"] if adapter["type"] == "mcp" for tool in adapter["tools"]
    }

    assert all(tool["typedFrom"] is None for tool in tools.values())
    with_schema = [name for name, tool in tools.items() if tool["outputSchema"]]
    assert with_schema
    assert "{outputSchema}" in render_text([report])
