"""Upstream credentials (an API key in the query, a bearer token, a basic password) never reach a caller,
a log line, an error, `naftiko list`, the OpenAPI document or the control port, whatever the upstream does."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import httpx
import pytest
from mcp import Client
from starlette.types import Receive, Scope, Send

from tests.conftest import SecretTripwire
from tests.e2e.server import NaftikoServer
from tests.fakes import FakeServer
from tests.resilience.network_fakes import PrivateCa, TlsUpstream, closed_port, make_ca

pytestmark = pytest.mark.anyio

BEARER = "bt_" + secrets.token_hex(12)
PASSWORD = "pw_" + secrets.token_hex(12)
# How each fault is asked for: the last path segment of the call.
FAULTS = ["401", "500", "302", "html", "badjson", "reset", "slow", "ok"]


async def _leaky(scope: Scope, receive: Receive, send: Send) -> None:
    """An upstream whose failures repeat everything it was sent (URL, headers); its successes are plain data."""
    if scope["type"] != "http":
        return
    fault = scope["path"].rsplit("/", 1)[-1]
    query = scope.get("query_string", b"").decode("latin-1")
    url = f"http://{dict(scope['headers']).get(b'host', b'').decode()}{scope['path']}?{query}"
    told = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
    echo = json.dumps({"error": {"message": f"denied {url}", "request_headers": told}}).encode()
    status, content_type, headers, body = 200, b"application/json", [], b'{"ok": true}'
    if fault in ("401", "500"):
        status, body = int(fault), echo
        headers = [(b"www-authenticate", f'Bearer error="{told.get("authorization", "")}"'.encode())]
    elif fault == "302":
        status, headers, body = 302, [(b"location", url.encode())], echo
    elif fault == "html":  # a sign-in page where JSON was promised: the runtime answers 502 itself
        content_type, body = b"text/html", f"<html><body>Sign in again: {url} {told}</body></html>".encode()
    elif fault == "badjson":
        body = b'{"broken": '
    elif fault == "reset":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"100000")]})
        await send({"type": "http.response.body", "body": echo, "more_body": True})
        raise ConnectionResetError("cut")  # uvicorn drops the connection mid-body
    elif fault == "slow":
        await asyncio.sleep(5)
    start_headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": start_headers})
    await send({"type": "http.response.body", "body": body})


def _capability(leaky: str, dead: str, tls: str) -> str:
    """Three consumes namespaces per upstream, one per kind of credential, each with a route and a tool."""
    consumes, routes, tools = [], [], []
    upstreams = {"leaky": leaky, "dead": dead, "tls": tls, "dns": "http://upstream.invalid:9"}
    auths = {
        "key": '{type: apikey, key: api_key, value: "{{API_KEY}}", placement: query}',
        "bearer": '{type: bearer, token: "{{BEARER}}"}',
        "basic": '{type: basic, username: naftiko, password: "{{PASSWORD}}"}',
    }
    for upstream, base in upstreams.items():
        for kind, auth in auths.items():
            namespace = f"{upstream}-{kind}"
            consumes.append(
                f"""  - type: http
    namespace: {namespace}
    baseUri: "{base}"
    authentication: {auth}
    resources:
    - name: fault
      path: /fault/{{{{fault}}}}
      operations:
      - name: get-fault
        method: GET
        inputParameters:
        - {{name: fault, in: path}}
"""
            )
            routes.append(
                f"""    - path: /{namespace}/{{{{fault}}}}
      name: {namespace}
      operations:
      - method: GET
        name: {namespace}
        inputParameters:
        - {{name: fault, in: path, type: string}}
        call: {namespace}.get-fault
        with: {{fault: api.fault}}
"""
            )
            tools.append(
                f"""    - name: {namespace}
      description: Calls {namespace}.
      inputParameters:
      - {{name: fault, type: string, required: true, description: The fault.}}
      call: {namespace}.get-fault
      with: {{fault: tools.fault}}
