"""Start-up time of `naftiko serve`: spawn to every listener answering `/healthz`.

Times two commands in alternation, in the same run: `serve capabilities/kombo.yaml` (the
baseline) and `serve` of the four folders of `../shared/corpus/` at once (with
`--prefix-tools --prefix-routes --auto-ports`). Prints one JSON object with the median and
every sample. Usage: python benchmarks/startup.py [--repeats N] [--corpus DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
FOLDERS = ("api-evangelist", "kombo", "naftiko-sandbox", "naftiko-alpha2")
BANNER = re.compile(r"^naftiko: [A-Z]+\s+\S+ at (http://\S+?)(?:/mcp)? \(")
TIMEOUT = 60.0


def time_start(args: list[str]) -> tuple[float, int]:
    """Seconds from spawn until every announced listener answers /healthz, and how many there are."""
    command = [sys.executable, "-m", "naftiko_runtime", "serve", *args]
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    start = time.perf_counter()
    process = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=environment)
    urls: list[str] = []
    serving = threading.Event()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            match = BANNER.match(line)
            if match:
                urls.append(match.group(1).replace("0.0.0.0", "127.0.0.1"))
            if line.startswith("naftiko: serving "):
                serving.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        if not serving.wait(TIMEOUT):
            raise SystemExit(f"not serving within {TIMEOUT:.0f} s: {' '.join(command)}")
        for url in urls:
            _wait_healthy(url + "/healthz", start + TIMEOUT)
        return time.perf_counter() - start, len(urls)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(5)


def _wait_healthy(url: str, deadline: float) -> None:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # an answer (even 503 not ready) means the listener is up
        except OSError:
            if time.perf_counter() > deadline:
                raise SystemExit(f"{url} never answered") from None
            time.sleep(0.01)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args()
    folders = [str(args.corpus / folder) for folder in FOLDERS]
    missing = [folder for folder in folders if not Path(folder).is_dir()]
    if missing:
        raise SystemExit(f"corpus folders not found: {', '.join(missing)}")
    runs = {
        "kombo": [str(ROOT / "capabilities" / "kombo.yaml"), "--mock"],
        "corpus": [*folders, "--prefix-tools", "--prefix-routes", "--auto-ports"],
    }
    samples: dict[str, list[float]] = {name: [] for name in runs}
    listeners: dict[str, int] = {}
    for _ in range(args.repeats):
        for name, run in runs.items():
            seconds, listeners[name] = time_start(run)
            samples[name].append(seconds)
    result = {
        name: {"median_s": statistics.median(values), "samples_s": values, "listeners": listeners[name]}
        for name, values in samples.items()
    }
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
