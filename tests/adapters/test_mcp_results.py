"""adapters/mcp_results.py: successes as MCP results (content by media type, structured output, size cap)."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Sequence
from typing import Any

import mcp_types as types
import pytest

from naftiko_runtime.adapters.mcp_results import render_success
from naftiko_runtime.arguments import Argument, Signature
from naftiko_runtime.diagnostics import Location
from naftiko_runtime.engine import DEFAULT_MAX_RESULT_BYTES, Action, Media, Success
from naftiko_runtime.mapping import compile_outputs
from naftiko_runtime.output_schema import OutputSchema

ITEM_SCHEMA = {
    "type": "object",
    "properties": {"id": {"type": "string"}, "count": {"type": "integer"}},
    "required": ["id"],
}
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(40))


def tool(
    *,
    output_schema: dict[str, Any] | None = None,
    limit: int = DEFAULT_MAX_RESULT_BYTES,
    arguments: Sequence[Argument] = (),
) -> Action:
    return Action(
        kind="tool",
        adapter="shop",
        name="get-items",
        signature=Signature(list(arguments), []),
        output=compile_outputs([]),
        location=Location("shop.yaml"),
        output_schema=OutputSchema(output_schema, "test") if output_schema else None,
        result_limit=limit,
    )


def texts(result: types.CallToolResult) -> list[str]:
    return [block.text for block in result.content if isinstance(block, types.TextContent)]


def test_a_json_object_is_sent_as_its_text_and_as_structured_content() -> None:
    raw = b'{"id": "a1", "count": 2}'

    result = render_success(tool(output_schema=ITEM_SCHEMA), Success(200, raw_json=raw, decode=lambda: json.loads(raw)))

    assert texts(result) == [raw.decode()]
    assert result.structured_content == {"id": "a1", "count": 2}
    assert not result.is_error


def test_an_array_is_sent_as_text_only_when_the_tool_declares_no_output_schema() -> None:
    result = render_success(tool(), Success(200, [1, 2]))

    assert texts(result) == ["[1, 2]"]
    assert result.structured_content is None and not result.is_error


def test_an_answer_drifting_from_the_output_schema_keeps_its_text_flagged_and_logged_without_its_values(
    caplog: pytest.LogCaptureFixture,
) -> None:
    value = {"id": 42, "count": "secret-value"}

    with caplog.at_level(logging.WARNING, logger="naftiko.mcp"):
        result = render_success(tool(output_schema=ITEM_SCHEMA), Success(200, value))

    data, note = texts(result)
    assert json.loads(data) == value
    assert "does not match this tool's output schema" in note
    assert "id: expected string, got integer" in note and "count: expected integer, got string" in note
    # Official SDK clients refuse a success without conforming structured content: it is an error result.
    assert result.is_error and result.structured_content is None
    assert "get-items" in caplog.text and "id: expected string" in caplog.text
    assert "secret-value" not in caplog.text and "42" not in caplog.text


def test_a_result_that_cannot_be_an_object_is_flagged_for_a_tool_with_an_output_schema() -> None:
    result = render_success(tool(output_schema=ITEM_SCHEMA), Success(200, ["a"]))

    assert result.is_error
    assert texts(result)[0] == '["a"]'
    assert "not a JSON object" in texts(result)[1]


def test_an_oversize_result_is_cut_with_a_note_saying_how_much_and_how_to_get_the_rest() -> None:
    arguments = [Argument("page_size", "integer"), Argument("cursor"), Argument("id", required=True)]
    raw = json.dumps({"results": ["x" * 50] * 100}).encode()

    result = render_success(tool(limit=1000, arguments=arguments), Success(200, raw_json=raw, decode=lambda: {}))

    data, note = texts(result)
    assert data == raw[:1000].decode()
    assert f"the answer is {len(raw):,} bytes; the first 1,000 are shown and {len(raw) - 1000:,} were cut" in note
    assert "--max-result-bytes" in note and "page_size, cursor" in note
    assert result.structured_content is None and not result.is_error


def test_a_cut_never_splits_a_character_and_flags_a_tool_with_an_output_schema() -> None:
    raw = json.dumps({"id": "é" * 100}, ensure_ascii=False).encode()

    result = render_success(
        tool(output_schema=ITEM_SCHEMA, limit=12), Success(200, raw_json=raw, decode=lambda: json.loads(raw))
    )

    data = texts(result)[0]
    assert len(data.encode()) <= 12 and raw.decode().startswith(data)
    assert result.is_error and result.structured_content is None


def test_no_limit_sends_everything() -> None:
    raw = b'{"id": "' + b"y" * 5000 + b'"}'

    result = render_success(tool(limit=0), Success(200, raw_json=raw, decode=lambda: json.loads(raw)))

    assert texts(result) == [raw.decode()]


def test_an_image_is_image_content() -> None:
    result = render_success(tool(), Success(200, media=Media(PNG, "image/png")))

    [image] = result.content
    assert isinstance(image, types.ImageContent)
    assert image.mime_type == "image/png" and base64.b64decode(image.data) == PNG


def test_other_binary_is_an_embedded_resource_blob() -> None:
    result = render_success(tool(), Success(200, media=Media(b"%PDF-1.7 ...", "application/pdf")))

    [embedded] = result.content
    assert isinstance(embedded, types.EmbeddedResource)
    assert isinstance(embedded.resource, types.BlobResourceContents)
    assert embedded.resource.mime_type == "application/pdf"
    assert base64.b64decode(embedded.resource.blob) == b"%PDF-1.7 ..."
    assert embedded.resource.uri == "naftiko://tools/get-items/result"


def test_text_stays_text_in_its_charset_and_is_cut_like_json() -> None:
    latin = Media("café;crème\n".encode("latin-1"), "text/csv; charset=ISO-8859-1")

    assert texts(render_success(tool(), Success(200, media=latin))) == ["café;crème\n"]
    cut = render_success(tool(limit=5), Success(200, media=Media(b"0123456789", "text/plain")))
    assert texts(cut)[0] == "01234" and "Result cut" in texts(cut)[1]


def test_binary_over_the_limit_is_not_sent_and_the_result_says_why() -> None:
    result = render_success(tool(limit=16), Success(200, media=Media(PNG, "image/png")))

    [note] = texts(result)
    assert result.is_error
    assert f"image/png of {len(PNG):,} bytes" in note and "--max-result-bytes" in note