"""
            )
    return (
        "naftiko: 1.0.0-alpha2\ncapability:\n  consumes:\n"
        + "".join(consumes)
        + "  exposes:\n  - type: control\n    port: 9199\n    management: {health: true, status: true, config: true}\n"
        + "  - type: rest\n    namespace: api\n    port: 8080\n    resources:\n"
        + "".join(routes)
        + "  - type: mcp\n    namespace: tools\n    port: 9090\n    tools:\n"
        + "".join(tools)
    )


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> PrivateCa:
    return make_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def served(ca: PrivateCa, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with FakeServer(_leaky) as leaky, TlsUpstream(ca) as tls:
        path = tmp_path_factory.mktemp("secrets") / "leaky.yaml"
        path.write_text(_capability(leaky.url, f"http://127.0.0.1:{closed_port()}", tls.url))
        yield path


def _forms(secret: str) -> list[str]:
    """A secret as it could travel: as is, URL-encoded, and base64-encoded with the user."""
    return [secret, quote(secret, safe=""), base64.b64encode(f"naftiko:{secret}".encode()).decode()]


class Scan:
    def __init__(self, tripwire: SecretTripwire, api_key: str) -> None:
        self.tripwire = tripwire
        self.secrets = [*_forms(api_key), *_forms(BEARER), *_forms(PASSWORD)]
        self.texts: list[tuple[str, str]] = []

    def record(self, where: str, text: str | bytes) -> None:
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        self.texts.append((where, text))
        self.tripwire.record(where, text)

    def leaks(self) -> list[str]:
        return [f"{where}: {text[:300]}" for where, text in self.texts if any(s in text for s in self.secrets)]


def _environment(api_key: str) -> dict[str, str]:
    return {"API_KEY": api_key, "BEARER": BEARER, "PASSWORD": PASSWORD}


async def test_no_credential_reaches_any_answer_or_the_log_whatever_the_upstream_does(
    served: Path, api_key: str, secret_tripwire: SecretTripwire
) -> None:
    scan = Scan(secret_tripwire, api_key)
    statuses: dict[str, int] = {}
    locations: dict[str, str] = {}
    with NaftikoServer(
        [served], args=["--read-timeout", "0.5", "--port", "9199=0", "--metrics-port", "0"], env=_environment(api_key)
    ) as server:
        server.wait_ready()
        namespaces = [
            f"{upstream}-{kind}" for upstream in ("leaky", "dead", "tls", "dns") for kind in ("key", "bearer", "basic")
        ]
        async with httpx.AsyncClient(timeout=15) as http, Client(server.mcp_url) as client:
            for namespace in namespaces:
                for fault in FAULTS if namespace.startswith("leaky") else ["ok"]:
                    response = await http.get(f"{server.rest_url}/{namespace}/{fault}")
                    statuses[f"{namespace}/{fault}"] = response.status_code
                    if fault == "302":
                        locations[namespace] = response.headers.get("location", "")
                    scan.record(f"REST {namespace}/{fault}", f"{response.headers}\n{response.text}")
                    result = await client.call_tool(namespace, {"fault": fault})
                    scan.record(f"MCP {namespace}/{fault}", result.model_dump_json())
            control = server.urls_by_namespace["control"]
            for path in ("/status", "/config", "/health/ready", "/metrics"):
                scan.record(f"control {path}", (await http.get(f"{control}{path}")).text)
            metrics = re.search(r"naftiko: METRICS at (\S+)", server.output)
            assert metrics is not None, server.output
            exposition = await http.get(metrics.group(1))
            assert exposition.status_code == 200 and "leaky-key" in exposition.text
            scan.record("--metrics-port", exposition.text)
            for path in ("/openapi.json", "/openapi.yaml", "/docs"):
                scan.record(f"REST {path}", (await http.get(f"{server.rest_url}{path}")).text)
        assert server.stop() == 0
    scan.record("server output", server.output)
    for command in (["list"], ["list", "--format", "json"], ["validate"], ["export", "openapi"]):
        result = subprocess.run(
            [sys.executable, "-m", "naftiko_runtime", *command, str(served)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**_inherited(), **_environment(api_key)},
        )
        scan.record(f"naftiko {' '.join(command)}", result.stdout + result.stderr)
    assert not scan.leaks(), "\n".join(scan.leaks())
    # The faults did happen: each is an answer the caller can read.
    assert statuses["leaky-key/ok"] == 200
    assert statuses["leaky-bearer/401"] == 401 and statuses["leaky-basic/302"] == 302
    assert {statuses[f"{name}-key/ok"] for name in ("dead", "tls", "dns")} == {502}
    assert statuses["leaky-bearer/slow"] == 504
    assert statuses["leaky-key/reset"] == 502 and statuses["leaky-key/html"] == 502
    # A redirect that carried the key is passed on with the key taken out.
    assert locations["leaky-key"].endswith("/fault/302?api_key=[redacted]")


def _inherited() -> dict[str, str]:
    import os

    return {name: value for name, value in os.environ.items() if not name.startswith("KOMBO")}


def test_a_failure_quoting_a_credential_in_any_encoding_is_scrubbed_and_a_success_is_untouched() -> None:
    from naftiko_runtime.consumer.client import UpstreamResponse
    from naftiko_runtime.consumer.redact import REDACTED, Redaction

    secret = "k/y+z 9"  # characters that percent- and form-encoding change
    quoted = f"raw {secret} pct {quote(secret, safe='')} form {quote_plus(secret)}"
    headers = {"location": f"https://x/?key={quote(secret, safe='')}", "x-note": secret}

    failed = Redaction([secret]).scrub(UpstreamResponse(401, headers, quoted.encode()))
    succeeded = Redaction([secret]).scrub(UpstreamResponse(200, headers, quoted.encode()))
    assert secret not in failed.body.decode() and quote(secret, safe="") not in failed.body.decode()
    assert failed.body.decode().count(REDACTED) == 3
    assert failed.headers["location"] == f"https://x/?key={REDACTED}" and failed.headers["x-note"] == REDACTED
    assert succeeded.body == quoted.encode()  # the API's data
    assert succeeded.headers["location"] == f"https://x/?key={REDACTED}"
