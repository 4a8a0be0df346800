"""Capability load time, in process: `load_capability(Path)` timed after a warm import.

Prints one JSON object: the import time of `naftiko_runtime.capability`, and for each file
the first load (which also pays lazy imports and caches) and the median and minimum of the
repeats after it. Usage: python benchmarks/loadtime.py [--repeats N] PATH...
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import statistics
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    start = time.perf_counter()
    capability = importlib.import_module("naftiko_runtime.capability")
    import_ms = (time.perf_counter() - start) * 1000
    files = {}
    for path in args.paths:
        times = []
        operations = 0
        for _ in range(args.repeats + 1):
            gc.collect()  # each load starts from the same heap: the previous result is gone
            start = time.perf_counter()
            compiled = capability.load_capability(path)
            times.append((time.perf_counter() - start) * 1000)
            operations = len(compiled.operations)
            del compiled
        files[str(path)] = {
            "operations": operations,
            "first_ms": times[0],
            "median_ms": statistics.median(times[1:]),
            "min_ms": min(times[1:]),
        }
    json.dump({"import_ms": import_ms, "files": files}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
