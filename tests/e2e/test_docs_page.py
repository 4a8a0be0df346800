"""The /docs page of a served REST port, offline: its assets from this port, and a real browser rendering it."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from naftiko_runtime.capability import LoadOptions, load_capability
from tests.conftest import SecretTripwire
from tests.e2e.conftest import KOMBO_CAPABILITY
from tests.e2e.server import NaftikoServer

CHROMIUM = shutil.which("chromium")
BROWSER_SECONDS = 45  # inside the suite's 60 s per-test timeout, so the browser is always reaped here
# Each rendered operation: its method badge, then (in the same summary) its path.
_OPERATION = re.compile(r'opblock-summary-method">([A-Z]+)<.*?data-path="([^"]+)"', re.DOTALL)


@pytest.fixture(scope="module")
def server(secret_tripwire: SecretTripwire) -> Iterator[NaftikoServer]:
    with NaftikoServer([KOMBO_CAPABILITY], args=["--mock"]) as naftiko:
        naftiko.wait_ready()
        yield naftiko
        assert naftiko.stop() == 0, naftiko.output
        secret_tripwire.record("naftiko serve output", naftiko.output)


def kombo_operations() -> set[tuple[str, str]]:
    capability = load_capability(KOMBO_CAPABILITY, LoadOptions(mock=True))
    return {
        (action.method, action.path)
        for adapter in capability.adapters
        if adapter.type == "rest"
        for action in adapter.actions
    }


def rendered_dom(url: str, profile: Path) -> str:
    """The DOM headless Chromium has after running the page's scripts (bounded; its processes ended)."""
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=20000",
        "--dump-dom",
        url,
    ]
    browser = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True
    )
    try:
        dom, _ = browser.communicate(timeout=BROWSER_SECONDS)
    finally:
        # The whole session: helpers the browser started may outlive it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(browser.pid, signal.SIGKILL)
        browser.wait(timeout=10)
    assert browser.returncode == 0, f"chromium exited with {browser.returncode}"
    return dom


def test_docs_and_every_asset_it_needs_come_from_the_port_itself(server: NaftikoServer) -> None:
    page = httpx.get(f"{server.rest_url}/docs", timeout=10)
    assets = re.findall(r'(?:href|src)="([^"]+)"', page.text)
    answers = [httpx.get(server.rest_url + asset, timeout=10) for asset in assets]

    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert assets and all(asset.startswith("/docs/static/") for asset in assets)
    assert [answer.status_code for answer in answers] == [200] * len(assets)
    assert "https://" not in page.text


def test_head_on_docs_gives_the_page_headers_only(server: NaftikoServer) -> None:
    head = httpx.head(f"{server.rest_url}/docs", timeout=10)

    assert (head.status_code, head.content) == (200, b"")
    assert int(head.headers["content-length"]) > 0


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (tools/install-test-tools.sh installs it)")
def test_a_browser_renders_every_kombo_operation_from_the_served_openapi_document(
    server: NaftikoServer, tmp_path: Path
) -> None:
    dom = rendered_dom(f"{server.rest_url}/docs", tmp_path / "profile")

    rendered = set(_OPERATION.findall(dom))
    declared = kombo_operations()
    assert len(declared) == 13
    missing = declared - rendered
    assert not missing, f"not rendered: {sorted(missing)}; the page shows {sorted(rendered)}"
    assert "Failed to load API definition" not in dom


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (tools/install-test-tools.sh installs it)")
def test_try_it_out_calls_the_server_the_browser_reached_whatever_its_name(
    server: NaftikoServer, tmp_path: Path
) -> None:
    documented = httpx.get(f"{server.rest_url}/openapi.json", timeout=10).json()["servers"][0]["url"]
    by_name = server.rest_url.replace("127.0.0.1", "localhost")

    dom = rendered_dom(f"{by_name}/docs", tmp_path / "profile")

    servers = re.findall(r'<option value="([^"]+)"', dom)
    assert servers[0] == by_name, servers
    assert documented in servers
