"""Bearer-key authentication, role checks and the body-size cap.

``Gate`` holds the rules: a request without a valid key gets 401, one whose key's role may
not use the route gets 403, a body above the cap gets 413. Two callers use it:

- ``AuthMiddleware`` guards the BentoML scoring APIs (``/score``, ``/score_batch``,
  ``/score_xml``) and every path nobody else answers for, before BentoML parses anything;
- the analyst app (``serving.analyst``) checks the same rules as FastAPI dependencies on
  its own routes, so the middleware lets those through untouched.

Health routes, the OpenAPI document and the analyst page's static files stay open.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Collection, MutableMapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from bentoml.exceptions import BentoMLException

from serving import access
from serving.keys import KeyStore, KeysUnreadable, Role
from serving.settings import ServingSettings, current

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

SCORING_ROLES = frozenset({Role.INTAKE, Role.ADMIN})
ANALYST_ROLES = frozenset({Role.ANALYST, Role.ADMIN})
ADMIN_ROLES = frozenset({Role.ADMIN})
ANY_ROLE = frozenset({Role.INTAKE, Role.ANALYST, Role.ADMIN})
ROLES_BY_PATH = {
    "/score": SCORING_ROLES,
    "/score_batch": SCORING_ROLES,
    "/score_xml": SCORING_ROLES,
}
"""Roles of the BentoML APIs, checked by ``AuthMiddleware`` (other paths: any key)."""
ANALYST_ROUTES: dict[str, tuple[frozenset[str], frozenset[Role]]] = {
    "/queue": (frozenset({"POST"}), ANALYST_ROLES),
    "/report": (frozenset({"POST"}), ANALYST_ROLES),
    "/decide": (frozenset({"POST"}), ANALYST_ROLES),
    "/cases": (frozenset({"POST"}), ANALYST_ROLES),
    "/case": (frozenset({"POST"}), ANALYST_ROLES),
    "/decide_case": (frozenset({"POST"}), ANALYST_ROLES),
    "/model_card": (frozenset({"GET", "POST"}), ANY_ROLE),
    "/admin/reload": (frozenset({"POST"}), ADMIN_ROLES),
}
"""Routes of the analyst app (``serving.analyst.routes``), their methods and roles. The app
checks keys itself on these methods; any other method is checked here first, so a caller
without a key learns only 401, as on every other route."""
ANALYST_PATHS = frozenset(ANALYST_ROUTES)
DEV_KEY_ID = "dev-mode"
KEYS_UNAVAILABLE = "keys_unavailable"
KEYS_UNAVAILABLE_MESSAGE = (
    "the service cannot read its API keys; an administrator must fix the keys file"
)
"""The 503 every keyed request gets while the keys file cannot be parsed: no path and no
parser message (those go to the log, once per change of the file: ``serving.keys``)."""
BEARER_CHALLENGE = 'Bearer realm="tipscore"'


def _open(path: str) -> bool:
    return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)


class Refused(Exception):
    """A request refused by the key, role or size check: status, code and message."""

    def __init__(
        self, status: int, code: str, message: str, key_id: str | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.key_id = key_id  # the recognised key's id (a 403), for the access log

    def body(self) -> dict[str, str]:
        """The documented answer: ``{"error": code, "message": ...}``."""
        return {"error": self.code, "message": self.message}

    def headers(self) -> dict[str, str]:
        """A 401 names the scheme to use (RFC 9110 ``WWW-Authenticate``)."""
        return {"WWW-Authenticate": BEARER_CHALLENGE} if self.status == 401 else {}


@dataclass(frozen=True)
class Caller:
    """Who sent a request: the key's id and its holder as noted when it was made."""

    key_id: str
    name: str
    role: Role | None = None


