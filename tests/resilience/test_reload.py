"""`serve --watch`: edits reload while calls go on; broken edits change nothing; MCP sessions survive."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.e2e.server import NaftikoServer
from tests.fakes import FakeServer
from tests.resilience.upstream import capability, echo_upstream, wait_until

pytestmark = pytest.mark.anyio


@pytest.fixture
def upstream() -> Iterator[FakeServer]:
    with echo_upstream() as fake:
        yield fake


def _version(server: NaftikoServer, thing: str = "a") -> str:
    return str(httpx.get(f"{server.rest_url}/things/{thing}", timeout=10).json()["version"])


def _burst(server: NaftikoServer, stop: threading.Event, answers: list[tuple[int, str]]) -> None:
    with httpx.Client(timeout=10) as http:
        index = 0
        while not stop.is_set():
            index += 1
            response = http.get(f"{server.rest_url}/things/{index}")
            version = response.json().get("version", "") if response.status_code == 200 else response.text
            answers.append((response.status_code, version))


def test_a_burst_of_calls_across_a_good_and_a_broken_edit_loses_no_call(upstream: FakeServer, tmp_path: Path) -> None:
    upstream.delay_seconds = 0.02  # calls are in flight when the switch happens
    served = tmp_path / "things.yaml"
    served.write_text(capability(upstream.url, version="v1"))
    with NaftikoServer([served], args=["--watch"]) as server:
        server.wait_ready()
        stop = threading.Event()
        answers: list[tuple[int, str]] = []
        callers = [threading.Thread(target=_burst, args=(server, stop, answers)) for _ in range(6)]
        for caller in callers:
            caller.start()
        try:
            wait_until(lambda: len(answers) > 20, what="the first answers")
            served.write_text(capability(upstream.url, version="v2"))
            wait_until(lambda: answers[-1][1] == "v2", what="the good edit served")
            served.write_text(
                capability(upstream.url, version="v3").replace("outputParameters:", "outputParameters: [")
            )
            wait_until(lambda: "does not load" in server.output, what="the broken edit reported")
            count = len(answers)
            wait_until(lambda: len(answers) > count + 20, what="answers after the broken edit")
        finally:
            stop.set()
            for caller in callers:
                caller.join(timeout=15)
        assert server.stop() == 0
    assert {status for status, _ in answers} == {200}
    assert {version for _, version in answers} == {"v1", "v2"}
    assert answers[-1][1] == "v2"
    assert f"{served}" in server.output and "still serving the previous version" in server.output
    assert "Traceback" not in server.output


def test_a_call_in_flight_finishes_on_the_version_it_started_on(upstream: FakeServer, tmp_path: Path) -> None:
    served = tmp_path / "things.yaml"
    served.write_text(capability(upstream.url, version="v1"))
    with NaftikoServer([served], args=["--watch"]) as server:
        server.wait_ready()
        upstream.hold()
        held: list[httpx.Response] = []
        caller = threading.Thread(target=lambda: held.append(httpx.get(f"{server.rest_url}/things/a", timeout=15)))
        caller.start()
        upstream.recorder.wait_for(1)
        served.write_text(capability(upstream.url, version="v2"))
        wait_until(lambda: "now serving the new version" in server.output, what="the reload")
        upstream.release()
        caller.join(timeout=15)
        after = _version(server)
        assert server.stop() == 0
    assert held[0].status_code == 200 and held[0].json()["version"] == "v1"
    assert after == "v2"


def test_a_changed_binds_file_the_capability_reads_reloads_it_too(upstream: FakeServer, tmp_path: Path) -> None:
    binds = tmp_path / "vars.yaml"
    binds.write_text("PREFIX: first\n")
    text = capability(upstream.url).replace(
        "capability:\n",
        "binds:\n- namespace: vars\n  location: file:///./vars.yaml\n  keys: {PREFIX: PREFIX}\ncapability:\n",
        1,
    )
    text = text.replace("      with: {id: tools.id}", '      with: {id: "{{PREFIX}}-{{id}}"}')
    served = tmp_path / "things.yaml"
    served.write_text(text)

    async def call() -> Any:
        async with Client(server.mcp_url) as client:
            result = await client.call_tool("get-thing", {"id": "x"})
        return result.structured_content

    with NaftikoServer([served], args=["--watch"]) as server:
        server.wait_ready()
        before = anyio.run(call)
        binds.write_text("PREFIX: second\n")
        wait_until(lambda: "now serving the new version" in server.output, what="the reload")
        after = anyio.run(call)
        assert server.stop() == 0
    assert (before["path"], after["path"]) == ("/things/first-x", "/things/second-x")


async def test_an_mcp_session_survives_a_reload_and_sees_list_changed_then_the_new_tools(
    upstream: FakeServer, tmp_path: Path
) -> None:
    served = tmp_path / "things.yaml"
    served.write_text(capability(upstream.url))
    changed = anyio.Event()

    async def on_message(message: Any) -> None:
        if getattr(message, "method", None) == "notifications/tools/list_changed":
            changed.set()

    with NaftikoServer([served], args=["--watch"]) as server:
        server.wait_ready()
        async with (
            httpx2.AsyncClient(timeout=httpx2.Timeout(30.0)) as http,
            Client(
                streamable_http_client(server.mcp_url, http_client=http), mode="legacy", message_handler=on_message
            ) as client,
        ):
            announced = client.server_capabilities.tools
            before = [tool.name for tool in (await client.list_tools()).tools]
            served.write_text(capability(upstream.url, version="v2", second_tool=True))
            with anyio.fail_after(15):
                await changed.wait()
            after = [tool.name for tool in (await client.list_tools()).tools]
            added = await client.call_tool("get-other", {"id": "b"})
            kept = await client.call_tool("get-thing", {"id": "c"})
        assert server.stop() == 0
    assert announced is not None and announced.list_changed is True
    assert (before, after) == (["get-thing"], ["get-thing", "get-other"])
    assert added.structured_content == {"version": "other"}
    assert kept.structured_content == {"version": "v2", "path": "/things/c"}


async def test_a_listening_2026_client_is_told_the_tools_changed(upstream: FakeServer, tmp_path: Path) -> None:
    served = tmp_path / "things.yaml"
    served.write_text(capability(upstream.url))
    with NaftikoServer([served], args=["--watch"]) as server:
        server.wait_ready()
        async with Client(server.mcp_url) as client, client.listen(tools_list_changed=True) as subscription:
            served.write_text(capability(upstream.url, second_tool=True))
            with anyio.fail_after(15):
                event = await anext(aiter(subscription))
            after = [tool.name for tool in (await client.list_tools()).tools]
        assert server.stop() == 0
    assert type(event).__name__ == "ToolsListChanged"
    assert after == ["get-thing", "get-other"]


def test_a_touch_without_change_does_not_reload(upstream: FakeServer, tmp_path: Path) -> None:
    served = tmp_path / "things.yaml"
    served.write_text(capability(upstream.url))
    with NaftikoServer([served], args=["--watch"]) as server:
        server.wait_ready()
        served.write_text(served.read_text())  # same bytes, new mtime
        served.write_text(capability(upstream.url, version="v2"))
        wait_until(lambda: "now serving the new version" in server.output, what="the reload")
        assert server.stop() == 0
    assert server.output.count("now serving the new version") == 1
