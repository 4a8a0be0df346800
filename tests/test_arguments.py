"""arguments.py: the arguments of a route or tool, their derivation, coercion and validation."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from naftiko_runtime.arguments import Argument, Feed, Signature, coerce, derive_signature
from naftiko_runtime.binds import resolve_binds
from naftiko_runtime.consumer.operation import UpstreamOperation, compile_operation
from naftiko_runtime.errors import CallError
from naftiko_runtime.schema_check import InvalidSchema
from naftiko_runtime.spec.models import ConsumesHttp, InputParameter

REST_WHERE = {
    "path": "path",
    "query": "query",
    "header": "header",
    "cookie": "cookie",
    "body": "body",
    "body_field": "body",
}


def consumed(path: str, parameters: list[dict[str, Any]], method: str = "GET") -> UpstreamOperation:
    consumes = ConsumesHttp.model_validate(
        {
            "namespace": "up",
            "baseUri": "http://up.invalid",
            "resources": [
                {
                    "name": "r",
                    "path": path,
                    "operations": [{"name": "op", "method": method, "inputParameters": parameters}],
                }
            ],
        }
    )
    resource = consumes.resources[0]
    return compile_operation(consumes, resource, resource.operations[0], resolve_binds([], {}, Path(".")))


def declared(*parameters: dict[str, Any]) -> list[InputParameter]:
    return [InputParameter.model_validate(p) for p in parameters]


CUSTOM_FIELDS = consumed(
    "/integrations/{integration_id}/custom-fields",
    [
        {"name": "integration_id", "in": "path", "type": "string", "required": True, "description": "The integration."},
        {"name": "cursor", "in": "query", "type": "string"},
        {"name": "page_size", "in": "query", "type": "integer", "description": "Page size."},
    ],
)


def generated(with_map: dict[str, Any], target: UpstreamOperation = CUSTOM_FIELDS, **kwargs: Any) -> Signature:
    return derive_signature(expose_namespace="kombo-mcp", declared=[], with_map=with_map, target=target, **kwargs)


# -- coercion: the value as the declared type when that loses nothing


@pytest.mark.parametrize(
    ("value", "json_type", "expected"),
    [
        (50, "string", "50"),
        (1.5, "string", "1.5"),
        (True, "string", "true"),
        ("50", "integer", 50),
        (" 7 ", "integer", 7),
        (5.0, "integer", 5),
        (2**70, "integer", 2**70),
        ("1.5", "number", 1.5),
        ("10", "number", 10),
        (3, "number", 3),
        ("TRUE", "boolean", True),
        ("false", "boolean", False),
        ({"a": 1}, "object", {"a": 1}),
        ("x", "array", ["x"]),
        ([1, 2], "array", [1, 2]),
    ],
)
def test_coercion_converts_when_nothing_is_lost(value: Any, json_type: str, expected: Any) -> None:
    result = coerce(value, json_type)

    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("value", "json_type", "message"),
    [
        (math.nan, "string", "expected string, got number"),
        ({"a": 1}, "string", "expected string, got object"),
        ([1], "string", "expected string, got array"),
        ("5.0", "integer", "expected integer, got string"),
        (5.5, "integer", "expected integer, got number"),
        (True, "integer", "expected integer, got boolean"),
        ("1e400", "number", "expected number, got string"),
        ("nan", "number", "expected number, got string"),
        (True, "number", "expected number, got boolean"),
        ("1", "boolean", "expected boolean, got string"),
        (1, "boolean", "expected boolean, got integer"),
        ("a=1", "object", "expected object, got string"),
        (True, "array", "expected array, got boolean"),
        (None, "string", "expected string, got null"),
    ],
)
def test_coercion_refuses_what_would_lose_information_and_says_why(value: Any, json_type: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        coerce(value, json_type)


# -- derivation, generated dialect


def test_generated_tool_arguments_come_from_with_and_carry_the_consumed_types_and_docs() -> None:
    signature = generated(
        {"integration_id": "tools.integration_id", "cursor": "tools.cursor", "page_size": "tools.page_size"}
    )

    by_name = {argument.name: argument for argument in signature.arguments}
    assert list(by_name) == ["integration_id", "cursor", "page_size"]
    assert by_name["integration_id"].required and by_name["integration_id"].description == "The integration."
    assert not by_name["cursor"].required
    assert by_name["page_size"].type == "integer"
    assert signature.findings == []


def test_consumed_parameters_not_named_in_with_are_passed_through_by_name() -> None:
    signature = generated({})

    assert [argument.name for argument in signature.arguments] == ["integration_id", "cursor", "page_size"]
    assert [argument.source for argument in signature.arguments] == ["query", "query", "query"]


def test_an_undeclared_placeholder_of_the_consumed_path_becomes_a_required_argument() -> None:
    target = consumed("/tools/{category}/items", [])

    signature = generated({}, target)

    [argument] = signature.arguments
    assert (argument.name, argument.required, argument.source) == ("category", True, "path")


def test_a_with_reference_may_differ_in_case_and_separators_from_the_consumed_name() -> None:
    signature = generated({"Integration-ID": "tools.integration-id"})

    arguments = {argument.name: argument for argument in signature.arguments}
    assert "integration-id" in arguments
    assert arguments["integration-id"].required
    assert arguments["integration-id"].description == "The integration."
    assert "integration_id" not in arguments


def test_a_with_key_that_names_no_consumed_parameter_is_warned_about() -> None:
    signature = generated({"integration": "tools.integration_id"})

    assert [(f.message, f.error) for f in signature.findings] == [
        ("'with' key 'integration' names no parameter of up.op", False)
    ]


def test_an_argument_used_only_in_a_with_template_becomes_required() -> None:
    signature = generated({"cursor": "page-{{token}}"})

    assert ("token", True) in [(argument.name, argument.required) for argument in signature.arguments]
    assert "cursor" not in [argument.name for argument in signature.arguments]


def test_route_placeholders_are_path_arguments_matched_ignoring_case_and_separators() -> None:
    signature = generated({"integration_id": "rest.integration_id"}, route_placeholders=["integration-id"])

    argument = signature.by_key["integration_id"]
    assert (argument.source, argument.route_name, argument.required) == ("path", "integration-id", True)


# -- derivation, official dialect (declared inputParameters)


def test_declared_tool_parameters_are_required_unless_they_say_otherwise() -> None:
    target = consumed("/ships/{{imo_number}}", [{"name": "imo_number", "in": "path"}])

    signature = derive_signature(
        expose_namespace="shipyard-tools",
        declared=declared(
            {"name": "imo", "type": "string", "description": "IMO number"},
            {"name": "verbose", "type": "boolean", "description": "More", "required": False},
        ),
        with_map={"imo_number": "shipyard-tools.imo"},
        target=target,
    )

    assert [(a.name, a.type, a.required) for a in signature.arguments] == [
        ("imo", "string", True),
        ("verbose", "boolean", False),
    ]
    assert signature.findings == []


def test_declared_route_parameters_are_optional_by_default_except_path_ones() -> None:
    signature = derive_signature(
        expose_namespace="library-rest",
        declared=declared(
            {"name": "isbn", "in": "path", "type": "string", "description": "ISBN"},
            {"name": "language", "in": "query", "type": "string", "description": "Language"},
            {"name": "X-Trace", "in": "header", "type": "string", "description": "Trace"},
        ),
        with_map={},
        target=None,
        route_placeholders=["isbn"],
        declared_required_default=False,
    )

    assert [(a.name, a.required, a.source) for a in signature.arguments] == [
        ("isbn", True, "path"),
        ("language", False, "query"),
        ("X-Trace", False, "header"),
    ]


def test_a_with_reference_to_an_undeclared_argument_is_reported() -> None:
    signature = derive_signature(
        expose_namespace="shipyard-tools",
        declared=declared({"name": "imo", "type": "string", "description": "IMO"}),
        with_map={"imo_number": "shipyard-tools.imo_nr"},
        target=None,
    )

    assert [(f.message, f.error) for f in signature.findings] == [
        ("'with' refers to argument 'imo_nr', which is not declared in inputParameters", True)
    ]


def test_input_schema_lists_required_arguments_and_refuses_others() -> None:
    signature = generated({"integration_id": "tools.integration_id", "page_size": "tools.page_size"})

    schema = signature.input_schema()

    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["integration_id"]
    assert schema["properties"]["page_size"] == {"type": "integer", "description": "Page size."}
    assert set(schema["properties"]) == {"integration_id", "page_size", "cursor"}


# -- validation


def test_validation_coerces_and_keys_values_by_parameter_identity() -> None:
    signature = generated({})

    values = signature.validate({"Integration-ID": "abc", "page_size": "50"})

    assert values == {"integration_id": "abc", "page_size": 50}


def test_an_unknown_argument_is_refused_naming_it() -> None:
    with pytest.raises(CallError) as caught:
        generated({}).validate({"integration_id": "a", "pagesize": 5})

    assert caught.value.status == 400
    assert [(p.location, p.message) for p in caught.value.problems] == [("pagesize", "unknown argument")]
    assert "pagesize: unknown argument" in caught.value.detail


def test_a_missing_required_argument_is_refused_naming_it() -> None:
    with pytest.raises(CallError) as caught:
        generated({}).validate({"cursor": "c"})

    assert [(p.location, p.message) for p in caught.value.problems] == [
        ("integration_id", "required argument is missing")
    ]


def test_a_null_argument_counts_as_absent() -> None:
    with pytest.raises(CallError) as caught:
        generated({}).validate({"integration_id": None})

    assert [p.message for p in caught.value.problems] == ["required argument is missing"]


def test_every_problem_is_reported_once_with_where_the_caller_put_it() -> None:
    target = consumed(
        "/force-sync",
        [
            {"name": "X-Integration-Id", "in": "header", "type": "string", "required": True},
            {"name": "page_size", "in": "query", "type": "integer"},
            {"name": "body", "in": "body", "type": "object"},
        ],
        method="POST",
    )
    signature = generated({}, target, route_placeholders=[])

    with pytest.raises(CallError) as caught:
        signature.validate({"page_size": "many", "body": [1]}, where=REST_WHERE)

    assert [(p.location, p.message) for p in caught.value.problems] == [
        ("query.page_size", "expected integer, got string"),
        ("body.body", "expected object, got array"),
        ("header.X-Integration-Id", "required argument is missing"),
    ]


def test_a_badly_typed_required_argument_is_not_also_reported_missing() -> None:
    with pytest.raises(CallError) as caught:
        generated({"page_size": "tools.page_size"}).validate({"integration_id": {"x": 1}})

    assert [p.location for p in caught.value.problems] == ["integration_id"]


def test_a_declared_pattern_is_enforced() -> None:
    signature = derive_signature(
        expose_namespace="t",
        declared=declared({"name": "imo", "type": "string", "description": "IMO", "pattern": "^IMO-[0-9]{7}$"}),
        with_map={},
        target=None,
    )

    assert signature.validate({"imo": "IMO-9321483"}) == {"imo": "IMO-9321483"}
    with pytest.raises(CallError) as caught:
        signature.validate({"imo": "9321483"})
    assert caught.value.problems[0].message == "does not match pattern ^IMO-[0-9]{7}$"


# -- upstream values


def test_with_references_templates_and_literals_feed_upstream_parameters() -> None:
    target = consumed(
        "/ships/{{imo_number}}",
        [{"name": "imo_number", "in": "path"}, {"name": "q", "in": "query"}, {"name": "limit", "in": "query"}],
    )
    signature = derive_signature(
        expose_namespace="shipyard-tools",
        declared=declared(
            {"name": "imo", "type": "string", "description": "IMO"},
            {"name": "searchText", "type": "string", "description": "Text"},
        ),
        with_map={"imo_number": "shipyard-tools.imo", "q": "name:{{searchText}}", "limit": 10},
        target=target,
    )

    values = signature.upstream_values(signature.validate({"imo": "IMO-1", "searchText": "Star"}), {})

    assert values["imo_number"] == "IMO-1"
    assert values["q"] == "name:Star"
    assert values["limit"] == 10


def test_with_templates_can_read_capability_variables() -> None:
    target = consumed("/x", [{"name": "tenant", "in": "query"}])
    signature = derive_signature(expose_namespace="t", declared=[], with_map={"tenant": "{{TENANT}}-eu"}, target=target)

    assert signature.upstream_values({}, {"TENANT": "acme"})["tenant"] == "acme-eu"


def test_an_absent_optional_argument_does_not_reach_the_upstream() -> None:
    signature = generated({"cursor": "tools.next_cursor"})

    values = signature.upstream_values(signature.validate({"integration_id": "a"}), {})

    assert values == {"integration_id": "a"}


def test_json_text_of_an_object_or_array_is_that_value() -> None:
    assert coerce('{"k": "v"}', "object") == {"k": "v"}
    assert coerce('["a", 1]', "array") == ["a", 1]


# -- typing from a companion document (typed_tools.py drives this)


def test_an_argument_reaches_the_keys_with_feeds_and_its_own_key_unless_a_feed_targets_it() -> None:
    signature = Signature(
        [Argument("id"), Argument("q"), Argument("limit")],
        [Feed("item_id", argument_key="id"), Feed("limit", literal=10)],
    )

    assert signature.fed_keys(signature.by_key["id"]) == ["id", "item_id"]
    assert signature.fed_keys(signature.by_key["q"]) == ["q"]
    assert signature.fed_keys(signature.by_key["limit"]) == []


def test_an_array_outside_a_json_body_advertises_text_items() -> None:
    assert Argument("tags", "array").json_schema() == {"type": "array", "items": {"type": "string"}}
    assert Argument("tags", "array", source="body_field").json_schema() == {"type": "array", "items": {}}


def test_refining_takes_the_documented_type_and_description_and_checks_values() -> None:
    signature = Signature([Argument("size", description="Page size")], [])
    size = signature.by_key["size"]

    signature.refine(size, {"type": "integer", "maximum": 5}, None)

    assert size.json_schema() == {"type": "integer", "maximum": 5, "description": "Page size"}
    assert signature.validate({"size": "4"}) == {"size": 4}
    with pytest.raises(CallError) as caught:
        signature.validate({"size": "9"}, where={"query": "query"})
    assert [(p.location, p.message) for p in caught.value.problems] == [("query.size", "must be <= 5")]


def test_a_schema_that_is_not_valid_leaves_the_argument_as_declared() -> None:
    signature = Signature([Argument("size", "integer")], [])
    size = signature.by_key["size"]

    with pytest.raises(InvalidSchema):
        signature.refine(size, {"type": "whole number"}, "Documented")

    assert size.json_schema() == {"type": "integer"} and size.check is None
