"""The SCRIPT dispatcher interpreter: the Groovy subset, and nothing beyond it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from naftiko_runtime.mock.request import MockRequest
from naftiko_runtime.mock.script import ScriptError, compile_script


def _run(source: str, body: Any = None, **kwargs: Any) -> str | None:
    raw = b"" if body is None else json.dumps(body).encode()
    fields: dict[str, Any] = {"method": "POST", "path": "/x", "path_params": {}, "query": (), "headers": {}}
    return compile_script(source).run(MockRequest(**{**fields, **kwargs, "body": raw}))


def test_a_literal_return_names_the_example() -> None:
    assert _run("return 'created'") == "created"
    assert _run('return "created";') == "created"


def test_the_last_statement_is_the_result_without_a_return() -> None:
    assert _run("def a = 'x'\n'y'") == "y"
    assert _run("// nothing to say") is None


def test_else_if_chains_compare_body_fields() -> None:
    script = """
        def body = new JsonSlurper().parseText(mockRequest.getRequestContent())
        if (body.amount < 0) { return "negative" }
        else if (body.amount == 0) return "zero"
        else {
            return "positive"
        }
    """

    assert _run(script, {"amount": -3}) == "negative"
    assert _run(script, {"amount": 0}) == "zero"
    assert _run(script, {"amount": 0.5}) == "positive"


def test_switch_falls_through_until_break_and_uses_default() -> None:
    script = """
        def result = ""
        switch (mockRequest.requestHeaders.get("k", "none")) {
            case "a": result = result + "a"
            case "b": result = result + "b"; break
            case ["c", "d"]: result = "cd"; break
            default: result = "other"
        }
        return result
    """

    assert _run(script, headers={"k": "a"}) == "ab"
    assert _run(script, headers={"k": "b"}) == "b"
    assert _run(script, headers={"k": "d"}) == "cd"
    assert _run(script) == "other"


def test_strings_interpolate_and_offer_common_methods() -> None:
    script = """
        def name = mockRequest.getRequest().getParameter("name")
        def greeting = "hello ${name.toUpperCase()} and $name"
        return greeting.startsWith("hello") && name.contains("b") ? greeting : 'no'
    """

    assert _run(script, query=(("name", "bob"),)) == "hello BOB and bob"
    assert _run(script, query=(("name", "al"),)) == "no"


def test_lists_maps_and_operators_behave_like_groovy() -> None:
    assert _run("def m = [a: 1, 'b': 2]\nreturn m.a + m['b']") == "3"
    assert _run("return [1, 2, 3].size() == 3 && !([].isEmpty() == false)") == "true"
    assert _run("return 'x' in ['x', 'y'] ? 'in' : 'out'") == "in"
    assert _run(r"return 'IMO-123' ==~ 'IMO-\\d+' ? 'y' : 'n'") == "y"
    assert _run("def a = null\nreturn a?.b ?: 'elvis'") == "elvis"
    assert _run("return (1 + 2) * 3 % 4") == "1"


def test_request_context_values_are_visible_to_templates() -> None:
    request = MockRequest(method="GET", path="/", path_params={}, query=(), headers={})

    compile_script("requestContext.brand = 'Peugeot'\nrequestContext.put('n', 2)").run(request)

    assert request.context == {"brand": "Peugeot", "n": 2}


def test_multi_line_expressions_continue_across_newlines() -> None:
    script = """
        def ok = mockRequest.getRequestHeaders()
            .hasValues("x") &&
            true
        return ok
    """

    assert _run(script, headers={"x": "1"}) == "true"


@pytest.mark.parametrize(
    "script",
    [
        "while (true) { return 'x' }",
        "for (i in [1]) { return 'x' }",
        "def f = { it -> 'x' }",
        "return new File('/etc/passwd').text",
        "return 'unterminated",
    ],
)
def test_syntax_outside_the_subset_is_refused_when_compiling(script: str) -> None:
    with pytest.raises(ScriptError):
        compile_script(script)


@pytest.mark.parametrize(
    "script",
    [
        "return ''.__class__",
        "return ''.getClass()",
        "return mockRequest.__dict__",
        "return System.getenv('HOME')",
        "return Runtime.getRuntime().exec('id')",
        "import os\nreturn os.system('id')",
        "return evaluate('1 + 1')",
    ],
)
def test_scripts_cannot_reach_the_host_runtime(script: str) -> None:
    with pytest.raises(ScriptError):
        _run(script)


def test_a_failing_operation_is_a_script_error() -> None:
    with pytest.raises(ScriptError):
        _run("return 'a' - 1")
    with pytest.raises(ScriptError):
        _run("return 'x' * 1000000000")
    with pytest.raises(ScriptError):
        _run("return new JsonSlurper().parseText('not json')")


def test_xml_holder_reads_an_xml_body_by_xpath() -> None:
    script = """
        import com.eviware.soapui.support.XmlHolder
        def holder = new XmlHolder( mockRequest.requestContent )
        def name = holder["//name"]
        if (name == "Andrew"){
            return "Andrew Response"
        } else if (name == "Karla"){
            return "Karla Response"
        } else {
            return "World Response"
        }
    """
    request = MockRequest(
        method="POST",
        path="/",
        path_params={},
        query=(),
        headers={},
        body=b"<hello><name>Karla</name></hello>",
    )

    assert compile_script(script).run(request) == "Karla Response"


def test_numbers_next_to_keywords_tokenize_as_numbers() -> None:
    assert _run("return 1 in [1, 2] ? 'in' : 'out'") == "in"
    assert _run("return 10L + 0.5d") == "10.5"
