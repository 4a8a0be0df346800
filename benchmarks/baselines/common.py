"""What every hand-written baseline shares: its arguments and the same uvicorn set-up as naftiko."""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn


def parser(description: str) -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(description=description)
    options.add_argument("--port", type=int, required=True)
    options.add_argument("--upstream", required=True, help="upstream base URL, e.g. http://127.0.0.1:8000/v1")
    options.add_argument("--api-key", default="ks_bench", help="sent upstream as a bearer token, like naftiko does")
    return options


def serve(app: Any, port: int) -> None:
    """uvicorn on uvloop and httptools, no access log: the stack `naftiko serve` runs on."""
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        log_level="warning",
        access_log=False,
    )
