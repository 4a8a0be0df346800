"""`GET /openapi.json` on every REST port of the real `naftiko serve`: what it lists is what the port serves."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import httpx
import yaml
from openapi_spec_validator import validate

from tests.conftest import SecretTripwire
from tests.e2e.conftest import KOMBO_CAPABILITY, ROOT
from tests.e2e.server import NaftikoServer
from tests.fakes import KomboFake
from tests.spectral import spectral_errors

KOMBO_FAMILY = ROOT / "tests" / "corpus" / "data" / "kombo" / "capabilities"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def served_document(server: NaftikoServer) -> dict[str, Any]:
    response = httpx.get(f"{server.rest_url}/openapi.json", timeout=5.0)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    document: dict[str, Any] = response.json()
    return document


def declared_routes(path: Path) -> list[dict[str, Any]]:
    """Each REST operation of a capability file, with its resource path and `with` references."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        {"method": operation["method"].lower(), "path": resource["path"], "with": operation.get("with") or {}}
        for expose in document["capability"]["exposes"]
        if expose["type"] == "rest"
        for resource in expose["resources"]
        for operation in resource.get("operations") or []
    ]


def consumed_locations(path: Path) -> dict[str, str]:
    """`in` of every consumed input parameter, by name (the seed file names each one the same everywhere)."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {
        parameter["name"]: parameter["in"]
        for consumes in document["capability"]["consumes"]
        for resource in consumes["resources"]
        for operation in resource["operations"]
        for parameter in operation.get("inputParameters") or []
    }


def test_kombo_lists_all_13_routes_with_their_parameters_and_bodies_and_passes_both_validators(
    naftiko: NaftikoServer, tmp_path: Path, secret_tripwire: SecretTripwire, api_key: str
) -> None:
    document = served_document(naftiko)
    text = json.dumps(document)
    secret_tripwire.record("GET /openapi.json", text)
    assert api_key not in text
    validate(document)
    locations = consumed_locations(KOMBO_CAPABILITY)
    routes = declared_routes(KOMBO_CAPABILITY)
    assert len(routes) == 13
    for route in routes:
        operation = document["paths"][route["path"]][route["method"]]
        parameters = {(p["in"], p["name"]) for p in operation.get("parameters", [])}
        for placeholder in re.findall(r"\{([^{}]+)\}", route["path"]):
            assert ("path", placeholder) in parameters, (route, placeholder)
        for target in route["with"]:
            where = locations[target]
            if where == "body":
                assert operation["requestBody"]["content"]["application/json"]["schema"]["type"] == "object"
            elif where != "path":
                assert (where, target) in parameters, (route, target)
        assert "2XX" in operation["responses"] and "default" in operation["responses"]
    assert spectral_errors({"kombo /openapi.json": document}, tmp_path) == []


def test_options_on_every_documented_path_allows_exactly_the_documented_methods(naftiko: NaftikoServer) -> None:
    document = served_document(naftiko)
    for template, item in document["paths"].items():
        path = re.sub(r"\{[^{}]+\}", "x", template)
        response = httpx.options(f"{naftiko.rest_url}{path}", timeout=5.0)
        assert response.status_code == 204, (template, response.text)
        allowed = {method.strip().lower() for method in response.headers["allow"].split(",")}
        assert allowed == {method for method in item if method in METHODS}, template


def test_the_document_answers_head_and_options_and_refuses_other_methods(naftiko: NaftikoServer) -> None:
    url = f"{naftiko.rest_url}/openapi.json"
    head = httpx.head(url, timeout=5.0)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == "application/json"
    options = httpx.options(url, timeout=5.0)
    assert options.status_code == 204
    assert "GET" in options.headers["allow"]
    refused = httpx.post(url, timeout=5.0)
    assert refused.status_code == 405
    assert refused.headers["content-type"] == "application/problem+json"


def test_the_served_document_is_the_one_naftiko_export_openapi_prints_for_that_port(naftiko: NaftikoServer) -> None:
    port = naftiko.rest_url.rsplit(":", 1)[1]
    exported = subprocess.run(
        [sys.executable, "-m", "naftiko_runtime", "export", "openapi", str(KOMBO_CAPABILITY), "--port", f"8080={port}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(exported.stdout) == served_document(naftiko)


def test_a_merged_port_describes_every_file_under_its_prefix_with_a_tag_per_file(tmp_path: Path) -> None:
    with NaftikoServer([KOMBO_FAMILY], args=["--prefix-routes", "--prefix-tools"]) as server:
        server.wait_ready(kinds=("rest",))
        document = served_document(server)
        assert server.stop() == 0
    validate(document)
    stems = {path.stem for path in KOMBO_FAMILY.glob("*.yaml")}
    prefixes = {template.split("/")[1] for template in document["paths"]}
    assert prefixes == stems
    operation_ids = [operation["operationId"] for item in document["paths"].values() for operation in item.values()]
    assert len(operation_ids) == len(set(operation_ids))
    assert server.counts["rest"] == sum(
        1 for item in document["paths"].values() for method in item if method not in ("head", "options")
    )
    tags = {tag["name"] for tag in document["tags"]}
    for item in document["paths"].values():
        for operation in item.values():
            assert operation["tags"][0] in tags
    assert spectral_errors({"kombo family /openapi.json": document}, tmp_path) == []


def test_read_only_serves_a_document_with_only_get_head_and_options(kombo: KomboFake, api_key: str) -> None:
    with NaftikoServer(
        [KOMBO_CAPABILITY],
        args=["--base-uri", f"kombo-general={kombo.base_url}", "--read-only"],
        env={"KOMBO_API_KEY": api_key},
    ) as server:
        server.wait_ready(kinds=("rest",))
        document = served_document(server)
        assert server.stop() == 0
    methods = {method for item in document["paths"].values() for method in item}
    assert methods == {"get", "head", "options"}


PROTECTED = """\
naftiko: 1.0.0-alpha2
info:
  label: Protected
