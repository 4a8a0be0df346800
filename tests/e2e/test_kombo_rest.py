"""All 13 operations through the REST facade of the real server, checked on the upstream side."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import SecretTripwire
from tests.e2e.kombo_cases import CASES, Case, assert_upstream_saw
from tests.e2e.server import NaftikoServer
from tests.fakes import INTEGRATION_NOT_FOUND, KomboFake


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_each_kombo_operation_reaches_the_upstream_through_rest(
    case: Case, naftiko: NaftikoServer, kombo: KomboFake, api_key: str, secret_tripwire: SecretTripwire
) -> None:
    response = httpx.request(
        case.method,
        naftiko.rest_url + case.path,
        params=case.query,
        headers=case.headers,
        json=case.body,
        timeout=10,
    )
    secret_tripwire.record(f"REST {case.tool}", response.text)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert_upstream_saw(case, kombo, api_key)
    case.check(response.json(), kombo)


def test_unknown_integration_passes_the_upstream_404_envelope_through(naftiko: NaftikoServer, kombo: KomboFake) -> None:
    response = httpx.get(f"{naftiko.rest_url}/v1/integrations/nobody:nothing", timeout=10)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == INTEGRATION_NOT_FOUND


def test_path_traversal_in_a_route_value_stays_one_upstream_segment(naftiko: NaftikoServer, kombo: KomboFake) -> None:
    response = httpx.get(f"{naftiko.rest_url}/v1/integrations/a%2F..%2F..%2Fcheck-api-key", timeout=10)
    assert response.status_code == 404
    assert kombo.last.raw_path == "/v1/integrations/a%2F..%2F..%2Fcheck-api-key"
    assert kombo.last.path_segments == ["v1", "integrations", "a/../../check-api-key"]


def test_a_dot_dot_value_cannot_climb_the_upstream_path(naftiko: NaftikoServer, kombo: KomboFake) -> None:
    # (`/v1/tools/..` never leaves: the companion document's enum for `category` refuses it.)
    response = httpx.get(f"{naftiko.rest_url}/v1/integrations/%2E%2E", timeout=10)
    assert response.status_code == 404
    assert kombo.last.raw_path == "/v1/integrations/%2E%2E"


def test_missing_required_header_is_a_400_problem_before_any_upstream_call(
    naftiko: NaftikoServer, kombo: KomboFake
) -> None:
    response = httpx.post(f"{naftiko.rest_url}/v1/force-sync", json={"type": "FULL"}, timeout=10)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == [
        {"location": "header.X-Integration-Id", "message": "required argument is missing"}
    ]
    assert kombo.requests == []


def test_invalid_json_body_is_a_400_problem(naftiko: NaftikoServer, kombo: KomboFake) -> None:
    response = httpx.put(
        f"{naftiko.rest_url}/v1/integrations/x/enabled",
        content=b"{not json",
        headers={"content-type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["location"] == "body"
    assert kombo.requests == []


def test_unknown_route_and_wrong_method_are_problems(naftiko: NaftikoServer) -> None:
    missing = httpx.get(f"{naftiko.rest_url}/v1/nothing-here", timeout=10)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    wrong = httpx.post(f"{naftiko.rest_url}/v1/check-api-key", timeout=10)
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "GET, HEAD, OPTIONS"


def test_oversized_body_is_refused_with_413(naftiko: NaftikoServer, kombo: KomboFake) -> None:
    response = httpx.put(
        f"{naftiko.rest_url}/v1/integrations/x/enabled",
        content=b'{"value": "' + b"x" * (5 * 1024 * 1024) + b'"}',
        headers={"content-type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 413
    assert kombo.requests == []


def test_health_and_readiness_answer(naftiko: NaftikoServer) -> None:
    assert httpx.get(f"{naftiko.rest_url}/healthz", timeout=5).json() == {"status": "ok"}
    ready = httpx.get(f"{naftiko.rest_url}/readyz", timeout=5)
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready"}
