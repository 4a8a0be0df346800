"""A successful call as an MCP `CallToolResult`: content by media type, structured output, size cap.

- JSON: the text, and `structuredContent` when the value is an object; for a tool with an
  `outputSchema`, only when the value conforms (checked with the compiled schema).
- Images: image content (base64); other binary: an embedded resource blob; text: text.
- Text above the tool's `result_limit` is cut with a note saying how much and how to get the rest;
  an image or blob above it is replaced by such a note. A cut result carries no structured content.

A tool that declares an `outputSchema` must send conforming structured content with every
non-error result: the official SDK clients raise on a result without it. So when it cannot (the
upstream answer drifted from the schema, or the result was cut or is not JSON), the result is
flagged `isError` and keeps its content with a note saying why: the model still reads the answer,
and the client does not break.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Sequence
from typing import Any

import mcp_types as types

from naftiko_runtime.arguments import Argument
from naftiko_runtime.engine import Action, Media, Success

logger = logging.getLogger("naftiko.mcp")

Content = types.TextContent | types.ImageContent | types.AudioContent | types.ResourceLink | types.EmbeddedResource
# Argument names that usually narrow an answer: a page, a filter, a field list.
_NARROWING = ("page", "size", "limit", "cursor", "offset", "count", "filter", "fields", "select", "top", "max")


def render_success(action: Action, outcome: Success) -> types.CallToolResult:
    if outcome.media is not None:
        return _media_result(action, outcome.media)
    value = outcome.value
    if outcome.raw_json is not None:
        size, text = len(outcome.raw_json), None
    else:
        # json.dumps escapes non-ASCII by default: one character is one byte.
        text = json.dumps(value)
        size = len(text)
    structured = value if isinstance(value, dict) else None
    notes: list[str] = []
    if action.output_schema is not None and structured is not None:
        problems = action.output_schema.check.problems(structured)
        if problems:
            where = "; ".join(f"{place.lstrip('.') or '(root)'}: {message}" for place, message in problems[:3])
            logger.warning("tool %s: the upstream answer does not match its output schema (%s)", action.name, where)
            notes.append(f"The upstream answer does not match this tool's output schema ({where}); it is sent as is.")
            structured = None
    limit = action.result_limit
    if limit and size > limit:
        raw = outcome.raw_json if outcome.raw_json is not None else (text or "").encode()
        text = raw[:limit].decode("utf-8", "ignore")
        notes.append(_cut_note(action, size, len(text.encode()), limit))
        structured = None
    elif text is None:
        text = (outcome.raw_json or b"").decode("utf-8", "replace")
    if action.output_schema is not None and structured is None and not notes:
        notes.append("The answer is not a JSON object, so it cannot match this tool's output schema; it is sent as is.")
    content: list[Content] = [types.TextContent(type="text", text=text)]
    content.extend(types.TextContent(type="text", text=note) for note in notes)
    return _result(action, content, structured)


def _media_result(action: Action, media: Media) -> types.CallToolResult:
    limit = action.result_limit
    media_type = media.media_type or "application/octet-stream"
    if media.is_text:
        text = media.text()
        content: list[Content] = [types.TextContent(type="text", text=text)]
        size = len(media.body)
        if limit and size > limit:
            kept = media.body[:limit].decode("utf-8", "ignore")
            content = [
                types.TextContent(type="text", text=kept),
                types.TextContent(type="text", text=_cut_note(action, size, len(kept.encode()), limit)),
            ]
        return _result(action, content, None)
    encoded = base64.b64encode(media.body).decode("ascii")
    if limit and len(encoded) > limit:
        note = (
            f"The upstream answered {media_type} of {len(media.body):,} bytes ({len(encoded):,} in base64), over this "
            f"server's limit of {limit:,} bytes per result (--max-result-bytes), so it is not sent. "
            f"{_narrowing_hint(action.signature.arguments)}"
        )
        return types.CallToolResult(content=[types.TextContent(type="text", text=note)], is_error=True)
    if media_type.startswith("image/"):
        return _result(action, [types.ImageContent(type="image", data=encoded, mime_type=media_type)], None)
    blob = types.BlobResourceContents(uri=f"naftiko://tools/{action.name}/result", mime_type=media_type, blob=encoded)
    return _result(action, [types.EmbeddedResource(type="resource", resource=blob)], None)


def _result(action: Action, content: list[Content], structured: Any) -> types.CallToolResult:
    if action.output_schema is not None and structured is None:
        # See the module docstring: SDK clients refuse a success without conforming structured content.
        return types.CallToolResult(content=content, is_error=True)
    return types.CallToolResult(content=content, structured_content=structured)


def _cut_note(action: Action, size: int, kept: int, limit: int) -> str:
    return (
        f"[Result cut: the answer is {size:,} bytes; the first {kept:,} are shown and {size - kept:,} were cut, "
        f"because this server sends at most {limit:,} bytes per result (--max-result-bytes). "
        f"{_narrowing_hint(action.signature.arguments)}]"
    )


def _narrowing_hint(arguments: Sequence[Argument]) -> str:
    narrowing = [a.name for a in arguments if not a.required and any(word in a.key for word in _NARROWING)]
    if narrowing:
        return f"To get the rest, ask for less at a time with {', '.join(narrowing)}."
    return "To get the rest, call the tool with narrower arguments."
