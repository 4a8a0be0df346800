"""A capability exercising what the OpenAPI document says, and the document of its REST port."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from naftiko_runtime.openapi_export import Exported, listener_document
from naftiko_runtime.runtime import RuntimeOptions, build_runtime

TOKEN = "shop-token-" + "9" * 20
SHOP_AUTHENTICATION = """\
      authentication:
        type: bearer
        token: "{{env.SHOP_TOKEN}}"
"""

SHOP = """\
naftiko: 1.0.0-alpha2
info:
  label: Shop
  description: Items and notes.
  tags: [Retail]
  modified: '2026-01-02'
binds:
  - namespace: env
    keys:
      SHOP_TOKEN: SHOP_TOKEN
capability:
  consumes:
    - type: http
      namespace: shop
      baseUri: http://shop.invalid/api
      resources:
        - name: items
          path: /items/{{item_id}}
          operations:
            - name: get-item
              method: GET
              inputParameters:
                - {name: item_id, in: path, type: string}
                - {name: fields, in: query, type: array, description: Fields to return.}
                - {name: filter, in: query, type: object}
                - {name: X-Trace, in: header, type: string, required: true}
                - {name: session, in: cookie, type: string}
            - name: delete-item
              method: DELETE
              inputParameters:
                - {name: item_id, in: path}
        - name: notes
          path: /notes
          operations:
            - name: add-note
              method: POST
              inputParameters:
                - {name: text, in: body, type: string, required: true}
                - {name: pinned, in: body, type: boolean}
            - name: replace-notes
              method: PUT
              inputParameters:
                - {name: body, in: body, type: array}
  exposes:
    - type: rest
      namespace: shop-rest
      port: 8080
      authentication:
        type: bearer
        token: "{{env.SHOP_TOKEN}}"
      resources:
        - path: /items/{{id}}
          operations:
            - method: GET
              name: get-item
              description: "Get an item.\\nWith the fields asked for."
              call: shop.get-item
              with:
                item_id: shop-rest.id
                fields: shop-rest.fields
                filter: shop-rest.filter
                X-Trace: shop-rest.X-Trace
                session: shop-rest.session
        - path: /items/{key}/
          operations:
            - method: DELETE
              name: delete-item
              call: shop.delete-item
              with: {item_id: shop-rest.key}
        - path: /notes
          operations:
            - method: POST
              name: add-note
              call: shop.add-note
              outputParameters:
                - {name: id, type: string, mapping: $.id}
            - method: PUT
              name: replace-notes
              call: shop.replace-notes
        - path: /hello
          operations:
            - method: GET
              name: hello
              outputParameters:
                - {name: greeting, type: string, value: hi}
        - path: /broken
          operations:
            - method: GET
              name: broken
              call: shop.nothing
"""


def write(tmp_path: Path, text: str, name: str = "shop.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def exported(paths: list[Path], **options: Any) -> Exported:
    """The document of the only REST port the files are served on."""
    environ = options.pop("environ", {"SHOP_TOKEN": TOKEN})
    runtime = build_runtime(paths, RuntimeOptions(environ=environ, prefix_tools=True, **options))
    [listener] = [listener for listener in runtime.listeners if listener.type == "rest"]
    return listener_document(listener)


def shop(tmp_path: Path, **options: Any) -> dict[str, Any]:
    return exported([write(tmp_path, SHOP)], **options).document
