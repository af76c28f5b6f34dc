"""Body-read timeout: a request's body must arrive within ``body_timeout`` seconds, or 408.

A client that sends its headers and then drips (or never sends) its body would hold a
worker's request slot and memory for as long as it likes; BentoML's ``traffic.timeout``
(60 s) bounds the whole request, but only from the worker's side and with a 504 that
blames the service. Here the body is timed from the moment the request reaches the
service: past the deadline the request is answered ``408 {"error": "body_timeout"}`` with
``Connection: close``, and uvicorn drops the connection. The headers are timed below ASGI
(``serving.connections``). Once the body is complete nothing is timed here (a route may
wait for a disconnect as long as it likes).
"""

from __future__ import annotations

import asyncio
import json

from serving.auth import App, Message, Receive, Scope, Send
from serving.settings import ServingSettings, current


class BodyTimedOut(Exception):
    """The body did not arrive in time (raised into the app; answered 408 here)."""


def _answer(timeout: float) -> tuple[Message, Message]:
    body = json.dumps(
        {
            "error": "body_timeout",
            "message": f"the request body did not arrive within {timeout:g} s",
        }
    ).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    start = {"type": "http.response.start", "status": 408, "headers": headers}
    return start, {"type": "http.response.body", "body": body}


class _Timed:
    """One request's timed ``receive`` and guarded ``send``."""

    def __init__(self, receive: Receive, send: Send, deadline: float) -> None:
        self._receive, self._send, self.deadline = receive, send, deadline
        self.complete = self.timed_out = self.started = False

    async def receive(self) -> Message:
        """The next message; while the body is incomplete, only until the deadline."""
        if self.complete:
            return await self._receive()
        try:
            async with asyncio.timeout_at(self.deadline):
                message = await self._receive()
        except TimeoutError:
            self.timed_out = True
            raise BodyTimedOut from None
        more = message["type"] == "http.request" and message.get("more_body", False)
        self.complete = not more
        return message

    async def send(self, message: Message) -> None:
        """Pass the app's answer on, unless it answers the timeout (ours is sent)."""
        if self.timed_out and not self.started:
            return
        self.started = self.started or message["type"] == "http.response.start"
        await self._send(message)


class BodyTimeoutMiddleware:
    """Answers 408 when a request's body is not complete within the timeout."""

    def __init__(self, app: App, settings: ServingSettings | None = None) -> None:
        self.app, self._settings = app, settings

    @property
    def timeout(self) -> float:
        """Seconds a body may take: the service's settings (``serving.settings.current``)."""
        return (self._settings or current()).body_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on with a timed ``receive``; answer 408 if it runs out."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        timeout = self.timeout
        deadline = asyncio.get_running_loop().time() + timeout
        timed = _Timed(receive, send, deadline)
        try:
            await self.app(scope, timed.receive, timed.send)
        except Exception:
            if not timed.timed_out:  # the app's own failure: not ours to answer
                raise
        if timed.timed_out and not timed.started:
            for message in _answer(timeout):
                await send(message)
