"""engine.py: Action.invoke, from validated arguments to a result, with a fake upstream client."""

from __future__ import annotations

import textwrap
from pathlib import Path

import anyio
import pytest

from naftiko_runtime.capability import CompiledCapability, LoadOptions, load_capability
from naftiko_runtime.consumer.client import (
    UpstreamRequest,
    UpstreamResponse,
    UpstreamTimeout,
    UpstreamUnreachable,
)
from naftiko_runtime.engine import Action, CallRecord, Success
from naftiko_runtime.errors import CallError, UpstreamAnswer

pytestmark = pytest.mark.anyio

DATA = Path(__file__).parent / "data"
KOMBO = Path(__file__).parents[1] / "capabilities" / "kombo.yaml"


class FakeUpstream:
    """An `UpstreamClient`: records each request and answers the scripted response or raises the scripted error."""

    def __init__(self, response: UpstreamResponse | None = None, error: Exception | None = None) -> None:
        self.response = response or UpstreamResponse(200, {"content-type": "application/json"}, b"{}")
        self.error = error
        self.sent: list[UpstreamRequest] = []
        self.closed = False

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        self.sent.append(request)
        if self.error is not None:
            raise self.error
        return self.response

    async def close(self) -> None:
        self.closed = True


def json_answer(body: bytes, status: int = 200) -> UpstreamResponse:
    return UpstreamResponse(status, {"content-type": "application/json"}, body)


def wire(capability: CompiledCapability, upstream: FakeUpstream) -> dict[str, Action]:
    actions: dict[str, Action] = {}
    for adapter in capability.adapters:
        for action in adapter.actions:
            action.client = upstream
            actions[f"{adapter.type}:{action.name}"] = action
    return actions


async def invoke(action: Action, arguments: dict[str, object]) -> Success | UpstreamAnswer:
    with anyio.fail_after(5):
        return await action.invoke(action.signature.validate(arguments))


@pytest.fixture
def kombo() -> CompiledCapability:
    return load_capability(KOMBO, LoadOptions(environ={"KOMBO_API_KEY": "ks_test_engine"}))


async def test_an_identity_mapping_returns_the_upstream_json_bytes_untouched(kombo: CompiledCapability) -> None:
    raw = b'{"status": "success",   "data": {"id": 123456789012345678901234567890, "z": 1, "a": 2}}'
    upstream = FakeUpstream(json_answer(raw))
    action = wire(kombo, upstream)["mcp:get-integration-details"]

    result = await invoke(action, {"integration_id": "personio:1"})

    assert isinstance(result, Success)
    assert result.status == 200
    assert result.raw_json == raw
    assert result.value["data"]["id"] == 123456789012345678901234567890


async def test_the_request_carries_arguments_auth_and_accept(kombo: CompiledCapability) -> None:
    upstream = FakeUpstream()
    action = wire(kombo, upstream)["mcp:get-custom-fields-current-mappings"]

    await invoke(action, {"integration_id": "a/b", "page_size": 50})

    [request] = upstream.sent
    assert request.method == "GET"
    assert request.url == "https://api.kombo.dev/v1/integrations/a%2Fb/custom-fields?page_size=50"
    assert ("Authorization", "Bearer ks_test_engine") in request.headers
    assert ("Accept", "application/json") in request.headers


async def test_a_mapped_output_is_shaped_and_not_returned_raw() -> None:
    capability = load_capability(DATA / "library.yaml", LoadOptions(environ={"LIBRARY_TOKEN": "t"}))
    upstream = FakeUpstream(
        json_answer(b'{"isbn": "978", "book_title": "Dune", "authors": [{"name": "Herbert"}], "page_count": 412}')
    )
    action = wire(capability, upstream)["mcp:get-book"]

    result = await invoke(action, {"shelf": "sf", "isbn": "978"})

    assert isinstance(result, Success)
    assert result.raw_json is None
    assert result.value == {"title": "Dune", "author": "Herbert"}
    assert upstream.sent[0].url == "http://catalog.invalid/api/shelves/sf/books/978"


