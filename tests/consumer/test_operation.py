"""consumer/operation.py: from upstream parameter values to the request that goes on the wire."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from naftiko_runtime.binds import resolve_binds
from naftiko_runtime.consumer.client import UpstreamRequest
from naftiko_runtime.consumer.operation import UpstreamOperation, compile_operation, encode_segment
from naftiko_runtime.errors import CallError
from naftiko_runtime.spec.models import Bind, ConsumesHttp


def compile_one(
    consumes: dict[str, Any],
    environ: dict[str, str] | None = None,
    binds: list[dict[str, Any]] | None = None,
    base_uri: str | None = None,
) -> UpstreamOperation:
    model = ConsumesHttp.model_validate({"namespace": "up", "baseUri": "http://up.invalid/api", **consumes})
    variables = resolve_binds([Bind.model_validate(b) for b in binds or []], environ or {}, Path("."))
    resource = model.resources[0]
    return compile_operation(model, resource, resource.operations[0], variables, base_uri=base_uri)


def operation(path: str, parameters: list[dict[str, Any]], method: str = "GET", **extra: Any) -> UpstreamOperation:
    return compile_one(
        {
            "resources": [
                {
                    "name": "r",
                    "path": path,
                    "operations": [{"name": "op", "method": method, "inputParameters": parameters, **extra}],
                }
            ]
        }
    )


def header(request: UpstreamRequest, name: str) -> list[str]:
    return [value for key, value in request.headers if key.lower() == name.lower()]


def query(request: UpstreamRequest) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(request.url).query, keep_blank_values=True)


def raw_path(request: UpstreamRequest) -> str:
    return urlsplit(request.url).path


ITEM = operation("/items/{id}/parts", [{"name": "id", "in": "path", "type": "string", "required": True}])


# -- path values: one segment, whatever they hold


@pytest.mark.parametrize(
    ("value", "segment"),
    [
        ("a/../b", "a%2F..%2Fb"),
        ("..", "%2E%2E"),
        (".", "%2E"),
        ("...", "%2E%2E%2E"),
        ("a b", "a%20b"),
        ("caf\u00e9", "caf%C3%A9"),
        ("%2F", "%252F"),
        ("a?b#c", "a%3Fb%23c"),
        ("x.y", "x.y"),
    ],
)
def test_a_path_value_is_encoded_as_exactly_one_segment(value: str, segment: str) -> None:
    request = ITEM.build_request({"id": value})

    assert raw_path(request) == f"/api/items/{segment}/parts"
    assert encode_segment(value) == segment


def test_path_parameter_with_slash_and_dots_cannot_change_the_path() -> None:
    request = ITEM.build_request({"id": "../../admin"})

    segments = raw_path(request).split("/")
    assert segments == ["", "api", "items", "..%2F..%2Fadmin", "parts"]


def test_a_numeric_path_value_is_written_as_its_text() -> None:
    assert raw_path(ITEM.build_request({"id": 42})) == "/api/items/42/parts"


@pytest.mark.parametrize("value", [None, ""])
def test_a_missing_or_empty_path_value_is_a_400_naming_the_path_parameter(value: str | None) -> None:
    with pytest.raises(CallError) as caught:
        ITEM.build_request({} if value is None else {"id": value})

    assert caught.value.status == 400
    assert [p.location for p in caught.value.problems] == ["path.id"]


def test_official_double_brace_placeholders_and_a_relative_resource_path_build_the_same_url() -> None:
    request = operation("ships/{{imo_number}}", [{"name": "imo_number", "in": "path"}]).build_request(
        {"imo_number": "IMO-1"}
    )

    assert request.url == "http://up.invalid/api/ships/IMO-1"


def test_a_trailing_slash_of_the_base_uri_is_not_doubled() -> None:
    model = compile_one(
        {
            "baseUri": "http://up.invalid/api/",
            "resources": [{"name": "r", "path": "/x", "operations": [{"name": "op"}]}],
        }
    )

    assert model.build_request({}).url == "http://up.invalid/api/x"


def test_a_base_uri_override_replaces_the_declared_one() -> None:
    model = compile_one(
        {"resources": [{"name": "r", "path": "/x", "operations": [{"name": "op"}]}]}, base_uri="http://127.0.0.1:9/v2/"
    )

    assert model.build_request({}).url == "http://127.0.0.1:9/v2/x"


# -- query, header, cookie, body


def test_query_values_are_percent_encoded_and_lists_repeat_the_name() -> None:
    model = operation(
        "/search", [{"name": "q", "in": "query"}, {"name": "tag", "in": "query"}, {"name": "n", "in": "query"}]
    )

    request = model.build_request({"q": "a b&c=d", "tag": ["x", "y/z"], "n": 5})

    assert query(request) == [("q", "a b&c=d"), ("tag", "x"), ("tag", "y/z"), ("n", "5")]
    assert "q=a%20b%26c%3Dd" in request.url


def test_a_boolean_query_value_is_sent_as_json_text() -> None:
    model = operation("/search", [{"name": "active", "in": "query", "type": "boolean"}])

    assert query(model.build_request({"active": True})) == [("active", "true")]


def test_absent_optional_parameters_are_not_sent() -> None:
    model = operation("/search", [{"name": "q", "in": "query"}, {"name": "X-Trace", "in": "header"}])

    request = model.build_request({})

    assert "?" not in request.url
    assert header(request, "X-Trace") == []


def test_header_parameters_keep_their_declared_name() -> None:
    model = operation("/sync", [{"name": "X-Integration-Id", "in": "header"}], method="POST")

    request = model.build_request({"x_integration_id": "personio:1"})

    assert header(request, "X-Integration-Id") == ["personio:1"]
    assert ("X-Integration-Id", "personio:1") in request.headers


@pytest.mark.parametrize("value", ["a\r\nX-Injected: 1", "a\nb", "a\0b"])
def test_a_header_value_with_a_line_break_is_refused_naming_the_header(value: str) -> None:
    model = operation("/sync", [{"name": "X-Integration-Id", "in": "header"}])

    with pytest.raises(CallError) as caught:
        model.build_request({"x_integration_id": value})

    assert caught.value.status == 400
    assert [p.location for p in caught.value.problems] == ["header.X-Integration-Id"]


def test_cookie_parameters_share_one_cookie_header_with_encoded_values() -> None:
    model = operation("/me", [{"name": "session", "in": "cookie"}, {"name": "lang", "in": "cookie"}])

    request = model.build_request({"session": "a;b=c", "lang": "en"})

    assert header(request, "Cookie") == ["session=a%3Bb%3Dc; lang=en"]


def test_a_whole_body_parameter_is_sent_as_the_json_request_body() -> None:
    model = operation("/sync", [{"name": "body", "in": "body", "type": "object"}], method="POST")

    request = model.build_request({"body": {"type": "FULL", "nested": {"n": [1, 2]}}})

    assert request.body is not None
    assert json.loads(request.body) == {"type": "FULL", "nested": {"n": [1, 2]}}
    assert header(request, "Content-Type") == ["application/json"]


def test_body_field_parameters_are_merged_into_the_json_body() -> None:
    model = operation(
        "/books",
        [
            {"name": "title", "in": "body"},
            {"name": "year", "in": "body"},
            {"name": "body", "in": "body", "type": "object"},
        ],
        method="POST",
    )

    request = model.build_request({"title": "Dune", "year": 1965, "body": {"title": "old", "isbn": "x"}})

    assert request.body is not None
    assert json.loads(request.body) == {"title": "Dune", "year": 1965, "isbn": "x"}


def test_no_body_and_no_content_type_are_sent_without_body_parameters() -> None:
    request = operation("/books", [{"name": "body", "in": "body", "type": "object"}], method="POST").build_request({})

    assert request.body is None
    assert header(request, "Content-Type") == []


@pytest.mark.parametrize(("raw_format", "accept"), [("json", "application/json"), ("xml", "*/*")])
def test_the_accept_header_follows_the_output_format(raw_format: str, accept: str) -> None:
    request = operation("/x", [], outputRawFormat=raw_format).build_request({})

    assert header(request, "Accept") == [accept]


# -- fixed values and templates


def test_adapter_level_parameters_with_fixed_values_go_on_every_call() -> None:
    model = compile_one(
        {
            "inputParameters": [{"name": "Content-Type", "in": "header", "value": "application/json"}],
            "resources": [{"name": "r", "path": "/x", "operations": [{"name": "op", "method": "GET"}]}],
        }
    )

    assert header(model.build_request({}), "Content-Type") == ["application/json"]


def test_a_parameter_value_from_a_bind_is_rendered_once_and_overrides_the_caller() -> None:
    model = compile_one(
        {
            "inputParameters": [{"name": "Registry-Version", "in": "header", "value": "{{registry-env.VERSION}}"}],
            "resources": [{"name": "r", "path": "/x", "operations": [{"name": "op"}]}],
        },
        environ={"REG_VERSION": "1.0.0-alpha2"},
        binds=[{"namespace": "registry-env", "keys": {"VERSION": "REG_VERSION"}}],
    )

    request = model.build_request({"registry_version": "caller-chosen"})

    assert header(request, "Registry-Version") == ["1.0.0-alpha2"]


def test_a_parameter_value_template_reads_the_callers_argument() -> None:
    model = operation("/items", [{"name": "q", "in": "query", "value": "owner:{{user}}"}], method="POST")

    assert query(model.build_request({"user": "ada"})) == [("q", "owner:ada")]


def test_a_parameter_value_template_reads_a_camel_case_argument() -> None:
    # Official test resource http-header-query-capability.yaml: `q` has value "{{userId}}".
    model = operation(
        "/items",
        [
            {"name": "q", "in": "query", "value": "{{userId}}"},
            {"name": "X-Trace", "in": "header", "value": "t-{{trace-id}}"},
        ],
        method="POST",
    )

    request = model.build_request({"userid": "U1", "trace_id": "T9"})

    assert query(request) == [("q", "U1")]
    assert header(request, "X-Trace") == ["t-T9"]


def test_an_operation_body_template_is_rendered_and_sent() -> None:
    # Official test resource mcp-capability.yaml sends a fixed JSON body this way.
    model = operation(
        "/databases/{{datasource_id}}/query",
        [{"name": "datasource_id", "in": "path"}],
        method="POST",
        body='{"filter": {"property": "Status", "owner": "{{owner}}"}}',
    )

    request = model.build_request({"datasource_id": "db1", "owner": "ada"})

    assert request.body is not None
    assert json.loads(request.body) == {"filter": {"property": "Status", "owner": "ada"}}


# -- authentication


def bearer(token: str, environ: dict[str, str]) -> UpstreamOperation:
    return compile_one(
        {
            "authentication": {"type": "bearer", "token": token},
            "resources": [{"name": "r", "path": "/x", "operations": [{"name": "op"}]}],
        },
        environ=environ,
        binds=[{"namespace": "env", "keys": {"SHOP_API_KEY": "SHOP_API_KEY"}}],
    )


def test_a_bearer_token_from_the_environment_is_sent(api_key: str) -> None:
    request = bearer("{{env.SHOP_API_KEY}}", {"SHOP_API_KEY": api_key}).build_request({})

    assert header(request, "Authorization") == [f"Bearer {api_key}"]


def test_an_empty_bearer_token_is_never_sent() -> None:
    request = bearer("", {}).build_request({})

    assert header(request, "Authorization") == []


def test_an_empty_environment_variable_refuses_the_call_rather_than_send_an_empty_bearer() -> None:
    model = bearer("{{env.SHOP_API_KEY}}", {"SHOP_API_KEY": ""})

    with pytest.raises(CallError) as caught:
        model.build_request({})

    assert caught.value.status == 503
    assert "SHOP_API_KEY" in caught.value.detail


def test_a_missing_variable_makes_calls_fail_with_503_naming_it(api_key: str) -> None:
    model = bearer("{{env.SHOP_API_KEY}}", {})

    with pytest.raises(CallError) as caught:
        model.build_request({})

    assert caught.value.status == 503
    assert "SHOP_API_KEY" in caught.value.detail
    assert caught.value.as_problem()["missing"] == ["SHOP_API_KEY"]
    assert model.missing_variables == ["SHOP_API_KEY"]


def test_a_bare_variable_no_bind_declares_is_read_from_the_environment() -> None:
    model = compile_one(
        {
            "authentication": {"type": "bearer", "token": "{{SHOP_TOKEN}}"},
            "resources": [{"name": "r", "path": "/x", "operations": [{"name": "op"}]}],
        },
        environ={"SHOP_TOKEN": "abc"},
    )

    assert header(model.build_request({}), "Authorization") == ["Bearer abc"]


def test_basic_authentication_sends_base64_of_user_and_password() -> None:
    model = compile_one(
        {
            "authentication": {"type": "basic", "username": "{{SID}}", "password": "{{SECRET}}"},
            "resources": [{"name": "r", "path": "/x", "operations": [{"name": "op"}]}],
        },
        environ={"SID": "AC1", "SECRET": "p:w"},
    )

    [value] = header(model.build_request({}), "Authorization")
    assert value.startswith("Basic ")
    assert base64.b64decode(value.removeprefix("Basic ")) == b"AC1:p:w"


def test_an_apikey_goes_in_the_named_header() -> None:
    model = compile_one(
        {
            "authentication": {"type": "apikey", "key": "X-Dock-Key", "value": "{{KEY}}", "placement": "header"},
            "resources": [{"name": "r", "path": "/x", "operations": [{"name": "op"}]}],
        },
        environ={"KEY": "k1"},
    )

    assert header(model.build_request({}), "X-Dock-Key") == ["k1"]


def test_an_apikey_placed_in_the_query_is_sent_there_with_the_other_query_values() -> None:
    model = compile_one(
        {
            "authentication": {"type": "apikey", "key": "api_key", "value": "{{KEY}}", "placement": "query"},
            "resources": [
                {
                    "name": "r",
                    "path": "/x",
                    "operations": [{"name": "op", "inputParameters": [{"name": "q", "in": "query"}]}],
                }
            ],
        },
        environ={"KEY": "k 1"},
    )

    request = model.build_request({"q": "ships"})

    assert sorted(query(request)) == [("api_key", "k 1"), ("q", "ships")]
    assert header(request, "api_key") == []


def test_an_outgoing_oauth2_authentication_makes_calls_answer_501() -> None:
    model = compile_one(
        {
            "authentication": {"type": "oauth2", "authorizationServerUri": "https://auth.invalid"},
            "resources": [{"name": "r", "path": "/x", "operations": [{"name": "op"}]}],
        }
    )

    with pytest.raises(CallError) as caught:
        model.build_request({})

    assert caught.value.status == 501
    assert "oauth2" in caught.value.detail


def test_digest_credentials_are_left_to_the_client_that_answers_the_challenge() -> None:
    model = compile_one(
        {
            "authentication": {"type": "digest", "username": "u", "password": "p"},
            "resources": [{"name": "r", "path": "/x", "operations": [{"name": "op"}]}],
        }
    )

    request = model.build_request({})

    assert model.auth.digest == ("u", "p")
    assert header(request, "Authorization") == []


def test_an_empty_base_uri_makes_calls_answer_503_telling_to_pass_base_uri() -> None:
    model = compile_one({"baseUri": "", "resources": [{"name": "r", "path": "/x", "operations": [{"name": "op"}]}]})

    with pytest.raises(CallError) as caught:
        model.build_request({})

    assert caught.value.status == 503
    assert "--base-uri up=URL" in caught.value.detail
    assert caught.value.operation == "up.op"


def test_a_missing_credential_never_reveals_other_credentials(api_key: str) -> None:
    model = compile_one(
        {
            "authentication": {"type": "basic", "username": "{{SID}}", "password": "{{SECRET}}"},
            "resources": [{"name": "r", "path": "/x", "operations": [{"name": "op"}]}],
        },
        environ={"SECRET": api_key},
    )

    with pytest.raises(CallError) as caught:
        model.build_request({})

    assert "SID" in caught.value.detail
    assert api_key not in json.dumps(caught.value.as_problem())


def test_an_environment_parameter_feeds_templates_and_is_never_sent() -> None:
    model = compile_one(
        {
            "resources": [
                {
                    "name": "r",
                    "path": "/x",
                    "operations": [
                        {
                            "name": "op",
                            "inputParameters": [
                                {"name": "REGION", "in": "environment"},
                                {"name": "X-Region", "in": "header", "value": "eu-{{REGION}}"},
                            ],
                        }
                    ],
                }
            ]
        },
        environ={"REGION": "west-1"},
    )

    request = model.build_request({})

    assert header(request, "X-Region") == ["eu-west-1"]
    assert header(request, "REGION") == [] and "REGION" not in request.url
    assert model.template_arguments == []


def test_an_apikey_with_a_headers_map_sends_every_header() -> None:
    model = compile_one(
        {
            "authentication": {"type": "apikey", "headers": {"DD-API-KEY": "{{A}}", "DD-APPLICATION-KEY": "{{B}}"}},
            "resources": [{"name": "r", "path": "/x", "operations": [{"name": "op"}]}],
        },
        environ={"A": "key-a", "B": "key-b"},
    )
    request = model.build_request({})
    assert header(request, "DD-API-KEY") == ["key-a"] and header(request, "DD-APPLICATION-KEY") == ["key-b"]


def test_an_apikey_written_with_name_and_in_is_read_as_key_and_placement() -> None:
    model = compile_one(
        {
            "authentication": {"type": "apikey", "name": "token", "in": "query", "value": "{{T}}"},
            "resources": [{"name": "r", "path": "/x", "operations": [{"name": "op"}]}],
        },
        environ={"T": "t-1"},
    )
    assert query(model.build_request({})) == [("token", "t-1")]
