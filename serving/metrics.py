"""``/metrics``: request counts and durations labelled by route, never by the raw path.

BentoML 1.4's own metrics middleware (``RunnerTrafficMetricsMiddleware``) labels every
request by ``scope["path"]`` as sent: each made-up path, with no key, became a new label
set held in memory for good, and its bytes (NUL included) went into ``/metrics`` (issue 18:
12,000 such requests added 210 MiB and 45 MB of ``/metrics``). The service turns BentoML's
metrics off (``metrics={"enabled": False}``) and counts here instead:

- ``endpoint`` is the route's template: a path of the route table (``serving.auth``: the
  scoring APIs, the analyst routes, the open routes), ``/ui/{path}`` and
  ``/static_content/{path}`` for the static files, and ``<unmatched>`` for every other path;
- ``method`` is one of the HTTP methods, ``OTHER`` for anything else; the status is a number.

So the label sets are bounded whatever is sent. The metric names BentoML used
(``bentoml_service_request_total``, ``bentoml_service_request_duration_seconds``,
``bentoml_service_request_in_progress``) are kept, and of its labels ``endpoint``,
``service_name`` and ``http_response_code``; ``service_version`` and ``runner_name`` are
gone (one service, one version per process: the model's version is in ``/readyz`` and the
audit log) and ``method`` is new, so a dashboard that filters on the dropped labels must
drop them. The in-progress gauge carries ``endpoint`` and ``service_name`` only.

The status is the one the client gets. A request BentoML cuts off at its ``traffic.timeout``
(60 s) is cancelled inside this middleware before any answer, and BentoML's
``TimeoutMiddleware`` (outside it) answers ``504``: it is counted as ``504``
(``TIMED_OUT``), not as a server error.
``prometheus_client`` is imported when the app is built in the worker, after BentoML
has set ``PROMETHEUS_MULTIPROC_DIR`` there, never at import.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

from serving.auth import (
    ANALYST_ROUTES,
    OPEN_PATHS,
    OPEN_PREFIXES,
    ROLES_BY_PATH,
    App,
    Message,
    Receive,
    Scope,
    Send,
)

UNMATCHED = "<unmatched>"
TIMED_OUT = 504
"""What BentoML 1.4's ``TimeoutMiddleware`` (``bentoml/_internal/server/http/traffic.py``)
answers when it cancels a request at ``traffic.timeout``."""
METRICS_PATH = "/metrics"
NAMESPACE = "bentoml_service"
SERVICE_NAME = "tipscore"
ROUTES = frozenset(OPEN_PATHS | set(ROLES_BY_PATH) | set(ANALYST_ROUTES))
PREFIXES = tuple((prefix, f"{prefix}{{path}}") for prefix in OPEN_PREFIXES)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
SKIPPED = frozenset({"/livez", "/healthz", "/readyz", METRICS_PATH})
"""Probes and the scrape itself are not counted (as BentoML did not count them)."""


def route_label(path: str) -> str:
    """The route template a path is served by, or ``<unmatched>``: a bounded set."""
    if path in ROUTES:
        return path
    for prefix, template in PREFIXES:
        if path.startswith(prefix):
            return template
    return UNMATCHED


def method_label(method: str) -> str:
    """The HTTP method, or ``OTHER`` (a method is any token a client likes)."""
    return method if method in METHODS else "OTHER"


def counted_status(sent: int | None, cancelled: bool) -> int:
    """The status a request is counted with: what its client gets.

    A status sent is what the client got. None sent: cancelled, the request was cut off by
    BentoML's timeout, which answers ``504``; otherwise the app failed and the server
    answers ``500``.
    """
    if sent is not None:
        return sent
    return TIMED_OUT if cancelled else 500


@dataclass(frozen=True)
class _Instruments:
    total: Any
    duration: Any
    in_progress: Any


_LOCK = threading.Lock()
_INSTRUMENTS: list[_Instruments] = []


def instruments() -> _Instruments:
    """The process's metrics, made on first use (one registry per process)."""
    with _LOCK:
        if not _INSTRUMENTS:
            import prometheus_client as prom

            common = ["endpoint", "service_name", "http_response_code", "method"]
            _INSTRUMENTS.append(
                _Instruments(
                    total=prom.Counter(
                        "request_total",
                        "Total number of HTTP requests, by route template",
                        common,
                        namespace=NAMESPACE,
                    ),
                    duration=prom.Histogram(
                        "request_duration_seconds",
                        "HTTP request duration in seconds, by route template",
                        common,
                        namespace=NAMESPACE,
                    ),
                    in_progress=prom.Gauge(
                        "request_in_progress",
                        "HTTP requests in progress now, by route template",
                        ["endpoint", "service_name"],
                        namespace=NAMESPACE,
                        multiprocess_mode="livesum",
                    ),
                )
            )
        return _INSTRUMENTS[0]


def exposition() -> tuple[bytes, str]:
    """The route metrics of every worker, then the live figures (``serving.live_metrics``)."""
    from serving.live_metrics import live_text

    text, content_type = _route_exposition()
    return text + live_text(), content_type


def _route_exposition() -> tuple[bytes, str]:
    """The Prometheus text of every worker (multiprocess mode under ``bentoml serve``)."""
    import prometheus_client as prom
    from prometheus_client import multiprocess

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = prom.CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        text = prom.generate_latest(registry)
        if text.strip():
            return text, prom.CONTENT_TYPE_LATEST
        # prometheus_client was imported before the folder was set, so this process keeps
        # its values in memory, not in the folder's files: read them from its registry
    return prom.generate_latest(), prom.CONTENT_TYPE_LATEST


async def _serve_metrics(send: Send) -> None:
    import anyio

    body, content_type = await anyio.to_thread.run_sync(exposition)
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", b"%d" % len(body)),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RouteMetricsMiddleware:
    """Counts each request under its route template; answers ``GET /metrics``."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.meters = (
            instruments()
        )  # when the app is built, in the worker: not at import

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the scrape, or pass the request on and count its answer."""
        path, http = scope.get("path", ""), scope["type"] == "http"
        if http and path == METRICS_PATH and scope.get("method") in ("GET", "HEAD"):
            await _serve_metrics(send)
            return
        if not http or path in SKIPPED:
            await self.app(scope, receive, send)
            return
        await self._counted(scope, receive, send, route_label(path))

    async def _counted(
        self, scope: Scope, receive: Receive, send: Send, endpoint: str
    ) -> None:
        meters, started = self.meters, time.perf_counter()
        status: int | None = None  # the status sent, once one is

        async def counting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        gauge = meters.in_progress.labels(endpoint=endpoint, service_name=SERVICE_NAME)
        cancelled = False
        try:
            with gauge.track_inprogress():
                await self.app(scope, receive, counting_send)
        except asyncio.CancelledError:
            cancelled = True
            raise
        finally:
            labels = {
                "endpoint": endpoint,
                "service_name": SERVICE_NAME,
                "http_response_code": str(counted_status(status, cancelled)),
                "method": method_label(str(scope.get("method", ""))),
            }
            meters.total.labels(**labels).inc()
            meters.duration.labels(**labels).observe(time.perf_counter() - started)
