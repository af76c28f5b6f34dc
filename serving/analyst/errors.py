"""The analyst app's error answers, as FastAPI exception handlers, and their documentation.

Every answer keeps the shape the service has always documented (docs/serving.md,
"Errors"): one JSON object each —

- a body that does not validate: 400 ``{"error": "N validation error for Input",
  "detail": [{"loc", "msg", "type", "url"}, ...]}``, ``loc`` counted from the body;
- the service's own checks: 400 ``{"error": "<field>: <problem>"}``, 404 for a report not
  scored here, 409 for a failed reload;
- routing: 404 ``{"error": "not_found", "message": ...}``, 405 ``{"error":
  "method_not_allowed", "message": ...}`` with its ``Allow`` header;
- the key, role and size checks (``serving.auth.Refused``): ``{"error": "<code>",
  "message": ...}``, a 401 with ``WWW-Authenticate: Bearer realm="tipscore"``;
- no model served: 503 ``{"error": "not_ready", "message": "no model is being served:
  <why>"}``.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from serving.auth import Refused, note_refused
from serving.errors import (
    ROUTING_CODES,
    STATE_UNAVAILABLE,
    NotReady,
    is_outage,
    routing_body,
)

logger = logging.getLogger(__name__)
UNEXPECTED = "An unexpected error has occurred, please check the server log."


class ApiError(Exception):
    """A refusal by the service's own checks, answered ``{"error": message}``."""

    status = 400


class BadRequest(ApiError):
    """A request that validates but contradicts itself or the stored state."""


class ReportNotFound(ApiError):
    """No report with this id has been scored here."""

    status = 404


class Stale(ApiError):
    """A decision on a suggestion the report no longer has (it was scored again)."""

    status = 409


class ReloadFailed(ApiError):
    """A reload could not load the new model; the old one keeps serving."""

    status = 409


class InvalidBody(Exception):
    """A request body that does not validate against its ``Input`` model."""

    def __init__(self, error: ValidationError) -> None:
        super().__init__(str(error))
        self.error = error

    def body(self) -> dict[str, Any]:
        """The documented 400: a count, and each error's place and reason (no input)."""
        return {
            "error": f"{self.error.error_count()} validation error for {self.error.title}",
            "detail": self.error.errors(include_context=False, include_input=False),
        }


def _rejected(request: Request, why: str) -> None:
    """Log a refusal without the request's content (it may hold raw identifiers)."""
    logger.info("%s %s: rejected (%s)", request.method, request.url.path, why)


async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
    _rejected(request, type(exc).__name__)
    return JSONResponse({"error": str(exc)}, status_code=exc.status)


async def _invalid_body(request: Request, exc: InvalidBody) -> JSONResponse:
    _rejected(request, "ValidationError")
    return JSONResponse(exc.body(), status_code=400)


async def _refused(request: Request, exc: Refused) -> JSONResponse:
    note_refused(request.method, request.url.path, exc)
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers())


async def _not_ready(request: Request, exc: NotReady) -> JSONResponse:
    return JSONResponse({"error": "not_ready", "message": exc.message}, 503)


async def _http(request: Request, exc: HTTPException) -> Response:
    """Routing answers (404, 405 with ``Allow``) in the documented JSON error shape."""
    if exc.status_code not in ROUTING_CODES:
        return PlainTextResponse(exc.detail, exc.status_code, headers=exc.headers)
    headers = dict(exc.headers or {})
    body = routing_body(
        exc.status_code, request.method, request.url.path, headers.get("Allow")
    )
    return Response(body, exc.status_code, headers, media_type="application/json")


CLIENT_CLOSED = 499
"""nginx's code for a request whose client went away before the answer (no one gets it)."""


async def _client_gone(request: Request, exc: ClientDisconnect) -> Response:
    """A client that closed the connection mid-body: not a server error.

    It was answered as one (500, a traceback in the log, ``http_response_code="500"`` on
    ``/metrics``; an outside security test, session 9). Nothing is sent (no one reads
    it); the access log and ``/metrics`` record 499, nginx's "client closed request".
    """
    logger.info(
        "%s %s: the client closed the connection", request.method, request.url.path
    )
    return Response(status_code=CLIENT_CLOSED)


async def _outage(request: Request, exc: Exception) -> JSONResponse:
    """A database outage: a 503 that says so (an outside operator test: a 500 before)."""
    if not is_outage(exc):  # another operational error: a bug to see, with its trace
        return await _unexpected(request, exc)
    logger.warning(
        "%s %s: the state database cannot be reached (%s)",
        request.method,
        request.url.path,
        type(exc).__name__,
    )
    code, _, message = STATE_UNAVAILABLE.partition(": ")
    return JSONResponse({"error": code, "message": message}, status_code=503)


async def _maybe_outage(request: Request, exc: Exception) -> JSONResponse:
    """An error raised from a database outage is one too; anything else is a 500."""
    return await _outage(request, exc)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"error": UNEXPECTED}, status_code=500)


def install_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error its documented body."""
    app.exception_handler(ApiError)(_api_error)
    app.exception_handler(InvalidBody)(_invalid_body)
    app.exception_handler(Refused)(_refused)
    app.exception_handler(NotReady)(_not_ready)
    app.exception_handler(HTTPException)(_http)
    app.exception_handler(ClientDisconnect)(_client_gone)
    app.exception_handler(psycopg.OperationalError)(_outage)
    app.exception_handler(Exception)(_maybe_outage)


def _ref(description: str, schema: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}
        },
    }


RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _ref("Bad Request", "InvalidArgument"),
    401: _ref("no key, or an unknown key", "Refusal"),
    403: _ref("the key's role may not use this route", "Refusal"),
    404: _ref("Not Found", "NotFound"),
    413: _ref("the body is over the size cap", "Refusal"),
    500: _ref("Internal Server Error", "InternalServerError"),
    503: _ref("no model is being served (or the keys file cannot be read)", "Refusal"),
}
"""What every analyst route may answer besides its 200 (the OpenAPI document lists it)."""
UNSUPPORTED = _ref(
    "the body is not JSON by its Content-Type (send application/json)", "Refusal"
)
"""The 415 of every route that reads a JSON body."""
DECIDE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **RESPONSES,
    409: _ref(
        "the report was scored again after the suggestion the analyst saw "
        "(`seen_scored_at`): open it again and decide",
        "InvalidArgument",
    ),
}
RELOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    **RESPONSES,
    409: _ref(
        "the champion could not be loaded; the old model keeps serving", "Refusal"
    ),
}
