"""Hostile input: header injection refused, path values stay one segment, the upstream host is the
configured one, YAML bombs refused, an open listen address warned about."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from mcp import Client
from starlette.types import Receive, Scope, Send

from tests.e2e.server import NaftikoServer
from tests.fakes import FakeServer
from tests.resilience.upstream import echo_upstream, hostile_capability, passthrough_capability

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeServer]:
    with echo_upstream() as fake:
        yield fake


@pytest.fixture(scope="module")
def server(upstream: FakeServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NaftikoServer]:
    served = tmp_path_factory.mktemp("hostile") / "items.yaml"
    served.write_text(hostile_capability(upstream.url))
    with NaftikoServer([served]) as running:
        running.wait_ready()
        yield running
        assert running.stop() == 0


@pytest.fixture(autouse=True)
def _fresh(upstream: FakeServer) -> None:
    upstream.reset()


@pytest.mark.parametrize(
    ("query", "argument"),
    [
        ("trace=a%0D%0AX-Injected:%201", "trace"),
        ("trace=a%0Ab", "trace"),
        ("trace=a%00b", "trace"),
        ("tenant=acme%0D%0AX-Injected:%201", "tenant"),  # through a header's template
    ],
)
def test_cr_lf_or_nul_reaching_an_upstream_header_is_a_400_naming_the_argument(
    server: NaftikoServer, upstream: FakeServer, query: str, argument: str
) -> None:
    response = httpx.get(f"{server.rest_url}/items/x?{query}", timeout=10)
    assert response.status_code == 400
    assert [problem["location"] for problem in response.json()["errors"]] == [argument]
    assert "CR, LF or NUL" in response.json()["detail"]
    assert upstream.requests == []


@pytest.mark.parametrize("arguments", [{"trace": "a\r\nX-Injected: 1"}, {"tenant": "a\nb"}, {"trace": "a\x00"}])
async def test_cr_lf_or_nul_reaching_an_upstream_header_is_an_mcp_error_naming_the_argument(
    server: NaftikoServer, upstream: FakeServer, arguments: dict[str, str]
) -> None:
    async with Client(server.mcp_url) as client:
        result = await client.call_tool("get-item", {"id": "x", **arguments})
    assert result.is_error
    text = result.content[0].text  # type: ignore[union-attr]
    assert f"{next(iter(arguments))}: cannot contain CR, LF or NUL" in text
    assert upstream.requests == []


def test_line_breaks_in_query_and_cookie_values_travel_encoded(server: NaftikoServer, upstream: FakeServer) -> None:
    response = httpx.get(f"{server.rest_url}/items/x?q=a%0D%0Ab&session=s%0D%0Ax", timeout=10)
    assert response.status_code == 200
    sent = upstream.last
    assert sent.query_string == "q=a%0D%0Ab"
    assert sent.headers["cookie"] == "session=s%0D%0Ax"


@pytest.mark.parametrize("value", ["a/b", "..", ".", "../../admin", "http://evil.example/x", "//evil.example", "@evil"])
async def test_a_path_value_is_one_encoded_segment_under_the_configured_base(
    server: NaftikoServer, upstream: FakeServer, value: str
) -> None:
    async with Client(server.mcp_url) as client:
        result = await client.call_tool("get-item", {"id": value})
    assert not result.is_error
    sent = upstream.last
    assert sent.path_segments == ["base", "items", value, "detail"]
    assert sent.headers["host"] == upstream.url.removeprefix("http://")


def test_an_encoded_slash_in_a_rest_path_value_stays_inside_the_value(
    server: NaftikoServer, upstream: FakeServer
) -> None:
    response = httpx.get(f"{server.rest_url}/items/{quote('../../admin', safe='')}", timeout=10)
    assert response.status_code == 200
    assert upstream.last.path_segments == ["base", "items", "../../admin", "detail"]


def test_an_upstream_redirect_is_not_followed(tmp_path: Path) -> None:
    with echo_upstream() as elsewhere:
        location = f"{elsewhere.url}/stolen".encode()

        async def redirect(scope: Scope, receive: Receive, send: Send) -> None:
            headers = [(b"location", location), (b"content-length", b"0")]
            await send({"type": "http.response.start", "status": 302, "headers": headers})
            await send({"type": "http.response.body", "body": b""})

        with FakeServer(redirect) as redirecting:
            served = tmp_path / "things.yaml"
            served.write_text(passthrough_capability(redirecting.url))
            with NaftikoServer([served]) as running:
                running.wait_ready()
                response = httpx.get(f"{running.rest_url}/things/a", timeout=10, follow_redirects=False)
                assert running.stop() == 0
        assert len(redirecting.requests) == 1
        assert elsewhere.requests == []
    assert response.status_code == 302


def _validate(path: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "naftiko_runtime", "validate", str(path)], capture_output=True, text=True, timeout=60
    )
    return result, time.monotonic() - started


def test_a_yaml_alias_bomb_is_refused_quickly_with_its_place(tmp_path: Path) -> None:
    lines = ["naftiko: 1.0.0-alpha2", "a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 9):
        previous, name = f"a{level - 1}" if level > 1 else "a", f"a{level}"
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 10)}]")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\n")
    result, elapsed = _validate(bomb)
    assert result.returncode == 1
    assert "document too large (over 250000 nodes once aliases are expanded)" in result.stdout + result.stderr
    assert f"{bomb}:" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert elapsed < 10


def test_nesting_deep_enough_to_exhaust_the_stack_is_refused(tmp_path: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("naftiko: 1.0.0-alpha2\ncapability: " + "[" * 900 + "]" * 900 + "\n")
    result, _ = _validate(deep)
    assert result.returncode == 1
    assert "nested too deeply" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_yaml_tags_that_build_objects_are_refused(tmp_path: Path) -> None:
    tagged = tmp_path / "tagged.yaml"
    marker = tmp_path / "ran"
    tagged.write_text(f"naftiko: !!python/object/apply:os.system ['touch {marker}']\n")
    result, _ = _validate(tagged)
    assert result.returncode == 1
    assert not marker.exists()
    assert "Traceback" not in result.stderr


def test_listening_beyond_loopback_without_inbound_authentication_is_warned(
    upstream: FakeServer, tmp_path: Path
) -> None:
    served = tmp_path / "things.yaml"
    served.write_text(passthrough_capability(upstream.url))
    with NaftikoServer([served], args=["--host", "0.0.0.0"]) as running:
        running.wait_ready()
        assert running.stop() == 0
    assert "rest adapter 'api' listens on 0.0.0.0 without inbound authentication" in running.output
    assert "mcp adapter 'tools' listens on 0.0.0.0 without inbound authentication" in running.output


def test_a_credential_with_a_line_break_is_refused_without_showing_it(upstream: FakeServer, tmp_path: Path) -> None:
    served = tmp_path / "things.yaml"
    text = passthrough_capability(upstream.url).replace(
        '    baseUri: "', '    authentication: {type: bearer, token: "{{UP_TOKEN}}"}\n    baseUri: "', 1
    )
    served.write_text(text)
    token = "tok-with-newline-7f3a"
    with NaftikoServer([served], env={"UP_TOKEN": token + "\n"}) as running:
        running.wait_ready()
        response = httpx.get(f"{running.rest_url}/things/a", timeout=10)
        assert running.stop() == 0
    assert response.status_code == 503
    assert "credential contains a line break or NUL" in response.json()["detail"]
    assert token not in response.text and token not in running.output
    assert upstream.requests == []
