"""A capability file compiled into upstream operations and adapters of actions.

This is load time: everything the request path needs is resolved here, and every
cross-check (calls resolve, `with` names real parameters, ports are not claimed twice)
becomes a diagnostic with a place.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

from naftiko_runtime.adapters.inbound_auth import InboundAuth
from naftiko_runtime.adapters.oauth_resource import OAuthResource
from naftiko_runtime.arguments import Signature, derive_signature
from naftiko_runtime.binds import BindError, Variables, resolve_binds
from naftiko_runtime.consumer.body import BodyError
from naftiko_runtime.consumer.operation import UpstreamOperation, assign_dotted, compile_operation
from naftiko_runtime.consumer.retry import IDEMPOTENT_METHODS
from naftiko_runtime.diagnostics import CapabilityError, Diagnostic, FieldPath, Severity
from naftiko_runtime.engine import Action, Hints
from naftiko_runtime.errors import CallError
from naftiko_runtime.forward import Forward, compile_forward
from naftiko_runtime.mapping import MappingError, OutputMapping, compile_outputs
from naftiko_runtime.mcp_extras import ExtrasError, Prompt, Resource, compile_prompt, compile_resource
from naftiko_runtime.orchestration import CallStep, Orchestration, compile_orchestration
from naftiko_runtime.output_schema import schema_from_outputs
from naftiko_runtime.scripting import ScriptSettings
from naftiko_runtime.spec.dialects import param_key, path_placeholders
from naftiko_runtime.spec.loader import LoadedDocument, load_document
from naftiko_runtime.spec.models import (
    AggregateFunction,
    Authentication,
    ConsumedOperation,
    ConsumedResource,
    ConsumesHttp,
    ControlManagement,
    ExposedOperationBase,
    ExposesControl,
    ExposesMcp,
    ExposesRest,
    ExposesSkill,
    InputParameter,
    McpResource,
    McpTool,
    OutputParameter,
    Semantics,
)
from naftiko_runtime.spec.source import Source
from naftiko_runtime.templates import Template, TemplateError
from naftiko_runtime.tool_names import served_name
from naftiko_runtime.typed_tools import outputs_schema, type_from_companions

AdapterType = Literal["rest", "mcp", "skill", "control"]
DEFAULT_HOST = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class LoadOptions:
    base_uris: Mapping[str, str] = field(default_factory=dict)
    mock: bool = False
    environ: Mapping[str, str] | None = None
    # Type routes and tools from OpenAPI documents (`typed_tools.py`): those `--openapi NS=FILE`
    # names, else `<name>.openapi.yaml|json` beside the capability.
    companion_schemas: bool = False
    openapi: Mapping[str, Sequence[Path]] = field(default_factory=dict)


@dataclass(slots=True)
class Adapter:
    type: AdapterType
    namespace: str
    declared_port: int | None
    address: str | None
    description: str | None
    actions: list[Action]
    capability: CompiledCapability
    # Skill adapters: the catalogue entries they serve.
    skills: list[dict[str, Any]] = field(default_factory=list)
    inbound_auth: InboundAuth | None = None
    # REST adapters: resources relayed as they are to a consumes namespace.
    forwards: list[Forward] = field(default_factory=list)
    # MCP adapters: resources and prompts besides the tools.
    resources: list[Resource] = field(default_factory=list)
    prompts: list[Prompt] = field(default_factory=list)
    # Control adapters: which management endpoints are on.
    management: ControlManagement | None = None


@dataclass(slots=True)
class CompiledCapability:
    loaded: LoadedDocument
    variables: Variables
    operations: dict[str, UpstreamOperation]
    adapters: list[Adapter] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # Operations safe to send again (`consumer/guard.py` retries them): GET, HEAD, PUT, DELETE, or
    # declared so by the hints of a tool or the semantics of an aggregate function calling them.
    idempotent: frozenset[str] = frozenset()

    @property
    def path(self) -> Path:
        return self.loaded.path

    @property
    def label(self) -> str:
        info = self.loaded.document.info
        return (info.label if info and info.label else None) or self.path.stem

    def not_ready(self) -> list[str]:
        """What keeps calls from working: missing variables, namespaces without a base URI."""
        reasons: dict[str, None] = {}
        for operation in self.operations.values():
            for variable in operation.missing_variables:
                reasons[f"missing variable {variable}"] = None
            if not operation.base_uri:
                reasons[f"no baseUri for consumes namespace {operation.namespace}"] = None
        return list(reasons)

    def namespaces(self) -> list[str]:
        forwarded = [f.target.namespace for adapter in self.adapters for f in adapter.forwards]
        return list(dict.fromkeys([*(op.namespace for op in self.operations.values()), *forwarded]))


def load_capability(
    path: Path, options: LoadOptions = LoadOptions(), source: Source | None = None
) -> CompiledCapability:
    """Load, normalise and compile one capability file (`source`: already read). Raises `CapabilityError`."""
    loaded = load_document(path, source)
    diagnostics = list(loaded.diagnostics)
    document = loaded.document
    capability = document.capability
    environ = options.environ if options.environ is not None else os.environ
    binds = [*document.binds, *(capability.binds if capability else [])]
    try:
        variables = resolve_binds(binds, environ, path.parent)
    except BindError as exc:
        raise CapabilityError([*diagnostics, _error(loaded, str(exc), ("binds",))]) from None

    operations: dict[str, UpstreamOperation] = {}
    if capability is not None:
        for c_index, consumes in enumerate(capability.consumes):
            if not consumes.base_uri and consumes.namespace not in options.base_uris and not options.mock:
                diagnostics.append(
                    _warning(
                        loaded,
                        f"consumes '{consumes.namespace}' has an empty baseUri: its calls answer 503 until "
                        f"--base-uri {consumes.namespace}=URL is given",
                        ("capability", "consumes", c_index, "baseUri"),
                    )
                )
            for r_index, resource in enumerate(consumes.resources):
                for o_index, operation in enumerate(resource.operations):
                    try:
                        compiled = compile_operation(
                            consumes,
                            resource,
                            operation,
                            variables,
                            base_uri=options.base_uris.get(consumes.namespace),
                            mock=options.mock,
                            base_dir=path.parent,
                        )
                        if compiled.decoder is not None and compiled.decoder.load_problem:
                            where = ("capability", "consumes", c_index, "resources", r_index, "operations", o_index)
                            message = f"{compiled.ref}: {compiled.decoder.load_problem}; its calls answer 502"
                            diagnostics.append(_warning(loaded, message, (*where, "outputSchema")))
                    except (TemplateError, BodyError) as exc:
                        where = ("capability", "consumes", c_index, "resources", r_index, "operations", o_index)
                        diagnostics.append(_error(loaded, str(exc), where))
                        continue
                    if compiled.ref in operations:
                        diagnostics.append(
                            _warning(
                                loaded,
                                f"operation '{compiled.ref}' is defined twice; the first one is used",
                                (
                                    "capability",
                                    "consumes",
                                    c_index,
                                    "resources",
                                    r_index,
                                    "operations",
                                    o_index,
                                ),
                            )
                        )
                        continue
                    operations[compiled.ref] = compiled
    compiled_capability = CompiledCapability(loaded, variables, operations, diagnostics=diagnostics)
    if capability is not None:
        for e_index, expose in enumerate(capability.exposes):
            field_path: FieldPath = ("capability", "exposes", e_index)
            if isinstance(expose, ExposesRest):
                actions = _rest_actions(compiled_capability, expose, field_path)
                forwards = _forwards(compiled_capability, expose, field_path, options, variables)
            elif isinstance(expose, ExposesMcp):
                actions = _mcp_actions(compiled_capability, expose, field_path)
                resources, prompts = _mcp_extras(compiled_capability, expose, field_path)
            else:
                actions = []
            compiled_capability.adapters.append(
                Adapter(
                    type=expose.type,
                    namespace=expose.namespace,
                    declared_port=expose.port,
                    address=expose.address,
                    description=expose.description,
                    actions=actions,
                    capability=compiled_capability,
                    inbound_auth=_inbound_auth(compiled_capability, expose.authentication, field_path),
                    management=expose.management if isinstance(expose, ExposesControl) else None,
                    resources=resources if isinstance(expose, ExposesMcp) else [],
                    forwards=forwards if isinstance(expose, ExposesRest) else [],
                    prompts=prompts if isinstance(expose, ExposesMcp) else [],
                )
            )
        _check_ports(compiled_capability)
        if options.companion_schemas:
            _type_from_companions(compiled_capability, capability.consumes, options)
        for adapter in compiled_capability.adapters:
            for action in adapter.actions:
                action.inbound_auth = adapter.inbound_auth
            for forward in adapter.forwards:
                forward.inbound_auth = adapter.inbound_auth
        _build_catalogues(compiled_capability)
        compiled_capability.idempotent = _idempotent_operations(compiled_capability)
    for name in sorted(variables.environment_reads):
        message = f"reads environment variable {name}, which no bind declares"
        diagnostics.append(Diagnostic(Severity.NOTE, message, loaded.locate(("capability",)), code="environment-read"))
    for c_index, consumes in enumerate(capability.consumes if capability else []):
        if consumes.authentication is None:
            message = (
                f"consumes '{consumes.namespace}' declares no authentication: its calls are sent without credentials"
            )
            at: FieldPath = ("capability", "consumes", c_index)
            diagnostics.append(Diagnostic(Severity.NOTE, message, loaded.locate(at), at, code="no-authentication"))
    for variable in dict.fromkeys(v for op in operations.values() for v in op.missing_variables):
        diagnostics.append(
            _warning(
                loaded,
                f"variable {variable} is not set: calls that need it answer 503 until it is",
                ("binds",),
                code="missing-variable",
            )
        )
    errors = [d for d in diagnostics if d.severity is Severity.ERROR]
    if errors:
        raise CapabilityError(diagnostics)
    return compiled_capability


def _rest_actions(capability: CompiledCapability, expose: ExposesRest, where: FieldPath) -> list[Action]:
    actions = []
    for r_index, resource in enumerate(expose.resources):
        placeholders = path_placeholders(resource.path)
        for o_index, given in enumerate(resource.operations):
            field_path = (*where, "resources", r_index, "operations", o_index)
            operation, _ = _resolve_ref(capability, given, field_path)
            declared = [*resource.input_parameters, *operation.input_parameters]
            action = _action(
                capability,
                "route",
                expose.namespace,
                f"{operation.method} {resource.path}",
                operation,
                declared,
                field_path,
                placeholders,
                required_default=False,
            )
            action.method = operation.method
            action.path = resource.path
            action.operation_name = operation.name
            action.description = operation.description or resource.description
            action.answer_schema = schema_from_outputs(operation.output_parameters)
            actions.append(action)
    return actions


def _mcp_actions(capability: CompiledCapability, expose: ExposesMcp, where: FieldPath) -> list[Action]:
    actions = []
    for t_index, given in enumerate(expose.tools):
        field_path = (*where, "tools", t_index)
        tool, semantics = _resolve_ref(capability, given, field_path)
        if not tool.name:
            capability.diagnostics.append(
                _error(capability.loaded, "a tool needs a name (or a ref that gives one)", field_path)
            )
            continue
        name, remarks = served_name(tool.name)
        for remark in remarks:
            capability.diagnostics.append(_warning(capability.loaded, remark, (*field_path, "name"), code="tool-name"))
        action = _action(capability, "tool", expose.namespace, name, tool, tool.input_parameters, field_path, ())
        action.title = tool.label
        action.description = tool.description
        action.hints = _hints(tool, _methods(action), semantics)
        action.output_schema = outputs_schema(tool.output_parameters, f"outputParameters of tool '{name}'")
        actions.append(action)
    return actions


def _type_from_companions(capability: CompiledCapability, consumes: list[ConsumesHttp], options: LoadOptions) -> None:
    actions = [action for adapter in capability.adapters for action in adapter.actions]
    declared = {entry.namespace: entry.base_uri for entry in consumes}
    capability.diagnostics.extend(type_from_companions(capability.path, actions, declared, options.openapi))


def _forwards(
    capability: CompiledCapability, expose: ExposesRest, where: FieldPath, options: LoadOptions, variables: Variables
) -> list[Forward]:
    document = capability.loaded.document
    consumes = {c.namespace: c for c in (document.capability.consumes if document.capability else [])}
    forwards = []
    for index, resource in enumerate(expose.resources):
        if resource.forward is None:
            continue
        namespace = resource.forward.target_namespace
        target = consumes.get(namespace)
        if target is None:
            message = f"forward of '{resource.path}' targets '{namespace}', which the capability does not consume"
            capability.diagnostics.append(_error(capability.loaded, message, (*where, "resources", index, "forward")))
            continue
        relay = compile_operation(
            target,
            ConsumedResource(path=""),
            ConsumedOperation(name="forward"),
            variables,
            base_uri=options.base_uris.get(namespace),
            mock=options.mock,
            base_dir=capability.path.parent,
        )
        forward = compile_forward(resource.path, relay, resource.forward.trusted_headers)
        forward.action = Action(
            kind="route",
            adapter=expose.namespace,
            name=f"* {resource.path}",
            signature=Signature([], []),
            output=OutputMapping(None, None),
            location=capability.loaded.locate((*where, "resources", index, "forward")),
            target=relay,
            method="*",
            path=resource.path,
        )
        forwards.append(forward)
    return forwards


def _mcp_extras(
    capability: CompiledCapability, expose: ExposesMcp, where: FieldPath
) -> tuple[list[Resource], list[Prompt]]:
    base_dir = capability.path.parent
    resources: list[Resource] = []
    for index, spec in enumerate(expose.resources):
        field_path = (*where, "resources", index)

        def make_action(resource: McpResource, parameters: list[str], path: FieldPath = field_path) -> Action:
            declared = [
                InputParameter(name=name, type="string", description=f"{name} from the resource URI", required=True)
                for name in parameters
            ]
            return _action(capability, "resource", expose.namespace, resource.name, resource, declared, path, ())

        try:
            resources.extend(compile_resource(spec, base_dir, make_action))
        except (ExtrasError, TemplateError) as exc:
            capability.diagnostics.append(_warning(capability.loaded, f"{exc}; not served", field_path))
    prompts: list[Prompt] = []
    for index, prompt in enumerate(expose.prompts):
        try:
            prompts.append(compile_prompt(prompt, base_dir))
        except (ExtrasError, TemplateError) as exc:
            capability.diagnostics.append(_warning(capability.loaded, f"{exc}; not served", (*where, "prompts", index)))
    return resources, prompts


def _methods(action: Action) -> list[str]:
    """The HTTP methods a route or tool sends upstream (one call, or every call step)."""
    if action.orchestration is not None:
        return [step.target.method for step in action.orchestration.steps if isinstance(step, CallStep)]
    return [action.target.method] if action.target else []


def _idempotent_operations(capability: CompiledCapability) -> frozenset[str]:
    """Idempotency belongs to the consumed operation, whichever adapter calls it."""
    refs = {ref for ref, operation in capability.operations.items() if operation.method in IDEMPOTENT_METHODS}
    document = capability.loaded.document.capability
    for aggregate in document.aggregates if document else []:
        for function in aggregate.functions:
            if function.semantics is not None and (function.semantics.idempotent or function.semantics.safe):
                refs.update(_called(function))
    for adapter in capability.adapters:
        for action in adapter.actions:
            # A tool's hints are declared, or follow from methods that are idempotent anyway.
            if action.kind == "tool" and (action.hints.idempotent or action.hints.read_only):
                refs.update(_targets(action))
    return frozenset(ref for ref in refs if ref in capability.operations)


def _called(function: AggregateFunction) -> list[str]:
    return [ref for ref in [function.call, *(step.call for step in function.steps if step.type == "call")] if ref]


def _targets(action: Action) -> list[str]:
    if action.orchestration is not None:
        return [step.target.ref for step in action.orchestration.steps if isinstance(step, CallStep)]
    return [action.target.ref] if action.target else []


def _hints(tool: McpTool, methods: list[str], semantics: Semantics | None) -> Hints:
    """Spec hints win; then an aggregate's semantics; then what the HTTP methods imply."""
    safe = bool(methods) and all(method == "GET" for method in methods)
    idempotent = bool(methods) and all(method in ("GET", "PUT", "DELETE") for method in methods)
    if semantics is not None:
        safe = semantics.safe if semantics.safe is not None else safe
        idempotent = semantics.idempotent if semantics.idempotent is not None else idempotent
    given = tool.hints
    read_only = given.read_only if given and given.read_only is not None else safe
    destructive = "DELETE" in methods and not read_only
    return Hints(
        read_only=read_only,
        destructive=given.destructive if given and given.destructive is not None else destructive,
        idempotent=given.idempotent if given and given.idempotent is not None else idempotent,
        open_world=given.open_world if given and given.open_world is not None else True,
    )


