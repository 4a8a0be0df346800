"""What one MCP endpoint serves, as one value a reload replaces: tools, resources, prompts, health.

The endpoint's SDK `Server`, session manager and sessions outlive a table: a reload puts the next
table in place, and connected clients keep their sessions and are told the lists changed
(`ChangeNotices`). A call looks its tool up once, so it finishes on the table it started on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.session import ServerSession
from mcp.server.subscriptions import (
    InMemorySubscriptionBus,
    ListenHandler,
    PromptsListChanged,
    ResourcesListChanged,
    ServerEvent,
    ToolsListChanged,
)

from naftiko_runtime.adapters.health import Health
from naftiko_runtime.adapters.inbound_auth import InboundAuth
from naftiko_runtime.engine import Action

logger = logging.getLogger("naftiko.mcp")

# The SDK's request method and parameter type behind each catalogue handler name.
CATALOG_METHODS: dict[str, tuple[str, type[types.RequestParams]]] = {
    "on_list_resources": ("resources/list", types.PaginatedRequestParams),
    "on_list_resource_templates": ("resources/templates/list", types.PaginatedRequestParams),
    "on_read_resource": ("resources/read", types.ReadResourceRequestParams),
    "on_list_prompts": ("prompts/list", types.PaginatedRequestParams),
    "on_get_prompt": ("prompts/get", types.GetPromptRequestParams),
}
NOTICE_SECONDS = 2.0  # a client that does not read its stream is not waited for longer


@dataclass(frozen=True, slots=True)
class ToolTable:
    actions: dict[str, Action]
    listing: types.ListToolsResult
    schemas: dict[str, dict[str, Any]]
    auths: frozenset[InboundAuth | None]
    # Files asking different authentication share the endpoint: each tool checks its own file's.
    mixed_auth: bool
    catalog: dict[str, Any]  # the resource and prompt handlers, by `CATALOG_METHODS` name
    health: Health
    instructions: str | None

    def changes_from(self, previous: ToolTable) -> list[ServerEvent]:
        """The list-changed events a client of `previous` needs to see this table."""
        events: list[ServerEvent] = []
        if self.listing != previous.listing:
            events.append(ToolsListChanged())
        for prefix, event in (("on_list_resource", ResourcesListChanged()), ("on_list_prompts", PromptsListChanged())):
            mine = {k: v for k, v in self.catalog.items() if k.startswith(prefix)}
            theirs = {k: v for k, v in previous.catalog.items() if k.startswith(prefix)}
            if mine or theirs:
                events.append(event)  # handlers are closures over the lists: a reload renews them
        return events


class ChangeNotices:
    """Tells connected clients the lists changed.

    Handshake-era sessions get `notifications/*/list_changed` on their standalone stream: each is
    known from its `notifications/initialized` on, by a handler the SDK runs in the session's own
    task group, which lasts as long as the session. 2026-07-28 clients listen with
    `subscriptions/listen`, served by the SDK's `ListenHandler`.
    """

    def __init__(self) -> None:
        self._sessions: set[ServerSession] = set()
        self._bus = InMemorySubscriptionBus()
        self.listen = ListenHandler(self._bus)

    async def on_initialized(self, ctx: ServerRequestContext[Any], _params: types.NotificationParams) -> None:
        session = ctx.session
        self._sessions.add(session)
        try:
            await anyio.sleep_forever()
        finally:
            self._sessions.discard(session)

    async def publish(self, events: Sequence[ServerEvent]) -> None:
        if not events:
            return
        for event in events:
            await self._bus.publish(event)
        async with anyio.create_task_group() as tasks:
            for session in list(self._sessions):
                tasks.start_soon(_notify, session, events)

    def close_listen_streams(self) -> None:
        self.listen.close()


async def _notify(session: ServerSession, events: Sequence[ServerEvent]) -> None:
    with anyio.move_on_after(NOTICE_SECONDS):
        try:
            for event in events:
                if isinstance(event, ToolsListChanged):
                    await session.send_tool_list_changed()
                elif isinstance(event, ResourcesListChanged):
                    await session.send_resource_list_changed()
                elif isinstance(event, PromptsListChanged):
                    await session.send_prompt_list_changed()
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.EndOfStream):
            pass  # the session ended meanwhile
        except Exception as exc:  # a notice is best effort; it must never fail a reload
            logger.debug("list_changed not delivered: %s", type(exc).__name__)
