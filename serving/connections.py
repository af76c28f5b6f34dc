"""Header-read timeout and a per-client connection limit, below ASGI (issue 18, item 9).

Neither exists in uvicorn 0.54 as BentoML 1.4 runs it: its worker builds the
``uvicorn.Config`` itself (only ``timeout_keep_alive`` and ``backlog`` are passed), and
uvicorn arms no timer until a first response is sent, so a client that opens a connection
and sends half a request line or half its headers holds it forever (slow loris); and a
request only reaches ASGI middleware once its headers are complete, so no middleware can
see such a connection. The worker therefore wraps two methods of uvicorn's HTTP/1.1
protocol classes (``HttpToolsProtocol``, uvicorn's ``auto`` choice since ``httptools`` is
installed for speed, and ``H11Protocol``, the one served without it: BentoML builds the
``uvicorn.Config`` itself and offers no way to choose), once, when the service starts:

- **header timeout**: from the moment a connection opens, and again after each response,
  the next request's headers must be complete within ``header_timeout`` seconds, or the
  connection is closed (no answer: the client has not finished asking);
- **per-client connection limit**: a client address holding ``max_per_client`` open
  connections has its next one closed at once. Behind a proxy every client shares the
  proxy's address: raise the limit there, and let the proxy limit clients;
- **header size**: at most ``MAX_HEADER_BYTES`` (16 KiB, h11's own limit) may arrive while a
  request's line and headers are incomplete; past that the request is answered 431
  ``headers_too_large`` and the connection closed. h11 enforces the same size itself (its
  400 comes first); ``httptools`` has no limit of its own (an outside review sent a 20 MB
  header line, accepted). Counted twice: the bytes of every read while the headers are
  incomplete (a header still arriving, read after read), and, with httptools, the request
  line and each header as the parser hands them over (a header one read brings whole);
- **no protocol upgrades**: the service serves no WebSocket route, and uvicorn hands an
  upgraded connection to its WebSocket protocol, whose close never reached the HTTP
  protocol's count — 70 key-less ``Upgrade: websocket`` requests locked a client address
  out for good (an outside review). An ``Upgrade`` request is now answered as the plain
  HTTP request it also is (a 401, 404, ...) and its connection counted until it closes.

The body is timed by ``serving.body_timeout`` (ASGI). ``tests/reliability/
test_slow_clients.py`` proves both; ``tests/service/test_slow_clients_guard.py`` fails
if a uvicorn upgrade renames what is wrapped here.
"""

from __future__ import annotations

import functools
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

_MARK = "__tipscore_guard__"


MAX_HEADER_BYTES = 16 * 1024
"""Bytes a request line and headers may take (h11's own limit in uvicorn; httptools has none)."""
REFUSED_HEADERS = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: application/json\r\nconnection: close\r\ncontent-length: %d\r\n\r\n"
)
HEADERS_TOO_LARGE = (
    b'{"error":"headers_too_large","message":"the request line and headers take more '
    b'than %d bytes"}' % MAX_HEADER_BYTES
)


@dataclass
class Guard:
    """The limits in force and the open connections per client address."""

    header_timeout: float
    max_per_client: int
    open: Counter[str]


def install(header_timeout: float, max_per_client: int) -> Guard:
    """Wrap uvicorn's HTTP/1.1 protocols (idempotent: later calls update the limits).

    Every protocol class the worker's uvicorn may serve with is wrapped (``protocols``):
    installing ``httptools`` must not silently leave the server unguarded.
    """
    from uvicorn.protocols.http.h11_impl import H11Protocol

    guard: Guard | None = H11Protocol.__dict__.get(_MARK)
    if guard is None:
        guard = Guard(header_timeout, max_per_client, Counter())
    for cls in protocols():
        if _MARK not in cls.__dict__:
            _check(cls)
            _wrap(cls, guard)
            setattr(cls, _MARK, guard)
    guard.header_timeout, guard.max_per_client = header_timeout, max_per_client
    logger.info(
        "connections: headers within %.1f s, at most %d open per client",
        header_timeout,
        max_per_client,
    )
    return guard


def protocols() -> list[type[Any]]:
    """H11's protocol, and the one uvicorn's ``http="auto"`` picks if it is another.

    BentoML 1.4's worker builds ``uvicorn.Config`` without ``http``, so uvicorn serves with
    ``AutoHTTPProtocol``: ``httptools``' protocol when that package is importable, else h11's.
    """
    from uvicorn.protocols.http import auto
    from uvicorn.protocols.http.h11_impl import H11Protocol

    served: type[Any] = auto.AutoHTTPProtocol
    return [H11Protocol] if served is H11Protocol else [H11Protocol, served]


def is_guarded(cls: type[Any]) -> bool:
    """Whether connections of this protocol class are guarded here."""
    return _MARK in cls.__dict__


def _check(cls: type[Any]) -> None:
    """Refuse to start on a protocol without what is wrapped: it would run unguarded."""
    missing = [
        name
        for name in (
            "connection_made",
            "connection_lost",
            "data_received",
            "on_response_complete",
            "_should_upgrade",
        )
        if not callable(getattr(cls, name, None))
    ]
    if missing:
        raise RuntimeError(
            f"uvicorn serves HTTP with {cls.__module__}.{cls.__qualname__}, which lacks "
            f"{', '.join(missing)}: the header timeout and connection limit cannot guard it"
        )


def _waiting_for_headers(protocol: Any) -> bool:
    cycle = getattr(protocol, "cycle", None)
    return cycle is None or bool(cycle.response_complete)


