"""Stand-in upstream when nginx is not available: canned JSON for every path under /v1."""

from __future__ import annotations

import argparse

from aiohttp import web

BODY = (
    b'{"status":"success","data":'
    b'{"environment_id":"P2WPBg8Y4ErK9pGSSxY6BVSc","customer_id":"Jy9uUxcJnTPkyRFA6CAFjF1Y"}}'
)


async def answer(_request: web.Request) -> web.Response:
    return web.Response(body=BODY, content_type="application/json")


async def health(_request: web.Request) -> web.Response:
    return web.Response(text="ok")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    app = web.Application()
    app.router.add_get("/healthz", health)
    app.router.add_route("*", "/v1/{tail:.*}", answer)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)
