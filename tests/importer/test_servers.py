"""importer/servers.py: the consumed base URI from `servers[0]`, or a placeholder that validates."""

from __future__ import annotations

import re
from typing import Any

import pytest

from naftiko_runtime.importer.document import ImportFailure
from naftiko_runtime.importer.servers import PLACEHOLDER_HOST, BaseUri, base_uri


def servers(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"servers": list(entries)}


def test_the_first_server_is_the_base_uri_without_a_trailing_slash() -> None:
    found = base_uri(servers({"url": "https://api.kombo.dev/v1/"}, {"url": "https://api.us.kombo.dev/v1"}), None)
    assert found == BaseUri("https://api.kombo.dev/v1")
    assert found.path == "/v1"


def test_server_variables_take_their_default_else_their_first_value() -> None:
    variables = {"region": {"enum": ["eu", "us"]}, "version": {"default": "v2"}}
    found = base_uri(servers({"url": "https://{region}.example.test/{version}", "variables": variables}), None)
    assert found.uri == "https://eu.example.test/v2"


def test_a_relative_server_url_keeps_its_path_on_a_placeholder_host() -> None:
    found = base_uri(servers({"url": "/api/v3"}), None)
    assert found.uri == PLACEHOLDER_HOST + "/api/v3"
    assert found.placeholder_reason == "the server URL '/api/v3' is relative"
    assert found.path == "/api/v3"


@pytest.mark.parametrize("document", [{}, servers()])
def test_no_server_gives_a_placeholder_host(document: dict[str, Any]) -> None:
    found = base_uri(document, None)
    assert (found.uri, found.placeholder_reason) == (PLACEHOLDER_HOST, "the document names no server")


def test_a_server_variable_without_a_value_gives_a_placeholder() -> None:
    found = base_uri(servers({"url": "https://{tenant}.example.test"}), None)
    assert found.uri == PLACEHOLDER_HOST
    assert found.placeholder_reason is not None


def test_an_explicit_base_uri_wins_over_the_servers() -> None:
    assert base_uri(servers({"url": "/relative"}), "http://127.0.0.1:9000/api/") == BaseUri("http://127.0.0.1:9000/api")


def test_an_explicit_base_uri_must_be_an_absolute_http_url() -> None:
    with pytest.raises(ImportFailure, match=re.escape("--base-uri 'api.test/v1': expected an absolute http")):
        base_uri({}, "api.test/v1")
