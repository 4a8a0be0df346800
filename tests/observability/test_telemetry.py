"""observability/telemetry.py and settings.py: what is on, from the command line and the control adapter."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import naftiko_runtime.observability
from naftiko_runtime.capability import load_capability
from naftiko_runtime.diagnostics import CapabilityError
from naftiko_runtime.observability.settings import SpecObservability, control_observability
from naftiko_runtime.observability.telemetry import Telemetry, TelemetryOptions
from naftiko_runtime.runtime import RuntimeOptions, build_runtime

CAPABILITY = """\
naftiko: 1.0.0-alpha2
binds:
- namespace: env
  keys: {COLLECTOR: COLLECTOR}
capability:
  exposes:
  - type: control
    port: 9199
    OBSERVABILITY
  - type: rest
    namespace: greet
    port: 8080
    resources:
    - path: /hello
      operations:
      - method: GET
        outputParameters:
        - {name: greeting, type: string, value: hello}
"""


def capability(tmp_path: Path, observability: str = "") -> Path:
    path = tmp_path / "greet.yaml"
    path.write_text(CAPABILITY.replace("OBSERVABILITY", observability or "management: {health: true}"))
    return path


def configured(path: Path, options: TelemetryOptions, environ: dict[str, str] | None = None) -> Telemetry:
    telemetry = Telemetry(options)
    build_runtime([path], RuntimeOptions(telemetry=telemetry, environ=environ or {}))
    return telemetry


def control_settings(path: Path, environ: dict[str, str] | None = None) -> SpecObservability:
    from naftiko_runtime.capability import LoadOptions

    loaded = load_capability(path, LoadOptions(environ=environ or {}))
    (control,) = [adapter for adapter in loaded.adapters if adapter.type == "control"]
    return control_observability(control)


def test_a_control_adapter_without_settings_serves_metrics_and_recent_traces(tmp_path: Path) -> None:
    assert control_settings(capability(tmp_path)) == SpecObservability()
    telemetry = configured(capability(tmp_path), TelemetryOptions())
    assert telemetry.metrics is not None and telemetry.tracing is None


def test_the_control_adapter_settings_are_read_with_binds_rendered(tmp_path: Path) -> None:
    settings = control_settings(
        capability(
            tmp_path,
            "observability: {metrics: {local: {enabled: false}}, traces: {sampling: 0.25, propagation: b3, "
            "local: {buffer-size: 20}}, exporters: {otlp: {endpoint: 'http://{{COLLECTOR}}:4318'}}}",
        ),
        environ={"COLLECTOR": "collector.test"},
    )
    assert settings == SpecObservability(
        enabled=True,
        metrics_local=False,
        sampling=0.25,
        propagation="b3",
        traces_local=True,
        buffer_size=20,
        otlp_endpoint="http://collector.test:4318",
    )


def test_observability_disabled_in_the_spec_turns_metrics_and_routes_off(tmp_path: Path) -> None:
    path = capability(tmp_path, "observability: {enabled: false}")
    telemetry = configured(path, TelemetryOptions())
    assert telemetry.metrics is None
    loaded = build_runtime([path], RuntimeOptions(telemetry=telemetry, environ={}))
    (control,) = [a for c in loaded.capabilities for a in c.adapters if a.type == "control"]
    assert telemetry.control_routes(control) == {}


def test_a_spec_otlp_endpoint_turns_tracing_on_unless_the_command_line_says_none(tmp_path: Path) -> None:
    path = capability(tmp_path, "observability: {exporters: {otlp: {endpoint: 'http://127.0.0.1:4318'}}}")
    traced = configured(path, TelemetryOptions())
    untraced = configured(path, TelemetryOptions(otel_exporter="none"))
    assert traced.tracing is not None and traced.tracing.recent is not None
    assert untraced.tracing is None
    traced.close()


def test_metrics_port_alone_turns_metrics_on(tmp_path: Path) -> None:
    path = tmp_path / "plain.yaml"
    path.write_text(CAPABILITY.replace("  - type: control\n    port: 9199\n    OBSERVABILITY\n", ""))
    assert configured(path, TelemetryOptions()).metrics is None
    assert configured(path, TelemetryOptions(metrics_port=0)).metrics is not None


def test_tracing_asked_for_without_the_sdk_is_an_error_naming_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if the `otel` extra were not installed: the module importing the SDK cannot be imported.
    monkeypatch.setitem(sys.modules, "naftiko_runtime.observability.tracing", None)
    monkeypatch.delattr(naftiko_runtime.observability, "tracing", raising=False)
    with pytest.raises(CapabilityError, match=r"naftiko-runtime\[otel\]"):
        configured(capability(tmp_path), TelemetryOptions(otel_exporter="console"))
    spec = capability(tmp_path, "observability: {exporters: {otlp: {endpoint: 'http://127.0.0.1:4318'}}}")
    telemetry = Telemetry(TelemetryOptions())
    runtime = build_runtime([spec], RuntimeOptions(telemetry=telemetry, environ={}))
    assert telemetry.tracing is None
    assert any(d.code == "tracing" and "otel" in d.message for d in runtime.diagnostics)


def test_with_everything_off_nothing_is_wrapped_and_no_opentelemetry_sdk_is_imported(tmp_path: Path) -> None:
    path = tmp_path / "plain.yaml"
    path.write_text(CAPABILITY.replace("  - type: control\n    port: 9199\n    OBSERVABILITY\n", ""))
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from naftiko_runtime.observability.telemetry import Telemetry, TelemetryOptions
        from naftiko_runtime.runtime import RuntimeOptions, build_runtime
        for log_calls in (False, True):
            telemetry = Telemetry(TelemetryOptions(log_calls=log_calls))
            runtime = build_runtime([Path({str(path)!r})], RuntimeOptions(telemetry=telemetry, environ={{}}))
            action = runtime.capabilities[0].adapters[0].actions[0]
            print(log_calls, len(action.observers), telemetry.active)
        print("sdk" if "opentelemetry.sdk" in sys.modules else "no sdk")
        print("prometheus" if "prometheus_client" in sys.modules else "no prometheus")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:4] == ["False 0 False", "True 1 True", "no sdk", "no prometheus"]


def test_b3_propagation_without_its_package_falls_back_to_w3c_with_a_warning(tmp_path: Path) -> None:
    pytest.importorskip("opentelemetry.sdk")
    if importlib.util.find_spec("opentelemetry.propagators.b3") is not None:
        pytest.skip("opentelemetry-propagator-b3 is installed")
    path = capability(
        tmp_path,
        "observability: {traces: {propagation: b3}, exporters: {otlp: {endpoint: 'http://127.0.0.1:4318'}}}",
    )
    telemetry = Telemetry(TelemetryOptions())
    runtime = build_runtime([path], RuntimeOptions(telemetry=telemetry, environ={}))
    assert telemetry.tracing is not None and telemetry.tracing.fields == {"traceparent", "tracestate"}
    assert any(d.code == "tracing" and "W3C" in d.message for d in runtime.diagnostics)
    telemetry.close()


def test_the_command_line_sample_ratio_beats_the_spec_sampling(tmp_path: Path) -> None:
    path = capability(
        tmp_path, "observability: {traces: {sampling: 0.25}, exporters: {otlp: {endpoint: 'http://127.0.0.1:4318'}}}"
    )
    declared = configured(path, TelemetryOptions())
    chosen = configured(path, TelemetryOptions(otel_sample_ratio=0.5))
    assert declared.tracing is not None and chosen.tracing is not None
    assert (declared.tracing.sampling, chosen.tracing.sampling) == (0.25, 0.5)
    declared.close()
    chosen.close()