SpecT = TypeVar("SpecT", bound=ExposedOperationBase)


def _resolve_ref(capability: CompiledCapability, spec: SpecT, field_path: FieldPath) -> tuple[SpecT, Semantics | None]:
    """`ref: aggregate.function`: the function's fields, overridden by the ones written here."""
    if not spec.ref:
        return spec, None
    document = capability.loaded.document
    aggregates = document.capability.aggregates if document.capability else []
    namespace, _, name = spec.ref.partition(".")
    function = next((f for a in aggregates if a.namespace == namespace for f in a.functions if f.name == name), None)
    if function is None:
        capability.diagnostics.append(
            _error(
                capability.loaded,
                f"ref '{spec.ref}' names no function of the capability's aggregates",
                (*field_path, "ref"),
            )
        )
        return spec, None
    inherited = function.model_dump(by_alias=True, exclude_unset=True, exclude={"semantics"})
    merged = {**inherited, **spec.model_dump(by_alias=True, exclude_unset=True)}
    return type(spec).model_validate(merged), function.semantics


def _action(
    capability: CompiledCapability,
    kind: Literal["route", "tool", "resource"],
    namespace: str,
    name: str,
    spec: ExposedOperationBase,
    declared: list[InputParameter],
    field_path: FieldPath,
    placeholders: tuple[str, ...] | list[str],
    required_default: bool = True,
) -> Action:
    loaded = capability.loaded
    target: UpstreamOperation | None = None
    unresolved: CallError | None = None
    orchestration: Orchestration | None = None
    if spec.steps:
        names = {param_key(parameter.name): parameter.name for parameter in declared}
        orchestration, problems, warnings = compile_orchestration(
            spec, capability.operations, namespace, names, capability.path.parent, _script_settings(capability)
        )
        for problem in [*problems, *warnings]:
            capability.diagnostics.append(_warning(loaded, f"{kind} '{name}': {problem}", (*field_path, "steps")))
        if problems:
            unresolved = CallError(501, "Not Implemented", f"{kind} '{name}': {problems[0]}")
    elif spec.call:
        target = capability.operations.get(spec.call)
        if target is None:
            capability.diagnostics.append(
                _warning(
                    loaded,
                    f"{kind} '{name}' calls '{spec.call}', which this file does not define; "
                    "it answers an error when called",
                    (*field_path, "call"),
                    code="unresolved-call",
                )
            )
            unresolved = CallError(
                501,
                "Not Implemented",
                f"{kind} '{name}' calls '{spec.call}', which the capability does not define",
            )
    elif not _is_mock(spec):
        capability.diagnostics.append(
            _warning(loaded, f"{kind} '{name}' has no 'call'; it answers an error when called", field_path)
        )
        unresolved = CallError(501, "Not Implemented", f"{kind} '{name}' has no upstream call")
    try:
        signature = derive_signature(
            expose_namespace=namespace,
            declared=declared,
            with_map=spec.with_,
            target=target,
            route_placeholders=placeholders,
            declared_required_default=required_default,
        )
    except TemplateError as exc:
        capability.diagnostics.append(_error(loaded, str(exc), (*field_path, "with")))
        signature = derive_signature(expose_namespace=namespace, declared=declared, with_map={}, target=target)
    for finding in signature.findings:
        make = _error if finding.error else _warning
        capability.diagnostics.append(make(loaded, f"{kind} '{name}': {finding.message}", (*field_path, "with")))
    try:
        # An orchestration's result is built by its mappings; its outputParameters only describe it.
        output = compile_outputs([] if orchestration else spec.output_parameters)
    except (MappingError, TemplateError) as exc:
        capability.diagnostics.append(_error(loaded, str(exc), (*field_path, "outputParameters")))
        output = compile_outputs([])
    return Action(
        kind=kind,
        adapter=namespace,
        name=name,
        signature=signature,
        output=output,
        location=loaded.locate(field_path),
        target=target,
        unresolved=unresolved,
        orchestration=orchestration,
    )


