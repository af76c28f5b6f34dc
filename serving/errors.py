"""Every error answer is one JSON object, as the OpenAPI document says.

BentoML 1.4 answers an exception it maps to a 4xx with a one-element *list*
(``[{"error": ...}]``, a tuple in its code) although its OpenAPI document describes an
object, and answers every 5xx with a generic sentence — for a service that is not ready,
that hides the reason. This middleware rewrites error answers on their way out:

- a one-element list holding an object becomes that object;
- a 503 gets ``{"error": "not_ready", "message": <why no model is served>}`` (from the
  model holder), so callers learn why without reading the server log.

It also serves the OpenAPI document completed with the service's real answers
(``serving.openapi_doc``). Only error answers (status >= 400) and the document are
buffered and rewritten; the rest pass untouched.
"""

from __future__ import annotations

import json
from typing import Any

from serving.auth import App, Message, Receive, Scope, Send
from serving.model_holder import last_error
from serving.openapi_doc import complete

DOCUMENT = "/docs.json"


def reshape(status: int, body: bytes) -> bytes:
    """The error body as one object (unchanged when it already is one or is not JSON)."""
    try:
        data: Any = json.loads(body)
    except ValueError:
        return body
    if isinstance(data, list) and len(data) == 1 and isinstance(data[0], dict):
        data = data[0]
    if status == 503 and "not_ready" not in str(data) and "keys_file" not in str(data):
        data = {
            "error": "not_ready",
            "message": f"no model is being served: {last_error() or 'see /readyz'}",
        }
    return json.dumps(data).encode()


class ErrorShapeMiddleware:
    """Rewrites error answers into one JSON object each."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; buffer and reshape the answer if it is an error."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []
        document = scope.get("path") == DOCUMENT

        async def reshaping_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start" and (
                message["status"] >= 400 or document
            ):
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
            body = b"".join(chunks)
            content_type = dict(start.get("headers", [])).get(b"content-type", b"")
            if document and start["status"] == 200:
                body = json.dumps(complete(json.loads(body))).encode()
            elif b"json" in content_type:
                body = reshape(start["status"], body)
            headers = [
                (name, value)
                for name, value in start.get("headers", [])
                if name != b"content-length"
            ]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, reshaping_send)
