"""Logs, metrics and traces of calls: observers the engine tells of each call, wired by `telemetry.py`.

Only `context.py` is imported on the request path when everything is off; `metrics.py` imports
prometheus-client and `tracing.py` OpenTelemetry (an optional extra), each only when switched on.
"""
