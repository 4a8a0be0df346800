"""The MCP adapter: tools of `mcp` exposes on the official SDK's low-level `Server`.

Streamable HTTP at `/mcp` and `/` (both plain routes: a mount would answer `/mcp` with a
redirect that breaks clients). The SDK does not validate arguments: `Signature` does,
and every failure a model should read comes back as an `isError` result.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import NotificationOptions, Server
from mcp.server.models import InitializationOptions
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.subscriptions import ServerEvent
from mcp.shared.exceptions import MCPError

from naftiko_runtime.adapters.asgi import HEALTH_PATHS, Receive, Scope, Send, problem, send_problem
from naftiko_runtime.adapters.health import Health
from naftiko_runtime.adapters.host_check import HostPolicy
from naftiko_runtime.adapters.inbound_auth import InboundAuth, Refusal
from naftiko_runtime.adapters.mcp_catalog import catalog_handlers
from naftiko_runtime.adapters.mcp_progress import progress_label, with_progress
from naftiko_runtime.adapters.mcp_results import render_success
from naftiko_runtime.adapters.mcp_sse import SSE_PATHS, LegacySse
from naftiko_runtime.adapters.mcp_table import CATALOG_METHODS, ChangeNotices, ToolTable
from naftiko_runtime.engine import Action
from naftiko_runtime.errors import CallError, UpstreamAnswer
from naftiko_runtime.mcp_extras import Prompt, Resource

logger = logging.getLogger("naftiko.mcp")

MCP_PATHS = frozenset({"/mcp", "/mcp/", "/"})


@dataclass(frozen=True, slots=True)
class McpSettings:
    stateless: bool = False
    json_response: bool = False
    # DNS-rebinding protection: Host patterns and Origins allowed besides loopback and the bound address.
    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()


def tool_definition(action: Action) -> types.Tool:
    hints = action.hints
    return types.Tool(
        name=action.name,
        title=action.title,
        description=action.description,
        input_schema=action.signature.input_schema(),
        output_schema=action.output_schema.schema if action.output_schema is not None else None,
        annotations=types.ToolAnnotations(
            title=action.title,
            read_only_hint=hints.read_only,
            destructive_hint=hints.destructive,
            idempotent_hint=hints.idempotent,
            open_world_hint=hints.open_world,
        ),
    )


def error_result(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=message)], is_error=True)


async def call_action(action: Action, arguments: dict[str, Any] | None) -> types.CallToolResult:
    """Validate, invoke and render one tool call (`mcp_results.py`); never raises for a call-level failure."""
    validated: dict[str, Any] | None = None
    try:
        validated = action.signature.validate(arguments or {})
        outcome = await action.invoke(validated)
        if isinstance(outcome, UpstreamAnswer):
            return error_result(f"upstream {outcome.operation} answered HTTP {outcome.status}: {outcome.message()}")
        # Inside the try: a JSON answer is decoded here, and one that does not decode is a 502.
        return render_success(action, outcome)
    except CallError as error:
        if validated is None:
            action.refused("validation", error.status)
        return error_result(_describe(error))
    except Exception:
        logger.exception("tool %s failed unexpectedly", action.name)
        return error_result(f"tool {action.name} failed inside the runtime; see the server log")


async def _refusal(auth: InboundAuth | None, ctx: ServerRequestContext[Any]) -> Refusal | None:
    """A tool's own inbound check on the HTTP request that carried this message (none over stdio)."""
    request = ctx.request
    if auth is None or request is None:
        return None
    return await auth.check(request.scope)


def _describe(error: CallError) -> str:
    if error.problems:
        listed = "; ".join(f"{p.location}: {p.message}" for p in error.problems)
        return f"invalid arguments: {listed}"
    return f"{error.title} ({error.status}): {error.detail}"


class _Server(Server[Any]):
    """The SDK's server, announcing in every handshake the list changes a reload sends."""

    announces_changes = True

    def create_initialization_options(
        self,
        notification_options: NotificationOptions | None = None,
        experimental_capabilities: dict[str, dict[str, Any]] | None = None,
        extensions: dict[str, dict[str, Any]] | None = None,
    ) -> InitializationOptions:
        if notification_options is None and self.announces_changes:
            notification_options = NotificationOptions(prompts_changed=True, resources_changed=True, tools_changed=True)
        return super().create_initialization_options(notification_options, experimental_capabilities, extensions)


def tool_table(
    actions: Sequence[Action],
    health: Health,
    *,
    resources: Sequence[Resource] = (),
    prompts: Sequence[Prompt] = (),
    instructions: str | None = None,
) -> ToolTable:
    auths = frozenset(action.inbound_auth for action in actions)
    return ToolTable(
        actions={action.name: action for action in actions},
        listing=types.ListToolsResult(tools=[tool_definition(action) for action in actions]),
        schemas={action.name: action.signature.input_schema() for action in actions},
        auths=auths,
        mixed_auth=len(auths) > 1,
        catalog=catalog_handlers(resources, prompts),
        health=health,
        instructions=instructions,
    )


