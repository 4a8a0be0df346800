"""Install or find what a run needs: nginx and wrk (Debian), FastMCP in its own venv, httpx.

Nothing here is fatal: a piece that cannot be had is reported, and run.py falls back
(a Python upstream, a Python load generator) or skips the candidate that needs it.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from upstream import nginx_binary

HERE = Path(__file__).resolve().parent
VENVS = HERE / ".venvs"
FASTMCP_SPEC = "fastmcp>=4.2,<4.3"
# The same server stack as the main venv (uvicorn with uvloop and httptools), so FastMCP runs on them too.
FASTMCP_EXTRAS = ("uvloop", "httptools")
HTTPX_SPEC = "httpx>=0.28,<0.29"


@dataclass
class Tools:
    nginx: str | None
    wrk: str | None
    fastmcp_python: str | None = None
    httpx_python: str | None = None
    notes: list[str] = field(default_factory=list)


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _apt_install(packages: list[str]) -> bool:
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        return False
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", *packages]
    for attempt in ("install", "update then install"):
        say(f"apt-get {attempt}: {' '.join(packages)}")
        if attempt != "install":
            subprocess.run(["apt-get", "update"], env=env, capture_output=True, check=False)
        if subprocess.run(install, env=env, capture_output=True, check=False).returncode == 0:
            return True
    return False


def debian_tools() -> Tools:
    missing = [pkg for pkg, found in (("nginx", nginx_binary()), ("wrk", shutil.which("wrk"))) if not found]
    if missing and not _apt_install(missing):
        say(f"could not install {', '.join(missing)} with apt-get")
    tools = Tools(nginx=nginx_binary(), wrk=shutil.which("wrk"))
    if tools.nginx is None:
        tools.notes.append("nginx unavailable: an aiohttp upstream stands in, the nginx proxy_pass baseline is skipped")
    if tools.wrk is None:
        tools.notes.append("wrk unavailable: REST load comes from the Python load generator (load/http_load.py)")
    return tools


def _venv_has(python: Path, requirement: str) -> bool:
    """True when `python` imports the distribution at a version `requirement` accepts."""
    name = requirement.split(">")[0].split("<")[0].split("=")[0]
    check = (
        "import importlib.metadata as m, sys\n"
        "from packaging.requirements import Requirement\n"
        f"sys.exit(0 if Requirement({requirement!r}).specifier.contains(m.version({name!r})) else 1)"
    )
    if not python.exists():
        return False
    return subprocess.run([str(python), "-c", check], capture_output=True, check=False).returncode == 0


def _venv(name: str, packages: list[str]) -> Path | None:
    """benchmarks/.venvs/<name> with `packages` (first one checked); created or completed with pip."""
    root = VENVS / name
    python = root / "bin" / "python"
    if _venv_has(python, packages[0]):
        return python
    say(f"creating {root.relative_to(HERE.parent)} with {' '.join(packages)}")
    try:
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(root)], check=True, capture_output=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "packaging", *packages], check=True, capture_output=True
        )
    except subprocess.CalledProcessError as exc:
        say(f"pip failed for {name}: {exc.stderr.decode(errors='replace')[-800:]}")
        return None
    return python if _venv_has(python, packages[0]) else None


def fastmcp_python(tools: Tools) -> None:
    tools.fastmcp_python = str(python) if (python := _venv("fastmcp", [FASTMCP_SPEC, *FASTMCP_EXTRAS])) else None
    if tools.fastmcp_python is None:
        tools.notes.append(f"FastMCP ({FASTMCP_SPEC}) could not be installed: its candidate is skipped")


def httpx_python(tools: Tools) -> None:
    """The python that runs the httpx Starlette proxy: ours when it has httpx 0.28, else a venv of its own."""
    if _venv_has(Path(sys.executable), HTTPX_SPEC) and _venv_has(Path(sys.executable), "sniffio>=1"):
        tools.httpx_python = sys.executable
        return
    python = _venv("clients", [HTTPX_SPEC, "sniffio", "starlette", "uvicorn[standard]", "aiohttp"])
    tools.httpx_python = str(python) if python else None
    if python is None:
        tools.notes.append("httpx 0.28 could not be installed: the httpx client re-measurement is skipped")


def _dist(name: str, python: str | None = None) -> str:
    if python is None or python == sys.executable:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "-"
    out = subprocess.run(
        [python, "-c", f"import importlib.metadata as m; print(m.version({name!r}))"],
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip() or "-"


def _tool_version(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "-"
    text = (done.stdout + done.stderr).strip().splitlines()
    return text[0] if text else "-"


def versions(tools: Tools) -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in ("naftiko-runtime", "aiohttp", "mcp", "uvicorn", "starlette", "uvloop", "httptools", "pydantic"):
        found[name] = _dist(name)
    if tools.fastmcp_python:
        found["fastmcp"] = _dist("fastmcp", tools.fastmcp_python)
        found["mcp (FastMCP venv)"] = _dist("mcp", tools.fastmcp_python)
        found["httpx2 (FastMCP's client)"] = _dist("httpx2", tools.fastmcp_python)
    if tools.httpx_python:
        found["httpx"] = _dist("httpx", tools.httpx_python)
    found["nginx"] = _tool_version([tools.nginx, "-v"]).removeprefix("nginx version: ") if tools.nginx else "-"
    found["wrk"] = _tool_version([tools.wrk, "-v"]).split(" [")[0] if tools.wrk else "-"
    return found


def revision() -> str:
    """The commit the runtime was measured at, marked when src/ has uncommitted changes (read-only git)."""
    root = HERE.parent
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "src"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "-"
    return f"{head} (src/ modified)" if dirty else head


def machine() -> dict[str, str]:
    model = "-"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{mem_kib / 1024 / 1024:.0f} GiB"
    except (OSError, IndexError, ValueError):
        memory = "-"
    return {"nproc": str(os.cpu_count()), "cpu": model, "memory": memory, "kernel": platform.release()}
