"""The capability vocabulary, in the official alpha2 shape.

Models are lenient (unknown fields are kept, not refused), as the reference engine is;
`naftiko validate --strict` checks the official JSON Schema separately.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ParameterLocation = Literal["query", "header", "path", "cookie", "body", "environment"]
HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
ValueType = Literal["string", "number", "integer", "boolean", "array", "object"]


class Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class InputParameter(Model):
    """A consumed or exposed input parameter (the generated dialect adds type, description, required)."""

    name: str
    location: ParameterLocation | None = Field(default=None, alias="in")
    type: ValueType | None = None
    description: str | None = None
    required: bool | None = None
    pattern: str | None = None
    value: Any = None


class OutputParameter(Model):
    name: str | None = None
    type: str | None = None
    mapping: str | None = None
    value: Any = None
    const: Any = None
    description: str | None = None
    properties: dict[str, OutputParameter] | None = None
    # Mapped outputs give one item shape; orchestrated outputs list the item's fields.
    items: OutputParameter | list[OutputParameter] | None = None


class Authentication(Model):
    type: Literal["bearer", "basic", "apikey", "digest", "oauth2"]
    token: str | None = None
    username: str | None = None
    password: str | None = None
    key: str | None = None
    value: str | None = None
    placement: Literal["header", "query"] | None = None
    # Generated files: several apikey headers at once, or `name`/`in` for key/placement
    # (spec/dialects.py `apikey_entries`).
    headers: dict[str, str] | None = None
    name: str | None = None
    location: str | None = Field(default=None, alias="in")
    # oauth2 (inbound only: the adapter as a resource server)
    authorization_server_uri: str | None = Field(default=None, alias="authorizationServerUri")
    resource: str | None = None
    audience: str | None = None
    scopes: list[str] | None = None
    token_validation: str | None = Field(default=None, alias="tokenValidation")
    token_endpoint: str | None = Field(default=None, alias="tokenEndpoint")


class ConsumedOperation(Model):
    name: str
    method: HttpMethod = "GET"
    label: str | None = None
    description: str | None = None
    input_parameters: list[InputParameter] = Field(default_factory=list, alias="inputParameters")
    body: Any = None
    output_raw_format: str = Field(default="json", alias="outputRawFormat")
    output_schema: str | None = Field(default=None, alias="outputSchema")
    output_parameters: list[OutputParameter] = Field(default_factory=list, alias="outputParameters")


class ConsumedResource(Model):
    name: str | None = None
    path: str = ""
    label: str | None = None
    description: str | None = None
    input_parameters: list[InputParameter] = Field(default_factory=list, alias="inputParameters")
    operations: list[ConsumedOperation] = Field(default_factory=list)


class ConsumesHttp(Model):
    type: Literal["http"] = "http"
    namespace: str
    base_uri: str = Field(default="", alias="baseUri")
    description: str | None = None
    input_parameters: list[InputParameter] = Field(default_factory=list, alias="inputParameters")
    authentication: Authentication | None = None
    resources: list[ConsumedResource] = Field(default_factory=list)


class Step(Model):
    """An orchestration step: `call` a consumed operation, `lookup` in an earlier result, or a `script`."""

    type: Literal["call", "lookup", "script"]
    name: str
    call: str | None = None
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    index: str | None = None
    match: str | None = None
    lookup_value: str | None = Field(default=None, alias="lookupValue")
    output_parameters: list[str] = Field(default_factory=list, alias="outputParameters")
    language: str | None = None
    location: str | None = None
    file: str | None = None


class StepMapping(Model):
    target_name: str = Field(alias="targetName")
    value: str


class Semantics(Model):
    safe: bool | None = None
    idempotent: bool | None = None
    cacheable: bool | None = None


class Invocable(Model):
    """What routes, tools and aggregate functions share: inputs, a call or steps, outputs."""

    name: str | None = None
    label: str | None = None
    description: str | None = None
    input_parameters: list[InputParameter] = Field(default_factory=list, alias="inputParameters")
    call: str | None = None
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    steps: list[Step] = Field(default_factory=list)
    mappings: list[StepMapping] = Field(default_factory=list)
    output_parameters: list[OutputParameter] = Field(default_factory=list, alias="outputParameters")


class ExposedOperationBase(Invocable):
    ref: str | None = None


class AggregateFunction(Invocable):
    name: str
    semantics: Semantics | None = None


class Aggregate(Model):
    namespace: str
    label: str | None = None
    functions: list[AggregateFunction] = Field(default_factory=list)


class RestOperation(ExposedOperationBase):
    method: HttpMethod = "GET"


class ForwardConfig(Model):
    target_namespace: str = Field(alias="targetNamespace")
    trusted_headers: list[str] = Field(default_factory=list, alias="trustedHeaders")


class RestResource(Model):
    path: str
    forward: ForwardConfig | None = None
    name: str | None = None
    label: str | None = None
    description: str | None = None
    input_parameters: list[InputParameter] = Field(default_factory=list, alias="inputParameters")
    operations: list[RestOperation] = Field(default_factory=list)


class ExposesRest(Model):
    type: Literal["rest"] = "rest"
    namespace: str
    port: int | None = Field(default=None, ge=0, le=65535)
    address: str | None = None
    description: str | None = None
    authentication: Authentication | None = None
    resources: list[RestResource] = Field(default_factory=list)


class ToolHints(Model):
    read_only: bool | None = Field(default=None, alias="readOnly")
    destructive: bool | None = None
    idempotent: bool | None = None
    open_world: bool | None = Field(default=None, alias="openWorld")


class McpTool(ExposedOperationBase):
    # Optional here because a `ref` may supply it; a tool left without one is a load error.
    name: str | None = None
    hints: ToolHints | None = None


class McpResource(ExposedOperationBase):
    """Data agents can read: dynamic (call or steps) or static files under `location`."""

    name: str
    uri: str
    mime_type: str | None = Field(default=None, alias="mimeType")
    location: str | None = None


class PromptArgument(Model):
    name: str
    label: str | None = None
    description: str | None = None
    required: bool = False


class PromptMessage(Model):
    role: Literal["user", "assistant"] = "user"
    content: str = ""


class McpPrompt(Model):
    name: str
    label: str | None = None
    description: str | None = None
    arguments: list[PromptArgument] = Field(default_factory=list)
    template: list[PromptMessage] = Field(default_factory=list)
    location: str | None = None


class ExposesMcp(Model):
    type: Literal["mcp"] = "mcp"
    namespace: str
    transport: Literal["http", "stdio"] = "http"
    port: int | None = Field(default=None, ge=0, le=65535)
    address: str | None = None
    description: str | None = None
    authentication: Authentication | None = None
    tools: list[McpTool] = Field(default_factory=list)
    resources: list[McpResource] = Field(default_factory=list)
    prompts: list[McpPrompt] = Field(default_factory=list)


class SkillTool(Model):
    name: str
    description: str | None = None
    from_: dict[str, str] | None = Field(default=None, alias="from")
    instruction: str | None = None


class Skill(Model):
    """An Agent Skills entry; its other frontmatter fields are kept as extras and served as written."""

    name: str
    description: str | None = None
    tools: list[SkillTool] = Field(default_factory=list)


class ExposesSkill(Model):
    type: Literal["skill"] = "skill"
    namespace: str
    port: int | None = Field(default=None, ge=0, le=65535)
    address: str | None = None
    description: str | None = None
    authentication: Authentication | None = None
    skills: list[Skill] = Field(default_factory=list)


class ControlManagement(Model):
    health: bool = True
    info: bool = False
    reload: bool = False
    validate_: bool = Field(default=False, alias="validate")
    scripting: dict[str, Any] | None = None


class ExposesControl(Model):
    """The management plane: health, status and configuration, dry-run validation."""

    type: Literal["control"] = "control"
    namespace: str = "control"
    port: int | None = Field(default=None, ge=0, le=65535)
    address: str | None = "localhost"
    description: str | None = None
    authentication: Authentication | None = None
    management: ControlManagement = Field(default_factory=ControlManagement)
    observability: dict[str, Any] | None = None


Exposes = Annotated[ExposesRest | ExposesMcp | ExposesSkill | ExposesControl, Field(discriminator="type")]


class Bind(Model):
    namespace: str
    description: str | None = None
    location: str | None = None
    keys: dict[str, str] = Field(default_factory=dict)


class Info(Model):
    label: str | None = None
    description: str | None = None
    tags: list[str] = Field(default_factory=list)
    created: Any = None
    modified: Any = None
    stakeholders: list[Any] = Field(default_factory=list)


class Capability(Model):
    consumes: list[ConsumesHttp] = Field(default_factory=list)
    exposes: list[Exposes] = Field(default_factory=list)
    binds: list[Bind] = Field(default_factory=list)
    aggregates: list[Aggregate] = Field(default_factory=list)


class Document(Model):
    naftiko: str
    info: Info | None = None
    binds: list[Bind] = Field(default_factory=list)
    capability: Capability | None = None
    # A shared consumes file (imported by capabilities) has these and no capability.
    consumes: list[ConsumesHttp] = Field(default_factory=list)
