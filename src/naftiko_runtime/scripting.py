"""Script steps (`type: script`): JavaScript and Python, run sandboxed in a child process per call.

What a script sees, as in the reference engine: one global `context`, a JSON object holding the
orchestration context (the arguments by their declared names and every earlier step's output under
its step name) with the step's `with` values laid over it. Dependencies run first, in order, in the
same global scope as the main file. The script's output is the value it assigns to the global
`result`; a script that never assigns it fails (the reference engine returns null instead).

`with` values: a string holding `{{...}}` is Mustache over that same context (so it renders to text,
as in the reference engine), a string starting with `$` is JSONPath over it (the runtime's rule for
steps), anything else is passed as written. A caller that renders `with` itself passes `inputs=`.

The sandbox, layer by layer:

- Every call runs in a fresh child process (`python -I -m naftiko_runtime.scripting`): empty
  environment, the script location as working directory, pipes for stdin and stdout only, stderr
  discarded. It is killed when the wall-clock deadline (the timeout plus start-up grace) passes or
  when the call is cancelled; RLIMIT_CPU caps its CPU seconds, RLIMIT_FSIZE 0 forbids file writes,
  RLIMIT_CORE 0 core dumps. A crash of the engine (V8 aborts the whole process when an allocation
  fails outright) ends only the child.
- JavaScript runs in V8 through mini-racer: there is no `require`, no module loader, no fetch, no
  file or network API at all. V8 enforces the timeout and a heap limit; the statement limit, which
  V8 cannot count, is approximated by a time budget (`JS_MICROSECONDS_PER_STATEMENT` per statement).
- Python is compiled by RestrictedPython (no names starting with `_`, no frame or code
  introspection, no `str.format`, attribute and item writes only on dicts and lists), sees a small
  set of builtins (no `open`, `eval`, `exec`, `type`, `getattr` unguarded) and imports only
  `PYTHON_MODULES`, each as a view of its public functions and classes without its submodules.
  Statements are counted by tracing the lines of the script's own code; SIGALRM enforces the
  timeout, RLIMIT_AS the memory limit; an audit hook refuses opening files, sockets, processes,
  imports and tracing changes while the script runs.

Run as `python -m naftiko_runtime.scripting`, this module is the child: it reads one JSON request on
stdin and writes one JSON reply on stdout. Its top-level imports are the standard library only, so
the child starts quickly.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, SimpleNamespace, TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:  # the child process imports nothing from the runtime
    from naftiko_runtime.spec.models import Step
    from naftiko_runtime.templates import Template

LANGUAGES = ("javascript", "python")
DEFAULT_TIMEOUT_MS = 60_000
DEFAULT_STATEMENT_LIMIT = 100_000
DEFAULT_MEMORY_LIMIT_MB = 256
# V8 runs a simple statement in well under a microsecond; ten per statement is a generous budget.
JS_MICROSECONDS_PER_STATEMENT = 10
JS_MIN_STATEMENT_BUDGET_MS = 50
# Extra virtual memory a JavaScript child may map beyond the heap limit (V8 reserves much up front).
JS_ADDRESS_SLACK_MB = 1024
STARTUP_GRACE_S = 2.0
# How long a Python script that caught its stop (timeout, statement limit) may go on before the child ends.
_INSIST_S = 0.1
MAX_SCRIPT_BYTES = 1 << 20
MAX_REPLY_BYTES = 32 << 20
MAX_MESSAGE_CHARS = 500
PYTHON_MODULES = ("collections", "datetime", "functools", "itertools", "json", "math", "re", "statistics")
# Loaded before the script runs: library functions import them lazily, and the audit hook then
# refuses to read a module from disk.
_PYTHON_PRELOADED = ("_strptime", "bisect", "copy", "decimal", "fractions", "heapq", "numbers", "operator", "random")
# Plain builtins added to RestrictedPython's safe set; `list`, `range` and `tuple` replace its limited
# versions (a 1000-element range would refuse ordinary data; memory and CPU have their own limits).
_PYTHON_EXTRA_BUILTINS = (
    "all",
    "any",
    "dict",
    "enumerate",
    "filter",
    "frozenset",
    "iter",
    "list",
    "map",
    "max",
    "min",
    "next",
    "range",
    "reversed",
    "set",
    "sorted",
    "sum",
    "tuple",
    "zip",
)
# Audit events refused while a Python script runs (prefixes): files, modules from disk, network,
# processes, native code, limits and tracing. `compile` and `exec` stay allowed: namedtuple needs them.
_REFUSED_EVENTS = (
    "open",
    "import",
    "os.",
    "socket.",
    "subprocess.",
    "shutil.",
    "ctypes.",
    "resource.",
    "signal.",
    "mmap.",
    "marshal.",
    "pickle.",
    "urllib.",
    "http.",
    "ftplib.",
    "smtplib.",
    "sqlite3.",
    "webbrowser.",
    "sys.settrace",
    "sys.setprofile",
    "sys.addaudithook",
    "sys._current_frames",
    "cpython.",
)
_SEGMENT = re.compile(r"^[A-Za-z0-9._-]+$")
_MEBIBYTE = 1 << 20


class ScriptError(Exception):
    """A script step that cannot run or failed. The message names the step and what went wrong; it is
    safe to show to a caller: no host path beyond the script's relative file name, no traceback."""