async def test_a_non_2xx_answer_is_passed_through_as_the_upstreams_answer(kombo: CompiledCapability) -> None:
    body = b'{"status": "error", "error": {"code": "PLATFORM.INTEGRATION_NOT_FOUND", "message": "No integration"}}'
    upstream = FakeUpstream(UpstreamResponse(404, {"content-type": "application/json; charset=utf-8"}, body))
    action = wire(kombo, upstream)["mcp:get-integration-details"]

    result = await invoke(action, {"integration_id": "nope"})

    assert isinstance(result, UpstreamAnswer)
    assert (result.status, result.body, result.content_type) == (404, body, "application/json; charset=utf-8")
    assert result.operation == "kombo-general.getintegrationsintegrationid"
    assert result.message() == "No integration"


async def test_a_2xx_answer_that_is_not_json_is_a_502_naming_its_content_type(kombo: CompiledCapability) -> None:
    upstream = FakeUpstream(UpstreamResponse(200, {"content-type": "text/html; charset=utf-8"}, b"<html>login</html>"))
    action = wire(kombo, upstream)["mcp:check-api-key"]

    with pytest.raises(CallError) as caught:
        await invoke(action, {})

    assert caught.value.status == 502
    assert "text/html" in caught.value.detail
    assert caught.value.operation == "kombo-general.getcheckapikey"


async def test_an_empty_2xx_answer_is_a_success_without_value(kombo: CompiledCapability) -> None:
    upstream = FakeUpstream(UpstreamResponse(204, {}, b""))
    action = wire(kombo, upstream)["mcp:delete-integration"]

    result = await invoke(action, {"integration_id": "personio:1"})

    assert isinstance(result, Success)
    assert (result.status, result.value, result.raw_json) == (204, None, None)


async def test_an_upstream_timeout_is_a_504_naming_the_operation(kombo: CompiledCapability) -> None:
    upstream = FakeUpstream(error=UpstreamTimeout("no answer within 30 s"))
    action = wire(kombo, upstream)["mcp:check-api-key"]

    with pytest.raises(CallError) as caught:
        await invoke(action, {})

    assert caught.value.status == 504
    assert caught.value.detail == "upstream kombo-general.getcheckapikey timed out: no answer within 30 s"


async def test_an_unreachable_upstream_is_a_502_naming_the_operation(kombo: CompiledCapability) -> None:
    upstream = FakeUpstream(error=UpstreamUnreachable("cannot connect to api.kombo.dev:443"))
    action = wire(kombo, upstream)["mcp:check-api-key"]

    with pytest.raises(CallError) as caught:
        await invoke(action, {})

    assert caught.value.status == 502
    assert "cannot connect to api.kombo.dev:443" in caught.value.detail


async def test_a_missing_credential_answers_503_without_calling_the_upstream() -> None:
    capability = load_capability(KOMBO, LoadOptions(environ={}))
    upstream = FakeUpstream()
    action = wire(capability, upstream)["mcp:check-api-key"]

    with pytest.raises(CallError) as caught:
        await invoke(action, {})

    assert caught.value.status == 503
    assert "KOMBO_API_KEY" in caught.value.detail
    assert upstream.sent == []


async def test_an_unresolved_call_answers_501_without_calling_the_upstream(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            naftiko: 1.0.0-alpha2
            capability:
              exposes:
              - type: mcp
                namespace: m
                tools:
                - name: ghost
                  description: Calls nothing that exists
                  call: nowhere.nothing
            """
        )
    )
    capability = load_capability(path, LoadOptions(environ={}))
    upstream = FakeUpstream()
    action = wire(capability, upstream)["mcp:ghost"]

    with pytest.raises(CallError) as caught:
        await invoke(action, {})

    assert caught.value.status == 501
    assert "nowhere.nothing" in caught.value.detail
    assert upstream.sent == []


async def test_a_yaml_answer_is_converted_to_a_json_value_before_mapping(tmp_path: Path) -> None:
    path = tmp_path / "yaml.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            naftiko: 1.0.0-alpha2
            capability:
              consumes:
              - type: http
                namespace: cfg
                baseUri: http://cfg.invalid
                resources:
                - name: settings
                  path: /settings.yaml
                  operations:
                  - name: get-settings
                    method: GET
                    outputRawFormat: yaml
              exposes:
              - type: mcp
                namespace: m
                tools:
                - name: region
                  description: The configured region
                  call: cfg.get-settings
                  outputParameters:
                  - type: string
                    mapping: $.region
            """
        )
    )
    capability = load_capability(path, LoadOptions(environ={}))
    upstream = FakeUpstream(
        UpstreamResponse(200, {"content-type": "application/yaml"}, b"region: eu-west-1\nsize: 3\n")
    )
    action = wire(capability, upstream)["mcp:region"]

    result = await invoke(action, {})

    assert isinstance(result, Success)
    assert result.value == "eu-west-1"


