"""importer/security.py: outgoing authentication from security schemes, secrets bound to environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from naftiko_runtime.importer.document import read_document
from naftiko_runtime.importer.security import Credentials, credentials
from tests.importer.support import openapi, write_document


def credentials_of(tmp_path: Path, schemes: dict[str, Any], **top: Any) -> Credentials:
    document = openapi({}, components={"securitySchemes": schemes}, **top)
    return credentials(read_document(write_document(tmp_path, document)), "SHOP")


def test_http_bearer_becomes_bearer_with_a_token_variable(tmp_path: Path) -> None:
    found = credentials_of(tmp_path, {"key": {"type": "http", "scheme": "bearer"}})
    assert found.authentication == {"type": "bearer", "token": "{{SHOP_TOKEN}}"}
    assert found.variables == ["SHOP_TOKEN"]


@pytest.mark.parametrize("placement", ["header", "query"])
def test_an_api_key_keeps_its_name_and_placement_with_an_api_key_variable(tmp_path: Path, placement: str) -> None:
    found = credentials_of(tmp_path, {"key": {"type": "apiKey", "in": placement, "name": "X-Api-Key"}})
    assert found.authentication == {
        "type": "apikey",
        "key": "X-Api-Key",
        "value": "{{SHOP_API_KEY}}",
        "placement": placement,
    }
    assert found.variables == ["SHOP_API_KEY"]


def test_an_api_key_in_a_cookie_is_a_consumes_cookie_parameter(tmp_path: Path) -> None:
    found = credentials_of(tmp_path, {"key": {"type": "apiKey", "in": "cookie", "name": "session"}})
    assert found.authentication is None
    assert found.parameters == [{"name": "session", "in": "cookie", "value": "{{SHOP_API_KEY}}"}]
    assert found.variables == ["SHOP_API_KEY"]


@pytest.mark.parametrize("scheme", ["basic", "digest"])
def test_basic_and_digest_read_a_username_and_a_password_variable(tmp_path: Path, scheme: str) -> None:
    found = credentials_of(tmp_path, {"login": {"type": "http", "scheme": scheme}})
    assert found.authentication == {"type": scheme, "username": "{{SHOP_USERNAME}}", "password": "{{SHOP_PASSWORD}}"}
    assert found.variables == ["SHOP_USERNAME", "SHOP_PASSWORD"]


def test_oauth2_sends_an_access_token_as_a_bearer_token_and_says_so(tmp_path: Path) -> None:
    found = credentials_of(tmp_path, {"oauth": {"type": "oauth2", "flows": {}}})
    assert found.authentication == {"type": "bearer", "token": "{{SHOP_TOKEN}}"}
    assert found.warnings == [
        "security scheme 'oauth' (oauth2): set SHOP_TOKEN to an access token (no OAuth flow is run)"
    ]


def test_the_global_security_requirement_chooses_the_scheme(tmp_path: Path) -> None:
    schemes = {"basic": {"type": "http", "scheme": "basic"}, "key": {"type": "apiKey", "in": "header", "name": "K"}}
    found = credentials_of(tmp_path, schemes, security=[{"key": []}])
    assert found.scheme == "key"


def test_without_a_global_requirement_the_first_scheme_is_used(tmp_path: Path) -> None:
    schemes = {"basic": {"type": "http", "scheme": "basic"}, "key": {"type": "apiKey", "in": "header", "name": "K"}}
    assert credentials_of(tmp_path, schemes).scheme == "basic"


def test_an_empty_global_requirement_means_no_authentication(tmp_path: Path) -> None:
    found = credentials_of(tmp_path, {"key": {"type": "http", "scheme": "bearer"}}, security=[])
    assert found == Credentials()


def test_an_unsupported_scheme_is_passed_over_with_a_warning(tmp_path: Path) -> None:
    schemes = {"tls": {"type": "mutualTLS"}, "key": {"type": "http", "scheme": "bearer"}}
    found = credentials_of(tmp_path, schemes, security=[{"tls": []}, {"key": []}])
    assert found.scheme == "key"
    assert found.warnings == ["security scheme 'tls' (mutualtls) is not supported"]


def test_a_requirement_naming_an_undeclared_scheme_is_warned_about(tmp_path: Path) -> None:
    found = credentials_of(tmp_path, {}, security=[{"missing": []}])
    assert found.authentication is None
    assert found.warnings == ["security scheme 'missing' is not declared in components.securitySchemes"]