def _script_settings(capability: CompiledCapability) -> ScriptSettings:
    """The control expose's `management.scripting`, else the defaults."""
    document = capability.loaded.document
    exposes = document.capability.exposes if document.capability else []
    control = next((e for e in exposes if isinstance(e, ExposesControl)), None)
    scripting = control.management.scripting if control else None
    return ScriptSettings.from_management(scripting, capability.variables.environ)


def _is_mock(spec: ExposedOperationBase) -> bool:
    """An operation with no call whose outputs are all fixed `value`s answers them itself."""
    return bool(spec.output_parameters) and all(_has_value(output) for output in spec.output_parameters)


def _has_value(output: OutputParameter) -> bool:
    if output.value is not None:
        return True
    items = output.items if isinstance(output.items, list) else [output.items] if output.items else []
    children = [*(output.properties or {}).values(), *items]
    return bool(children) and all(_has_value(child) for child in children)


def _inbound_auth(
    capability: CompiledCapability, auth: Authentication | None, field_path: FieldPath
) -> InboundAuth | None:
    """What callers must present; rendered once from the capability's variables."""
    if auth is None:
        return None
    where = (*field_path, "authentication")

    def render(text: str | None) -> str:
        template = Template(text or "")
        context: dict[str, Any] = {}
        for name in template.variables:
            value, missing = capability.variables.lookup(name)
            if missing:
                capability.diagnostics.append(
                    _warning(
                        capability.loaded,
                        f"variable {missing} of this adapter's authentication is not set: every call is refused",
                        where,
                    )
                )
            assign_dotted(context, name, value or "")
        return template.render(context)

    if auth.type == "bearer":
        return InboundAuth("bearer", render(auth.token))
    if auth.type == "basic":
        username, password = render(auth.username), render(auth.password)
        return InboundAuth("basic", f"{username}:{password}" if username or password else "")
    if auth.type == "apikey":
        return InboundAuth(
            "apikey", render(auth.value), key=auth.key or "X-API-Key", in_query=auth.placement == "query"
        )
    if auth.type == "oauth2":
        fields = auth.model_dump(by_alias=True)  # the spec's names, whether the model declares them or keeps extras
        noted = len(capability.diagnostics)
        issuer = render(str(fields.get("authorizationServerUri") or ""))
        resource, audience = render(str(fields.get("resource") or "")), render(str(fields.get("audience") or ""))
        listed = fields.get("scopes")
        scopes = [render(str(scope)) for scope in listed if scope] if isinstance(listed, list) else []
        validation = fields.get("tokenValidation") or "jwks"
        if len(capability.diagnostics) > noted:
            return InboundAuth("oauth2", "")  # a variable is missing: already reported as refusing every call
        unusable = ""
        if not issuer or not resource:
            unusable = "needs authorizationServerUri and resource"
        elif urlsplit(issuer).scheme not in ("http", "https") or not urlsplit(issuer).netloc:
            unusable = "needs an http(s) authorizationServerUri"
        elif validation not in ("jwks", "introspection"):
            unusable = f"tokenValidation '{validation}' is neither jwks nor introspection"
        if not unusable:
            oauth = OAuthResource(
                issuer, resource, audience=audience or None, scopes=scopes, introspection=validation == "introspection"
            )
            return InboundAuth("oauth2", "", oauth=oauth)
        message = f"oauth2 authentication {unusable}: every call to this adapter is refused"
        capability.diagnostics.append(_warning(capability.loaded, message, where))
        return InboundAuth("oauth2", "")
    capability.diagnostics.append(
        _warning(
            capability.loaded,
            f"inbound '{auth.type}' authentication is not supported yet: every call to this adapter is refused",
            where,
        )
    )
    return InboundAuth(auth.type, "")


