"""Property-based fuzzing, bounded: mutated capability files only ever fail as a `CapabilityError`;
random arguments, paths and raw bytes sent to a running server never get a 500, a traceback or a hang."""

from __future__ import annotations

import copy
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from naftiko_runtime.capability import LoadOptions, load_capability
from naftiko_runtime.diagnostics import CapabilityError
from naftiko_runtime.runtime import RuntimeOptions, build_runtime
from tests.e2e.server import NaftikoServer
from tests.fakes import FakeServer
from tests.resilience.upstream import echo_upstream, hostile_capability

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "lint" / "official"
# Seeds covering the vocabulary: typed tools, every parameter place, steps and aggregates, forwards,
# skills and the control port, resources and prompts, script steps.
SEEDS = {
    "jsonplaceholder": (ROOT / "examples" / "jsonplaceholder.yaml").read_text(),
    "hostile": hostile_capability("http://127.0.0.1:9"),
    "aggregates": (DATA / "test/resources/aggregates/aggregate-step-with-namespace.yaml").read_text(),
    "forward": (DATA / "test/resources/http/http-forward-value-capability.yaml").read_text(),
    "skill": (DATA / "main/resources/tutorial/step-10-shipyard-rest-adapter.yml").read_text(),
    "prompts": (DATA / "test/resources/mcp/mcp-resources-prompts-capability.yaml").read_text(),
    "script": (DATA / "main/resources/schemas/examples/script-step.yml").read_text(),
}
BOUNDED = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
MODERN = "2026-07-28"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=True) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
# Values a capability author gets wrong: wrong types, placeholders, references, odd names.
spec_values = json_values | st.sampled_from(
    ["{{x}}", "{{", "}}", "rest.x", "tools.x", "$.x", "$", "{id}", "../../etc/passwd", "file:///./nope.yaml", "", "-1"]
)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*prefix, index))
    return found


@st.composite
def mutated_documents(draw: st.DrawFn) -> str:
    """A seed capability with a few of its fields replaced, removed or duplicated, as YAML text."""
    data = yaml.safe_load(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(data)
        path = draw(st.sampled_from(paths[1:] if len(paths) > 1 else paths))
        parent = data
        for step in path[:-1]:
            parent = parent[step]
        if not path:
            data = draw(spec_values)
            break
        action = draw(st.sampled_from(["replace", "remove", "duplicate"]))
        key = path[-1]
        if action == "replace":
            parent[key] = draw(spec_values)
        elif action == "remove":
            del parent[key]
        elif isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
        else:
            parent[f"{key}-copy" if isinstance(key, str) else key] = copy.deepcopy(parent[key])
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


@st.composite
def garbled_texts(draw: st.DrawFn) -> str:
    """A seed capability's text with bytes inserted, deleted or cut short."""
    text = SEEDS[draw(st.sampled_from(sorted(SEEDS)))]
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "delete", "cut"]))
        if kind == "insert":
            text = text[:at] + draw(st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=8)) + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 20)) :]
        else:
            text = text[:at]
    return text


