"""adapters/skill.py: the read-only skill catalogue, with the input schemas of the tools it points at."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from naftiko_runtime.adapters.health import Health
from naftiko_runtime.adapters.skill import SkillApp
from naftiko_runtime.capability import LoadOptions, load_capability

pytestmark = pytest.mark.anyio

CAPABILITY = """\
naftiko: 1.0.0-alpha2
capability:
  consumes:
  - type: http
    namespace: zoo
    baseUri: http://zoo.invalid
    resources:
    - name: animal
      path: /animals/{{id}}
      operations:
      - name: get-animal
        method: GET
        inputParameters:
        - {name: id, in: path}
  exposes:
  - type: mcp
    namespace: zoo-mcp
    port: 9000
    tools:
    - name: get-animal
      description: One animal.
      inputParameters:
      - {name: id, type: string, description: The animal's id.}
      call: zoo.get-animal
  - type: skill
    namespace: zoo-skills
    port: 9001
    skills:
    - name: keeping
      description: Look after the animals.
      license: MIT
      tools:
      - name: get-animal
        description: One animal.
        from: {sourceNamespace: zoo-mcp, action: get-animal}
      - name: feeding-guide
        description: How to feed them.
        instruction: feeding.md
"""


def _app(tmp_path: Path) -> SkillApp:
    path = tmp_path / "zoo.yaml"
    path.write_text(CAPABILITY)
    capability = load_capability(path, LoadOptions(environ={}))
    skills = [skill for adapter in capability.adapters for skill in adapter.skills]
    return SkillApp(skills, Health([capability]))


async def test_a_skill_is_served_by_name_with_its_frontmatter_and_tool_schemas(tmp_path: Path) -> None:
    transport = httpx.ASGITransport(app=_app(tmp_path))
    async with httpx.AsyncClient(transport=transport, base_url="http://skills") as client:
        skill = (await client.get("/skills/keeping")).json()
        listing = (await client.get("/skills")).json()
    assert skill["name"] == "keeping" and skill["license"] == "MIT"
    get_animal, guide = skill["tools"]
    assert get_animal["inputSchema"]["required"] == ["id"]
    assert guide == {"name": "feeding-guide", "description": "How to feed them.", "instruction": "feeding.md"}
    assert listing == {"skills": [{"name": "keeping", "description": "Look after the animals."}]}


async def test_an_unknown_skill_is_404_and_writes_are_405(tmp_path: Path) -> None:
    transport = httpx.ASGITransport(app=_app(tmp_path))
    async with httpx.AsyncClient(transport=transport, base_url="http://skills") as client:
        missing = await client.get("/skills/nothing")
        write = await client.post("/skills/keeping")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    assert write.status_code == 405 and write.headers["allow"] == "GET, HEAD"


def test_a_tool_from_an_unknown_sibling_is_a_load_warning(tmp_path: Path) -> None:
    path = tmp_path / "zoo.yaml"
    path.write_text(CAPABILITY.replace("sourceNamespace: zoo-mcp", "sourceNamespace: zoo-nothing"))
    capability = load_capability(path, LoadOptions(environ={}))
    assert any("zoo-nothing.get-animal" in d.message for d in capability.diagnostics)
