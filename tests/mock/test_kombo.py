"""`capabilities/kombo.openapi.yaml`: Kombo's 13 operations, valid OpenAPI, answered by the mock."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from naftiko_runtime.consumer.client import UpstreamRequest
from naftiko_runtime.mock import MockApi, MockClient
from tests.mock.support import KOMBO, data

OPERATIONS = [
    ("GET", "/check-api-key"),
    ("POST", "/force-sync"),
    ("DELETE", "/integrations/{integration_id}"),
    ("GET", "/integrations/{integration_id}"),
    ("GET", "/integrations/{integration_id}/custom-fields"),
    ("PUT", "/integrations/{integration_id}/custom-fields/{custom_field_id}"),
    ("PUT", "/integrations/{integration_id}/enabled"),
    ("GET", "/integrations/{integration_id}/integration-fields"),
    ("PATCH", "/integrations/{integration_id}/integration-fields/{integration_field_id}"),
    ("POST", "/integrations/{integration_id}/relink"),
    ("POST", "/integrations/{integration_id}/setup-link"),
    ("POST", "/passthrough/{tool}/{api}"),
    ("GET", "/tools/{category}"),
]
VALUES = {
    "integration_id": "personio:8d1hpPsbjxUkoCoa1veLZGe5",
    "custom_field_id": "EU3Bwa4iDfGspEELW71WDvvu",
    "integration_field_id": "9suhxJU83Kon4kPTS47837uE",
    "tool": "personio",
    "api": "personnel",
    "category": "hris",
}


@pytest.fixture(scope="module")
def kombo_document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(KOMBO.read_text(encoding="utf-8"))
    return loaded


def _concrete(template: str) -> str:
    return template.format(**VALUES)


@pytest.mark.anyio
@pytest.mark.parametrize(("method", "template"), OPERATIONS)
@pytest.mark.parametrize("base_uri", ["https://api.kombo.dev/v1", "https://api.kombo.dev"])
async def test_the_kombo_document_answers_every_operation_with_a_success_envelope(
    kombo: MockApi, method: str, template: str, base_uri: str
) -> None:
    client = MockClient([kombo])
    url = base_uri + _concrete(template) + ("?page_size=10" if method == "GET" else "")
    headers = [("Authorization", "Bearer ks_test"), ("X-Integration-Id", VALUES["integration_id"])]
    body = b"{}" if method != "GET" else None

    response = await client.send(UpstreamRequest(method, url, headers, body))
    await client.close()

    assert response.status == 200
    assert response.headers["content-type"] == "application/json"
    answer = data(response)
    assert answer["status"] == "success"
    assert isinstance(answer["data"], dict)


def test_the_kombo_document_keeps_exactly_the_13_operations(kombo_document: dict[str, Any]) -> None:
    methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    found = {
        (method.upper(), path) for path, item in kombo_document["paths"].items() for method in item if method in methods
    }

    assert found == set(OPERATIONS)
    assert kombo_document["servers"][0]["url"] == "https://api.kombo.dev/v1"


def test_every_kombo_example_is_valid_for_its_schema(kombo_document: dict[str, Any]) -> None:
    components = kombo_document["components"]
    checked = 0
    for method, path in OPERATIONS:
        operation = kombo_document["paths"][path][method.lower()]
        media_objects = [operation["responses"]["200"]["content"]["application/json"]]
        if "requestBody" in operation:
            media_objects.append(operation["requestBody"]["content"]["application/json"])
        for media in media_objects:
            assert media.get("examples"), f"{method} {path} has no example"
            validator = Draft202012Validator({**media["schema"], "components": components})
            for name, example in media["examples"].items():
                errors = [error.message for error in validator.iter_errors(example["value"])]
                assert errors == [], f"{method} {path} example {name}"
                checked += 1

    assert checked == 13 + 8  # every 200 answer and the 8 request bodies


def test_every_kombo_path_parameter_has_a_realistic_example(kombo_document: dict[str, Any]) -> None:
    for method, path in OPERATIONS:
        for parameter in kombo_document["paths"][path][method.lower()].get("parameters", []):
            if parameter["in"] == "path":
                value = parameter["examples"]["example1"]["value"]
                assert value == VALUES[parameter["name"]], f"{method} {path} {parameter['name']}"


def test_the_kombo_document_is_valid_openapi(kombo_document: dict[str, Any]) -> None:
    validator = pytest.importorskip("openapi_spec_validator")

    validator.validate(kombo_document)


def test_the_kombo_document_loads_without_warnings(kombo: MockApi) -> None:
    assert kombo.warnings == ()
