"""The pieces of the slow-client defences, fast (the real server: tests/reliability).

``serving.connections`` wraps uvicorn's HTTP/1.1 protocol; these tests fail if an upgrade
renames what it relies on. ``serving.body_timeout`` answers 408 when a body stalls.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
import time
from typing import Any

import pytest

from serving.body_timeout import BodyTimeoutMiddleware
from serving.settings import ServingSettings

pytestmark = pytest.mark.reliability  # an issue-18 regression: `make test-reliability`


def test_uvicorn_still_has_what_the_connection_guard_wraps() -> None:
    from uvicorn.protocols.http import h11_impl, httptools_impl

    from serving import connections

    # httptools' protocol serves (it is installed); h11's when it is not: both checked
    for module, protocol in (
        (h11_impl, h11_impl.H11Protocol),
        (httptools_impl, httptools_impl.HttpToolsProtocol),
    ):
        for name in (
            "connection_made",
            "connection_lost",
            "on_response_complete",
            "data_received",
        ):
            assert callable(getattr(protocol, name)), (protocol, name)
        source = inspect.getsource(protocol.__init__)
        assert "self.cycle" in source and "self.client" in inspect.getsource(protocol)
        assert "self.loop" in source and "self.transport" in source
        cycle = inspect.getsource(module.RequestResponseCycle)
        assert "response_complete" in cycle and "more_body" in cycle
    # httptools hands over the request line and each header: counted exactly there
    tools = httptools_impl.HttpToolsProtocol
    for name in ("on_message_begin", "on_url", "on_header", "send_400_response"):
        assert callable(getattr(tools, name)), name
    connections.install(5.0, 10)
    assert getattr(tools.on_header, "__wrapped__", None) is not None
    assert "send_400_response" in inspect.getsource(tools.data_received)
    protocol = h11_impl.H11Protocol
    first = connections.install(5.0, 10)
    again = connections.install(2.0, 3)  # idempotent: one wrapping, limits updated
    assert first is again and (again.header_timeout, again.max_per_client) == (2.0, 3)
    assert getattr(protocol.connection_made, "__wrapped__", None) is not None
    assert not hasattr(protocol.connection_made.__wrapped__, "__wrapped__")


def _served_protocol() -> type[Any]:
    """The protocol class uvicorn serves with, configured as BentoML 1.4's worker does."""
    import uvicorn

    config = uvicorn.Config(
        app=_reads_body, log_config=None, workers=1, server_header=False
    )
    config.load()
    served: type[Any] = config.http_protocol_class
    return served


def test_the_server_serves_with_a_guarded_protocol() -> None:
    """What uvicorn really uses is guarded, whichever HTTP parser is installed."""
    import _bentoml_impl.worker.service as worker

    from serving import connections

    call = re.search(r"uvicorn\.Config\((.*?)\n    \)", inspect.getsource(worker), re.S)
    assert call is not None  # BentoML's worker still builds the Config ...
    assert not re.search(r"\bhttp\s*=", call.group(1))  # ... with uvicorn's "auto" http
    connections.install(5.0, 10)
    assert connections.is_guarded(_served_protocol())


class _OtherParser:
    """Stands in for ``HttpToolsProtocol``: what uvicorn's auto picks with httptools."""

    def connection_made(self, transport: Any) -> None: ...

    def connection_lost(self, exc: Exception | None) -> None: ...

    def data_received(self, data: bytes) -> None: ...

    def on_response_complete(self) -> None: ...

    def _should_upgrade(self) -> bool: ...


def test_installing_httptools_cannot_switch_the_guard_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from uvicorn.protocols.http import auto

    from serving import connections

    monkeypatch.setattr(auto, "AutoHTTPProtocol", _OtherParser)
    assert _served_protocol() is _OtherParser
    connections.install(5.0, 10)
    assert connections.is_guarded(_OtherParser)

    class Unknown:  # a parser without the methods the guard wraps: refuse to start
        def connection_made(self, transport: Any) -> None: ...

    monkeypatch.setattr(auto, "AutoHTTPProtocol", Unknown)
    with pytest.raises(RuntimeError, match="cannot guard it"):
        connections.install(5.0, 10)


async def _reads_body(scope: Any, receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def _run(messages: list[dict[str, Any]], stall: bool) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        if stall:
            await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    settings = ServingSettings(body_timeout_s=0.3)
    app = BodyTimeoutMiddleware(_reads_body, settings)
    scope = {"type": "http", "method": "POST", "path": "/score", "headers": []}
    asyncio.run(app(scope, receive, send))
    return sent


def test_a_stalled_body_gets_408_within_the_timeout() -> None:
    started = time.monotonic()
    sent = _run([{"type": "http.request", "body": b"{", "more_body": True}], stall=True)
    assert time.monotonic() - started < 2
    assert sent[0]["status"] == 408
    assert (b"connection", b"close") in sent[0]["headers"]
    assert json.loads(sent[1]["body"])["error"] == "body_timeout"


def test_a_complete_body_is_not_timed() -> None:
    sent = _run(
        [{"type": "http.request", "body": b"{}", "more_body": False}], stall=True
    )
    assert sent[0]["status"] == 200
