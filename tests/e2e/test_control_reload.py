"""The control port's reload: the served files are loaded again; a broken edit changes nothing."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.e2e.server import NaftikoServer

CAPABILITY = """\
naftiko: 1.0.0-alpha2
capability:
  exposes:
  - type: control
    port: 9199
    management: {health: true, reload: true}
  - type: rest
    namespace: greet
    port: 8080
    resources:
    - path: /hello
      description: A greeting.
      operations:
      - method: GET
        outputParameters:
        - {name: greeting, type: string, value: "GREETING"}
"""


def test_reload_switches_to_the_edited_file_and_a_broken_edit_keeps_the_old_one(tmp_path: Path) -> None:
    capability = tmp_path / "greet.yaml"
    capability.write_text(CAPABILITY.replace("GREETING", "hello"))
    with NaftikoServer([capability], args=["--port", "9199=0", "--port", "8080=0"], move_ports=()) as server:
        server.wait_ready(kinds=("rest",))
        control = server.urls_by_namespace["control"]
        before = httpx.get(f"{server.rest_url}/hello", timeout=5).json()
        capability.write_text(CAPABILITY.replace("GREETING", "bonjour"))
        reloaded = httpx.post(f"{control}/config/reload", timeout=10)
        after = httpx.get(f"{server.rest_url}/hello", timeout=5).json()
        capability.write_text("naftiko: 1.0.0-alpha2\ncapability: [broken")
        refused = httpx.post(f"{control}/config/reload", timeout=10)
        still = httpx.get(f"{server.rest_url}/hello", timeout=5).json()
        assert server.stop() == 0
    assert (before, after, still) == ({"greeting": "hello"}, {"greeting": "bonjour"}, {"greeting": "bonjour"})
    assert reloaded.status_code == 200 and reloaded.json()["reloaded"] is True
    assert refused.status_code == 409 and refused.json()["diagnostics"][0]["severity"] == "error"
