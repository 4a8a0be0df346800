"""adapters/upstream_headers.py: the allowlist of upstream response headers a REST answer passes on."""

from __future__ import annotations

from multidict import CIMultiDict, CIMultiDictProxy

from naftiko_runtime.adapters.upstream_headers import passed_headers


def test_location_retry_after_rate_limits_and_deprecation_notices_pass() -> None:
    upstream = {
        "Location": "/v1/things/1",
        "Retry-After": "30",
        "RateLimit": "limit=100, remaining=0, reset=30",
        "RateLimit-Policy": "100;w=60",
        "RateLimit-Remaining": "0",
        "X-RateLimit-Limit": "100",
        "X-Rate-Limit-Reset": "1700000000",
        "Deprecation": "@1700000000",
        "Sunset": "Wed, 11 Nov 2026 11:11:11 GMT",
    }

    passed = passed_headers(upstream)

    assert passed == [(name.lower().encode(), value.encode()) for name, value in upstream.items()]


def test_hop_by_hop_headers_cookies_and_everything_unlisted_stay_behind() -> None:
    upstream = {
        "Connection": "keep-alive",
        "Keep-Alive": "timeout=5",
        "Transfer-Encoding": "chunked",
        "Upgrade": "h2c",
        "Proxy-Authenticate": "Basic",
        "TE": "trailers",
        "Trailer": "Expires",
        "Set-Cookie": "session=secret",
        "Server": "upstream/1.0",
        "Cache-Control": "public, max-age=600",
        "ETag": '"abc"',
        "Link": '<https://upstream.example/next>; rel="next"',
        "Content-Type": "application/json",
        "Content-Length": "2",
        "Retry-After": "1",
    }

    assert passed_headers(upstream) == [(b"retry-after", b"1")]


def test_a_listed_header_the_upstream_marks_hop_by_hop_is_dropped() -> None:
    upstream = {"Connection": "close, X-RateLimit-Remaining", "X-RateLimit-Remaining": "3", "Retry-After": "1"}

    assert passed_headers(upstream) == [(b"retry-after", b"1")]


def test_content_disposition_passes_only_with_a_body_passed_on_as_it_came() -> None:
    upstream = {"Content-Disposition": 'attachment; filename="report.pdf"'}

    assert passed_headers(upstream) == []
    assert passed_headers(upstream, body_as_is=True) == [(b"content-disposition", b'attachment; filename="report.pdf"')]


def test_repeated_headers_of_a_client_library_multidict_are_all_passed() -> None:
    upstream = CIMultiDictProxy(CIMultiDict([("ratelimit-policy", "10;w=1"), ("RateLimit-Policy", "1000;w=3600")]))

    assert passed_headers(upstream) == [(b"ratelimit-policy", b"10;w=1"), (b"ratelimit-policy", b"1000;w=3600")]


def test_no_headers_cost_nothing() -> None:
    assert passed_headers({}) == []
