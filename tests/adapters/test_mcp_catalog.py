"""MCP resources (dynamic, templated, static files) and prompts (inline, from a file)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from naftiko_runtime.adapters.health import Health
from naftiko_runtime.adapters.mcp import McpAdapter
from naftiko_runtime.capability import LoadOptions, load_capability
from naftiko_runtime.consumer.client import UpstreamRequest, UpstreamResponse

pytestmark = pytest.mark.anyio

CAPABILITY = """\
naftiko: 1.0.0-alpha2
capability:
  consumes:
  - type: http
    namespace: notes
    baseUri: http://notes.invalid
    resources:
    - name: note
      path: /notes/{{note_id}}
      operations:
      - {name: get-note, method: GET, inputParameters: [{name: note_id, in: path}]}
  exposes:
  - type: mcp
    namespace: notes-mcp
    port: 9000
    tools:
    - name: get-note
      description: One note.
      inputParameters: [{name: id, type: string, description: Note id}]
      call: notes.get-note
      with: {note_id: notes-mcp.id}
    resources:
    - name: welcome
      label: Welcome note
      uri: notes://welcome
      description: The welcome note.
      mimeType: application/json
      call: notes.get-note
      with: {note_id: welcome}
    - name: note
      uri: notes://notes/{id}
      description: Any note by id.
      call: notes.get-note
      with: {note_id: "{{id}}"}
    - name: docs
      uri: docs://guide
      description: The guide, as files.
      location: file:///./guide
    prompts:
    - name: summarize
      label: Summarize
      description: Summarize a note.
      arguments:
      - {name: text, description: The note, required: true}
      - {name: style, description: Bullets or prose}
      template:
      - {role: user, content: "Summarize in {{style}} style: {{text}}"}
      - {role: assistant, content: "Sure."}
    - name: review
      description: Review from a file.
      arguments: [{name: topic, description: What to review, required: true}]
      location: file:///./prompts/review.md
"""


class Notes:
    def __init__(self) -> None:
        self.paths: list[str] = []

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        path = request.url.removeprefix("http://notes.invalid")
        self.paths.append(path)
        body = json.dumps({"id": path.rsplit("/", 1)[-1], "text": "hello"}).encode()
        return UpstreamResponse(200, {"content-type": "application/json"}, body)

    async def close(self) -> None:
        return None


def _adapter(tmp_path: Path, notes: Notes) -> McpAdapter:
    (tmp_path / "guide").mkdir()
    (tmp_path / "guide" / "intro.md").write_text("# Intro\n")
    (tmp_path / "guide" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff")
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "review.md").write_text("Review {{topic}} carefully.")
    path = tmp_path / "notes.yaml"
    path.write_text(textwrap.dedent(CAPABILITY))
    capability = load_capability(path, LoadOptions(environ={}))
    [adapter] = capability.adapters
    for action in [*adapter.actions, *(r.action for r in adapter.resources if r.action)]:
        action.client = notes
    return McpAdapter(
        "notes", adapter.actions, Health([capability]), resources=adapter.resources, prompts=adapter.prompts
    )


async def test_resources_and_templates_are_listed_and_read_through_their_calls(tmp_path: Path) -> None:
    notes = Notes()
    async with Client(_adapter(tmp_path, notes).server) as client:
        listed = {r.uri: r for r in (await client.list_resources()).resources}
        templates = (await client.list_resource_templates()).resource_templates
        welcome = await client.read_resource("notes://welcome")
        other = await client.read_resource("notes://notes/n-42")
    assert set(listed) == {"notes://welcome", "docs://guide/intro.md", "docs://guide/logo.png"}
    assert listed["notes://welcome"].title == "Welcome note"
    assert [t.uri_template for t in templates] == ["notes://notes/{id}"]
    assert json.loads(welcome.contents[0].text) == {"id": "welcome", "text": "hello"}  # type: ignore[union-attr]
    assert json.loads(other.contents[0].text)["id"] == "n-42"  # type: ignore[union-attr]
    assert notes.paths == ["/notes/welcome", "/notes/n-42"]


async def test_static_files_are_served_as_text_or_blob(tmp_path: Path) -> None:
    async with Client(_adapter(tmp_path, Notes()).server) as client:
        text = (await client.read_resource("docs://guide/intro.md")).contents[0]
        blob = (await client.read_resource("docs://guide/logo.png")).contents[0]
        with pytest.raises(MCPError):
            await client.read_resource("docs://guide/nothing.md")
    assert text.text == "# Intro\n"  # type: ignore[union-attr]
    assert blob.blob  # type: ignore[union-attr]


async def test_prompts_render_their_messages_and_require_their_arguments(tmp_path: Path) -> None:
    async with Client(_adapter(tmp_path, Notes()).server) as client:
        listed = {p.name: p for p in (await client.list_prompts()).prompts}
        summary = await client.get_prompt("summarize", {"text": "a note", "style": "bullet"})
        review = await client.get_prompt("review", {"topic": "the plan"})
        with pytest.raises(MCPError, match="text"):
            await client.get_prompt("summarize", {"style": "bullet"})
    assert [a.name for a in listed["summarize"].arguments or []] == ["text", "style"]
    assert [(m.role, m.content.text) for m in summary.messages] == [  # type: ignore[union-attr]
        ("user", "Summarize in bullet style: a note"),
        ("assistant", "Sure."),
    ]
    assert review.messages[0].content.text == "Review the plan carefully."  # type: ignore[union-attr]