class RecordingObserver:
    def __init__(self) -> None:
        self.records: list[CallRecord] = []

    def call_started(self, record: CallRecord) -> None:
        return None

    def call_finished(self, record: CallRecord) -> None:
        self.records.append(record)

    def call_refused(self, record: CallRecord) -> None:
        self.records.append(record)


async def test_an_observer_is_told_of_each_call_with_its_statuses_and_duration(kombo: CompiledCapability) -> None:
    upstream = FakeUpstream(json_answer(b'{"status": "error"}', status=404))
    action = wire(kombo, upstream)["rest:GET /v1/integrations/{integration-id}"]
    observer = RecordingObserver()
    action.observers = (observer,)

    await invoke(action, {"integration_id": "nobody"})
    upstream.error = UpstreamTimeout("no answer within 30 s")
    with pytest.raises(CallError):
        await invoke(action, {"integration_id": "nobody"})

    first, second = observer.records
    assert (first.action, first.status, first.upstream_status, first.error) == (action, 404, 404, None)
    assert second.status == 504 and second.upstream_status is None and second.error is not None
    assert first.seconds >= 0 and second.seconds >= 0


async def test_without_observers_a_call_records_nothing(kombo: CompiledCapability) -> None:
    action = wire(kombo, FakeUpstream())["mcp:check-api-key"]
    assert action.observers == ()
    assert isinstance(await invoke(action, {}), Success)


# -- answers that are not JSON


@pytest.mark.parametrize(
    ("content_type", "body", "value"),
    [
        ("image/png", b"\x89PNG\r\n\x1a\n\x00", None),
        ("application/pdf", b"%PDF-1.7", None),
        ("text/plain; charset=utf-8", "déjà vu".encode(), "déjà vu"),
        ("text/csv", b"a,b\n1,2\n", "a,b\n1,2\n"),
    ],
)
async def test_a_non_json_answer_passed_unmapped_is_kept_with_its_content_type(
    kombo: CompiledCapability, content_type: str, body: bytes, value: str | None
) -> None:
    upstream = FakeUpstream(UpstreamResponse(200, {"content-type": content_type}, body))
    action = wire(kombo, upstream)["mcp:check-api-key"]

    result = await invoke(action, {})

    assert isinstance(result, Success) and result.media is not None
    assert (result.media.body, result.media.content_type) == (body, content_type)
    assert result.value == value and not result.is_empty


async def test_json_labelled_as_plain_text_is_still_read_as_json(kombo: CompiledCapability) -> None:
    upstream = FakeUpstream(UpstreamResponse(200, {"content-type": "text/plain"}, b'{"status": "success"}'))
    action = wire(kombo, upstream)["mcp:check-api-key"]

    result = await invoke(action, {})

    assert isinstance(result, Success) and result.media is None
    assert result.value == {"status": "success"}


async def test_a_non_json_answer_a_mapping_must_read_is_a_502(tmp_path: Path) -> None:
    path = tmp_path / "mapped.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            naftiko: "1.0.0-alpha2"
            capability:
              consumes:
                - {namespace: pics, type: http, baseUri: "http://pics.invalid",
                   resources: [{name: pic, path: /pic, operations: [{name: get-pic, method: GET}]}]}
              exposes:
                - type: mcp
                  namespace: pics-mcp
                  tools:
                    - name: pic
                      call: pics.get-pic
                      outputParameters: [{name: size, type: number, mapping: $.size}]
            """
        )
    )
    upstream = FakeUpstream(UpstreamResponse(200, {"content-type": "image/png"}, b"\x89PNG"))
    action = wire(load_capability(path, LoadOptions(environ={})), upstream)["mcp:pic"]

    with pytest.raises(CallError) as caught:
        await invoke(action, {})

    assert caught.value.status == 502 and "image/png" in caught.value.detail
