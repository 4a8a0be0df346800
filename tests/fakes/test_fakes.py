"""The fakes behave: the toolkit records and obeys its controls; the Kombo fake keeps Kombo's shapes."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.fakes import (
    CF_SHOE_SIZE,
    CF_TSHIRT_SIZE,
    CF_UNIFIED_TAX_ID,
    FACTORIAL_ID,
    GREENHOUSE_ID,
    IF_CUSTOM_SHOE_SIZE,
    IF_DATE_OF_BIRTH,
    IF_TAX_ID,
    PERSONIO_ID,
    FakeServer,
    KomboFake,
)

TIMEOUT = httpx.Timeout(5.0)
API_KEY = f"ks_test_{secrets.token_hex(12)}"
CAPABILITY = Path(__file__).resolve().parents[2] / "capabilities" / "kombo.yaml"


async def _echo(request: Request) -> JSONResponse:
    return JSONResponse({"path": request.url.path, "body": (await request.body()).decode()})


ECHO_APP = Starlette(routes=[Route("/{rest:path}", _echo, methods=["GET", "POST", "PUT"])])


@pytest.fixture
def echo() -> Iterator[FakeServer]:
    with FakeServer(ECHO_APP) as server:
        yield server


@pytest.fixture
def kombo() -> Iterator[KomboFake]:
    with KomboFake(api_key=API_KEY) as fake:
        yield fake


@pytest.fixture
def client(kombo: KomboFake) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {API_KEY}", "Accept": "application/json"}
    with httpx.Client(base_url=kombo.base_url, headers=headers, timeout=TIMEOUT) as http:
        yield http


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _error_code(response: httpx.Response) -> Any:
    body = response.json()
    assert body["status"] == "error"
    assert set(body["error"]) == {"code", "title", "message", "log_url"}
    return body["error"]["code"]


# -- the toolkit


def test_fake_server_listens_on_an_os_assigned_localhost_port(echo: FakeServer) -> None:
    assert echo.url.startswith("http://127.0.0.1:")
    assert int(echo.url.rsplit(":", 1)[1]) > 0
    assert httpx.get(f"{echo.url}/ping", timeout=TIMEOUT).status_code == 200


def test_recorder_keeps_method_raw_path_query_headers_and_body_in_order(echo: FakeServer) -> None:
    with httpx.Client(base_url=echo.url, timeout=TIMEOUT) as http:
        http.get("/first", params=[("a", "1"), ("a", "2 3"), ("b", "")], headers={"X-Trace": "t1"})
        http.post("/second", json={"hello": "wörld"})

    first, second = echo.recorder.wait_for(2, timeout=5)
    assert (first.method, first.raw_path) == ("GET", "/first")
    assert first.query == [("a", "1"), ("a", "2 3"), ("b", "")]
    assert first.query_string == "a=1&a=2+3&b="
    assert first.headers["x-trace"] == first.headers["X-TRACE"] == "t1"
    assert ("x-trace", "t1") in first.header_pairs
    assert first.body == b""
    assert (second.method, second.json()) == ("POST", {"hello": "wörld"})
    assert echo.last == second


def test_percent_encoded_slash_stays_in_the_recorded_raw_path(echo: FakeServer) -> None:
    httpx.get(f"{echo.url}/items/a%2F..%2Fb/x%20y", timeout=TIMEOUT)

    assert echo.last.raw_path == "/items/a%2F..%2Fb/x%20y"
    assert echo.last.path_segments == ["items", "a/../b", "x y"]


def test_wait_for_gives_up_after_its_timeout_when_too_few_requests_arrive(echo: FakeServer) -> None:
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="expected 1 request"):
        echo.recorder.wait_for(1, timeout=0.2)
    assert time.monotonic() - started < 2


def test_fail_with_status_answers_every_request_with_a_json_error_and_still_records_it(
    echo: FakeServer,
) -> None:
    echo.fail_with_status = 503
    response = httpx.post(f"{echo.url}/anything", content=b"payload", timeout=TIMEOUT)

    assert response.status_code == 503
    assert response.json()["error"]["status"] == 503
    assert echo.last.body == b"payload"

    echo.fail_with_status = None
    assert httpx.get(f"{echo.url}/anything", timeout=TIMEOUT).status_code == 200


def test_delay_triggers_a_client_read_timeout_and_counts_the_disconnect(echo: FakeServer) -> None:
    echo.delay_seconds = 10
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{echo.url}/slow", timeout=httpx.Timeout(5.0, read=0.3))

    assert echo.recorder.wait_for_disconnects(1, timeout=5) == 1
    assert echo.last.raw_path == "/slow"


def test_delay_shorter_than_the_client_timeout_still_answers(echo: FakeServer) -> None:
    echo.delay_seconds = 0.2
    started = time.monotonic()
    response = httpx.get(f"{echo.url}/slow", timeout=TIMEOUT)

    assert response.status_code == 200
    assert time.monotonic() - started >= 0.2
    assert echo.disconnects == 0


def test_held_answers_wait_for_release_and_a_client_leaving_is_counted(echo: FakeServer) -> None:
    echo.hold()
    answers: list[int] = []
    caller = threading.Thread(target=lambda: answers.append(httpx.get(f"{echo.url}/held", timeout=TIMEOUT).status_code))
    caller.start()
    echo.recorder.wait_for(1, timeout=5)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{echo.url}/left", timeout=httpx.Timeout(5.0, read=0.3))
    assert echo.recorder.wait_for_disconnects(1, timeout=5) == 1
    assert answers == []

    echo.release()
    caller.join(timeout=5)

    assert answers == [200]
    assert httpx.get(f"{echo.url}/after", timeout=TIMEOUT).status_code == 200


def test_close_is_prompt_with_a_delayed_request_in_flight() -> None:
    server = FakeServer(ECHO_APP).start()
    server.delay_seconds = 30
    outcome: list[object] = []

    def call() -> None:
        try:
            outcome.append(httpx.get(f"{server.url}/slow", timeout=TIMEOUT).status_code)
        except httpx.HTTPError as error:
            outcome.append(error)

    caller = threading.Thread(target=call)
    caller.start()
    server.recorder.wait_for(1, timeout=5)
    started = time.monotonic()
    server.close()
    caller.join(timeout=5)

    assert time.monotonic() - started < 3
    assert outcome == [200]
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/after", timeout=TIMEOUT)


def test_reset_forgets_requests_and_switches_controls_off(echo: FakeServer) -> None:
    echo.fail_with_status = 500
    echo.delay_seconds = 0.1
    httpx.get(f"{echo.url}/x", timeout=TIMEOUT)

    echo.reset()

    assert echo.requests == []
    assert echo.fail_with_status is None
    assert echo.delay_seconds == 0.0


@pytest.mark.anyio
async def test_fake_server_serves_async_tests_too() -> None:
    with FakeServer(ECHO_APP) as server:
        async with httpx.AsyncClient(timeout=TIMEOUT) as http:
            response = await http.put(f"{server.url}/async", content=b"hi")
    assert response.json() == {"path": "/async", "body": "hi"}


# -- the Kombo fake

# One valid call per operation of capabilities/kombo.yaml: (method, path template, path, headers, json body).
OPERATIONS: list[tuple[str, str, str, dict[str, str], Any]] = [
    ("GET", "/check-api-key", "/check-api-key", {}, None),
    ("POST", "/force-sync", "/force-sync", {"X-Integration-Id": PERSONIO_ID}, {"type": "DELTA"}),
    ("GET", "/integrations/{integration_id}", f"/integrations/{PERSONIO_ID}", {}, None),
    (
        "GET",
        "/integrations/{integration_id}/custom-fields",
        f"/integrations/{PERSONIO_ID}/custom-fields",
        {},
        None,
    ),
    (
        "PUT",
        "/integrations/{integration_id}/custom-fields/{custom_field_id}",
        f"/integrations/{PERSONIO_ID}/custom-fields/{CF_SHOE_SIZE}",
        {},
        {"integration_field_id": IF_CUSTOM_SHOE_SIZE},
    ),
    (
        "PUT",
        "/integrations/{integration_id}/enabled",
        f"/integrations/{PERSONIO_ID}/enabled",
        {},
        {"value": True},
    ),
    (
        "GET",
        "/integrations/{integration_id}/integration-fields",
        f"/integrations/{PERSONIO_ID}/integration-fields",
        {},
        None,
    ),
    (
        "PATCH",
        "/integrations/{integration_id}/integration-fields/{integration_field_id}",
        f"/integrations/{PERSONIO_ID}/integration-fields/{IF_DATE_OF_BIRTH}",
        {},
        {"enable_passthrough": True},
    ),
    ("POST", "/integrations/{integration_id}/relink", f"/integrations/{PERSONIO_ID}/relink", {}, {}),
    (
        "POST",
        "/integrations/{integration_id}/setup-link",
        f"/integrations/{PERSONIO_ID}/setup-link",
        {},
        {"link_type": "MAGIC_LINK"},
    ),
    (
        "POST",
        "/passthrough/{tool}/{api}",
        "/passthrough/personio/personnel",
        {"X-Integration-Id": PERSONIO_ID},
        {"method": "GET", "path": "/company/employees"},
    ),
    ("GET", "/tools/{category}", "/tools/hris", {}, None),
    ("DELETE", "/integrations/{integration_id}", f"/integrations/{PERSONIO_ID}", {}, {}),
]


def test_the_fake_covers_exactly_the_operations_of_the_capability() -> None:
    capability = yaml.safe_load(CAPABILITY.read_text())
    declared = {
        (operation["method"], resource["path"])
        for consumed in capability["capability"]["consumes"]
        for resource in consumed["resources"]
        for operation in resource["operations"]
    }
    assert declared == {(method, template) for method, template, *_ in OPERATIONS}


@pytest.mark.parametrize(
    ("method", "path", "headers", "body"),
    [
        pytest.param(method, path, headers, body, id=f"{method} {template}")
        for method, template, path, headers, body in OPERATIONS
    ],
)
def test_every_operation_answers_in_the_success_envelope(
    client: httpx.Client, method: str, path: str, headers: dict[str, str], body: Any
) -> None:
    response = client.request(method, path.lstrip("/"), headers=headers, json=body)

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "success"
    assert isinstance(response.json()["data"], dict)


@pytest.mark.parametrize("authorization", [None, "Bearer ks_test_wrong", f"Basic {API_KEY}", f"Bearer {API_KEY}x"])
def test_requests_without_the_right_bearer_key_are_rejected_and_still_recorded(
    kombo: KomboFake, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = httpx.get(f"{kombo.base_url}/check-api-key", headers=headers, timeout=TIMEOUT)

    assert response.status_code == 401
    assert _error_code(response) == "PLATFORM.AUTHENTICATION_INVALID"
    assert API_KEY not in response.text
    assert kombo.last.raw_path == "/v1/check-api-key"


def test_check_api_key_answers_environment_and_customer(client: httpx.Client, kombo: KomboFake) -> None:
    data = client.get("check-api-key").json()["data"]

    assert data == {"environment_id": kombo.environment_id, "customer_id": kombo.customer_id}


def test_integration_details_have_kombos_shape(client: httpx.Client) -> None:
    data = client.get(f"integrations/{PERSONIO_ID}").json()["data"]

    assert data["id"] == PERSONIO_ID
    assert data["tool"]["id"] == "personio"
    assert set(data["tool"]) == {"id", "label", "internal_label", "logo_url", "icon_url"}
    assert (data["category"], data["status"]) == ("HRIS", "ACTIVE")
    assert set(data["end_user"]) == {"organization_name", "creator_email", "origin_id"}
    assert set(data) >= {
        "setup_status",
        "scope_config",
        "data_expired_at",
        "created_at",
        "beta",
        "read_models",
    }


def test_unknown_integration_answers_404_integration_not_found(client: httpx.Client) -> None:
    for method, suffix in [("GET", ""), ("GET", "/custom-fields"), ("POST", "/relink"), ("DELETE", "")]:
        response = client.request(method, f"integrations/personio:nope{suffix}", json={})
        assert response.status_code == 404
        assert _error_code(response) == "PLATFORM.INTEGRATION_NOT_FOUND"


def test_encoded_slash_in_a_path_parameter_arrives_as_one_segment(client: httpx.Client, kombo: KomboFake) -> None:
    response = client.get("integrations/a%2F..%2Fb")

    assert response.status_code == 404
    assert _error_code(response) == "PLATFORM.INTEGRATION_NOT_FOUND"
    assert "'a/../b'" in response.json()["error"]["message"]
    assert kombo.last.raw_path == "/v1/integrations/a%2F..%2Fb"
    assert kombo.last.path_segments == ["v1", "integrations", "a/../b"]


def _all_pages(client: httpx.Client, path: str, page_size: int) -> tuple[list[Any], int]:
    results: list[Any] = []
    params: dict[str, str] = {"page_size": str(page_size)}
    pages = 0
    while True:
        data = client.get(path, params=params).json()["data"]
        pages += 1
        assert data["next"] == data["next_cursor"]
        results += data["results"]
        if data["next"] is None:
            return results, pages
        params["cursor"] = data["next"]


def test_custom_fields_paginate_with_a_next_cursor(client: httpx.Client) -> None:
    results, pages = _all_pages(client, f"integrations/{PERSONIO_ID}/custom-fields", page_size=2)

    assert pages == 2
    assert [field["id"] for field in results] == [CF_UNIFIED_TAX_ID, CF_TSHIRT_SIZE, CF_SHOE_SIZE]
    assert results[0]["integration_field"]["id"] == IF_TAX_ID
    assert results[2]["integration_field"] is None
    assert set(results[0]) == {"id", "key", "integration_field", "model", "label", "description"}


def test_integration_fields_paginate_until_next_is_null(client: httpx.Client) -> None:
    results, pages = _all_pages(client, f"integrations/{PERSONIO_ID}/integration-fields", page_size=2)

    assert pages == 3
    assert len(results) == 5
    assert set(results[0]) == {"id", "key", "model", "type", "label", "is_passthrough_enabled", "is_writable"}
    first_page = client.get(f"integrations/{PERSONIO_ID}/integration-fields").json()["data"]
    assert len(first_page["results"]) == 5
    assert first_page["next"] is None


@pytest.mark.parametrize("page_size", ["ten", "1.5", "", "0", "251"])
def test_invalid_page_size_is_rejected_as_input_invalid(client: httpx.Client, page_size: str) -> None:
    response = client.get(f"integrations/{PERSONIO_ID}/custom-fields", params={"page_size": page_size})

    assert response.status_code == 400
    assert _error_code(response) == "PLATFORM.INPUT_INVALID"


def test_put_custom_field_changes_and_removes_its_mapping(client: httpx.Client, kombo: KomboFake) -> None:
    path = f"integrations/{PERSONIO_ID}/custom-fields/{CF_SHOE_SIZE}"
    mapped = client.put(path, json={"integration_field_id": IF_CUSTOM_SHOE_SIZE}).json()["data"]
    assert mapped["integration_field"]["id"] == IF_CUSTOM_SHOE_SIZE
    assert kombo.custom_fields(PERSONIO_ID)[2]["integration_field"]["key"] == "custom.shoe_size"

    unmapped = client.put(path, json={"integration_field_id": None}).json()["data"]
    assert unmapped["integration_field"] is None
    bad = client.put(path, json={"integration_field_id": "doesNotExist"})
    assert _error_code(bad) == "PLATFORM.INPUT_INVALID"


def test_patch_integration_field_toggles_passthrough(client: httpx.Client, kombo: KomboFake) -> None:
    path = f"integrations/{PERSONIO_ID}/integration-fields/{IF_TAX_ID}"
    data = client.patch(path, json={"enable_passthrough": False}).json()["data"]

    assert (data["id"], data["is_passthrough_enabled"]) == (IF_TAX_ID, False)
    assert kombo.integration_fields(PERSONIO_ID)[0]["is_passthrough_enabled"] is False
    unchanged = client.patch(path, json={"enable_passthrough": None}).json()["data"]
    assert unchanged["is_passthrough_enabled"] is False


def test_disabling_and_enabling_an_integration_changes_its_status(client: httpx.Client) -> None:
    assert client.put(f"integrations/{PERSONIO_ID}/enabled", json={"value": False}).json() == {
        "status": "success",
        "data": {},
    }
    assert client.get(f"integrations/{PERSONIO_ID}").json()["data"]["status"] == "INACTIVE"
    client.put(f"integrations/{FACTORIAL_ID}/enabled", json={"value": True})
    assert client.get(f"integrations/{FACTORIAL_ID}").json()["data"]["status"] == "ACTIVE"
    missing_value = client.put(f"integrations/{PERSONIO_ID}/enabled", json={})
    assert _error_code(missing_value) == "PLATFORM.INPUT_INVALID"


def test_deleted_integration_is_gone(client: httpx.Client, kombo: KomboFake) -> None:
    assert client.request("DELETE", f"integrations/{GREENHOUSE_ID}", json={}).json()["data"] == {}

    response = client.get(f"integrations/{GREENHOUSE_ID}")
    assert response.status_code == 404
    assert _error_code(response) == "PLATFORM.INTEGRATION_NOT_FOUND"
    assert GREENHOUSE_ID not in kombo.integration_ids()


def test_relink_and_setup_link_return_a_link(client: httpx.Client) -> None:
    relink = client.post(f"integrations/{PERSONIO_ID}/relink", json={"language": "de", "link_type": "EMBEDDED"})
    setup = client.post(f"integrations/{PERSONIO_ID}/setup-link", json={"link_type": "EMBEDDED"})

    assert relink.json()["data"]["link"].startswith("https://")
    assert setup.json()["data"]["link"].startswith("https://")
    no_link_type = client.post(f"integrations/{PERSONIO_ID}/setup-link", json={"language": "en"})
    assert _error_code(no_link_type) == "PLATFORM.INPUT_INVALID"
    bad_language = client.post(f"integrations/{PERSONIO_ID}/relink", json={"language": "xx"})
    assert _error_code(bad_language) == "PLATFORM.INPUT_INVALID"


def test_force_sync_requires_the_integration_id_header(client: httpx.Client) -> None:
    response = client.post("force-sync", json={"type": "FULL"})

    assert response.status_code == 400
    assert _error_code(response) == "PLATFORM.INPUT_INVALID"


def test_force_sync_queues_one_sync_and_reports_it_as_already_queued_after(
    client: httpx.Client, kombo: KomboFake
) -> None:
    headers = {"X-Integration-Id": PERSONIO_ID}
    first = client.post("force-sync", headers=headers, json={"type": "DELTA"}).json()["data"]
    second = client.post("force-sync", headers=headers, json={}).json()["data"]

    assert (first["already_queued"], first["type"]) == (False, "DELTA")
    assert (second["already_queued"], second["sync_id"]) == (True, first["sync_id"])
    assert kombo.syncs() == [{"integration_id": PERSONIO_ID, "sync_id": first["sync_id"], "type": "DELTA"}]
    bad_type = client.post("force-sync", headers=headers, json={"type": "SOMETIMES"})
    assert _error_code(bad_type) == "PLATFORM.INPUT_INVALID"


def test_passthrough_echoes_the_request_in_kombos_top_level_shape(client: httpx.Client) -> None:
    body = {"method": "POST", "path": "/company/employees", "params": {"limit": "5"}, "data": {"a": 1}}
    response = client.post("passthrough/personio/personnel", headers={"X-Integration-Id": PERSONIO_ID}, json=body)
    answer = response.json()

    assert answer["status"] == "success"
    assert answer["warnings"] and set(answer["warnings"][0]) == {"message"}
    assert answer["data"]["url"] == "https://api.personio.de/v1/company/employees?limit=5"
    assert answer["data"]["status"] == 200
    assert answer["data"]["data"]["method"] == "POST"
    assert answer["data"]["data"]["data"] == {"a": 1}
    no_header = client.post("passthrough/personio/personnel", json=body)
    assert _error_code(no_header) == "PLATFORM.INPUT_INVALID"


def test_tools_are_listed_per_category_and_unknown_categories_are_rejected(client: httpx.Client) -> None:
    for category in ["hris", "ats", "assessment", "lms"]:
        tools = client.get(f"tools/{category}").json()["data"]["tools"]
        assert tools, category
        assert set(tools[0]["assets"]) == {"logo_url", "icon_url", "icon_black_url"}
        assert set(tools[0]["coverage"]) == {"read_models", "write_actions", "features"}
    ats = [tool["id"] for tool in client.get("tools/ats").json()["data"]["tools"]]
    assert "greenhouse" in ats
    response = client.get("tools/crm")
    assert response.status_code == 400
    assert _error_code(response) == "PLATFORM.INPUT_INVALID"


@pytest.mark.parametrize(("status", "code"), [(429, "PLATFORM.RATE_LIMIT_EXCEEDED"), (500, "PLATFORM.UNKNOWN_ERROR")])
def test_injected_failures_use_kombos_error_envelope(
    client: httpx.Client, kombo: KomboFake, status: int, code: str
) -> None:
    kombo.fail_with_status = status
    response = client.get("check-api-key")

    assert response.status_code == status
    assert _error_code(response) == code
    assert len(kombo.requests) == 1


def test_reset_restores_the_seeded_state(client: httpx.Client, kombo: KomboFake) -> None:
    client.request("DELETE", f"integrations/{PERSONIO_ID}", json={})
    kombo.reset()

    assert kombo.integration_ids() == [PERSONIO_ID, GREENHOUSE_ID, FACTORIAL_ID]
    assert kombo.requests == []
