"""HTTP load generator: N callers repeating GET URL (the fallback for wrk, and the MCP 'direct' line).

Prints one JSON object (see common.Result). Usage: http_load.py --url URL [-c N] [-d S] [--warmup S]
"""

from __future__ import annotations

import aiohttp
from common import Call, Setup, arguments, main


def make_setup(url: str) -> Setup:
    async def setup(session: aiohttp.ClientSession) -> Call:
        async def call() -> bool:
            async with session.get(url) as response:
                await response.read()
                return response.status == 200

        return call

    return setup


if __name__ == "__main__":
    args = arguments(__doc__ or "").parse_args()
    main(make_setup(args.url), args)
