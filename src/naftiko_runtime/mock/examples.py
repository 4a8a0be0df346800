"""Which canned answers an operation has: its named examples and its default answer.

The default is the first example of the first 2xx response that has one, else a minimal value
for the first 2xx response's schema, else that response with no body.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..consumer.client import UpstreamResponse
from .dispatch import KnownExamples
from .document import Resolver
from .minimal import minimal_value
from .request import MockRequest
from .templates import compile_text, compile_value

_JSON_MEDIA = re.compile(r"^application/(?:[\w.+-]*\+)?json$|^\*/\*$|^application/\*$")
_NO_EXAMPLE: Any = object()


@dataclass(frozen=True)
class Canned:
    """One prepared answer: static bytes, or a renderer when the example holds `{{ }}` templates."""

    status: int
    headers: Mapping[str, str]
    body: bytes = b""
    render: Callable[[MockRequest], bytes] | None = None

    def answer(self, request: MockRequest) -> UpstreamResponse:
        body = self.body if self.render is None else self.render(request)
        return UpstreamResponse(status=self.status, headers=self.headers, body=body)


@dataclass(frozen=True)
class Answers:
    named: Mapping[str, Canned]
    default: Canned
    known: KnownExamples


def collect_answers(
    operation: Mapping[str, Any], parameters: Sequence[Mapping[str, Any]], resolver: Resolver
) -> Answers:
    responses = resolver.deref(operation.get("responses") or {})
    if not isinstance(responses, Mapping):
        responses = {}
    ranked = sorted(
        ((key, resolver.deref(response)) for key, response in responses.items()),
        key=lambda item: _rank(str(item[0])),
    )
    named: dict[str, Canned] = {}
    for key, response in ranked:
        if not isinstance(response, Mapping):
            continue
        status = _status(str(key), default=500)
        for media_type, media in _contents(response, resolver):
            for name, value in _named_examples(media, resolver):
                if name not in named:
                    headers = _response_headers(response, name, resolver)
                    named[name] = _canned(status, media_type, value, headers)
        refs = response.get("x-microcks-refs")
        for name in refs if isinstance(refs, list) else []:
            named.setdefault(str(name), Canned(status=status, headers=_response_headers(response, name, resolver)))
    return Answers(
        named=named,
        default=_default(ranked, resolver),
        known=_known_examples(list(named), parameters, resolver),
    )


def _default(ranked: Sequence[tuple[Any, Any]], resolver: Resolver) -> Canned:
    success = [(str(k), r) for k, r in ranked if _rank(str(k))[0] == 0 and isinstance(r, Mapping)]
    if not success:
        success = [(str(k), r) for k, r in ranked if str(k) == "default" and isinstance(r, Mapping)]
    for key, response in success:
        for media_type, media in _contents(response, resolver):
            name, value = _first_example(media, resolver)
            if value is not _NO_EXAMPLE:
                headers = _response_headers(response, name, resolver)
                return _canned(_status(key, default=200), media_type, value, headers)
    if not success:
        return Canned(status=200, headers={})
    key, response = success[0]
    headers = _response_headers(response, None, resolver)
    for media_type, media in _contents(response, resolver):
        if isinstance(media, Mapping) and "schema" in media:
            value = minimal_value(media["schema"], resolver)
            return _canned(_status(key, default=200), media_type, value, headers, templates=False)
    return Canned(status=_status(key, default=200), headers=headers)


def _canned(
    status: int,
    media_type: str,
    value: Any,
    headers: Mapping[str, str],
    *,
    templates: bool = True,
) -> Canned:
    json_media = _JSON_MEDIA.match(media_type) is not None
    if isinstance(value, str) and not json_media:
        content_type = media_type if "*" not in media_type else "text/plain"
        text_renderer = compile_text(value) if templates else None
        all_headers = {"content-type": content_type, **headers}
        if text_renderer is None:
            return Canned(status=status, headers=all_headers, body=value.encode())
        return Canned(status=status, headers=all_headers, render=lambda r: text_renderer(r).encode())
    if isinstance(value, str) and json_media:
        with contextlib.suppress(ValueError):
            value = json.loads(value)  # Microcks documents often hold JSON examples as text
    content_type = media_type if json_media and "*" not in media_type else "application/json"
    all_headers = {"content-type": content_type, **headers}
    renderer = compile_value(value) if templates else None
    if renderer is None:
        return Canned(status=status, headers=all_headers, body=_dump(value))
    return Canned(status=status, headers=all_headers, render=lambda r: _dump(renderer(r)))


def _dump(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def _rank(key: str) -> tuple[int, int]:
    """2xx first (by code), then other codes, then `default`."""
    if key == "default":
        return (2, 0)
    code = _status(key, default=999)
    return (0 if 200 <= code < 300 else 1, code)


def _status(key: str, *, default: int) -> int:
    if key.isdigit():
        return int(key)
    if len(key) == 3 and key[0].isdigit() and key[1:].upper() == "XX":
        return int(key[0]) * 100
    return default


def _contents(response: Mapping[str, Any], resolver: Resolver) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Media types of a response, JSON ones first."""
    content = response.get("content")
    if not isinstance(content, Mapping):
        return
    entries = [(str(media_type), resolver.deref(media)) for media_type, media in content.items()]
    entries.sort(key=lambda entry: _JSON_MEDIA.match(entry[0].split(";")[0].strip()) is None)
    for media_type, media in entries:
        if isinstance(media, Mapping):
            yield media_type.split(";")[0].strip(), media


