"""The REST facade's HTTP conventions on the wire: HEAD, OPTIONS, 405, CORS, validation, upstream headers."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from naftiko_runtime.cli import EXIT_USAGE, main
from tests.conftest import SecretTripwire
from tests.e2e.conftest import KOMBO_CAPABILITY
from tests.e2e.server import NaftikoServer
from tests.fakes import FakeServer

APP = "https://app.example"


@dataclass
class Scripted:
    status: int = 200
    body: bytes = b'{"status": "success", "data": {}}'
    headers: list[tuple[str, str]] = field(default_factory=lambda: [("content-type", "application/json")])


class ScriptedUpstream(FakeServer):
    """An upstream answering every request with what the test scripted, headers included."""

    def __init__(self) -> None:
        super().__init__(self._answer)
        self._lock = threading.Lock()
        self._scripted = Scripted()

    def script(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
        with self._lock:
            self._scripted = Scripted(status, body, headers)

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self._scripted = Scripted()

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        with self._lock:
            scripted = self._scripted
        headers = [(name.encode(), value.encode()) for name, value in scripted.headers]
        headers.append((b"content-length", str(len(scripted.body)).encode()))
        await send({"type": "http.response.start", "status": scripted.status, "headers": headers})
        await send({"type": "http.response.body", "body": scripted.body})


@pytest.fixture(scope="module")
def upstream() -> Iterator[ScriptedUpstream]:
    with ScriptedUpstream() as fake:
        yield fake


@pytest.fixture(autouse=True)
def _fresh_upstream(upstream: ScriptedUpstream) -> None:
    upstream.reset()


@pytest.fixture(scope="module")
def server(upstream: ScriptedUpstream, api_key: str, secret_tripwire: SecretTripwire) -> Iterator[NaftikoServer]:
    with NaftikoServer(
        [KOMBO_CAPABILITY],
        args=["--base-uri", f"kombo-general={upstream.url}/v1", "--cors-origin", APP],
        env={"KOMBO_API_KEY": api_key},
    ) as naftiko:
        naftiko.wait_ready()
        yield naftiko
        assert naftiko.stop() == 0, naftiko.output
        secret_tripwire.record("naftiko serve output", naftiko.output)


def call(server: NaftikoServer, method: str, path: str, **options: Any) -> httpx.Response:
    return httpx.request(method, server.rest_url + path, timeout=10, **options)


def test_head_answers_like_get_without_the_body(server: NaftikoServer, upstream: ScriptedUpstream) -> None:
    get = call(server, "GET", "/v1/check-api-key")
    head = call(server, "HEAD", "/v1/check-api-key")

    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == get.headers["content-length"] != "0"
    assert [request.method for request in upstream.requests] == ["GET", "GET"]


def test_options_answers_allow_and_another_method_is_a_405_with_allow(
    server: NaftikoServer, upstream: ScriptedUpstream
) -> None:
    options = call(server, "OPTIONS", "/v1/integrations/personio:1")
    refused = call(server, "PUT", "/v1/integrations/personio:1")

    assert (options.status_code, options.headers["allow"]) == (204, "DELETE, GET, HEAD, OPTIONS")
    assert (refused.status_code, refused.headers["allow"]) == (405, "DELETE, GET, HEAD, OPTIONS")
    assert refused.headers["content-type"] == "application/problem+json"
    assert upstream.requests == []


def test_a_browser_preflight_from_the_configured_origin_is_admitted(
    server: NaftikoServer, upstream: ScriptedUpstream
) -> None:
    asked = {
        "Origin": APP,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-integration-id",
    }
    admitted = call(server, "OPTIONS", "/v1/force-sync", headers=asked)
    foreign = call(server, "OPTIONS", "/v1/force-sync", headers={**asked, "Origin": "https://evil.example"})

    assert admitted.status_code == 204
    assert admitted.headers["access-control-allow-origin"] == APP
    assert admitted.headers["access-control-allow-methods"] == "POST, OPTIONS"
    assert admitted.headers["access-control-allow-headers"] == "x-integration-id"
    assert "access-control-allow-origin" not in foreign.headers
    assert upstream.requests == []


def test_passed_headers_reach_the_caller_and_a_browser_may_read_them(
    server: NaftikoServer, upstream: ScriptedUpstream
) -> None:
    upstream.script(
        201,
        b'{"status": "success", "data": {"sync_id": "s1"}}',
        [
            ("content-type", "application/json"),
            ("location", "/v1/syncs/s1"),
            ("ratelimit-policy", "100;w=60"),
            ("x-ratelimit-remaining", "99"),
            ("set-cookie", "session=upstream"),
            ("keep-alive", "timeout=5"),
            ("proxy-authenticate", "Basic"),
            ("cache-control", "public, max-age=600"),
        ],
    )

    response = call(
        server,
        "POST",
        "/v1/force-sync",
        headers={"Origin": APP, "X-Integration-Id": "personio:1"},
        json={"type": "FULL"},
    )

    assert response.status_code == 201
    assert response.headers["location"] == "/v1/syncs/s1"
    assert response.headers["ratelimit-policy"] == "100;w=60"
    assert response.headers["x-ratelimit-remaining"] == "99"
    for absent in ("set-cookie", "keep-alive", "proxy-authenticate", "cache-control"):
        assert absent not in response.headers
    assert response.headers["access-control-allow-origin"] == APP
    exposed = response.headers["access-control-expose-headers"].split(", ")
    assert {"location", "ratelimit-policy", "x-ratelimit-remaining"} <= set(exposed)
    assert "Origin" in response.headers.get_list("vary")


def test_an_upstream_429_passes_retry_after_with_its_own_body(
    server: NaftikoServer, upstream: ScriptedUpstream
) -> None:
    body = json.dumps({"status": "error", "error": {"code": "PLATFORM.RATE_LIMIT_EXCEEDED", "message": "slow"}})
    upstream.script(429, body.encode(), [("content-type", "application/json"), ("retry-after", "30")])

    response = call(server, "GET", "/v1/integrations/personio:1")

    assert response.status_code == 429
    assert response.headers["retry-after"] == "30"
    assert response.json()["error"]["code"] == "PLATFORM.RATE_LIMIT_EXCEEDED"


def test_a_non_json_answer_keeps_its_content_type(server: NaftikoServer, upstream: ScriptedUpstream) -> None:
    upstream.script(200, b"id,name\n1,Ada\n", [("content-type", "text/csv; charset=utf-8")])

    response = call(server, "GET", "/v1/check-api-key")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content == b"id,name\n1,Ada\n"


def test_every_invalid_input_is_listed_before_any_upstream_call(
    server: NaftikoServer, upstream: ScriptedUpstream
) -> None:
    response = call(server, "POST", "/v1/integrations/x/relink", json={"language": "xx", "link_type": 3})
    sync = call(server, "POST", "/v1/force-sync", json={"type": "EVERYTHING"})

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    locations = [error["location"] for error in response.json()["errors"]]
    assert locations == ["body.language", "body.link_type", "body.link_type"]
    assert sync.json()["errors"] == [
        {"location": "body.type", "message": "must be one of ['FULL', 'DELTA']"},
        {"location": "header.X-Integration-Id", "message": "required argument is missing"},
    ]
    assert upstream.requests == []


def test_a_cors_origin_with_a_path_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["serve", str(KOMBO_CAPABILITY), "--cors-origin", "https://app.example/ui"])

    assert code == EXIT_USAGE
    assert "--cors-origin expects * or SCHEME://HOST[:PORT]" in capsys.readouterr().err