@dataclass(frozen=True, slots=True)
class ScriptSettings:
    """The control adapter's `management.scripting`, else the reference engine's defaults."""

    enabled: bool = True
    default_location: str | None = None
    default_language: str | None = None
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    statement_limit: int = DEFAULT_STATEMENT_LIMIT
    allowed_languages: tuple[str, ...] = LANGUAGES
    # Not in the spec: the engine's own memory limit (V8 heap, Python address space growth).
    memory_limit_mb: int = DEFAULT_MEMORY_LIMIT_MB

    @classmethod
    def from_management(
        cls, scripting: Mapping[str, Any] | None, environ: Mapping[str, str] | None = None
    ) -> ScriptSettings:
        """From `management.scripting` as written (camelCase keys). Without `enabled` there, scripting
        is on unless NAFTIKO_SCRIPTING=false, as in the reference engine; `allowedLanguages` omitted
        means every language this runtime supports."""
        spec = scripting or {}
        env = os.environ if environ is None else environ
        enabled = spec.get("enabled")
        allowed = spec.get("allowedLanguages")
        return cls(
            enabled=bool(enabled) if enabled is not None else env.get("NAFTIKO_SCRIPTING", "").lower() != "false",
            default_location=spec.get("defaultLocation") or None,
            default_language=spec.get("defaultLanguage") or None,
            timeout_ms=_positive(spec.get("timeout"), DEFAULT_TIMEOUT_MS),
            statement_limit=_positive(spec.get("statementLimit"), DEFAULT_STATEMENT_LIMIT),
            allowed_languages=tuple(str(name) for name in allowed) if allowed else LANGUAGES,
        )


