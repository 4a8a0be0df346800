"""Property-based conformance: the served /openapi.json, run by schemathesis against the running server.

`naftiko serve capabilities/kombo.yaml` answers from the fake Kombo (which never answers 5xx), so
every answer to a generated request must be a documented status with a documented content type,
headers and schema, and none may be a 5xx. Three runs: valid requests, invalid ones, and valid ones
naming the fake's seeded integration, fields and tool (so the upstream answers 2xx and the answer
schemas from the companion document are checked too). Examples are few and derandomized: the run is
bounded and the same every time. (Schemathesis's pytest fixture loader uses a private pytest
attribute pytest 9 dropped, so each operation's Hypothesis test is built and run here.)
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation.case import Case
from schemathesis.schemas import APIOperation

from tests.e2e.server import NaftikoServer
from tests.fakes import KomboFake
from tests.fakes.kombo import CF_TSHIRT_SIZE, IF_CUSTOM_TSHIRT_SIZE, PERSONIO_ID

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
MAX_EXAMPLES = 10
REQUEST_TIMEOUT = 10.0
RUNS = ("valid", "invalid", "seeded")
# What the fake knows, by the names of the served document's path parameters and headers.
SEEDED_PATH = {
    "integration-id": PERSONIO_ID,
    "custom-field-id": CF_TSHIRT_SIZE,
    "integration-field-id": IF_CUSTOM_TSHIRT_SIZE,
    "tool": "personio",
    "api": "personio-api",
    "category": "hris",
}
SEEDED_HEADERS = {"X-Integration-Id": PERSONIO_ID}


def _strategy(operation: APIOperation, run: str) -> Any:
    if run != "seeded":
        mode = GenerationMode.NEGATIVE if run == "invalid" else GenerationMode.POSITIVE
        return operation.as_strategy(generation_mode=mode)
    names = re.findall(r"\{([^{}]+)\}", operation.path)
    declared = {p.get("name") for p in operation.definition.raw.get("parameters", []) if p.get("in") == "header"}
    return operation.as_strategy(
        path_parameters={name: SEEDED_PATH[name] for name in names},
        headers={name: value for name, value in SEEDED_HEADERS.items() if name in declared} or None,
    )


def _conformance_failure(operation: APIOperation, run: str) -> str | None:
    """What the first failing generated request found, or None when every answer conformed."""

    @given(case=_strategy(operation, run))
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    def check(case: Case) -> None:
        case.call_and_validate(checks=CHECKS, timeout=REQUEST_TIMEOUT)

    try:
        check()
    except Unsatisfiable:
        # Nothing of the operation can be made invalid (no parameters, or only free-text ones).
        assert run == "invalid", f"no request to {operation.label} can be generated"
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"[:3000]
    return None


@pytest.mark.parametrize("run", RUNS)
def test_every_answer_to_generated_requests_is_documented_and_none_is_a_server_error(
    naftiko: NaftikoServer, kombo: KomboFake, run: str
) -> None:
    schema = schemathesis.openapi.from_url(f"{naftiko.rest_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {operation.method.upper() for operation in operations} >= {"GET", "POST", "PUT", "PATCH", "DELETE"}
    failures: dict[str, str] = {}
    for operation in operations:
        kombo.reset()  # a DELETE of the seeded integration must not turn the next operations into 404s
        failure = _conformance_failure(operation, run)
        if failure is not None:
            failures[operation.label] = failure
    assert not failures, "\n\n".join(f"{label}:\n{failure}" for label, failure in failures.items())
