"""spec/lint.py: the official alpha2 lint rules (a Spectral ruleset) with Spectral's semantics."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path

import pytest

from naftiko_runtime.diagnostics import Diagnostic, Severity
from naftiko_runtime.spec.lint import check_rules, js_regex, ruleset
from naftiko_runtime.spec.loader import load_document
from naftiko_runtime.spec.source import parse_source, read_source
from tests.spec.official import OFFICIAL, OFFICIAL_FILES

CORPUS_RULES = Path(__file__).parents[3] / "shared/corpus/naftiko-alpha2/src/main/resources/rules/naftiko-rules.yml"
KOMBO = Path(__file__).parents[2] / "capabilities" / "kombo.yaml"
MARK = "# <-"


def lint(text: str, *, all_rules: bool = False) -> list[Diagnostic]:
    text = textwrap.dedent(text).lstrip("\n")
    return check_rules(parse_source(text, Path("capability.yaml")), all_rules=all_rules)


def marked_line(text: str) -> int:
    """The line of the document marked with `# <-`."""
    lines = textwrap.dedent(text).lstrip("\n").splitlines()
    return next(number for number, line in enumerate(lines, 1) if MARK in line)


# One small document per official rule, breaking it once, the breaking line marked `# <-`:
# (rule, severity, on only with all_rules (recommended: false), field path of the finding, document).
BROKEN: list[tuple[str, Severity, bool, str, str]] = [
    (
        "naftiko-namespaces-unique",
        Severity.ERROR,
        False,
        "capability.exposes[0].namespace",
        """
        naftiko: "1.0.0-alpha2"
        capability:
          consumes:
            - type: http
              namespace: shop
              description: The shop API
          exposes:
            - type: mcp
              namespace: shop # <-
              description: Shop tools
        """,
    ),
    (
        "naftiko-consumes-baseuri-no-trailing-slash",
        Severity.WARNING,
        False,
        "capability.consumes[0].baseUri",
        """
        naftiko: "1.0.0-alpha2"
        capability:
          consumes:
            - type: http
              namespace: shop
              description: The shop API
              baseUri: https://api.shop.test/v1/ # <-
        """,
    ),
    (
        "naftiko-consumed-resource-no-query-in-path",
        Severity.WARNING,
        False,
        "consumes[0].resources[0].path",
        """
        naftiko: "1.0.0-alpha2"
        consumes:
          - type: http
            namespace: shop
            description: The shop API
            resources:
              - name: orders
                path: /orders?status=open # <-
        """,
    ),
    (
        "naftiko-rest-resource-path-no-trailing-slash",
        Severity.WARNING,
        False,
        "capability.exposes[0].resources[0].path",
        """
        naftiko: "1.0.0-alpha2"
        capability:
          exposes:
            - type: rest
              namespace: shop-rest
              resources:
                - name: orders
                  description: The orders
                  path: /orders/ # <-
        """,
    ),
    (
        "naftiko-rest-resource-path-no-query",
        Severity.WARNING,
        False,
        "capability.exposes[0].resources[0].path",
        """
        naftiko: "1.0.0-alpha2"
        capability:
          exposes:
            - type: rest
              namespace: shop-rest
              resources:
                - name: orders
                  description: The orders
                  path: /orders?status=open # <-
        """,
    ),
    (
        "naftiko-address-not-example",
        Severity.WARNING,
        False,
        "capability.exposes[0].address",
        """
        naftiko: "1.0.0-alpha2"
        capability:
          exposes:
            - type: mcp
              namespace: shop-mcp
              description: Shop tools
              address: tools.example.com # <-
        """,
    ),
    (
        "naftiko-aggregate-function-description",
        Severity.WARNING,
        False,
        "capability.aggregates[0].functions[0]",
        """
        naftiko: "1.0.0-alpha2"
        capability:
          aggregates:
            - namespace: orders
              functions:
                - name: list-orders # <-
                  call: shop.list-orders
        """,
    ),
    (
        "naftiko-aggregate-semantics-consistency",
        Severity.WARNING,
        False,
        "capability.exposes[0].tools[0].hints.readOnly",
        """
        naftiko: "1.0.0-alpha2"
        capability:
          aggregates:
            - namespace: orders
              functions:
                - name: list-orders
                  description: List the orders
                  semantics: {safe: true}
          exposes:
            - type: mcp
              namespace: shop-mcp
              description: Shop tools
              tools:
                - name: list-orders
                  description: List the orders
                  ref: orders.list-orders
                  hints:
                    readOnly: false # <-
        """,
    ),
    (
        "naftiko-mcp-auth-stdio-conflict",
        Severity.WARNING,
        False,
        "capability.exposes[0].authentication",
        """
        naftiko: "1.0.0-alpha2"
        capability:
          exposes:
            - type: mcp
              transport: stdio
              namespace: shop-mcp
              description: Shop tools
              authentication: # <-
                type: bearer
                token: "{{TOKEN}}"
        """,
    ),
    # Spectral applies `authentication[?(@.type == 'oauth2')]` to the members of `authentication`,
    # so the oauth2 rules fire on an oauth2 object nested inside it (see the parity test below).
    (
        "naftiko-oauth2-https-authserver",
        Severity.ERROR,
        False,
        "capability.exposes[0].authentication.server.authorizationServerUri",
        """
        naftiko: "1.0.0-alpha2"
        capability:
          exposes:
            - type: mcp
              namespace: shop-mcp
              description: Shop tools
              authentication:
                server:
                  type: oauth2
                  authorizationServerUri: http://auth.shop.test # <-
                  resource: https://shop.test/mcp
                  scopes: [orders]
        """,
    ),
    (
        "naftiko-oauth2-resource-https",
        Severity.WARNING,
        False,
        "capability.exposes[0].authentication.server.resource",
        """
        naftiko: "1.0.0-alpha2"
        capability:
          exposes:
            - type: mcp
              namespace: shop-mcp
              description: Shop tools
              authentication:
                server:
                  type: oauth2
                  authorizationServerUri: https://auth.shop.test
                  resource: http://shop.test/mcp # <-
                  scopes: [orders]
        """,
    ),
    (
        "naftiko-oauth2-scopes-defined",
        Severity.WARNING,
        False,
        "capability.exposes[0].authentication.server",
        """
        naftiko: "1.0.0-alpha2"
        capability:
          exposes:
            - type: mcp
              namespace: shop-mcp
              description: Shop tools
              authentication:
                server: # <-
                  type: oauth2
                  authorizationServerUri: https://auth.shop.test
                  resource: https://shop.test/mcp
        """,
    ),
    (
        "naftiko-info-tags",
        Severity.NOTE,
        True,
        "info",
        """
        naftiko: "1.0.0-alpha2"
        info: # <-
          label: Shop
          description: Orders of the shop
        """,
    ),
    (
        "naftiko-consumes-description",
        Severity.WARNING,
        False,
        "capability.consumes[0]",
        """
        naftiko: "1.0.0-alpha2"
        capability:
          consumes:
            - type: http # <-
              namespace: shop
              baseUri: https://api.shop.test
        """,
    ),
    (
        "naftiko-rest-resource-description",
        Severity.WARNING,
        False,
        "capability.exposes[0].resources[0]",
        """
        naftiko: "1.0.0-alpha2"
        capability:
          exposes:
            - type: rest
              namespace: shop-rest
              resources:
                - name: orders # <-
                  path: /orders
        """,
    ),
    (
        "naftiko-rest-operation-description",
        Severity.NOTE,
        True,
        "capability.exposes[0].resources[0].operations[0]",
        """
        naftiko: "1.0.0-alpha2"
        capability:
          exposes:
            - type: rest
              namespace: shop-rest
              resources:
                - name: orders
                  path: /orders
                  description: The orders
                  operations:
                    - method: GET # <-
                      call: shop.list-orders
        """,
    ),
    (
        "naftiko-steps-name-pattern",
        Severity.WARNING,
        False,
        "capability.exposes[0].tools[0].steps[0].name",
        """
        naftiko: "1.0.0-alpha2"
        capability:
          exposes:
            - type: mcp
              namespace: shop-mcp
              description: Shop tools
              tools:
                - name: order-report
                  description: One order and its customer
                  steps:
                    - type: call
                      name: fetch order # <-
                      call: shop.get-order
        """,
    ),
    (
        "naftiko-no-script-tags-in-markdown",
        Severity.ERROR,
        False,
        "info.description",
        """
        naftiko: "1.0.0-alpha2"
        info:
          label: Shop
          tags: [shop]
          description: Orders <script>alert(1)</script> # <-
        """,
    ),
    (
        "naftiko-no-eval-in-markdown",
        Severity.ERROR,
        False,
        "capability.exposes[0].tools[0].description",
        """
        naftiko: "1.0.0-alpha2"
        capability:
          exposes:
            - type: mcp
              namespace: shop-mcp
              description: Shop tools
              tools:
                - name: list-orders
                  description: Lists orders, then eval(payload) # <-
        """,
    ),
    (
        "naftiko-baseuri-not-example",
        Severity.WARNING,
        True,
        "capability.consumes[0].baseUri",
        """
        naftiko: "1.0.0-alpha2"
        capability:
          consumes:
            - type: http
              namespace: shop
              description: The shop API
              baseUri: https://api.example.com/v1 # <-
        """,
    ),
    (
        "naftiko-control-port-singleton-and-unique",
        Severity.ERROR,
        False,
        "capability.exposes[1].port",
        """
        naftiko: "1.0.0-alpha2"
        capability:
          exposes:
            - type: mcp
              namespace: shop-mcp
              description: Shop tools
              port: 9000
            - type: control
              namespace: shop-control
              port: 9000 # <-
        """,
    ),
    (
        "naftiko-control-address-localhost-warning",
        Severity.WARNING,
        False,
        "capability.exposes[0].address",
        """
        naftiko: "1.0.0-alpha2"
        capability:
          exposes:
            - type: control
              namespace: shop-control
              port: 9090
              address: 0.0.0.0 # <-
        """,
    ),
    (
        "naftiko-script-defaults-required",
        Severity.ERROR,
        False,
        "capability.exposes[0].tools[0].steps[0]",
        """
        naftiko: "1.0.0-alpha2"
        capability:
          exposes:
            - type: mcp
              namespace: shop-mcp
              description: Shop tools
              tools:
                - name: order-report
                  description: A computed report
                  steps:
                    - type: script # <-
                      name: compute
                      language: javascript
        """,
    ),
]


def broken(rule: str) -> str:
    return next(case[4] for case in BROKEN if case[0] == rule)


@pytest.mark.parametrize(("rule", "severity", "all_rules", "field", "text"), BROKEN, ids=[case[0] for case in BROKEN])
def test_a_document_breaking_an_official_rule_gets_one_finding_named_after_it_at_the_breaking_node(
    rule: str, severity: Severity, all_rules: bool, field: str, text: str
) -> None:
    findings = lint(text, all_rules=all_rules)

    assert [(d.code, d.severity, d.field_path) for d in findings] == [(rule, severity, field)]
    assert findings[0].location.line == marked_line(text)
    assert findings[0].message


def test_every_official_rule_has_a_breaking_document_above() -> None:
    assert {rule.name for rule in ruleset()} == {case[0] for case in BROKEN}


def test_the_shipped_rules_file_is_the_official_one_unchanged() -> None:
    if not CORPUS_RULES.exists():
        pytest.skip("corpus not present")
    shipped = files("naftiko_runtime.spec").joinpath("naftiko-rules.yml").read_bytes()
    assert shipped == CORPUS_RULES.read_bytes()


def test_rules_marked_not_recommended_are_off_unless_all_rules_are_asked_for() -> None:
    not_recommended = [case for case in BROKEN if case[2]]
    assert {case[0] for case in not_recommended} == {rule.name for rule in ruleset() if not rule.recommended}
    for _, _, _, _, text in not_recommended:
        assert lint(text) == []


CLEAN = """
naftiko: "1.0.0-alpha2"
info:
  label: Shop
  description: Orders of the shop
  tags: [shop]
