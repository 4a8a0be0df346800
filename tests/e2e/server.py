"""Start the real `naftiko serve` as a subprocess on free ports and stop it by PID."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

import httpx

from tests.conftest import tripwire

_BANNER = re.compile(r"^naftiko: ([A-Z]+)\s+(\S+) at (http://\S+) \((\d+) ([a-z ]+)\)")
_SERVING = re.compile(r"^naftiko: serving ")
START_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0


class NaftikoServer:
    """`naftiko serve` with every adapter moved to port 0; URLs read from its banner."""

    def __init__(
        self,
        paths: Sequence[Path | str],
        *,
        args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        move_ports: Sequence[str] = ("8080", "9090"),
    ) -> None:
        command = [sys.executable, "-m", "naftiko_runtime", "serve", *map(str, paths)]
        for key in move_ports:
            command += ["--port", f"{key}=0"]
        command += list(args)
        environment = {k: v for k, v in os.environ.items() if not k.startswith("KOMBO")}
        environment.update(env or {})
        environment["PYTHONUNBUFFERED"] = "1"
        self.command = command
        self._process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment, text=True
        )
        self._stderr: list[str] = []
        self._stdout: list[str] = []
        self._lines = threading.Condition()
        self.urls: dict[str, str] = {}
        self.urls_by_namespace: dict[str, str] = {}
        self.serving = False
        self.counts: dict[str, int] = {}
        self.exit_code: int | None = None
        self._readers = [
            threading.Thread(target=self._pump, args=(self._process.stderr, self._stderr), daemon=True),
            threading.Thread(target=self._pump, args=(self._process.stdout, self._stdout), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _pump(self, stream: object, sink: list[str]) -> None:
        for line in stream:  # type: ignore[attr-defined]
            with self._lines:
                sink.append(line)
                match = _BANNER.match(line)
                if match:
                    kind = match.group(1).lower()
                    self.urls[kind] = match.group(3)
                    self.counts[kind] = int(match.group(4))
                    for namespace in match.group(2).split("+"):
                        self.urls_by_namespace[namespace] = match.group(3)
                if _SERVING.match(line):
                    self.serving = True
                self._lines.notify_all()
        with self._lines:
            self._lines.notify_all()

    @property
    def output(self) -> str:
        with self._lines:
            return "".join(self._stderr) + "".join(self._stdout)

    @property
    def rest_url(self) -> str:
        return self.urls["rest"]

    @property
    def mcp_url(self) -> str:
        return self.urls["mcp"]

    def wait_ready(self, kinds: Sequence[str] = ("rest", "mcp"), timeout: float = START_TIMEOUT) -> NaftikoServer:
        deadline = time.monotonic() + timeout
        with self._lines:
            while not (self.serving and all(kind in self.urls for kind in kinds)):
                if self._process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"naftiko serve did not start: {self.command}\n{self.output_unlocked()}")
                self._lines.wait(timeout=0.1)
        first = next(iter(self.urls_by_namespace.values())).removesuffix("/mcp")
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{first}/healthz", timeout=1.0).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if self._process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"naftiko serve never answered /healthz:\n{self.output}")

    def wait_for_output(self, text: str, timeout: float = 10.0) -> None:
        """Return once `text` is in the output read so far (the server may write it just after it answers)."""
        deadline = time.monotonic() + timeout
        with self._lines:
            while text not in self.output_unlocked():
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._process.poll() is not None:
                    raise AssertionError(f"{text!r} never came in the output:\n{self.output_unlocked()}")
                self._lines.wait(timeout=remaining)

    def output_unlocked(self) -> str:
        return "".join(self._stderr) + "".join(self._stdout)

    def wait_exit(self, timeout: float = STOP_TIMEOUT) -> int:
        self.exit_code = self._process.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout=timeout)
        for stream in (self._process.stdout, self._process.stderr):
            if stream is not None:
                stream.close()
        tripwire().record(f"output of {' '.join(self.command[2:4])}", self.output)
        return self.exit_code

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self._process.poll() is None:
            self._process.send_signal(sig)
            try:
                return self.wait_exit()
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=STOP_TIMEOUT)
                raise AssertionError(f"naftiko serve ignored {signal.Signals(sig).name}:\n{self.output}") from None
        return self.wait_exit()

    def __enter__(self) -> NaftikoServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._process.poll() is None:
            self._process.kill()
        self.wait_exit()
