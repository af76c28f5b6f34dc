"""The analyst page's static files (HTML, JS, CSS in ``serving/analyst/ui/``), mounted at ``/ui``.

Everything the page needs is served from here: no CDN, no web fonts, no external asset.
The files hold no data; the page asks for the analyst's key and calls the analyst API
(``/queue``, ``/report``, ``/decide``, ``/model_card``) with it. A strict Content Security
Policy allows scripts, styles and images from this origin only, so report data rendered
on the page can never run as script.
"""

from __future__ import annotations

from pathlib import Path

from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

UI_DIR = Path(__file__).with_name("ui")
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        b"connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-cache"),
]


class UiApp:
    """Static files with security headers (the router redirects ``/ui`` to ``/ui/``)."""

    def __init__(self) -> None:
        self.files = StaticFiles(directory=UI_DIR, html=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a file with the security headers added."""

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.files(scope, receive, with_headers)