def _arm(protocol: Any, guard: Guard) -> None:
    """Close the connection unless a request's headers arrive within the timeout."""
    handle = getattr(protocol, "_tipscore_timer", None)
    if handle is not None:
        handle.cancel()
    completed = getattr(protocol, "_tipscore_requests", 0)

    def expire() -> None:
        still = getattr(protocol, "_tipscore_requests", 0) == completed
        idle = still and _waiting_for_headers(protocol)
        if idle and not protocol.transport.is_closing():
            protocol.transport.close()

    protocol._tipscore_timer = protocol.loop.call_later(guard.header_timeout, expire)


def _client(protocol: Any) -> str | None:
    client = getattr(protocol, "client", None)
    return str(client[0]) if client else None


def _no_upgrade(protocol: Any) -> bool:
    """No WebSocket route: an upgrade request is answered as plain HTTP, counted till closed."""
    return False


def _between_requests(protocol: Any) -> bool:
    """Waiting for a request's headers, the previous request's body read to its end.

    A body still arriving after an early answer (a 401 or 413 sent before reading it) is
    that request's body, not the next one's headers.
    """
    cycle = getattr(protocol, "cycle", None)
    return cycle is None or (
        bool(cycle.response_complete) and not getattr(cycle, "more_body", False)
    )


def _refuse_headers(protocol: Any) -> None:
    """431 and close: more than ``MAX_HEADER_BYTES`` arrived without complete headers."""
    if protocol.transport.is_closing():
        return
    logger.info("connections: closed a request whose headers ran past %d bytes",
                MAX_HEADER_BYTES)  # fmt: skip
    body = HEADERS_TOO_LARGE
    protocol.transport.write(REFUSED_HEADERS % len(body) + body)
    protocol.transport.close()


class HeadersTooLarge(Exception):
    """Raised from a parser callback: the parser stops, the request is answered 431."""


def _wrap_header_callbacks(cls: Any) -> None:
    """Count the request line and headers exactly, for parsers that hand them over.

    httptools calls ``on_url`` and ``on_header`` with each piece: past the cap a callback
    raises, httptools stops parsing and uvicorn answers through ``send_400_response``,
    which answers 431 instead for this cause. (A header that one read brings whole is
    seen here; one still arriving, read after read, is counted by ``data_received``.)
    """
    begin: Callable[..., None] = cls.on_message_begin
    url: Callable[..., None] = cls.on_url
    header: Callable[..., None] = cls.on_header
    bad: Callable[..., None] = cls.send_400_response

    def count(protocol: Any, size: int) -> None:
        protocol._tipscore_exact = getattr(protocol, "_tipscore_exact", 0) + size
        if protocol._tipscore_exact > MAX_HEADER_BYTES:
            protocol._tipscore_too_large = True
            raise HeadersTooLarge

    @functools.wraps(begin)
    def on_message_begin(self: Any) -> None:
        self._tipscore_exact = 0
        begin(self)

    @functools.wraps(url)
    def on_url(self: Any, data: bytes) -> None:
        count(self, len(data))
        url(self, data)

    @functools.wraps(header)
    def on_header(self: Any, name: bytes, value: bytes) -> None:
        count(self, len(name) + len(value) + 4)  # ": " and CRLF
        header(self, name, value)

    @functools.wraps(bad)
    def send_400_response(self: Any, msg: str) -> None:
        if getattr(self, "_tipscore_too_large", False):
            _refuse_headers(self)
        else:
            bad(self, msg)

    cls.on_message_begin = on_message_begin
    cls.on_url = on_url
    cls.on_header = on_header
    cls.send_400_response = send_400_response


def _wrap_reads(cls: Any) -> None:
    """Cap the bytes a request's line and headers may take (``MAX_HEADER_BYTES``)."""
    if all(
        callable(getattr(cls, name, None))
        for name in ("on_message_begin", "on_url", "on_header", "send_400_response")
    ):
        _wrap_header_callbacks(cls)
    received: Callable[..., None] = cls.data_received

    @functools.wraps(received)
    def data_received(self: Any, data: bytes) -> None:
        # bytes read while a request's headers are incomplete are counted; the count
        # restarts once they complete (one read, up to the loop's read size, is not split)
        if _between_requests(self):
            self._tipscore_head = getattr(self, "_tipscore_head", 0) + len(data)
        received(self, data)
        if not _between_requests(self):
            self._tipscore_head = 0
        elif getattr(self, "_tipscore_head", 0) > MAX_HEADER_BYTES:
            _refuse_headers(self)

    cls.data_received = data_received


def _wrap(cls: Any, guard: Guard) -> None:
    made: Callable[..., None] = cls.connection_made
    lost: Callable[..., None] = cls.connection_lost
    done: Callable[..., None] = cls.on_response_complete

    @functools.wraps(made)
    def connection_made(self: Any, transport: Any) -> None:
        made(self, transport)
        client = _client(self)
        if client is not None:
            guard.open[client] += 1
            self._tipscore_counted = client
            if guard.open[client] > guard.max_per_client:
                transport.close()  # over the limit: refused before anything is read
                return
        _arm(self, guard)

    @functools.wraps(lost)
    def connection_lost(self: Any, exc: Exception | None) -> None:
        handle = getattr(self, "_tipscore_timer", None)
        if handle is not None:
            handle.cancel()
        client = getattr(self, "_tipscore_counted", None)
        if client is not None:
            self._tipscore_counted = None
            guard.open[client] -= 1
            if guard.open[client] <= 0:
                del guard.open[client]
        lost(self, exc)

    @functools.wraps(done)
    def on_response_complete(self: Any) -> None:
        self._tipscore_requests = getattr(self, "_tipscore_requests", 0) + 1
        done(self)
        if not self.transport.is_closing():
            _arm(self, guard)

    cls.connection_made = connection_made
    cls.connection_lost = connection_lost
    cls.on_response_complete = on_response_complete
    cls._should_upgrade = _no_upgrade
    _wrap_reads(cls)
