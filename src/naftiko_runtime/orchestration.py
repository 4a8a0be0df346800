"""Orchestrated routes and tools: `steps` (call, lookup, script) then `mappings`.

Every step's output is kept under its name in one context; `lookupValue`, `with` values
starting with `$` and mapping values are JSONPath over that context (which also holds the
arguments). Mappings build the result, `targetName` dot notation making nested objects.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from naftiko_runtime.consumer.client import UpstreamClient
from naftiko_runtime.consumer.operation import UpstreamOperation, render_with
from naftiko_runtime.errors import CallError, UpstreamAnswer
from naftiko_runtime.exchange import exchange
from naftiko_runtime.mapping import MappingError, compile_path
from naftiko_runtime.scripting import ScriptError, ScriptSettings, ScriptStep, compile_script_step
from naftiko_runtime.spec.dialects import argument_reference, param_key
from naftiko_runtime.spec.models import Invocable
from naftiko_runtime.templates import Template, TemplateError, is_template

Context = dict[str, Any]
Selector = Callable[[Any], Any]


@dataclass(slots=True)
class StepFeed:
    target_key: str
    argument_key: str | None = None
    template: Template | None = None
    selector: Selector | None = None
    literal: Any = None

    def value(self, arguments: Mapping[str, Any], context: Context, variables: Mapping[str, Any]) -> Any:
        if self.argument_key is not None:
            return arguments.get(self.argument_key)
        if self.template is not None:
            return render_with(self.template, variables, arguments)
        if self.selector is not None:
            return self.selector(context)
        return self.literal


@dataclass(slots=True)
class CallStep:
    name: str
    target: UpstreamOperation
    feeds: list[StepFeed]
    client: UpstreamClient | None = None

    async def run(self, arguments: Mapping[str, Any], context: Context) -> Any:
        values = dict(arguments)
        for feed in self.feeds:
            value = feed.value(arguments, context, self.target.variables_context)
            if value is not None:
                values[feed.target_key] = value
        assert self.client is not None
        ref = self.target.ref
        response = await exchange(self.target, self.client, values, f"step '{self.name}'")
        if not 200 <= response.status < 300:
            raise StepFailed(UpstreamAnswer(ref, response.status, response.content_type, response.body))
        return self.target.decode(response.body, response.content_type)


@dataclass(slots=True)
class LookupStep:
    """For each looked-up value, the `index` entries whose `match` field equals it, cut to the fields named."""

    name: str
    index: str
    match_key: str
    select: Selector
    fields: list[str]

    async def run(self, arguments: Mapping[str, Any], context: Context) -> Any:
        entries = context.get(self.index)
        table = entries if isinstance(entries, list) else [entries] if isinstance(entries, dict) else []
        by_value: dict[str, dict[str, Any]] = {}
        for entry in table:
            if isinstance(entry, dict):
                key = _field(entry, self.match_key)
                if key is not None:
                    by_value.setdefault(json.dumps(key), entry)
        wanted = self.select(context)
        if isinstance(wanted, list):
            return [self._cut(by_value[json.dumps(value)]) for value in wanted if json.dumps(value) in by_value]
        found = by_value.get(json.dumps(wanted))
        return self._cut(found) if found is not None else None

    def _cut(self, entry: dict[str, Any]) -> dict[str, Any]:
        return {name: _field(entry, name) for name in self.fields} if self.fields else dict(entry)


def _field(entry: Mapping[str, Any], name: str) -> Any:
    """A field by name, names equal up to case and `-`/`_` (the dialect's rule)."""
    if name in entry:
        return entry[name]
    key = param_key(name)
    return next((value for field_name, value in entry.items() if param_key(field_name) == key), None)


class StepFailed(Exception):
    def __init__(self, answer: UpstreamAnswer) -> None:
        super().__init__(f"{answer.operation} answered {answer.status}")
        self.answer = answer


@dataclass(slots=True)
class Orchestration:
    steps: Sequence[Any]
    mappings: list[tuple[tuple[str, ...], Selector]]
    argument_names: dict[str, str] = field(default_factory=dict)

    async def run(self, arguments: Mapping[str, Any]) -> Any | UpstreamAnswer:
        context: Context = {name: arguments[key] for key, name in self.argument_names.items() if key in arguments}
        try:
            for step in self.steps:
                context[step.name] = await step.run(arguments, context)
        except StepFailed as failed:
            return failed.answer
        except ScriptError as exc:
            raise CallError(500, "Script Failed", str(exc)) from None
        if not self.mappings:
            return context.get(self.steps[-1].name) if self.steps else None
        result: dict[str, Any] = {}
        for target, select in self.mappings:
            _assign(result, target, select(context))
        return result

    def attach(self, clients: Mapping[str, UpstreamClient]) -> None:
        for step in self.steps:
            if isinstance(step, CallStep):
                step.client = clients[step.target.namespace]


def _assign(result: dict[str, Any], target: tuple[str, ...], value: Any) -> None:
    node = result
    for part in target[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[target[-1]] = value


def compile_feeds(with_map: Mapping[str, Any], expose_namespace: str) -> list[StepFeed]:
    feeds = []
    for target_name, value in with_map.items():
        key = param_key(target_name)
        reference = argument_reference(value, expose_namespace)
        if reference is not None:
            feeds.append(StepFeed(key, argument_key=param_key(reference)))
        elif isinstance(value, str) and value.strip().startswith("$"):
            feeds.append(StepFeed(key, selector=compile_path(value)))
        elif is_template(value):
            feeds.append(StepFeed(key, template=Template(value)))
        else:
            feeds.append(StepFeed(key, literal=value))
    return feeds


def compile_orchestration(
    spec: Invocable,
    operations: Mapping[str, UpstreamOperation],
    expose_namespace: str,
    argument_names: Mapping[str, str],
    base_dir: Path,
    scripting: ScriptSettings,
) -> tuple[Orchestration, list[str], list[str]]:
    """The steps and mappings of `spec`, what keeps them from running, and what only some calls will hit."""
    problems: list[str] = []
    warnings: list[str] = []
    steps: list[CallStep | LookupStep | ScriptStep] = []
    for step in spec.steps:
        if step.type == "call":
            target = operations.get(step.call or "")
            if target is None:
                problems.append(f"step '{step.name}' calls '{step.call}', which the capability does not define")
                continue
            try:
                feeds = compile_feeds(step.with_, expose_namespace)
            except (MappingError, TemplateError) as exc:
                problems.append(f"step '{step.name}': {exc}")
                continue
            steps.append(CallStep(step.name, target, feeds))
        elif step.type == "lookup":
            if not (step.index and step.match and step.lookup_value):
                problems.append(f"lookup step '{step.name}' needs index, match and lookupValue")
                continue
            try:
                lookup = compile_path(step.lookup_value)
            except MappingError as exc:
                problems.append(f"lookup step '{step.name}': {exc}")
                continue
            steps.append(LookupStep(step.name, step.index, step.match, lookup, step.output_parameters))
        else:
            script = compile_script_step(step, base_dir, scripting)
            if script.load_problem:
                warnings.append(f"{script.load_problem}; calls answer an error")
            steps.append(script)
    mappings = []
    for mapping in spec.mappings:
        try:
            mappings.append((tuple(mapping.target_name.split(".")), compile_path(mapping.value)))
        except MappingError as exc:
            problems.append(f"mapping to '{mapping.target_name}': {exc}")
    return Orchestration(steps, mappings, dict(argument_names)), problems, warnings
