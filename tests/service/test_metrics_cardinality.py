"""``/metrics`` stays small whatever paths are sent (issue 18, item 1).

Before: every made-up path, sent without a key, became a label set of its own (its bytes,
NUL included, in ``/metrics``), so anyone could grow the server's memory at will.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from starlette.routing import Mount

from serving.analyst.app import analyst_app
from serving.metrics import UNMATCHED, method_label, route_label
from tests.service.conftest import Deployed, auth, submission

pytestmark = pytest.mark.reliability  # an issue-18 regression: `make test-reliability`

PATHS = 3000
GROWTH_LIMIT = 4096  # bytes: "a few KB"


def _metrics(server: str) -> str:
    r = httpx.get(f"{server}/metrics", timeout=10)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    return r.text


def test_made_up_paths_do_not_grow_metrics(server: str, deployed: Deployed) -> None:
    with httpx.Client(base_url=server, timeout=10) as client:
        # the first unmatched request of each method and status makes its series
        client.get("/no-such-path-warmup")
        client.request("BREW", "/no-such-path-warmup")
        client.post(
            "/score",
            json={"report": submission("metrics-1")},
            headers=auth(deployed.keys["intake"]),
        )
        before = _metrics(server)
        for i in range(PATHS):
            path = f"/made-up/{i}/%00%01{'x' * (i % 50)}" if i % 2 else f"/p{i}\x7f"
            r = client.request("GET" if i % 3 else "BREW", path.replace("\x7f", "%7F"))
            assert r.status_code in (401, 404, 405, 400), (path, r.status_code)
    after = _metrics(server)
    assert len(after.encode()) - len(before.encode()) <= GROWTH_LIMIT, (
        len(before),
        len(after),
    )
    assert "made-up" not in after and "/p1" not in after
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", after)  # no control bytes
    assert f'endpoint="{UNMATCHED}"' in after
    assert 'endpoint="/score"' in after


def test_every_route_of_the_service_has_its_own_label() -> None:
    from serving.service import TipScoring

    paths = [api.route for api in TipScoring.apis.values()]
    routes = list(analyst_app().routes)
    for route in routes:
        included = getattr(route, "original_router", None)  # an included APIRouter
        if included is not None:
            routes.extend(included.routes)
            continue
        path = getattr(route, "path", "")
        paths.append(f"{path}/some/file.js" if isinstance(route, Mount) else path)
    assert "/queue" in paths and "/admin/reload" in paths
    paths += ["/livez", "/readyz", "/healthz", "/metrics"]
    assert all(route_label(p) != UNMATCHED for p in paths), [
        p for p in paths if route_label(p) == UNMATCHED
    ]
    assert route_label("/ui/app.js") == "/ui/{path}"
    assert route_label("/score/../x") == UNMATCHED
    assert method_label("BREW") == "OTHER"


def _count(endpoint: str, status: str) -> float:
    import prometheus_client as prom

    labels = {
        "endpoint": endpoint,
        "service_name": "tipscore",
        "http_response_code": status,
        "method": "POST",
    }
    value = prom.REGISTRY.get_sample_value("bentoml_service_request_total", labels)
    return value or 0.0


def test_a_request_cut_off_by_bentomls_timeout_is_counted_as_its_504() -> None:
    """BentoML's ``traffic.timeout`` cancels the request and answers 504: counted 504.

    Before: the cancelled request had sent no status, so it was counted as a 500.
    """
    import asyncio

    from bentoml._internal.server.http.traffic import TimeoutMiddleware

    from serving.metrics import TIMED_OUT, RouteMetricsMiddleware, counted_status

    async def stalls(scope: Any, receive: Any, send: Any) -> None:
        await asyncio.sleep(30)

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    scope = {"type": "http", "method": "POST", "path": "/score", "headers": []}
    app = TimeoutMiddleware(RouteMetricsMiddleware(stalls), timeout=0.2)  # type: ignore[arg-type]
    before = (_count("/score", "504"), _count("/score", "500"))
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    assert sent[0]["status"] == TIMED_OUT == 504
    assert _count("/score", "504") == before[0] + 1
    assert _count("/score", "500") == before[1]
    assert (
        counted_status(None, cancelled=False) == 500
    )  # the app failed: the server's 500
    assert counted_status(200, cancelled=True) == 200  # answered, then cancelled