def _load_only_fails_clearly(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    for load in (
        lambda: load_capability(path, LoadOptions(companion_schemas=True)),
        lambda: build_runtime([path], RuntimeOptions(environ={})),
    ):
        try:
            load()
        except CapabilityError as exc:
            assert exc.diagnostics, "a CapabilityError names at least one problem"
            assert all(str(diagnostic) for diagnostic in exc.diagnostics)


@BOUNDED
@given(text=mutated_documents())
def test_a_capability_with_fields_mutated_loads_or_fails_as_a_capability_error(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    _load_only_fails_clearly(tmp_path_factory.mktemp("fuzz") / "mutated.yaml", text)


@BOUNDED
@given(text=garbled_texts())
def test_a_capability_with_bytes_garbled_loads_or_fails_as_a_capability_error(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    _load_only_fails_clearly(tmp_path_factory.mktemp("fuzz") / "garbled.yaml", text)


# -- a running server


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeServer]:
    with echo_upstream() as fake:
        yield fake


@pytest.fixture(scope="module")
def server(upstream: FakeServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NaftikoServer]:
    directory = tmp_path_factory.mktemp("served")
    (directory / "items.yaml").write_text(hostile_capability(upstream.url))
    posts = SEEDS["jsonplaceholder"].replace("https://jsonplaceholder.typicode.com", upstream.url)
    (directory / "posts.yaml").write_text(posts.replace("port: 8080", "port: 8080").replace("port: 9090", "port: 9090"))
    with NaftikoServer([directory], args=["--prefix-tools", "--prefix-routes"]) as running:
        running.wait_ready()
        yield running
        assert running.stop() == 0
        output = running.output
        assert "Traceback" not in output and "failed inside the runtime" not in output, output


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def tool_names(server: NaftikoServer, http: httpx.Client) -> list[str]:
    listing = _mcp(http, server, "tools/list", {})
    return [tool["name"] for tool in listing.json()["result"]["tools"]]


def _mcp(http: httpx.Client, server: NaftikoServer, method: str, params: Any, *, name: str = "") -> httpx.Response:
    """One 2026-07-28 request: no session, the envelope in `_meta` and the headers."""
    if isinstance(params, dict):
        params = {
            **params,
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": MODERN,
                "io.modelcontextprotocol/clientCapabilities": {},
            },
        }
    headers = {
        "accept": "application/json, text/event-stream",
        "content-type": "application/json",
        "mcp-protocol-version": MODERN,
        "mcp-method": method,
    }
    if name:
        headers["mcp-name"] = name
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    return http.post(server.mcp_url, content=json.dumps(body), headers=headers)


def _no_internal_error(response: httpx.Response) -> None:
    assert response.status_code != 500, response.text
    assert "failed inside the runtime" not in response.text, response.text
    assert '"code":-32603' not in response.text.replace(" ", ""), response.text


@BOUNDED
@given(data=st.data())
def test_random_tool_arguments_get_an_answer_or_a_clear_error(
    server: NaftikoServer, http: httpx.Client, tool_names: list[str], data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from(tool_names))
    known = ["id", "trace", "tenant", "q", "session", "user", "title", "body"]
    arguments = data.draw(
        st.dictionaries(st.sampled_from(known) | st.text(max_size=10), json_values, max_size=5) | json_values
    )
    response = _mcp(http, server, "tools/call", {"name": name, "arguments": arguments}, name=name)
    _no_internal_error(response)


@BOUNDED
@given(
    path=st.lists(st.text(max_size=12), max_size=4),
    query=st.lists(st.tuples(st.text(max_size=8), st.text(max_size=12)), max_size=4),
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]),
    body=st.binary(max_size=256),
)
def test_random_rest_requests_never_get_a_500(
    server: NaftikoServer,
    http: httpx.Client,
    path: list[str],
    query: list[tuple[str, str]],
    method: str,
    body: bytes,
) -> None:
    prefix = ["items", "items/x", "posts/posts", "posts/posts/1", ""]
    url = f"{server.rest_url}/{prefix[len(path) % len(prefix)]}/" + "/".join(quote(part, safe="") for part in path)
    response = http.request(method, url, params=query, content=body)
    _no_internal_error(response)


@BOUNDED
@given(body=st.binary(max_size=512) | st.text(max_size=256).map(str.encode))
def test_raw_bytes_posted_to_the_mcp_endpoint_get_a_protocol_error_not_a_500(
    server: NaftikoServer, http: httpx.Client, body: bytes
) -> None:
    headers = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
    response = http.post(server.mcp_url, content=body, headers=headers)
    _no_internal_error(response)


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(garbage=st.binary(min_size=1, max_size=300))
def test_raw_bytes_on_the_socket_get_an_answer_or_a_close_never_a_500_or_a_hang(
    server: NaftikoServer, garbage: bytes
) -> None:
    for url in (server.rest_url, server.mcp_url):
        parsed = httpx.URL(url)
        with socket.create_connection((parsed.host, parsed.port), timeout=5) as sock:
            sock.sendall(garbage + b"\r\n\r\n")
            sock.shutdown(socket.SHUT_WR)
            answer = b""
            while chunk := sock.recv(65536):  # the server answers and closes: a hang fails the 5 s timeout
                answer += chunk
        assert not answer.startswith(b"HTTP/1.1 500"), answer[:200]