class Gate:
    """The key, role and size rules, with the keys file they read."""

    def __init__(self, settings: ServingSettings) -> None:
        self.settings = settings
        self.keys = KeyStore(settings.keys_path)

    def check_length(self, length: int | None) -> None:
        """Refuse (413) a declared body above the cap, before reading it."""
        cap = self.settings.max_body_bytes
        if length is not None and length > cap:
            raise Refused(413, "body_too_large", f"request body {length} bytes > {cap}")

    def caller(
        self, authorization: str | None, path: str, roles: Collection[Role]
    ) -> Caller:
        """The caller behind an ``Authorization`` header, if its role is in ``roles``."""
        token = bearer(authorization)
        if token is None and self.settings.dev_mode:
            return Caller(DEV_KEY_ID, DEV_KEY_ID, Role.ADMIN)
        try:
            record = None if token is None else self.keys.verify(token)
        except KeysUnreadable:
            raise Refused(503, KEYS_UNAVAILABLE, KEYS_UNAVAILABLE_MESSAGE) from None
        if record is None:
            raise Refused(
                401, "unauthorized", "send a valid key: Authorization: Bearer <key>"
            )
        if record.role not in roles:
            raise Refused(
                403, "forbidden", f"this key's role may not use {path}", record.key_id
            )
        return Caller(record.key_id, record.note or record.key_id, record.role)


def bearer(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (None otherwise)."""
    if authorization is None:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token else None


def _header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope.get("headers", []):
        if name == wanted:
            return str(value.decode("latin-1"))
    return None


def _content_length(scope: Scope) -> int | None:
    value = _header(scope, b"content-length")
    try:
        return None if value is None else int(value)
    except ValueError:
        return None


async def _reply(send: Send, refused: Refused) -> None:
    headers = [(b"content-type", b"application/json")]
    headers += [(k.lower().encode(), v.encode()) for k, v in refused.headers().items()]
    await send(
        {"type": "http.response.start", "status": refused.status, "headers": headers}
    )
    await send(
        {"type": "http.response.body", "body": json.dumps(refused.body()).encode()}
    )


def _analyst_app(scope: Scope) -> bool:
    """Whether the analyst app answers this request (and checks its key) itself."""
    route = ANALYST_ROUTES.get(scope.get("path", ""))
    return route is not None and scope.get("method", "") in route[0]


def _roles(path: str) -> frozenset[Role]:
    if path in ANALYST_ROUTES:
        return ANALYST_ROUTES[path][1]
    return ROLES_BY_PATH.get(path, ANY_ROLE)


class AuthMiddleware:
    """Checks the key, its role and the body size for the BentoML APIs (and the rest).

    Open paths and the analyst app's routes pass through untouched: the analyst app
    checks keys with the same ``Gate`` as FastAPI dependencies.
    """

    def __init__(self, app: App, settings: ServingSettings | None = None) -> None:
        self.app, self._settings = app, settings
        self._gate: Gate | None = None

    @property
    def gate(self) -> Gate:
        """The gate over the given settings, or over the service's one reading.

        Made on first use, not when BentoML builds the middleware (maybe before the service
        has read its settings), and made again if the service reads them again.
        """
        settings = self._settings or current()
        if self._gate is None or self._gate.settings is not settings:
            self._gate = Gate(settings)
        return self._gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse, or pass on with ``scope["state"]["key_id"]`` set."""
        path = scope.get("path", "")
        if scope["type"] != "http" or _open(path) or _analyst_app(scope):
            await self.app(scope, receive, send)
            return
        try:
            self.gate.check_length(_content_length(scope))
            caller = self.gate.caller(
                _header(scope, b"authorization"), path, _roles(path)
            )
        except Refused as refused:
            note_refused(scope.get("method", ""), path, refused)
            await _reply(send, refused)
            return
        scope.setdefault("state", {})["key_id"] = caller.key_id
        cap = self.gate.settings.max_body_bytes
        await self.app(scope, _capped(receive, cap, _on_over(scope, caller)), send)


def _on_over(scope: Scope, caller: Caller) -> Callable[[], None]:
    """What a streamed body going past the cap leaves in the access log."""
    path, key_id = scope.get("path", ""), caller.key_id
    return lambda: note_refused(
        scope.get("method", ""),
        path,
        Refused(413, "body_too_large", "streamed body over the cap", key_id),
    )


def note_refused(method: str, path: str, refused: Refused) -> None:
    """Keep a refusal in the running service's access log (``serving.access``)."""
    log = access.current()
    if log is not None:
        log.record(refused.key_id, method, path, refused.status, refused.code)


class BodyTooLarge(BentoMLException):
    """A streamed body (no Content-Length) went past the cap: 413, not a server error."""

    error_code = HTTPStatus.REQUEST_ENTITY_TOO_LARGE


def _capped(receive: Receive, cap: int, on_over: Callable[[], None]) -> Receive:
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > cap:
            on_over()
            raise BodyTooLarge(f"request body over {cap} bytes")
        return message

    return wrapped
