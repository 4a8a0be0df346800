"""MCP resources and prompts as the SDK's request handlers (offered only when the spec declares some)."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.shared.exceptions import MCPError

from naftiko_runtime.engine import Success
from naftiko_runtime.errors import CallError, UpstreamAnswer
from naftiko_runtime.mcp_extras import ExtrasError, Prompt, Resource, read_static

Context = ServerRequestContext[Any]


def catalog_handlers(resources: Sequence[Resource], prompts: Sequence[Prompt]) -> dict[str, Any]:
    handlers: dict[str, Any] = {}
    if resources:
        handlers.update(_resource_handlers(list(resources)))
    if prompts:
        handlers.update(_prompt_handlers(list(prompts)))
    return handlers


def _resource_handlers(resources: list[Resource]) -> dict[str, Any]:
    fixed = types.ListResourcesResult(
        resources=[
            types.Resource(name=r.name, title=r.title, uri=r.uri, description=r.description, mime_type=r.mime_type)
            for r in resources
            if not r.is_template
        ]
    )
    templates = types.ListResourceTemplatesResult(
        resource_templates=[
            types.ResourceTemplate(
                name=r.name, title=r.title, uri_template=r.uri, description=r.description, mime_type=r.mime_type
            )
            for r in resources
            if r.is_template
        ]
    )

    async def list_resources(_ctx: Context, _params: types.PaginatedRequestParams | None) -> types.ListResourcesResult:
        return fixed

    async def list_templates(
        _ctx: Context, _params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        return templates

    async def read_resource(_ctx: Context, params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
        uri = str(params.uri)
        for resource in resources:
            arguments = resource.match(uri)
            if arguments is not None:
                return types.ReadResourceResult(contents=[await _read(resource, uri, arguments)])
        raise MCPError(types.INVALID_PARAMS, f"unknown resource: {uri}")

    return {
        "on_list_resources": list_resources,
        "on_list_resource_templates": list_templates,
        "on_read_resource": read_resource,
    }


async def _read(
    resource: Resource, uri: str, arguments: dict[str, str]
) -> types.TextResourceContents | types.BlobResourceContents:
    if resource.file is not None:
        text, blob = read_static(resource)
        if text is not None:
            return types.TextResourceContents(uri=uri, mime_type=resource.mime_type, text=text)
        assert blob is not None
        return types.BlobResourceContents(uri=uri, mime_type=resource.mime_type, blob=base64.b64encode(blob).decode())
    assert resource.action is not None
    action = resource.action
    try:
        outcome = await action.invoke(action.signature.validate(arguments))
        if isinstance(outcome, UpstreamAnswer):
            detail = f"upstream {outcome.operation} answered HTTP {outcome.status}: {outcome.message()}"
            raise MCPError(types.INTERNAL_ERROR, detail)
        assert isinstance(outcome, Success)
        text = outcome.raw_json.decode("utf-8", "replace") if outcome.raw_json else json.dumps(outcome.value)
    except CallError as error:
        raise MCPError(types.INTERNAL_ERROR, f"resource {uri}: {error.detail}") from None
    return types.TextResourceContents(uri=uri, mime_type=resource.mime_type or "application/json", text=text)


def _prompt_handlers(prompts: list[Prompt]) -> dict[str, Any]:
    by_name = {prompt.name: prompt for prompt in prompts}
    listing = types.ListPromptsResult(
        prompts=[
            types.Prompt(
                name=p.name,
                title=p.title,
                description=p.description,
                arguments=[
                    types.PromptArgument(name=name, description=description, required=required)
                    for name, description, required in p.arguments
                ],
            )
            for p in prompts
        ]
    )

    async def list_prompts(_ctx: Context, _params: types.PaginatedRequestParams | None) -> types.ListPromptsResult:
        return listing

    async def get_prompt(_ctx: Context, params: types.GetPromptRequestParams) -> types.GetPromptResult:
        prompt = by_name.get(params.name)
        if prompt is None:
            raise MCPError(types.INVALID_PARAMS, f"unknown prompt: {params.name}")
        try:
            messages = prompt.render(dict(params.arguments or {}))
        except ExtrasError as exc:
            raise MCPError(types.INVALID_PARAMS, str(exc)) from None
        return types.GetPromptResult(
            description=prompt.description,
            messages=[
                types.PromptMessage(role=role, content=types.TextContent(type="text", text=text))  # type: ignore[arg-type]
                for role, text in messages
            ],
        )

    return {"on_list_prompts": list_prompts, "on_get_prompt": get_prompt}