binds:
  - namespace: env
    keys:
      ROUTE_TOKEN: ROUTE_TOKEN
capability:
  consumes:
    - type: http
      namespace: up
      baseUri: http://127.0.0.1:9/api
      resources:
        - name: things
          path: /things
          operations:
            - name: list-things
              method: GET
  exposes:
    - type: rest
      namespace: protected-rest
      port: 8080
      authentication:
        type: bearer
        token: "{{env.ROUTE_TOKEN}}"
      resources:
        - path: /things
          name: things
          operations:
            - method: GET
              name: list-things
              call: up.list-things
"""


def test_an_authenticated_port_documents_its_scheme_and_401_and_never_the_token(
    tmp_path: Path, secret_tripwire: SecretTripwire
) -> None:
    capability = tmp_path / "protected.yaml"
    capability.write_text(textwrap.dedent(PROTECTED), encoding="utf-8")
    token = "route-token-" + "7" * 24
    with NaftikoServer([capability], env={"ROUTE_TOKEN": token}, move_ports=("8080",)) as server:
        server.wait_ready(kinds=("rest",))
        response = httpx.get(f"{server.rest_url}/openapi.json", timeout=5.0)
        refused = httpx.get(f"{server.rest_url}/things", timeout=5.0)
        assert server.stop() == 0
    assert response.status_code == 200  # the document itself is open, like /docs
    assert token not in response.text
    secret_tripwire.record("GET /openapi.json of a protected port", response.text)
    document = response.json()
    validate(document)
    assert document["components"]["securitySchemes"] == {
        "bearerAuth": {"type": "http", "scheme": "bearer", "description": "HTTP bearer authentication."}
    }
    operation = document["paths"]["/things"]["get"]
    assert operation["security"] == [{"bearerAuth": []}]
    assert refused.status_code == 401 and "401" in operation["responses"]
