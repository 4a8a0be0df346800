"""The Dockerfile, checked statically: no Docker engine runs here, so `docker build` cannot.

What can be checked without one is: the base image, that the image installs the project with the
README's command, runs as a non-root user and starts a command that exists, and that the build
context `.dockerignore` leaves holds what the COPY steps need and builds (as a wheel, offline).
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

from naftiko_runtime import cli
from naftiko_runtime.discovery import discover
from naftiko_runtime.env_config import subcommand

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
README = ROOT / "README.md"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined and comments dropped."""
    found: list[tuple[str, str]] = []
    pending = ""
    for line in DOCKERFILE.read_text().splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        keyword, _, arguments = pending.strip().partition(" ")
        found.append((keyword.upper(), arguments.strip()))
        pending = ""
    return found


def arguments(keyword: str) -> list[str]:
    return [value for found, value in instructions() if found == keyword]


def pip_installs(text: str) -> list[str]:
    return [" ".join(match.split()) for match in re.findall(r"pip install[^&\n`]*", text)]


def readme_section(title: str) -> str:
    text = README.read_text()
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path, or one of its parent directories, decides."""
    verdict = False
    parts = path.split("/")
    prefixes = ["/".join(parts[: index + 1]) for index in range(len(parts))]
    for pattern in patterns:
        negated = pattern.startswith("!")
        expression = pattern.lstrip("!").strip("/")
        regex = re.escape(expression).replace(r"\*\*/", "(.*/)?").replace(r"\*\*", ".*").replace(r"\*", "[^/]*")
        if any(re.fullmatch(regex, prefix) for prefix in prefixes):
            verdict = not negated
    return verdict


def dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def copies() -> list[tuple[list[str], str]]:
    found = []
    for value in arguments("COPY"):
        *sources, destination = shlex.split(value)
        found.append((sources, destination))
    return found


def test_the_base_image_is_python_3_11_slim() -> None:
    assert arguments("FROM") == ["python:3.11-slim"]


def test_the_image_installs_the_project_with_the_readme_command() -> None:
    (setup,) = [command for command in pip_installs(readme_section("Set-up")) if "-e ." in command.split("'")[0]]
    run = [command for value in arguments("RUN") for command in pip_installs(value)]
    assert run == [setup.replace("-e ", "")] == ["pip install ."]
    assert "`pip install .`" in readme_section("Scaling and deployment")


def test_the_image_runs_as_a_numeric_non_root_user() -> None:
    (user,) = arguments("USER")
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) != 0
    assert gid == "" or (gid.isdigit() and int(gid) != 0)
    keywords = [keyword for keyword, _ in instructions()]
    assert "RUN" not in keywords[keywords.index("USER") :]  # nothing runs as root after it


def test_the_command_is_naftiko_serve_of_the_copied_capabilities() -> None:
    (command,) = arguments("CMD")
    program, verb, directory = json.loads(command)
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts[program] == "naftiko_runtime.cli:main"
    subcommand(cli._parser(), verb)
    assert (["capabilities"], directory) in copies()
    assert [path.name for path in discover([ROOT / "capabilities"]).capabilities] == ["kombo.yaml"]


def test_the_exposed_ports_are_the_seed_capability_rest_and_mcp_ports() -> None:
    exposes = yaml.safe_load((ROOT / "capabilities" / "kombo.yaml").read_text())["capability"]["exposes"]
    declared = {expose["type"]: expose["port"] for expose in exposes}
    assert arguments("EXPOSE") == [f"{declared['rest']} {declared['mcp']}"]


def test_the_image_listens_on_every_interface_through_the_environment() -> None:
    assert "NAFTIKO_HOST=0.0.0.0" in arguments("ENV")


def test_the_build_context_keeps_what_copy_needs_and_leaves_the_rest_out() -> None:
    patterns = dockerignore()
    for sources, _ in copies():
        for source in sources:
            assert (ROOT / source).exists(), source
            assert not ignored(source, patterns), source
    for left_out in (".git", ".venv", "tests/conftest.py", "benchmarks/run.py", "build", ".tools", "docs"):
        assert ignored(left_out, patterns), left_out
    assert ignored("src/naftiko_runtime/__pycache__/cli.cpython-311.pyc", patterns)
    assert not ignored("src/naftiko_runtime/cli.py", patterns)


def staged(build: Path) -> Path:
    """The install's working directory as the COPY steps with relative destinations fill it from the context."""
    patterns = dockerignore()
    for sources, destination in copies():
        if destination.startswith("/"):
            continue
        for source in sources:
            origin = ROOT / source
            files = [origin] if origin.is_file() else [path for path in origin.rglob("*") if path.is_file()]
            for path in files:
                if ignored(path.relative_to(ROOT).as_posix(), patterns):
                    continue
                target = build / destination / (path.name if origin.is_file() else path.relative_to(origin))
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(path, target)
    return build


@pytest.mark.timeout(180)
def test_what_the_copy_steps_put_in_the_image_builds_a_wheel_with_the_naftiko_command(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels)]
    done = subprocess.run([*command, str(staged(tmp_path / "build"))], capture_output=True, text=True, timeout=150)
    assert done.returncode == 0, done.stderr
    (wheel,) = wheels.glob("naftiko_runtime-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        entry_points = next(name for name in names if name.endswith("entry_points.txt"))
        assert "naftiko = naftiko_runtime.cli:main" in archive.read(entry_points).decode()
    assert "naftiko_runtime/cli.py" in names
    assert any(name.startswith("naftiko_runtime/spec/") and name.endswith(".json") for name in names)
    assert not any("__pycache__" in name for name in names)
