"""A client that closes the connection mid-body is no server error (session 9)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI, Request

from serving.analyst.errors import CLIENT_CLOSED, install_handlers


def _app() -> FastAPI:
    app = FastAPI()
    install_handlers(app)

    @app.post("/queue")
    async def queue(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    return app


def test_a_client_gone_mid_body_is_recorded_as_499_not_500() -> None:
    # an outside security test: 10 of 100 announced bytes, then a closed connection,
    # was a 500 with a traceback in the log and on /metrics
    messages = iter(
        [
            {"type": "http.request", "body": b'{"query":', "more_body": True},
            {"type": "http.disconnect"},
        ]
    )
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/queue",
        "raw_path": b"/queue",
        "query_string": b"",
        "headers": [(b"content-length", b"100")],
        "http_version": "1.1",
        "scheme": "http",
        "server": ("127.0.0.1", 3000),
        "client": ("127.0.0.1", 5555),
        "root_path": "",
    }
    asyncio.run(_app()(scope, receive, send))
    assert sent[0]["type"] == "http.response.start"
    assert sent[0]["status"] == CLIENT_CLOSED
