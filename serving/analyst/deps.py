"""What the analyst routes depend on: the running service, the caller's key, the body.

- ``current_service``: the BentoML service instance (``bentoml.get_current_service``, set
  by BentoML when the server starts), so the routes use its stores and model holder;
- ``Allowed(roles)``: the bearer key, its role and the declared body size, checked with
  the service's ``serving.auth.Gate`` — the same rules the scoring APIs' middleware uses;
- ``json_body(Model)``: the body read (counted against the cap while streaming) and
  validated as BentoML validated its API bodies, so errors keep their documented shape.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Collection
from typing import Annotated, Any, Protocol, TypeVar

import bentoml
from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError

from features.platforms import Platforms
from serving.analyst.cursors import CursorSeal
from serving.analyst.errors import InvalidBody
from serving.auth import Caller, Gate, Refused
from serving.json_bodies import DuplicateKey, is_json, strict_loads, unsupported
from serving.keys import Role
from serving.model_holder import ModelHolder, Served
from serving.scoring import Scorer
from serving.state.store import StateStore

M = TypeVar("M", bound=BaseModel)


class Backend(Protocol):
    """What the analyst routes use of the service instance (``serving.service``)."""

    cursors: CursorSeal
    gate: Gate
    holder: ModelHolder
    platforms: Platforms
    scorer: Scorer
    state: StateStore
    _write: threading.Lock
    bento_service: Any  # set by BentoML: the ``bentoml.Service`` (its OpenAPI document)

    def _served(self) -> Served: ...


def current_service() -> Backend:
    """The running service instance (BentoML sets it when the server starts)."""
    service: Backend = bentoml.get_current_service()
    return service


Service = Annotated[Backend, Depends(current_service)]


def _content_length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    try:
        return None if value is None else int(value)
    except ValueError:
        return None


class Allowed:
    """A dependency: the caller, if their key's role is one of ``roles`` (else 401/403).

    A declared body over the cap is refused first (413), before the key is looked at.
    """

    def __init__(self, roles: Collection[Role]) -> None:
        self.roles = frozenset(roles)

    async def __call__(self, request: Request, service: Service) -> Caller:
        """Check the size, the key and the role; the caller when all pass."""
        gate = service.gate
        gate.check_length(_content_length(request))
        return gate.caller(
            request.headers.get("authorization"), request.url.path, self.roles
        )


async def _read_capped(request: Request, cap: int) -> bytes:
    """The whole body, refused (413) as soon as it passes the cap."""
    chunks: list[bytes] = []
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > cap:
            raise Refused(413, "body_too_large", f"request body over {cap} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _strict(request: Request, raw: bytes) -> None:
    """Refuse a body that is not JSON by its Content-Type (415) or repeats a key (400)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not is_json(media_type):
        body = unsupported(media_type, request.url.path)
        raise Refused(415, body["error"], body["message"])
    try:
        strict_loads(raw)
    except DuplicateKey as exc:
        body = exc.body()
        raise Refused(400, body["error"], body["message"]) from None
    except (ValueError, RecursionError):
        pass  # not JSON: pydantic's validation names the problem below


def json_body(model: type[M]) -> Callable[[Request, Backend], Awaitable[M]]:
    """A dependency that reads the body and validates it as ``model``.

    An empty body counts as ``{}``, as it did for BentoML's APIs. The body must be JSON
    by its Content-Type (or have none) and name no key twice in an object
    (``serving.json_bodies``); the models refuse unknown keys.
    """

    async def parse(request: Request, service: Service) -> M:
        raw = await _read_capped(request, service.gate.settings.max_body_bytes)
        if raw:
            _strict(request, raw)
        try:
            return model.model_validate_json(raw or b"{}")
        except ValidationError as exc:
            raise InvalidBody(exc) from None

    return parse
