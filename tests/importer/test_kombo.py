"""Kombo's real OpenAPI document imported: its 13 "General" operations serve what the seed capability serves."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.importer.support import SEED, adapter, cli, listing, route_shape, strict_verdict


@pytest.fixture(scope="module")
def general(kombo_document: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("general") / "kombo.yaml"
    code, _, err = cli("import", "openapi", str(kombo_document), "--tag", "General", "--output", str(output))
    assert code == 0, err
    return output


def hints_by_route(report: dict[str, Any]) -> Counter[tuple[str, str, bool, bool]]:
    """Each tool's (method, path, readOnly, destructive), the route taken from its consumed operation.

    Idempotency is left out: the seed calls its PATCH idempotent, HTTP (and so the importer) does not.
    """
    operations = {operation["ref"]: operation for operation in report["operations"]}
    found: Counter[tuple[str, str, bool, bool]] = Counter()
    for tool in adapter(report, "mcp")["tools"]:
        operation = operations[tool["call"]]
        method, path = route_shape(operation["method"], operation["url"])
        hints = tool["annotations"]
        found[(method, path, hints["readOnlyHint"], hints["destructiveHint"])] += 1
    return found


def test_the_general_operations_serve_the_seed_capabilitys_13_routes(general: Path) -> None:
    ours = [route_shape(route["method"], route["path"]) for route in adapter(listing(general), "rest")["routes"]]
    seed = [route_shape(route["method"], route["path"]) for route in adapter(listing(SEED), "rest")["routes"]]
    assert len(ours) == 13
    assert sorted(ours) == sorted(seed)


def test_the_general_operations_serve_13_tools_calling_the_same_upstream_operations_as_safe_or_destructive(
    general: Path,
) -> None:
    ours, seed = listing(general), listing(SEED)
    assert len(adapter(ours, "mcp")["tools"]) == len(adapter(seed, "mcp")["tools"]) == 13
    assert hints_by_route(ours) == hints_by_route(seed)


def test_the_general_capability_passes_strict_validation(general: Path) -> None:
    assert strict_verdict(general) == (True, [])


def test_the_general_capability_reads_its_bearer_token_from_the_environment(general: Path) -> None:
    text = general.read_text()
    assert "token: '{{KOMBO_API_TOKEN}}'" in text
    assert "KOMBO_API_TOKEN: KOMBO_API_TOKEN" in text
    assert general.with_name("kombo.openapi.json").is_file()