def _named_examples(media: Mapping[str, Any], resolver: Resolver) -> Iterator[tuple[str, Any]]:
    examples = media.get("examples")
    if not isinstance(examples, Mapping):
        return
    for name, example in examples.items():
        example = resolver.deref(example)
        if isinstance(example, Mapping) and "value" in example:
            yield str(name), example["value"]


def _first_example(media: Mapping[str, Any], resolver: Resolver) -> tuple[str | None, Any]:
    for name, value in _named_examples(media, resolver):
        return name, value
    return None, media.get("example", _NO_EXAMPLE)


def _response_headers(response: Mapping[str, Any], name: str | None, resolver: Resolver) -> dict[str, str]:
    """Response headers that carry an example (the one named `name`, else the single `example`)."""
    headers = response.get("headers")
    result: dict[str, str] = {}
    if not isinstance(headers, Mapping):
        return result
    for header_name, header in headers.items():
        header = resolver.deref(header)
        if not isinstance(header, Mapping) or str(header_name).lower() == "content-type":
            continue
        value = _parameter_example(header, name, resolver)
        if value is not None:
            result[str(header_name).lower()] = value
    return result


def _parameter_example(parameter: Mapping[str, Any], name: str | None, resolver: Resolver) -> str | None:
    examples = parameter.get("examples")
    if name is not None and isinstance(examples, Mapping) and name in examples:
        example = resolver.deref(examples[name])
        if isinstance(example, Mapping) and "value" in example:
            return _scalar(example["value"])
    if "example" in parameter:
        return _scalar(parameter["example"])
    return None


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def _known_examples(names: Sequence[str], parameters: Sequence[Mapping[str, Any]], resolver: Resolver) -> KnownExamples:
    by_location: dict[str, dict[str, dict[str, str]]] = {"path": {}, "query": {}, "header": {}}
    for parameter in parameters:
        location = str(parameter.get("in", ""))
        examples = parameter.get("examples")
        if location not in by_location or not isinstance(examples, Mapping):
            continue
        key = str(parameter.get("name", ""))
        key = key.lower() if location == "header" else key
        for name, example in examples.items():
            example = resolver.deref(example)
            if isinstance(example, Mapping) and "value" in example:
                by_location[location].setdefault(str(name), {})[key] = _scalar(example["value"])
    return KnownExamples(
        names=tuple(names),
        path=by_location["path"],
        query=by_location["query"],
        header=by_location["header"],
    )
