"""The embedded mock upstream: answers a consumes namespace from an OpenAPI 3.x document's examples.

Microcks conventions are understood (`x-microcks-operation` dispatchers, example names such as
`?status=active`, `{{ request.body/... }}` templates); otherwise the first 2xx example answers,
else a minimal value valid for the response schema. Operations no document describes get 501.
"""

from .api import MockApi
from .app import mock_app
from .client import MockClient
from .companion import find_companion
from .document import MockDocumentError

__all__ = ["MockApi", "MockClient", "MockDocumentError", "find_companion", "mock_app"]