def _build_catalogues(capability: CompiledCapability) -> None:
    """Each skill as served, its tools carrying the input schema of the route or tool they name."""
    document = capability.loaded.document
    assert document.capability is not None
    skill_exposes = {e.namespace: e for e in document.capability.exposes if isinstance(e, ExposesSkill)}
    siblings = {a.namespace: a for a in capability.adapters if a.type != "skill"}
    for index, adapter in enumerate(capability.adapters):
        expose = skill_exposes.get(adapter.namespace)
        if adapter.type != "skill" or expose is None:
            continue
        for s_index, skill in enumerate(expose.skills):
            entry = skill.model_dump(by_alias=True, exclude_none=True)
            for t_index, tool in enumerate(skill.tools):
                if tool.from_ is None:
                    continue
                source = siblings.get(tool.from_.get("sourceNamespace", ""))
                wanted = tool.from_.get("action", "")
                action = (
                    next((a for a in source.actions if wanted in (a.name, a.operation_name)), None) if source else None
                )
                if action is None:
                    capability.diagnostics.append(
                        _warning(
                            capability.loaded,
                            f"skill '{skill.name}' tool '{tool.name}' comes from '{tool.from_.get('sourceNamespace')}."
                            f"{wanted}', which no sibling adapter has",
                            ("capability", "exposes", index, "skills", s_index, "tools", t_index, "from"),
                        )
                    )
                    continue
                entry["tools"][t_index]["inputSchema"] = action.signature.input_schema()
            adapter.skills.append(entry)


def _check_ports(capability: CompiledCapability) -> None:
    claimed: dict[int, int] = {}
    document = capability.loaded.document
    assert document.capability is not None
    for index, adapter in enumerate(capability.adapters):
        port = adapter.declared_port
        if port is None or port == 0:
            continue
        if port in claimed:
            first = capability.adapters[claimed[port]]
            capability.diagnostics.append(
                _error(
                    capability.loaded,
                    f"adapters '{first.namespace}' and '{adapter.namespace}' both claim port {port}",
                    ("capability", "exposes", index, "port"),
                )
            )
        else:
            claimed[port] = index


def _warning(loaded: LoadedDocument, message: str, field_path: FieldPath, code: str = "") -> Diagnostic:
    return Diagnostic(Severity.WARNING, message, loaded.locate(field_path), loaded.original(field_path), code)


def _error(loaded: LoadedDocument, message: str, field_path: FieldPath) -> Diagnostic:
    return Diagnostic(Severity.ERROR, message, loaded.locate(field_path), loaded.original(field_path))
