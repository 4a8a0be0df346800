"""openapi_security.py: an expose's inbound authentication as a security scheme, never with its credential."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from naftiko_runtime.openapi_export import Exported
from tests.openapi_shop import exported, write

SECRET = "s3cret-" + "4" * 24

TEMPLATE = """\
naftiko: 1.0.0-alpha2
info:
  label: Guarded
binds:
  - namespace: env
    keys:
      GUARD_SECRET: GUARD_SECRET
      AUTH_HOST: AUTH_HOST
capability:
  consumes:
    - type: http
      namespace: up
      baseUri: http://up.invalid
      resources:
        - name: things
          path: /things
          operations:
            - name: list-things
              method: GET
  exposes:
    - type: rest
      namespace: guarded
      port: 8080
      authentication: {authentication}
      resources:
        - path: /things
          operations:
            - method: GET
              name: list-things
              call: up.list-things
"""
KINDS = {
    "bearer": "{type: bearer, token: '{{env.GUARD_SECRET}}'}",
    "basic": "{type: basic, username: admin, password: '{{env.GUARD_SECRET}}'}",
    "apikey-header": "{type: apikey, key: X-Guard, value: '{{env.GUARD_SECRET}}', placement: header}",
    "apikey-query": "{type: apikey, key: guard, value: '{{env.GUARD_SECRET}}', placement: query}",
    "oauth2": (
        "{type: oauth2, authorizationServerUri: 'https://{{env.AUTH_HOST}}', resource: 'https://api.example',"
        " tokenEndpoint: 'https://{{env.AUTH_HOST}}/oauth/token', scopes: [things:read, things:write]}"
    ),
    "oauth2-no-token-endpoint": (
        "{type: oauth2, authorizationServerUri: 'https://{{env.AUTH_HOST}}', resource: 'https://api.example'}"
    ),
}
SCHEMES = {
    "bearer": ("bearerAuth", {"type": "http", "scheme": "bearer"}, []),
    "basic": ("basicAuth", {"type": "http", "scheme": "basic"}, []),
    "apikey-header": ("apiKeyAuth", {"type": "apiKey", "name": "X-Guard", "in": "header"}, []),
    "apikey-query": ("apiKeyAuth", {"type": "apiKey", "name": "guard", "in": "query"}, []),
    "oauth2": (
        "oauth2Auth",
        {
            "type": "oauth2",
            "flows": {
                "clientCredentials": {
                    "tokenUrl": "https://auth.example/oauth/token",
                    "scopes": {"things:read": "things:read", "things:write": "things:write"},
                }
            },
        },
        ["things:read", "things:write"],
    ),
    "oauth2-no-token-endpoint": (
        "oauth2Auth",
        {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "https://auth.example", "scopes": {}}}},
        [],
    ),
}
ENVIRONMENT = {"GUARD_SECRET": SECRET, "AUTH_HOST": "auth.example"}


def guarded(tmp_path: Path, kind: str) -> Exported:
    text = TEMPLATE.replace("{authentication}", KINDS[kind])
    return exported([write(tmp_path, text, f"{kind}.yaml")], environ=ENVIRONMENT)


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_inbound_authentication_is_a_security_scheme_every_route_requires(tmp_path: Path, kind: str) -> None:
    document = guarded(tmp_path, kind).document
    name, expected, scopes = SCHEMES[kind]
    scheme = document["components"]["securitySchemes"][name]
    assert {key: value for key, value in scheme.items() if key != "description"} == expected
    assert document["paths"]["/things"]["get"]["security"] == [{name: scopes}]


@pytest.mark.parametrize("kind", list(KINDS))
def test_no_credential_value_is_ever_written(tmp_path: Path, kind: str) -> None:
    assert SECRET not in json.dumps(guarded(tmp_path, kind).document)


def test_oauth2_without_token_endpoint_uses_the_authorization_server_and_says_so(tmp_path: Path) -> None:
    warnings = guarded(tmp_path, "oauth2-no-token-endpoint").warnings
    assert len(warnings) == 1 and "no tokenEndpoint" in warnings[0] and "authorizationServerUri" in warnings[0]
    assert guarded(tmp_path, "oauth2").warnings == []


def test_oauth2_routes_document_403_for_a_missing_scope_and_503_when_tokens_cannot_be_checked(tmp_path: Path) -> None:
    responses = guarded(tmp_path, "oauth2").document["paths"]["/things"]["get"]["responses"]
    assert {"401", "403", "503"} <= set(responses)
    assert "403" not in guarded(tmp_path, "bearer").document["paths"]["/things"]["get"]["responses"]
