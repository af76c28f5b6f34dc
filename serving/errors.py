"""Error answers of the BentoML scoring APIs, made one JSON object as documented.

BentoML 1.4 answers an exception it maps to a 4xx with a one-element *list*
(``[{"error": ...}]``, a tuple in its code) although its OpenAPI document describes an
object, and answers every 5xx with a generic sentence — for a service that is not ready,
that hides the reason. ``ErrorShapeMiddleware`` rewrites the error answers of the BentoML
APIs on their way out:

- a one-element list holding an object becomes that object;
- a 503 gets ``{"error": "not_ready", "message": <why no model is served>}``, the reason
  read from the running service's model holder — ``/readyz``'s plain-text 503 too, so a
  probe (or an operator) reading it learns why;
- a routing answer (404 for a path nobody serves, 405 for a method a route does not take)
  in plain text becomes ``{"error": "not_found" | "method_not_allowed", "message": ...}``,
  the 405 keeping its ``Allow`` header — on every path, BentoML's and the mounted app's.

Only error answers (status >= 400) are buffered; a success passes through untouched.
The analyst app (``serving.analyst``) answers its own errors with exception handlers, so
its routes are not touched here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import bentoml
from bentoml.exceptions import BentoMLException

from serving.auth import ANALYST_PATHS, App, Message, Receive, Scope, Send


class NotReady(BentoMLException):
    """No model is loaded: the service says why instead of guessing."""

    error_code = HTTPStatus.SERVICE_UNAVAILABLE


class StateUnavailable(BentoMLException):
    """The state database cannot be reached (or its write lock not had in time).

    A PostgreSQL outage was answered as an unexpected 500 on every route, which a client
    cannot tell from a bug (an outside operator test, session 9): it is a 503 that says
    so, and a retry later may succeed (the request may not have been kept).
    """

    error_code = HTTPStatus.SERVICE_UNAVAILABLE


STATE_UNAVAILABLE = (
    "state_unavailable: the state database cannot be reached (or was busy too long); "
    "this request may not have been kept; retry later"
)


OUTAGE_STATES = frozenset({"57P01", "57P02", "57P03", "53300", "55P03", "57014"})
"""SQLSTATEs of a database that is going away, full, or busy past a timeout: admin or
crash shutdown, cannot connect now, too many connections, lock not available (the write
lock's timeout), statement cancelled (a timeout). Class 08 (connection exceptions) too."""


def is_outage(exc: BaseException) -> bool:
    """Whether ``exc`` (or the error it was raised from) is the database being unreachable.

    A psycopg ``OperationalError`` without an SQLSTATE (the client lost or could not make
    its connection), of class 08, or one of ``OUTAGE_STATES``; followed through
    ``raise … from`` only. Other operational errors (a statement too complex, a limit
    passed) are bugs to see, not outages to retry (a stranger's review).
    """
    import psycopg

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, psycopg.OperationalError):
            state = seen.sqlstate
            return state is None or state.startswith("08") or state in OUTAGE_STATES
        seen = seen.__cause__
    return False


STATE_NOT_READY = "the model is loaded, but the state database cannot be reached"


def not_ready_body(reason: str | None) -> dict[str, str]:
    """The documented 503 answer."""
    if reason == STATE_NOT_READY:
        return {"error": "not_ready", "message": reason}
    return {
        "error": "not_ready",
        "message": f"no model is being served: {reason or 'see /readyz'}",
    }


def holder_error() -> str | None:
    """Why the running service is not ready: its model holder's error, else its state.

    A model is served and the state database cannot be reached: ``/readyz``'s 503 said
    "no model is being served: see /readyz", pointing to itself (an outside operator
    test, session 9).
    """
    try:
        service = bentoml.get_current_service()
    except BentoMLException:
        return None
    holder = getattr(service, "holder", None)
    if getattr(holder, "current", None) is not None:
        state = getattr(service, "state", None)
        if state is not None and not state.reachable():
            return STATE_NOT_READY
        return None  # a model is served: a 503 is then not about the model
    return getattr(holder, "error", None)


ROUTING_CODES = {404: "not_found", 405: "method_not_allowed"}


def routing_body(status: int, method: str, path: str, allow: str | None) -> bytes:
    """The documented JSON answer of a 404 or 405 (the path is cut, not echoed whole)."""
    where = f"{method} {path[:200]}"
    if status == 405:
        message = (
            f"{where}: method not allowed; this route takes {allow or 'other methods'}"
        )
    else:
        message = f"{where}: no such route (see /docs.json for the routes)"
    return json.dumps({"error": ROUTING_CODES[status], "message": message}).encode()


def reshape(
    status: int, body: bytes, reason: Callable[[], str | None] = holder_error
) -> bytes:
    """The error body as one object (unchanged when it already is one or is not JSON)."""
    try:
        data: Any = json.loads(body)
    except ValueError:
        return body
    if isinstance(data, list) and len(data) == 1 and isinstance(data[0], dict):
        data = data[0]
    kept = ("not_ready", "keys_file", "keys_unavailable", "state_unavailable")
    if status == 503 and not any(code in str(data) for code in kept):
        data = not_ready_body(reason())
    return json.dumps(data).encode()


class ErrorShapeMiddleware:
    """Rewrites the BentoML APIs' error answers into one JSON object each."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; buffer and reshape the answer if it is an error."""
        if scope["type"] != "http" or scope.get("path") in ANALYST_PATHS:
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def reshaping_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start" and message["status"] >= 400:
                start = message
                return
            if start is None:
                await send(message)
                return
            if message["type"] != "http.response.body":
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            await _send_reshaped(send, start, b"".join(chunks), scope)

        await self.app(scope, receive, reshaping_send)


async def _send_reshaped(send: Send, start: Message, body: bytes, scope: Scope) -> None:
    given = dict(start.get("headers", []))
    content_type = given.get(b"content-type", b"")
    status = start["status"]
    if b"json" in content_type:
        body = reshape(status, body)
    elif status == 503 and scope.get("path") == "/readyz":
        body = json.dumps(not_ready_body(holder_error())).encode()
        content_type = b"application/json"
    elif status in ROUTING_CODES:
        allow = given.get(b"allow", b"").decode("latin-1") or None
        body = routing_body(
            status, scope.get("method", ""), scope.get("path", ""), allow
        )
        content_type = b"application/json"
    headers = [
        (name, value)
        for name, value in start.get("headers", [])
        if name not in (b"content-length", b"content-type")
    ]
    if content_type:
        headers.append((b"content-type", content_type))
    headers.append((b"content-length", str(len(body)).encode()))
    await send({**start, "headers": headers})
    await send({"type": "http.response.body", "body": body})
