"""The mock served over HTTP (`naftiko mock FILE`): any method, any path, plus `GET /healthz`."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .api import MockApi
from .client import answer

_ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]


def mock_app(apis: Sequence[MockApi]) -> Starlette:
    documents = tuple(apis)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "documents": [api.source for api in documents]})

    async def serve(request: Request) -> Response:
        raw_path = request.scope.get("raw_path")
        # raw_path keeps the client's percent-encoding (an encoded slash stays inside its segment).
        path = raw_path.decode("latin-1") if isinstance(raw_path, bytes) else quote(request.url.path)
        path = path.split("?", 1)[0]
        headers = {name: request.headers[name] for name in request.headers}
        upstream = answer(
            documents, request.method, path, request.query_params.multi_items(), headers, await request.body()
        )
        return Response(content=upstream.body, status_code=upstream.status, headers=dict(upstream.headers))

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/{path:path}", serve, methods=_ANY_METHOD),
        ]
    )
