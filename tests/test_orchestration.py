"""orchestration.py and aggregates: steps, lookups, mappings, `ref`, hints from semantics."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from naftiko_runtime.capability import CompiledCapability, LoadOptions, load_capability
from naftiko_runtime.consumer.client import UpstreamRequest, UpstreamResponse
from naftiko_runtime.diagnostics import CapabilityError
from naftiko_runtime.engine import Action, Success
from naftiko_runtime.errors import CallError, UpstreamAnswer

pytestmark = pytest.mark.anyio

CAPABILITY = """\
naftiko: 1.0.0-alpha2
capability:
  consumes:
  - type: http
    namespace: fleet
    baseUri: http://fleet.invalid
    resources:
    - name: ship
      path: /ships/{{imo}}
      operations:
      - {name: get-ship, method: GET, inputParameters: [{name: imo, in: path}]}
    - name: crew
      path: /crew
      operations:
      - {name: list-crew, method: GET}
  aggregates:
  - namespace: crew-resolver
    label: Crew resolver
    functions:
    - name: ship-with-crew
      description: A ship and its crew.
      semantics: {safe: true, idempotent: true}
      inputParameters:
      - {name: imo, type: string, description: IMO number}
      steps:
      - {name: get-ship, type: call, call: fleet.get-ship, with: {imo: "{{imo}}"}}
      - {name: list-crew, type: call, call: fleet.list-crew}
      - name: resolve-crew
        type: lookup
        index: list-crew
        match: crew-id
        lookupValue: $.get-ship.crew
        outputParameters: [name]
      - name: captain
        type: lookup
        index: list-crew
        match: crew_id
        lookupValue: $.get-ship.captain
        outputParameters: [name]
      mappings:
      - {targetName: ship.name, value: $.get-ship.name}
      - {targetName: crew, value: $.resolve-crew}
      - {targetName: captain, value: $.captain.name}
      outputParameters:
      - {name: ship, type: object, properties: {name: {type: string}}}
  exposes:
  - type: mcp
    namespace: fleet-mcp
    port: 9000
    tools:
    - name: ship-with-crew
      ref: crew-resolver.ship-with-crew
    - name: ship-with-crew-writable
      ref: crew-resolver.ship-with-crew
      hints: {readOnly: false}
"""
ANSWERS = {
    "/ships/IMO-1": {"name": "Aurora", "crew": ["C1", "C3", "C9"], "captain": "C3"},
    "/crew": [{"crew_id": "C1", "name": "Erik", "role": "mate"}, {"crew_id": "C3", "name": "Ana", "role": "captain"}],
}


class Fleet:
    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.sent: list[UpstreamRequest] = []

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        self.sent.append(request)
        path = request.url.removeprefix("http://fleet.invalid")
        body = json.dumps(ANSWERS.get(path, {"error": "no"})).encode()
        return UpstreamResponse(self.status, {"content-type": "application/json"}, body)

    async def close(self) -> None:
        return None


def _load(tmp_path: Path, text: str = CAPABILITY) -> CompiledCapability:
    path = tmp_path / "fleet.yaml"
    path.write_text(textwrap.dedent(text))
    return load_capability(path, LoadOptions(environ={}))


def _tool(capability: CompiledCapability, name: str, upstream: Fleet) -> Action:
    action = next(a for adapter in capability.adapters for a in adapter.actions if a.name == name)
    assert action.orchestration is not None
    action.orchestration.attach({"fleet": upstream})
    return action


async def test_steps_run_in_order_and_mappings_build_nested_results(tmp_path: Path) -> None:
    upstream = Fleet()
    action = _tool(_load(tmp_path), "ship-with-crew", upstream)
    result = await action.invoke(action.signature.validate({"imo": "IMO-1"}))
    assert isinstance(result, Success)
    assert result.value == {"ship": {"name": "Aurora"}, "crew": [{"name": "Erik"}, {"name": "Ana"}], "captain": "Ana"}
    assert [request.url for request in upstream.sent] == [
        "http://fleet.invalid/ships/IMO-1",
        "http://fleet.invalid/crew",
    ]


async def test_a_failing_step_passes_the_upstream_answer_through(tmp_path: Path) -> None:
    action = _tool(_load(tmp_path), "ship-with-crew", Fleet(status=404))
    result = await action.invoke(action.signature.validate({"imo": "IMO-1"}))
    assert isinstance(result, UpstreamAnswer) and result.status == 404


def test_a_ref_brings_the_function_and_its_semantics_become_hints(tmp_path: Path) -> None:
    capability = _load(tmp_path)
    tools = {a.name: a for adapter in capability.adapters for a in adapter.actions}
    plain, overridden = tools["ship-with-crew"], tools["ship-with-crew-writable"]
    assert plain.signature.input_schema()["required"] == ["imo"]
    assert (plain.hints.read_only, plain.hints.idempotent, plain.hints.destructive) == (True, True, False)
    assert overridden.hints.read_only is False and overridden.hints.idempotent is True


def test_an_unresolved_ref_is_a_load_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(CapabilityError) as caught:
        _load(
            tmp_path,
            CAPABILITY.replace("ref: crew-resolver.ship-with-crew\n    - name", "ref: nobody.nothing\n    - name"),
        )
    assert any("ref 'nobody.nothing'" in d.message for d in caught.value.diagnostics)


def test_a_step_calling_an_unknown_operation_loads_with_a_warning_and_answers_501(tmp_path: Path) -> None:
    capability = _load(tmp_path, CAPABILITY.replace("call: fleet.list-crew}", "call: fleet.list-nobody}"))
    assert any("fleet.list-nobody" in d.message for d in capability.diagnostics)
    action = next(a for adapter in capability.adapters for a in adapter.actions if a.name == "ship-with-crew")
    assert action.unresolved is not None and action.unresolved.status == 501


SCRIPTED = """\
naftiko: 1.0.0-alpha2
capability:
  consumes:
  - type: http
    namespace: fleet
    baseUri: http://fleet.invalid
    resources:
    - name: crew
      path: /crew
      operations:
      - {name: list-crew, method: GET}
  exposes:
  - type: mcp
    namespace: fleet-mcp
    port: 9000
    tools:
    - name: crew-names
      description: Names of the crew in a role.
      inputParameters:
      - {name: role, type: string, description: The role}
      steps:
      - {name: list-crew, type: call, call: fleet.list-crew}
      - {name: names, type: script, language: python, location: "file:///./scripts", file: names.py}
      mappings:
      - {targetName: names, value: $.names}
"""


async def test_a_script_step_transforms_earlier_outputs_in_the_sandbox(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "names.py").write_text(
        'result = [m["name"] for m in context["list-crew"] if m["role"] == context["role"]]\n'
    )
    action = _tool(_load(tmp_path, SCRIPTED), "crew-names", Fleet())
    result = await action.invoke(action.signature.validate({"role": "captain"}))
    assert isinstance(result, Success) and result.value == {"names": ["Ana"]}


async def test_a_missing_script_file_loads_with_a_warning_and_its_calls_fail_clearly(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    capability = _load(tmp_path, SCRIPTED)
    assert any("names.py" in d.message and "not found" in d.message for d in capability.diagnostics)
    action = _tool(capability, "crew-names", Fleet())
    with pytest.raises(CallError) as caught:
        await action.invoke(action.signature.validate({"role": "captain"}))
    assert "names.py" in caught.value.detail