class McpAdapter:
    """One MCP server (one or more `mcp` exposes merged) as an ASGI app with its lifespan.

    What it serves is a `ToolTable`; `replace` puts a reload's in place while sessions go on.
    """

    def __init__(
        self,
        name: str,
        actions: Sequence[Action],
        health: Health,
        *,
        instructions: str | None = None,
        host: str = "127.0.0.1",
        settings: McpSettings = McpSettings(),
        version: str = "",
        resources: Sequence[Resource] = (),
        prompts: Sequence[Prompt] = (),
    ) -> None:
        table = tool_table(actions, health, resources=resources, prompts=prompts, instructions=instructions)
        self._table = table
        self.calls_in_flight = 0
        # A JSON response carries no notifications, so progress is never worth sending there.
        reports_progress = not settings.json_response

        async def list_tools(
            ctx: ServerRequestContext[Any], _params: types.PaginatedRequestParams | None
        ) -> types.ListToolsResult:
            table = self._table
            if not table.mixed_auth:
                return table.listing
            # Each caller sees only the tools whose own file's check its request passes; each check once.
            refused = {auth for auth in table.auths if await _refusal(auth, ctx) is not None}
            allowed = [tool for tool in table.listing.tools if table.actions[tool.name].inbound_auth not in refused]
            return types.ListToolsResult(tools=allowed)

        async def call_tool(
            ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
        ) -> types.CallToolResult:
            table = self._table
            action = table.actions.get(params.name)
            if action is None:
                raise MCPError(types.INVALID_PARAMS, f"unknown tool: {params.name}")
            refused = await _refusal(action.inbound_auth, ctx) if table.mixed_auth else None
            if refused is not None:
                action.refused("auth", refused.status)
                kind = action.inbound_auth.kind if action.inbound_auth else ""
                lacking = f"requires {kind} authentication, which this request lacks"
                return error_result(f"tool {action.name} {lacking if refused.status == 401 else refused.reason}")
            # A cancelled request (notifications/cancelled, a closed session or stream) cancels this
            # task; the CancelledError travels down to the upstream request, which is closed.
            self.calls_in_flight += 1
            try:
                if reports_progress and params.meta is not None and "progress_token" in params.meta:
                    label = progress_label(action)
                    return await with_progress(ctx.session, label, call_action(action, params.arguments))
                return await call_action(action, params.arguments)
            finally:
                self.calls_in_flight -= 1

        self.notices = ChangeNotices()
        self.server: _Server = _Server(
            name,
            version=version,
            instructions=instructions,
            on_list_tools=list_tools,
            on_call_tool=call_tool,
            on_subscriptions_listen=self.notices.listen,
            get_tool_input_schema=lambda name: self._table.schemas.get(name),
        )
        self.server.announces_changes = not settings.stateless
        self.server.add_notification_handler(
            "notifications/initialized", types.NotificationParams, self.notices.on_initialized
        )
        self._catalog_methods: set[str] = set()
        self._offer_catalog(table)
        # Host and Origin are checked here, before the SDK's transport, so a refusal can say which
        # option allows the value; the SDK's own check (a bare 421) stays off.
        self._hosts = HostPolicy.for_address(host, settings.allowed_hosts, settings.allowed_origins)
        self.session_manager = StreamableHTTPSessionManager(
            app=self.server, json_response=settings.json_response, stateless=settings.stateless
        )
        self._transport = StreamableHTTPASGIApp(self.session_manager)
        self._sse = LegacySse(self.server)

    @property
    def table(self) -> ToolTable:
        return self._table

    def replace(self, table: ToolTable) -> list[ServerEvent]:
        """Serve `table` from now on (calls already running finish on theirs); what to tell clients."""
        previous, self._table = self._table, table
        self.server.instructions = table.instructions
        self._offer_catalog(table)
        return table.changes_from(previous)

    def _offer_catalog(self, table: ToolTable) -> None:
        # Resources and prompts appear in the capabilities only when some are declared; once offered,
        # a method stays registered and answers from the table of the moment.
        for handler_name in table.catalog.keys() - self._catalog_methods:
            method, params_type = CATALOG_METHODS[handler_name]
            self.server.add_request_handler(method, params_type, self._catalog_handler(handler_name, method))
            self._catalog_methods.add(handler_name)

    def _catalog_handler(self, handler_name: str, method: str) -> Any:
        async def handle(ctx: ServerRequestContext[Any], params: Any) -> Any:
            handler = self._table.catalog.get(handler_name)
            if handler is None:
                raise MCPError(types.METHOD_NOT_FOUND, f"{method}: nothing of the kind is served since the reload")
            return await handler(ctx, params)

        return handle

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        async with self.session_manager.run():
            yield

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        if path in HEALTH_PATHS:
            await self._table.health(scope, receive, send)
        elif path in MCP_PATHS or path in SSE_PATHS:
            refusal = self._hosts.refusal(scope)
            if refusal is not None:
                await send_problem(send, refusal)
            elif path in MCP_PATHS:
                await self._transport(scope, receive, send)
            else:
                await self._sse(scope, receive, send)
        else:
            await send_problem(send, problem(404, "Not Found", f"no such path {path}; the MCP endpoint is /mcp"))
