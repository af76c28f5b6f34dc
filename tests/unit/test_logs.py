"""No raw path or header value reaches a log line (BentoML's access log, rewritten).

An outside security test sent ``GET /mkpath-jdoe@example.org/198.51.100.200`` without a
key and found the path, email and IP as sent, in the server log. The lines here are made
by BentoML's own access-log middleware, so the format tested is the one it writes.
"""

from __future__ import annotations

import asyncio
import logging

import pytest
from bentoml._internal.server.http.access import AccessLogMiddleware

from serving import logs
from serving.service import ROUTES

SECRETS = ("jdoe", "example.org", "198.51.100.200", "evil")


async def _answer(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
    await send({"type": "http.response.start", "status": 401, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def _request(
    path: str,
    content_type: bytes = b"application/json",
    client: tuple[str, int] = ("127.0.0.1", 5000),
) -> None:
    app = AccessLogMiddleware(
        _answer, has_request_content_type=True, has_request_content_length=True
    )
    scope = {
        "type": "http",
        "scheme": "http",
        "method": "GET",
        "path": path,
        "client": client,
        "headers": [(b"content-type", content_type), (b"content-length", b"12")],
    }

    async def receive():  # type: ignore[no-untyped-def]
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):  # type: ignore[no-untyped-def]
        return None

    asyncio.run(app(scope, receive, send))


@pytest.fixture
def access_lines(caplog: pytest.LogCaptureFixture):  # type: ignore[no-untyped-def]
    logs.install(ROUTES, ("/ui/", "/static_content/"))
    caplog.set_level(logging.INFO, logger=logs.BENTOML_ACCESS_LOGGER)
    return lambda: [
        r.getMessage() for r in caplog.records if r.name == logs.BENTOML_ACCESS_LOGGER
    ]


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/mkpath-jdoe@example.org/198.51.100.200", b"application/json"),
        ("/score,type=jdoe@example.org", b"application/json"),
        ("/ui/jdoe@example.org", b"text/html"),
        ("/score", b"application/json; x=jdoe@example.org"),
        ("/queue", b"evil/jdoe@example.org"),
    ],
)
def test_no_path_or_header_value_is_logged_as_sent(
    access_lines, path: str, content_type: bytes
) -> None:  # type: ignore[no-untyped-def]
    _request(path, content_type)
    (line,) = access_lines()
    assert not any(secret in line for secret in SECRETS), line


def test_routes_and_media_types_are_kept(access_lines) -> None:  # type: ignore[no-untyped-def]
    _request("/score", b"application/json; charset=utf-8")
    _request("/nowhere")
    _request("/ui/app.js", b"text/javascript")
    score, other, static = access_lines()
    assert "path=/score,type=application/json,length=12" in score
    assert "status=401" in score
    assert "path=(unmatched)" in other
    assert "path=/ui/…" in static


def test_install_twice_keeps_one_filter() -> None:
    logs.install(ROUTES)
    logs.install(ROUTES)
    access = logging.getLogger(logs.BENTOML_ACCESS_LOGGER)
    assert sum(isinstance(f, logs.KnownPathsOnly) for f in access.filters) == 1


@pytest.mark.parametrize("host", ["+1 555 701 9999", "jdoe@example.org", "evil"])
def test_a_forwarded_for_text_is_no_address_in_the_log(access_lines, host: str) -> None:  # type: ignore[no-untyped-def]
    # uvicorn puts X-Forwarded-For, as sent, in the scope's client (session 9)
    _request("/score", client=(host, 0))
    (line,) = access_lines()
    assert line.startswith("(unparsed):0 ") and host not in line


def test_client_addresses_are_kept(access_lines) -> None:  # type: ignore[no-untyped-def]
    _request("/score", client=("2001:db8::1", 443))
    _request("/score", client=("198.51.100.7", 5000))
    v6, v4 = access_lines()
    assert v6.startswith("2001:db8::1:443 ") and v4.startswith("198.51.100.7:5000 ")