capability:
  consumes:
    - type: http
      namespace: shop
      description: The shop API
      baseUri: https://api.shop.test/v1
      resources:
        - name: orders
          path: /orders
          operations:
            - name: list-orders
              method: GET
  exposes:
    - type: rest
      namespace: shop-rest
      address: localhost
      port: 8080
      resources:
        - name: orders
          path: /orders
          description: The orders
          operations:
            - method: GET
              name: list-orders
              description: List the orders
              call: shop.list-orders
    - type: mcp
      namespace: shop-mcp
      port: 9000
      description: Shop tools
      tools:
        - name: list-orders
          description: List the orders
          call: shop.list-orders
    - type: control
      namespace: shop-control
      port: 9090
      address: 127.0.0.1
"""


def test_a_tidy_capability_has_no_findings_even_with_all_rules() -> None:
    assert lint(CLEAN, all_rules=True) == []


def test_check_rules_reads_the_loaded_document_s_source_and_places_findings_at_file_paths(
    write_yaml: Callable[..., Path],
) -> None:
    # The loader skips the unsupported `skill` adapter; lint paths stay the file's paths.
    path = write_yaml(
        """
        naftiko: "1.0.0-alpha2"
        capability:
          exposes:
            - type: skill
              namespace: shop-skills
            - type: rest
              namespace: shop-rest
              port: 8080
              resources:
                - name: orders
                  description: The orders
                  path: /orders/
        """
    )
    loaded = load_document(path)
    assert loaded.kept_indices  # the skill adapter was dropped from the model

    findings = check_rules(loaded)

    assert [(d.code, d.field_path, d.location.line) for d in findings] == [
        ("naftiko-rest-resource-path-no-trailing-slash", "capability.exposes[1].resources[0].path", 12)
    ]
    assert findings == check_rules(read_source(path))


def test_a_missing_field_is_reported_at_the_closest_node_that_exists() -> None:
    findings = lint(broken("naftiko-consumes-description"))

    assert findings[0].field == ("capability", "consumes", 0)


def test_truthy_follows_javascript_so_an_empty_tags_list_passes_but_null_does_not() -> None:
    empty = lint('naftiko: "1.0.0-alpha2"\ninfo:\n  label: Shop\n  tags: []\n', all_rules=True)
    null = lint('naftiko: "1.0.0-alpha2"\ninfo:\n  label: Shop\n  tags:\n', all_rules=True)

    assert empty == []
    assert [d.code for d in null] == ["naftiko-info-tags"]


def test_a_pattern_rule_skips_a_value_that_is_not_a_string() -> None:
    text = """
    naftiko: "1.0.0-alpha2"
    capability:
      consumes:
        - type: http
          namespace: shop
          description: The shop API
          baseUri: [https://api.shop.test/]
    """
    assert lint(text) == []


def test_an_oauth2_authentication_object_itself_is_not_selected_as_in_spectral() -> None:
    text = """
    naftiko: "1.0.0-alpha2"
    capability:
      exposes:
        - type: mcp
          namespace: shop-mcp
          description: Shop tools
          authentication:
            type: oauth2
            authorizationServerUri: http://auth.shop.test
            resource: http://shop.test/mcp
    """
    assert lint(text) == []


def test_a_custom_function_message_shows_through_the_error_placeholder() -> None:
    findings = lint(broken("naftiko-script-defaults-required"))

    assert "compute" in findings[0].message
    assert "location" in findings[0].message
    assert "{{" not in findings[0].message


def test_a_custom_function_finding_shows_the_rule_message_as_spectral_does() -> None:
    findings = lint(broken("naftiko-namespaces-unique"))

    assert findings[0].message == "Namespaces must be globally unique across all adapters and bindings."


def test_a_second_control_adapter_is_reported_at_its_type() -> None:
    text = """
    naftiko: "1.0.0-alpha2"
    capability:
      exposes:
        - type: control
          namespace: control-a
          port: 9090
          address: localhost
        - type: control
          namespace: control-b
          port: 9091
          address: localhost
    """
    findings = lint(text)

    assert [(d.code, d.field_path) for d in findings] == [
        ("naftiko-control-port-singleton-and-unique", "capability.exposes[1].type")
    ]


def test_control_defaults_cover_script_steps_that_omit_location_and_language() -> None:
    text = """
    naftiko: "1.0.0-alpha2"
    capability:
      exposes:
        - type: control
          namespace: shop-control
          port: 9090
          address: localhost
          management:
            scripting:
              defaultLocation: file:///./scripts
              defaultLanguage: javascript
        - type: mcp
          namespace: shop-mcp
          description: Shop tools
          tools:
            - name: order-report
              description: A computed report
              steps:
                - type: script
                  name: compute
    """
    assert lint(text) == []


def test_a_javascript_end_anchor_does_not_match_before_a_final_newline() -> None:
    assert js_regex("/$").search("https://api.shop.test/")
    assert not js_regex("/$").search("https://api.shop.test/\n")
    assert js_regex("/ab$/i").search("xAB")


def test_all_51_official_example_capabilities_are_here() -> None:
    assert len(OFFICIAL_FILES) == 51


@pytest.mark.parametrize("path", OFFICIAL_FILES, ids=[str(p.relative_to(OFFICIAL)) for p in OFFICIAL_FILES])
def test_no_error_rule_fires_on_an_official_example(path: Path) -> None:
    findings = check_rules(read_source(path), all_rules=True)

    assert [str(d) for d in findings if d.severity is Severity.ERROR] == []


def test_the_official_semantics_fixtures_warn_only_on_the_inconsistent_one() -> None:
    rules = OFFICIAL / "test" / "resources" / "rules"
    consistent = check_rules(read_source(rules / "spectral-semantics-consistent.yaml"))
    inconsistent = check_rules(read_source(rules / "spectral-semantics-inconsistent.yaml"))

    assert consistent == []
    assert [(d.code, d.severity, d.field_path) for d in inconsistent] == [
        ("naftiko-aggregate-semantics-consistency", Severity.WARNING, "capability.exposes[0].tools[0].hints.readOnly"),
        (
            "naftiko-aggregate-semantics-consistency",
            Severity.WARNING,
            "capability.exposes[0].tools[0].hints.destructive",
        ),
        (
            "naftiko-aggregate-semantics-consistency",
            Severity.WARNING,
            "capability.exposes[1].resources[0].operations[0].method",
        ),
    ]


def test_the_generated_kombo_capability_has_no_error_findings() -> None:
    findings = check_rules(read_source(KOMBO))

    assert not [d for d in findings if d.severity is Severity.ERROR]
