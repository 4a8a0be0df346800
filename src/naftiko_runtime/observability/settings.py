"""What a control adapter's `observability` block asks for, read leniently (unknown fields ignored).

```yaml
- type: control
  observability:
    enabled: true               # false: no /metrics, no /traces, no tracing from the spec
    metrics: {local: {enabled: true}}          # /metrics on this control port
    traces:
      sampling: 1.0             # ratio of new traces kept (a caller's sampled flag is followed)
      propagation: w3c          # or b3 (needs opentelemetry-propagator-b3)
      local: {enabled: true, buffer-size: 100} # /traces: the last calls' traces
    exporters: {otlp: {endpoint: "http://collector:4318"}}  # Mustache over the binds
```
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from naftiko_runtime.capability import Adapter
from naftiko_runtime.spec.models import ExposesControl
from naftiko_runtime.templates import Template, TemplateError

DEFAULT_BUFFER_SIZE = 100


@dataclass(frozen=True, slots=True)
class SpecObservability:
    enabled: bool = True
    metrics_local: bool = True
    sampling: float = 1.0
    propagation: str = "w3c"
    traces_local: bool = True
    buffer_size: int = DEFAULT_BUFFER_SIZE
    # The OTLP endpoint, bind variables rendered (None: the OTEL_EXPORTER_OTLP_* variables decide).
    otlp_endpoint: str | None = None


def control_observability(adapter: Adapter) -> SpecObservability:
    """The observability a control adapter declares (all defaults when it declares none)."""
    document = adapter.capability.loaded.document.capability
    declared = next(
        (
            expose
            for expose in (document.exposes if document is not None else ())
            if isinstance(expose, ExposesControl) and expose.namespace == adapter.namespace
        ),
        None,
    )
    block = declared.observability if declared is not None else None
    if not isinstance(block, Mapping):
        return SpecObservability()
    traces = _mapping(block.get("traces"))
    local_traces = _mapping(traces.get("local"))
    sampling = traces.get("sampling", 1.0)
    buffer_size = local_traces.get("buffer-size", DEFAULT_BUFFER_SIZE)
    endpoint = _mapping(_mapping(block.get("exporters")).get("otlp")).get("endpoint")
    return SpecObservability(
        enabled=block.get("enabled", True) is not False,
        metrics_local=_mapping(_mapping(block.get("metrics")).get("local")).get("enabled", True) is not False,
        sampling=float(sampling) if isinstance(sampling, int | float) and 0 <= sampling <= 1 else 1.0,
        propagation="b3" if traces.get("propagation") == "b3" else "w3c",
        traces_local=local_traces.get("enabled", True) is not False,
        buffer_size=buffer_size if isinstance(buffer_size, int) and buffer_size > 0 else DEFAULT_BUFFER_SIZE,
        otlp_endpoint=_rendered(endpoint, adapter) if isinstance(endpoint, str) and endpoint else None,
    )


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _rendered(endpoint: str, adapter: Adapter) -> str | None:
    try:
        rendered = Template(endpoint).render(adapter.capability.variables.context())
    except TemplateError:
        return None
    return rendered or None
