"""FastMCP's OpenAPI server over Kombo's OpenAPI document (the same 13 operations naftiko exposes).

Run with the FastMCP venv's python (FastMCP may pin its own `mcp`). The document is read as
JSON (run.py converts it); its servers are replaced by the upstream, the bearer key goes on
FastMCP's own HTTP client, tools are named as in capabilities/kombo.yaml. Stateless HTTP
with JSON responses, served by the same uvicorn set-up as every other candidate.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx2
from common import parser, serve
from fastmcp import FastMCP

TOOL_NAMES = {
    "GetCheckApiKey": "check-api-key",
    "PostForceSync": "trigger-sync",
    "DeleteIntegrationsIntegrationId": "delete-integration",
    "GetIntegrationsIntegrationId": "get-integration-details",
    "GetIntegrationsIntegrationIdCustomFields": "get-custom-fields-current-mappings",
    "PutIntegrationsIntegrationIdCustomFieldsCustomFieldId": "put-custom-field-mappings",
    "PutIntegrationsIntegrationIdEnabled": "set-integration-enabled",
    "GetIntegrationsIntegrationIdIntegrationFields": "get-integration-fields",
    "PatchIntegrationsIntegrationIdIntegrationFieldsIntegrationFieldId": (
        "updates-integration-fields-passthrough-setting"
    ),
    "PostIntegrationsIntegrationIdRelink": "create-reconnection-link",
    "PostIntegrationsIntegrationIdSetupLink": "create-setup-flow-link",
    "PostPassthroughToolApi": "send-passthrough-request",
    "GetToolsCategory": "get-tools",
}


if __name__ == "__main__":
    options = parser(__doc__ or "")
    options.add_argument("--openapi", type=Path, required=True, help="the OpenAPI document as JSON")
    args = options.parse_args()
    spec = json.loads(args.openapi.read_text())
    spec["servers"] = [{"url": args.upstream}]
    client = httpx2.AsyncClient(base_url=args.upstream, headers={"Authorization": f"Bearer {args.api_key}"})
    server = FastMCP.from_openapi(spec, client=client, name="kombo", mcp_names=TOOL_NAMES)
    serve(server.http_app(path="/mcp", stateless_http=True, json_response=True), args.port)