def _positive(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default


@dataclass(frozen=True, slots=True)
class _Feed:
    """One `with` entry: a Mustache template, a JSONPath selector or a literal."""

    key: str
    literal: Any = None
    template: Template | None = None
    selector: Callable[[Any], Any] | None = None

    def value(self, arguments: Mapping[str, Any], bindings: Mapping[str, Any]) -> Any:
        if self.template is not None:
            from naftiko_runtime.consumer.operation import render_with

            return render_with(self.template, bindings, arguments)
        if self.selector is not None:
            return self.selector(dict(bindings))
        return self.literal


@dataclass(slots=True)
class ScriptStep:
    """A compiled script step. `load_problem` says why it cannot run (calling it then raises it)."""

    name: str
    language: str | None = None
    sources: tuple[tuple[str, str], ...] = ()  # (relative file name, text): dependencies, then the file
    workdir: Path | None = None
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    statement_limit: int = DEFAULT_STATEMENT_LIMIT
    memory_limit_mb: int = DEFAULT_MEMORY_LIMIT_MB
    feeds: tuple[_Feed, ...] = ()
    load_problem: str | None = None

    async def run(
        self, arguments: Mapping[str, Any], context: Mapping[str, Any], inputs: Mapping[str, Any] | None = None
    ) -> Any:
        """The value the script assigned to `result` (JSON-compatible). `context` is the orchestration
        context; `inputs`, when given, are the step's `with` values already rendered by the caller."""
        if self.load_problem is not None:
            raise ScriptError(self.load_problem)
        bindings = dict(context)
        if inputs is None:
            for feed in self.feeds:
                bindings[feed.key] = feed.value(arguments, bindings)
        else:
            bindings.update(inputs)
        request = {
            "language": self.language,
            "sources": self.sources,
            "bindings": bindings,
            "timeout_ms": self.timeout_ms,
            "statement_limit": self.statement_limit,
            "memory_mb": self.memory_limit_mb,
        }
        reply = await _run_child(self.name, request, self.timeout_ms / 1000 + STARTUP_GRACE_S, self.workdir)
        if reply.get("ok") is True:
            return reply.get("result")
        raise ScriptError(f"script step '{self.name}': {reply.get('error') or 'failed'}")


def compile_script_step(step: Step, base_dir: Path, settings: ScriptSettings) -> ScriptStep:
    """Check and read a script step's files now; never raises: what keeps it from running is its
    `load_problem` (a missing file included, so the capability still loads)."""
    language = step.language or settings.default_language
    script = ScriptStep(
        name=step.name,
        language=language,
        timeout_ms=_positive(settings.timeout_ms, DEFAULT_TIMEOUT_MS),
        statement_limit=_positive(settings.statement_limit, DEFAULT_STATEMENT_LIMIT),
        memory_limit_mb=_positive(settings.memory_limit_mb, DEFAULT_MEMORY_LIMIT_MB),
    )
    problem = _load(script, step, base_dir, settings)
    if problem is not None:
        script.load_problem = f"script step '{step.name}': {problem}"
    return script


def _load(script: ScriptStep, step: Step, base_dir: Path, settings: ScriptSettings) -> str | None:
    if not settings.enabled:
        return "scripting is disabled (management.scripting.enabled on the control adapter, or NAFTIKO_SCRIPTING=false)"
    language = script.language
    if not language:
        return "has no 'language': set it on the step or 'management.scripting.defaultLanguage' on the control adapter"
    if language == "groovy":
        return "groovy scripts are not supported by this runtime (javascript and python are)"
    if language not in LANGUAGES:
        return f"language '{language}' is unknown (javascript or python)"
    if language not in settings.allowed_languages:
        allowed = ", ".join(settings.allowed_languages) or "none"
        return f"language '{language}' is not in the allowed languages ({allowed})"
    location = step.location or settings.default_location
    if not location:
        return "has no 'location': set it on the step or 'management.scripting.defaultLocation' on the control adapter"
    if not step.file:
        return "has no 'file': every script step names the script file to run"
    dependencies = (step.model_extra or {}).get("dependencies") or []
    if not isinstance(dependencies, list) or not all(isinstance(item, str) and item for item in dependencies):
        return "'dependencies' must be a list of relative file paths"
    root = _location_directory(location, base_dir)
    if isinstance(root, str):
        return root
    script.workdir = root
    sources = []
    for relative in [*dependencies, step.file]:
        text, problem = _read_script(root, relative)
        if problem is not None:
            return problem
        sources.append((relative, text))
    script.sources = tuple(sources)
    if language == "python":
        for relative, text in sources:
            error = _python_compile_error(relative, text)
            if error is not None:
                return error
    try:
        script.feeds = _compile_feeds(step.with_)
    except ValueError as exc:
        return f"'with': {exc}"
    return None


def _location_directory(location: str, base_dir: Path) -> Path | str:
    """The location's real directory, or the problem (which names no host path)."""
    parts = urlsplit(location)
    if parts.scheme != "file" or not location.startswith("file:///"):
        return f"location '{location}' is not a file:/// URI (the only kind supported)"
    raw = unquote(parts.path)
    # `file:///./scripts` is relative to the capability file, as for binds and MCP resources.
    relative = raw.lstrip("/") if raw.startswith(("/./", "/../")) else None
    directory = (base_dir / relative) if relative is not None else Path(raw)
    try:
        real = directory.resolve(strict=True)
    except (OSError, RuntimeError):
        return "its location directory does not exist"
    if not real.is_dir():
        return "its location is not a directory"
    return real


def _read_script(root: Path, relative: str) -> tuple[str, str | None]:
    """The file's text, or the problem. Paths stay inside the location: no absolute path, no `..`, no
    symbolic link leading out, each segment [A-Za-z0-9._-]+ (the reference engine's rule)."""
    if relative.startswith("/") or "\\" in relative:
        return "", f"script path '{relative}' must be relative to the location"
    segments = relative.split("/")
    if ".." in segments:
        return "", f"script path '{relative}' must not use '..'"
    if not all(_SEGMENT.match(segment) for segment in segments):
        return "", f"script path '{relative}' has an unsafe segment (each must match [A-Za-z0-9._-]+)"
    try:
        real = root.joinpath(*segments).resolve()
    except (OSError, RuntimeError):
        return "", f"script file '{relative}' cannot be resolved"
    if not real.is_relative_to(root):
        return "", f"script path '{relative}' leads out of the location (symbolic link)"
    if not real.is_file():
        return "", f"script file '{relative}' was not found in the location"
    try:
        data = real.read_bytes()
    except OSError:
        return "", f"script file '{relative}' cannot be read"
    if len(data) > MAX_SCRIPT_BYTES:
        return "", f"script file '{relative}' is larger than {MAX_SCRIPT_BYTES // 1024} KiB"
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        return "", f"script file '{relative}' is not UTF-8 text"


def _compile_feeds(with_map: Mapping[str, Any]) -> tuple[_Feed, ...]:
    from naftiko_runtime.mapping import MappingError, compile_path
    from naftiko_runtime.templates import Template, TemplateError, is_template

    feeds = []
    for key, value in with_map.items():
        try:
            if isinstance(value, str) and value.strip().startswith("$"):
                feeds.append(_Feed(key, selector=compile_path(value)))
            elif is_template(value):
                feeds.append(_Feed(key, template=Template(value)))
            else:
                feeds.append(_Feed(key, literal=value))
        except (MappingError, TemplateError) as exc:
            raise ValueError(f"{key}: {exc}") from None
    return tuple(feeds)


# --- parent side: one child process per call --------------------------------------------------------

_CHILD_ENV = {"LC_ALL": "C.UTF-8", "PATH": os.defpath}


async def _run_child(name: str, request: Mapping[str, Any], deadline_s: float, workdir: Path | None) -> dict[str, Any]:
    import subprocess

    import anyio

    payload = json.dumps(request, default=str, ensure_ascii=False).encode("utf-8")
    command = [sys.executable, "-I", "-m", "naftiko_runtime.scripting"]
    output = bytearray()
    too_large = False
    async with await anyio.open_process(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=workdir,
        env=_CHILD_ENV,
        start_new_session=True,
    ) as process:
        with anyio.move_on_after(deadline_s) as scope:
            assert process.stdin is not None and process.stdout is not None
            try:
                await process.stdin.send(payload)
                await process.stdin.aclose()
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                pass  # the child died early; its exit status tells why
            async for chunk in process.stdout:
                output += chunk
                if len(output) > MAX_REPLY_BYTES:
                    too_large = True
                    break
            if too_large:
                process.kill()
            await process.wait()
        if scope.cancelled_caught:
            process.kill()
            await process.wait()
    limit = f"{request['timeout_ms']} ms"
    if scope.cancelled_caught:
        raise ScriptError(f"script step '{name}': exceeded the timeout ({limit}) and was stopped")
    if too_large:
        raise ScriptError(f"script step '{name}': its result is larger than {MAX_REPLY_BYTES // _MEBIBYTE} MiB")
    try:
        reply = json.loads(output) if output else None
    except ValueError:
        reply = None
    if isinstance(reply, dict):
        return reply
    status = process.returncode
    if status is not None and status == -_signal_number("SIGXCPU"):
        raise ScriptError(f"script step '{name}': exceeded the timeout ({limit}) and was stopped at its CPU time limit")
    raise ScriptError(
        f"script step '{name}': the script engine stopped unexpectedly (status {status}); "
        f"most often the script ran out of memory (limit {request['memory_mb']} MiB)"
    )


def _signal_number(name: str) -> int:
    import signal

    return int(getattr(signal, name, 0))


# --- child side ---------------------------------------------------------------------------------------


class _Refused(Exception):
    """A script failure whose message is ready to show."""


def _child_main() -> None:
    try:
        request = json.loads(sys.stdin.buffer.read())
        result = _python_child(request) if request["language"] == "python" else _javascript_child(request)
        reply: dict[str, Any] = {"ok": True, "result": result}
    except _Refused as refused:
        reply = {"ok": False, "error": str(refused)}
    except MemoryError:
        reply = {"ok": False, "error": "exceeded the memory limit"}
    except Exception as exc:  # a fault of the engine, not of the script: its kind only, no traceback
        reply = {"ok": False, "error": f"the script engine failed ({type(exc).__name__})"}
    _write_reply(reply)
    # No interpreter teardown: closing a V8 context that hit its heap limit can hang under load, and
    # the process is over anyway.
    os._exit(0)


def _write_reply(reply: Mapping[str, Any]) -> None:
    try:
        text = json.dumps(reply, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        text = json.dumps({"ok": False, "error": f"its result is not JSON: {exc}"})
    sys.stdout.buffer.write(text.encode("utf-8"))
    sys.stdout.flush()


def _limit_resources(timeout_ms: int, address_space: int | None, data: int | None) -> None:
    import resource

    cpu = math.ceil(timeout_ms / 1000) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if address_space is not None:
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    if data is not None:
        resource.setrlimit(resource.RLIMIT_DATA, (data, data))


def _clip(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 3] + "..."


# JavaScript


_KEPT: list[object] = []
_JS_RESULT = """(function () {
  try { result; } catch (e) { return "\\u0000missing"; }
  try {
    var text = JSON.stringify(result === undefined ? null : result);
    return text === undefined ? "\\u0000" + typeof result : text;
  } catch (e) { return "\\u0000" + String(e); }
})()"""
_JS_LOCATION = re.compile(r"^(?P<file>[^\s:]+):(?P<line>\d+): (?P<message>.*)$")


def _javascript_child(request: Mapping[str, Any]) -> Any:
    timeout_ms = int(request["timeout_ms"])
    statement_limit = int(request["statement_limit"])
    memory = int(request["memory_mb"]) * _MEBIBYTE
    _limit_resources(timeout_ms, None, memory + JS_ADDRESS_SLACK_MB * _MEBIBYTE + _virtual_size())
    from py_mini_racer import JSEvalException, JSOOMException, JSTimeoutException, MiniRacer

    budget_ms = max(JS_MIN_STATEMENT_BUDGET_MS, statement_limit * JS_MICROSECONDS_PER_STATEMENT / 1000)
    by_statements = budget_ms < timeout_ms
    racer = MiniRacer()
    _KEPT.append(racer)  # never collected: see _child_main
    start = time.monotonic()
    deadline = start + min(timeout_ms, budget_ms) / 1000
    source_name = "context"
    try:
        bindings = json.dumps(json.dumps(request["bindings"], ensure_ascii=False))
        racer.eval(f"var context = JSON.parse({bindings});", timeout_sec=timeout_ms / 1000, max_memory=memory)
        for source_name, text in request["sources"]:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise JSTimeoutException
            # `void 0` last: the completion value must not be one mini-racer cannot convert (a BigInt).
            racer.eval(f"{text}\n;void 0\n//# sourceURL={source_name}", timeout_sec=remaining, max_memory=memory)
        source_name = "result"
        value = racer.eval(_JS_RESULT, timeout_sec=max(deadline - time.monotonic(), 0.05), max_memory=memory)
    except JSOOMException:
        raise _Refused(f"exceeded the memory limit ({memory // _MEBIBYTE} MiB)") from None
    except JSTimeoutException:
        if racer.was_hard_memory_limit_reached():
            raise _Refused(f"exceeded the memory limit ({memory // _MEBIBYTE} MiB)") from None
        if by_statements:
            raise _Refused(
                f"exceeded the statement limit ({statement_limit}; for JavaScript a time budget of {budget_ms:.0f} ms)"
            ) from None
        raise _Refused(f"exceeded the timeout ({timeout_ms} ms)") from None
    except JSEvalException as exc:
        if racer.was_hard_memory_limit_reached():
            raise _Refused(f"exceeded the memory limit ({memory // _MEBIBYTE} MiB)") from None
        raise _Refused(_javascript_message(str(exc), source_name)) from None
    if not isinstance(value, str):
        raise _Refused("its result could not be read")
    if value == "\0missing":
        raise _Refused("the script did not assign 'result'")
    if value.startswith("\0"):
        raise _Refused(_clip(f"its result is not JSON-compatible ({value[1:]})"))
    return json.loads(value)


def _javascript_message(text: str, source_name: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else "failed"
    match = _JS_LOCATION.match(first)
    if match is None:
        return _clip(f"{source_name}: {first}")
    where = match["file"] if match["file"] != "<anonymous>" else source_name
    return _clip(f"{where} line {match['line']}: {match['message']}")


def _virtual_size() -> int:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


# Python


class _StatementLimitReached(BaseException):
    pass


class _TimeoutReached(BaseException):
    pass


@dataclass(slots=True)
class _Watch:
    """What the tracer, the alarm and the audit hook share while the script runs."""

    names: frozenset[str]
    statement_limit: int
    timeout_ms: int
    statements: int = 0
    armed: bool = False
    over_statements: bool = False
    timed_out: bool = False

    def trace(self, frame: Any, event: str, arg: Any) -> Callable[..., Any] | None:
        return self.count if frame.f_code.co_filename in self.names else None

    def count(self, frame: Any, event: str, arg: Any) -> Callable[..., Any] | None:
        if event == "line" and self.armed:
            self.statements += 1
            if self.statements > self.statement_limit:
                self.over_statements = True
                self._insist()
                raise _StatementLimitReached
        return self.count

    def alarm(self, signum: int, frame: Any) -> None:
        if not self.armed:
            return
        if self.timed_out or self.over_statements:
            # The script caught the stop and went on: answer for it and end the process now.
            self.armed = False
            _write_reply({"ok": False, "error": self.stop_message()})
            os._exit(0)
        self.timed_out = True
        self._insist()
        raise _TimeoutReached

    def _insist(self) -> None:
        import signal

        signal.setitimer(signal.ITIMER_REAL, _INSIST_S)

    def stop_message(self) -> str:
        if self.over_statements:
            return f"exceeded the statement limit ({self.statement_limit})"
        return f"exceeded the timeout ({self.timeout_ms} ms)"

    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.armed:
            return
        if event.startswith(_REFUSED_EVENTS):
            raise PermissionError(f"the sandbox refuses '{event}'")


def _python_compile_error(name: str, text: str) -> str | None:
    from RestrictedPython.compile import compile_restricted_exec

    compiled = compile_restricted_exec(text, filename=name)
    if compiled.errors:
        return _python_compile_message(name, str(compiled.errors[0]))
    return None


def _python_compile_message(name: str, error: str) -> str:
    match = re.match(r"^Line (\d+): (.*)$", error, re.DOTALL)
    return _clip(f"{name} line {match[1]}: {match[2]}" if match else f"{name}: {error}")


def _python_child(request: Mapping[str, Any]) -> Any:
    import importlib
    import operator
    import signal

    from RestrictedPython.compile import compile_restricted_exec
    from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
    from RestrictedPython.Guards import (
        full_write_guard,
        guarded_iter_unpack_sequence,
        guarded_unpack_sequence,
        safe_builtins,
        safer_getattr_raise,
    )
    from RestrictedPython.PrintCollector import PrintCollector

    timeout_ms = int(request["timeout_ms"])
    sources = [(str(name), str(text)) for name, text in request["sources"]]
    codes = []
    for name, text in sources:
        compiled = compile_restricted_exec(text, filename=name)
        if compiled.errors:
            raise _Refused(_python_compile_message(name, str(compiled.errors[0])))
        assert compiled.code is not None
        codes.append(compiled.code)
    for helper in _PYTHON_PRELOADED:
        importlib.import_module(helper)
    modules = {name: _module_view(importlib.import_module(name)) for name in PYTHON_MODULES}

    def guarded_import(name: str, globals_: Any = None, locals_: Any = None, fromlist: Any = (), level: int = 0) -> Any:
        if level == 0 and name in modules:
            return modules[name]
        # The interpreter's own C code imports these lazily (datetime.strptime: `_strptime`); a script
        # cannot name them: the restricted compiler refuses `_` names and `__import__` is out of reach.
        if level == 0 and name.startswith("_") and name in _PYTHON_PRELOADED:
            return sys.modules[name]
        raise ImportError(f"import of '{name}' is not allowed (allowed: {', '.join(PYTHON_MODULES)})")

    inplace: dict[str, Callable[[Any, Any], Any]] = {
        "+=": operator.iadd,
        "-=": operator.isub,
        "*=": operator.imul,
        "/=": operator.itruediv,
        "//=": operator.ifloordiv,
        "%=": operator.imod,
        "**=": operator.ipow,
        "<<=": operator.ilshift,
        ">>=": operator.irshift,
        "&=": operator.iand,
        "|=": operator.ior,
        "^=": operator.ixor,
        "@=": operator.imatmul,
    }
    import builtins as host_builtins

    script_builtins = dict(safe_builtins)
    script_builtins.update({name: getattr(host_builtins, name) for name in _PYTHON_EXTRA_BUILTINS})
    script_builtins["__import__"] = guarded_import
    script_builtins["getattr"] = safer_getattr_raise
    script_globals: dict[str, Any] = {
        "__builtins__": script_builtins,
        "__name__": "script",
        "__metaclass__": type,
        "_getattr_": safer_getattr_raise,
        "_getitem_": default_guarded_getitem,
        "_getiter_": default_guarded_getiter,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_write_": full_write_guard,
        "_print_": PrintCollector,
        "_apply_": lambda function, *args, **kwargs: function(*args, **kwargs),
        "_inplacevar_": lambda op, target, value: inplace[op](target, value),
        "context": request["bindings"],
    }
    memory = int(request["memory_mb"]) * _MEBIBYTE
    in_use = _virtual_size()  # the interpreter, its modules and the context: the script's own share comes on top
    _limit_resources(timeout_ms, in_use + memory if in_use else None, None)
    watch = _Watch(frozenset(name for name, _ in sources), int(request["statement_limit"]), timeout_ms)
    signal.signal(signal.SIGALRM, watch.alarm)
    sys.settrace(watch.trace)
    sys.addaudithook(watch.audit)
    failure: BaseException | None = None
    watch.armed = True
    signal.setitimer(signal.ITIMER_REAL, timeout_ms / 1000)
    try:
        for code in codes:
            exec(code, script_globals)
    except BaseException as exc:
        failure = exc
    finally:
        watch.armed = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        sys.settrace(None)
    if watch.over_statements or watch.timed_out:
        raise _Refused(watch.stop_message())
    if isinstance(failure, MemoryError):
        raise _Refused(f"exceeded the memory limit ({memory // _MEBIBYTE} MiB)")
    if failure is not None:
        raise _Refused(_python_failure_message(failure, watch.names))
    if "result" not in script_globals:
        raise _Refused("the script did not assign 'result'")
    try:
        return _plain(script_globals["result"])
    except TypeError as exc:
        raise _Refused(_clip(f"its result is not JSON-compatible ({exc})")) from None


def _module_view(module: ModuleType) -> SimpleNamespace:
    """The module's public functions, classes and constants; never another module."""
    names = getattr(module, "__all__", None) or [name for name in dir(module) if not name.startswith("_")]
    members = {}
    for name in names:
        value = getattr(module, name, None)
        if not name.startswith("_") and value is not None and not isinstance(value, ModuleType):
            members[name] = value
    return SimpleNamespace(**members)


def _python_failure_message(failure: BaseException, names: frozenset[str]) -> str:
    where = None
    traceback: TracebackType | None = failure.__traceback__
    while traceback is not None:
        filename = traceback.tb_frame.f_code.co_filename
        if filename in names:
            where = f"{filename} line {traceback.tb_lineno}"
        traceback = traceback.tb_next
    text = f"{type(failure).__name__}: {failure}" if str(failure) else type(failure).__name__
    return _clip(f"{where}: {text}" if where else text)


def _plain(value: Any) -> Any:
    """A JSON value: tuples and sets become lists, dates ISO text, non-finite numbers null."""
    import datetime
    import decimal

    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, Sequence | set | frozenset) and not isinstance(value, bytes | bytearray):
        return [_plain(item) for item in value]
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return _plain(float(value))
    raise TypeError(f"a {type(value).__name__} value")


__all__ = [
    "DEFAULT_MEMORY_LIMIT_MB",
    "DEFAULT_STATEMENT_LIMIT",
    "DEFAULT_TIMEOUT_MS",
    "LANGUAGES",
    "PYTHON_MODULES",
    "ScriptError",
    "ScriptSettings",
    "ScriptStep",
    "compile_script_step",
]

if __name__ == "__main__":
    _child_main()
