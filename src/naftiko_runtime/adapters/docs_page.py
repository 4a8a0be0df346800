"""The `/docs` page of a REST port: Swagger UI reading `/openapi.json`, with no request leaving the port.

Swagger UI's assets come from the `swagger-ui-bundle-v2` package (Swagger UI 5, which reads OpenAPI
3.0 and 3.1) and are served under `/docs/static/`; the page's own script is a file too, so the
Content-Security-Policy can forbid inline scripts. The validator badge (an outside service) is off.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from swagger_ui_bundle import swagger_ui_path

from naftiko_runtime.adapters.asgi import Send, problem, send_bytes, send_problem

DOCS_PATH = "/docs"
STATIC_PREFIX = "/docs/static/"
ALLOW = b"GET, HEAD, OPTIONS"
_HTML = b"text/html; charset=utf-8"
_JAVASCRIPT = b"text/javascript; charset=utf-8"
_ASSETS: dict[str, bytes] = {
    "swagger-ui.css": b"text/css; charset=utf-8",
    "index.css": b"text/css; charset=utf-8",
    "swagger-ui-bundle.js": _JAVASCRIPT,
    "favicon-32x32.png": b"image/png",
    "favicon-16x16.png": b"image/png",
}
_INIT = "init.js"
_PAGE_HEADERS = [
    (b"cache-control", b"no-cache"),
    (b"x-content-type-options", b"nosniff"),
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:;"
        b" connect-src *; frame-ancestors 'self'",
    ),
]
_ASSET_HEADERS = [(b"cache-control", b"public, max-age=3600"), (b"x-content-type-options", b"nosniff")]

_PAGE = """<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>API documentation</title>
    <link rel="stylesheet" href="{static}swagger-ui.css">
    <link rel="stylesheet" href="{static}index.css">
    <link rel="icon" type="image/png" href="{static}favicon-32x32.png" sizes="32x32">
    <link rel="icon" type="image/png" href="{static}favicon-16x16.png" sizes="16x16">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="{static}swagger-ui-bundle.js"></script>
    <script src="{static}{init}"></script>
  </body>
</html>
"""

# "Try it out" calls this page's own server first, whichever name the browser reached it by (the
# document names one address; a browser that used another would be refused as cross-origin).
_INIT_SCRIPT = """(function () {
  "use strict";
  var specUrl = __SPEC_URL__;
  function render(options) {
    window.ui = SwaggerUIBundle(Object.assign({
      dom_id: "#swagger-ui",
      deepLinking: true,
      validatorUrl: null,
      tryItOutEnabled: true,
      displayRequestDuration: true,
      presets: [SwaggerUIBundle.presets.apis],
      layout: "BaseLayout"
    }, options));
  }
  function servedHere(spec) {
    var servers = Array.isArray(spec.servers) ? spec.servers : [];
    var first = servers.length ? new URL(servers[0].url, location.href) : null;
    if (first && first.origin === location.origin) {
      return spec;
    }
    var path = first ? first.pathname.replace(/\\/$/, "") : "";
    spec.servers = [{url: location.origin + path, description: "this page's server"}].concat(servers);
    return spec;
  }
  window.addEventListener("load", function () {
    fetch(specUrl, {headers: {Accept: "application/json"}})
      .then(function (response) {
        if (!response.ok) {
          throw new Error(response.statusText);
        }
        return response.json();
      })
      .then(function (spec) { render({spec: servedHere(spec)}); })
      .catch(function () { render({url: specUrl}); });
  });
})();
"""


class DocsPage:
    """`/docs` and its assets; `handles` says whether a (normalised) path is one of them."""

    def __init__(self, spec_url: str = "/openapi.json") -> None:
        self._page = _PAGE.format(static=STATIC_PREFIX, init=_INIT).encode()
        self._init = _INIT_SCRIPT.replace("__SPEC_URL__", json.dumps(spec_url)).encode()

    @staticmethod
    def handles(path: str) -> bool:
        return path == DOCS_PATH or path.startswith(STATIC_PREFIX)

    async def __call__(self, path: str, method: str, send: Send) -> None:
        """Answer `method` on `path` (HEAD like GET: the caller's `send` drops the body; OPTIONS is the caller's)."""
        if method not in ("GET", "HEAD"):
            detail = f"{method} is not allowed here; allowed: {ALLOW.decode()}"
            await send_problem(send, problem(405, "Method Not Allowed", detail), [(b"allow", ALLOW)])
            return
        if path == DOCS_PATH:
            await send_bytes(send, 200, self._page, _HTML, _PAGE_HEADERS)
            return
        name = path[len(STATIC_PREFIX) :]
        if name == _INIT:
            await send_bytes(send, 200, self._init, _JAVASCRIPT, _ASSET_HEADERS)
            return
        content_type = _ASSETS.get(name)
        if content_type is None:
            await send_problem(send, problem(404, "Not Found", f"no docs asset {name!r}"))
            return
        await send_bytes(send, 200, _asset(name), content_type, _ASSET_HEADERS)


@functools.cache
def _asset(name: str) -> bytes:
    """A Swagger UI file, read once per process on first use (the bundle is 1.5 MB)."""
    return Path(str(swagger_ui_path), name).read_bytes()


__all__ = ["ALLOW", "DOCS_PATH", "STATIC_PREFIX", "DocsPage"]
