"""``POST /score`` answered beside BentoML's per-API machinery, with the same answer.

Why: a lone ``/score`` call is the service's commonest request, and BentoML's route for
it builds a starlette ``Request``, a service context, an IO descriptor round trip, a
``Signature`` per call and an ``IterableResponse`` behind starlette's router and
exception layers. py-spy on a deployed champion put that at about a fifth of the
worker's CPU per call, as much as half the in-process floor (issue 15's latency
target, ``benchmarks/serve_bench.py``).

``DirectScoreMiddleware`` sits innermost, after every check of ours (auth, size cap,
media type, duplicate and unknown keys: ``serving.json_bodies``) and inside BentoML's
own timeout and access-log layers. For ``POST /score`` it

- validates the body with the BentoML API's own input model (``model_validate_json``,
  exactly as BentoML's JSON serde does), so what is accepted cannot differ;
- scores through the same ``TipScoring._single`` (adaptive batcher, one durable
  transaction before the answer);
- sends ``ScoreResponse.model_dump_json()`` — what BentoML's JSON serde sends, made once
  and kept by the state too (``serving.service.Answer``) — with BentoML's ``Server``
  header.

It answers only what it can answer exactly as the BentoML API would: a valid body while
a model is served. Everything else — a validation error, no model, no running service —
is handed to the BentoML route untouched (body replayed), so every documented error
answer keeps one source. An exception while scoring is answered as BentoML's wrapper
answers it (the ``BentoMLException``'s status, or a generic 500), and the outer
``ErrorShapeMiddleware`` reshapes it as it reshapes BentoML's.
"""

from __future__ import annotations

import logging
from typing import Any

import bentoml
from bentoml.exceptions import BentoMLException

from serving.auth import App, Receive, Scope, Send
from serving.errors import StateUnavailable
from serving.xml_forms import _answer, _read_body, _replay

logger = logging.getLogger(__name__)

ROUTE = "/score"
SERVER = b"BentoML Service/tipscore"
"""BentoML's ``Server`` header for this service (``ServiceAppFactory``), kept alike."""
UNEXPECTED = {"error": "An unexpected error has occurred, please check the server log."}
"""BentoML's body for an unexpected error (``api_endpoint_wrapper``)."""


def _service() -> Any | None:
    """The running ``TipScoring`` when it can score now (None: let BentoML answer)."""
    try:
        service = bentoml.get_current_service()
    except BentoMLException:
        return None
    holder = getattr(service, "holder", None)
    if getattr(holder, "current", None) is None or not hasattr(service, "direct"):
        return None
    return service


async def _send_json(send: Send, body: bytes) -> None:
    headers = [
        (b"content-length", str(len(body)).encode()),
        (b"content-type", b"application/json"),
        (b"server", SERVER),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class DirectScoreMiddleware:
    """Answers valid ``POST /score`` calls itself (see the module docstring)."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Score a valid report here; hand anything else to the BentoML route."""
        if (
            scope["type"] != "http"
            or scope.get("path") != ROUTE
            or scope.get("method") != "POST"
        ):
            await self.app(scope, receive, send)
            return
        service = _service()
        if service is None:
            await self.app(scope, receive, send)
            return
        raw = await _read_body(receive)
        try:
            submission = service.direct_input(raw)
        except ValueError:  # pydantic's ValidationError too
            await self.app(scope, _replay(raw, receive), send)
            return
        key_id = str(scope.get("state", {}).get("key_id", "unknown"))
        try:
            answer = await service.direct(submission, key_id)
        except BentoMLException as exc:
            status = exc.error_code.value
            if isinstance(exc, StateUnavailable):  # says why: the database, retry later
                logger.warning("POST /score: %s", exc)
                await _answer(send, status, _four(exc))
                return
            logger.exception("POST /score failed")
            await _answer(send, status, UNEXPECTED if status >= 500 else _four(exc))
            return
        except Exception:
            logger.exception("POST /score failed")
            await _answer(send, 500, UNEXPECTED)
            return
        await _send_json(send, answer.text.encode())


def _four(exc: BentoMLException) -> dict[str, str]:
    return {"error": str(exc)}
