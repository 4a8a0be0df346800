"""REST `forward` resources relay requests as they are, with only trusted headers."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.e2e.server import NaftikoServer
from tests.fakes import PERSONIO_ID, KomboFake

RELAY = """\
naftiko: 1.0.0-alpha2
capability:
  consumes:
  - type: http
    namespace: kombo
    description: Kombo, relayed.
    baseUri: http://replaced.invalid/v1
    authentication: {type: bearer, token: "{{KOMBO_API_KEY}}"}
    inputParameters:
    - {name: X-Relayed-By, in: header, value: naftiko}
  exposes:
  - type: rest
    namespace: relay
    port: 8080
    resources:
    - path: /kombo/{{path}}
      description: Everything under /kombo, relayed.
      forward: {targetNamespace: kombo, trustedHeaders: [X-Integration-Id]}
"""


def test_a_forward_resource_relays_path_query_body_and_only_trusted_headers(
    tmp_path: Path, kombo: KomboFake, api_key: str
) -> None:
    capability = tmp_path / "relay.yaml"
    capability.write_text(RELAY)
    with NaftikoServer(
        [capability],
        args=["--base-uri", f"kombo={kombo.base_url}"],
        env={"KOMBO_API_KEY": api_key},
        move_ports=("8080",),
    ) as server:
        server.wait_ready(kinds=("rest",))
        listing = httpx.get(f"{server.rest_url}/kombo/integrations/{PERSONIO_ID}/custom-fields?page_size=2", timeout=5)
        sync = httpx.post(
            f"{server.rest_url}/kombo/force-sync",
            json={"type": "DELTA"},
            headers={"X-Integration-Id": PERSONIO_ID, "X-Internal-Secret": "do-not-leak"},
            timeout=5,
        )
        assert server.stop() == 0
    assert listing.status_code == 200 and len(listing.json()["data"]["results"]) == 2
    assert sync.status_code == 200 and sync.json()["data"]["type"] == "DELTA"
    seen = kombo.last
    assert seen.raw_path == "/v1/force-sync" and seen.json() == {"type": "DELTA"}
    assert seen.headers["x-integration-id"] == PERSONIO_ID
    assert seen.headers["authorization"] == f"Bearer {api_key}"
    assert seen.headers["x-relayed-by"] == "naftiko"
    assert "x-internal-secret" not in seen.headers
