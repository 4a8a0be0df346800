"""adapters/control.py: the management plane a `control` expose turns on."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from naftiko_runtime.adapters.control import ControlApp
from naftiko_runtime.adapters.health import Health
from naftiko_runtime.capability import LoadOptions, load_capability
from naftiko_runtime.spec.models import ControlManagement

pytestmark = pytest.mark.anyio
KOMBO = Path(__file__).parents[2] / "capabilities" / "kombo.yaml"


def _client(management: ControlManagement, environ: dict[str, str] | None = None) -> httpx.AsyncClient:
    capability = load_capability(KOMBO, LoadOptions(environ=environ if environ is not None else {"KOMBO_API_KEY": "k"}))
    app = ControlApp([capability], management, Health([capability]))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://control")


async def test_health_endpoints_answer_by_default_and_readiness_reports_what_is_missing() -> None:
    async with _client(ControlManagement()) as ready, _client(ControlManagement(), environ={}) as missing:
        assert (await ready.get("/health/live")).json() == {"status": "UP"}
        assert (await ready.get("/health/ready")).status_code == 200
        down = await missing.get("/health/ready")
    assert down.status_code == 503 and "KOMBO_API_KEY" in down.text


async def test_status_and_config_need_info_and_never_show_a_variable_value() -> None:
    async with _client(ControlManagement()) as off, _client(ControlManagement(info=True)) as on:
        assert (await off.get("/status")).status_code == 404
        status = (await on.get("/status")).json()
        config = await on.get("/config")
    assert status["capabilities"][0]["adapters"][0]["actions"] == 13
    assert "{{env.KOMBO_API_KEY}}" in config.text


async def test_validate_dry_runs_a_capability_from_the_request_body() -> None:
    async with _client(ControlManagement(validate=True)) as control:
        good = (await control.post("/config/validate", content=KOMBO.read_bytes())).json()
        bad = (await control.post("/config/validate", content=b"naftiko: x\ncapability: [1")).json()
        wrong_method = await control.get("/config/validate")
    assert good["valid"] is True
    assert bad["valid"] is False and bad["diagnostics"][0]["file"] == "request body"
    assert wrong_method.status_code == 405
