"""Bearer-key authentication, role checks and the body-size cap, as ASGI middleware.

Runs before BentoML parses anything: a request without a valid key gets 401, one whose
key's role may not use the route gets 403, and a body above the cap gets 413 — all before
the body is read into a model. Health routes and the OpenAPI document stay open.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from http import HTTPStatus
from typing import Any

from bentoml.exceptions import BentoMLException

from serving.keys import KeyStore, Role
from serving.settings import ServingSettings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

OPEN_PATHS = frozenset(
    {"/", "/livez", "/readyz", "/healthz", "/metrics", "/docs", "/docs.json", "/ui"}
)
OPEN_PREFIXES = ("/static_content/", "/ui/")
"""The Swagger UI's own files and the analyst page's static files (no data in them: the
page asks for the analyst's key and sends it with every API call)."""


def _open(path: str) -> bool:
    return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)


ROLES_BY_PATH = {
    "/score": {Role.INTAKE, Role.ADMIN},
    "/score_batch": {Role.INTAKE, Role.ADMIN},
    "/score_xml": {Role.INTAKE, Role.ADMIN},
    "/model_card": {Role.INTAKE, Role.ANALYST, Role.ADMIN},
    "/admin/reload": {Role.ADMIN},
    "/queue": {Role.ANALYST, Role.ADMIN},
    "/report": {Role.ANALYST, Role.ADMIN},
    "/decide": {Role.ANALYST, Role.ADMIN},
}
ANY_ROLE = {Role.INTAKE, Role.ANALYST, Role.ADMIN}
GET_ROUTES = frozenset({"/model_card"})
"""Read-only API routes also answered on GET (BentoML APIs are POST)."""
DEV_KEY_ID = "dev-mode"


async def _reply(send: Send, status: int, error: str, message: str) -> None:
    body = json.dumps({"error": error, "message": message}).encode()
    headers = [(b"content-type", b"application/json")]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="tipscore"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token else None
    return None


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class AuthMiddleware:
    """Checks the key and its role, and caps the body, for every HTTP request."""

    def __init__(self, app: App, settings: ServingSettings | None = None) -> None:
        self.app = app
        self.settings = settings or ServingSettings()
        self.keys = KeyStore(self.settings.keys_path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse, or pass on with ``scope["state"]["key_id"]`` set."""
        if scope["type"] != "http" or _open(scope["path"]):
            await self.app(scope, receive, send)
            return
        length = _content_length(scope)
        cap = self.settings.max_body_bytes
        if length is not None and length > cap:
            await _reply(
                send, 413, "body_too_large", f"request body {length} bytes > {cap}"
            )
            return
        try:
            key_id = self._key_id(scope)
        except (ValueError, KeyError, TypeError) as exc:
            await _reply(send, 503, "keys_file_unreadable", f"{self.keys.path}: {exc}")
            return
        if key_id is None:
            await _reply(
                send,
                401,
                "unauthorized",
                "send a valid key: Authorization: Bearer <key>",
            )
            return
        if not key_id[1]:
            await _reply(
                send,
                403,
                "forbidden",
                f"this key's role may not use {scope['path']}",
            )
            return
        state = scope.setdefault("state", {})
        state["key_id"], state["key_name"] = key_id[0], key_id[2]
        if scope["method"] == "GET" and scope["path"] in GET_ROUTES:
            headers = [h for h in scope["headers"] if h[0] != b"content-type"]
            headers.append((b"content-type", b"application/json"))
            scope = {**scope, "method": "POST", "headers": headers}
            receive = _empty_json
        await self.app(scope, _capped(receive, cap), send)

    def _key_id(self, scope: Scope) -> tuple[str, bool, str] | None:
        """(key id, may use this route, the key's holder as noted when it was made)."""
        allowed = ROLES_BY_PATH.get(scope["path"], ANY_ROLE)
        token = _bearer(scope)
        if token is None:
            return (DEV_KEY_ID, True, DEV_KEY_ID) if self.settings.dev_mode else None
        record = self.keys.verify(token)
        if record is None:
            return None
        return record.key_id, record.role in allowed, record.note or record.key_id


async def _empty_json() -> Message:
    return {"type": "http.request", "body": b"{}", "more_body": False}


class BodyTooLarge(BentoMLException):
    """A streamed body (no Content-Length) went past the cap: 413, not a server error."""

    error_code = HTTPStatus.REQUEST_ENTITY_TOO_LARGE


def _capped(receive: Receive, cap: int) -> Receive:
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > cap:
            raise BodyTooLarge(f"request body over {cap} bytes")
        return message

    return wrapped
