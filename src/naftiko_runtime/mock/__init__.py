"""The embedded mock upstream: answers a consumes namespace from an OpenAPI 3.x document's examples.

Microcks conventions are understood (`x-microcks-operation` dispatchers, example names such as
`?status=active`, `{{ request.body/... }}` templates); otherwise the first 2xx example answers,
else a minimal value valid for the response schema. Operations no document describes get 501.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import MockApi
    from .app import mock_app
    from .client import MockClient
    from .companion import find_companion
    from .document import MockDocumentError

# Served without --mock, only the document reader and the companion finder are used (to type tools):
# the names are imported on first use, so `mock.document` does not pull in the whole mock server.
_WHERE = {
    "MockApi": "api",
    "mock_app": "app",
    "MockClient": "client",
    "find_companion": "companion",
    "MockDocumentError": "document",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)


__all__ = ["MockApi", "MockClient", "MockDocumentError", "find_companion", "mock_app"]
