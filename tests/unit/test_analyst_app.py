"""The analyst app alone (FastAPI, a stand-in for the service instance): role checks as
dependencies, errors as exception handlers with the documented bodies, the body cap, and
the middleware that is left for the BentoML scoring APIs.

The same routes through the real service are in ``tests/service/`` (access matrix,
analyst API); these run without a model, so they can reach the not-ready answers.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.testclient import TestClient

from features.identifiers import IdentifierHasher
from serving.analyst.app import analyst_app
from serving.analyst.cursors import CursorSeal
from serving.analyst.deps import current_service
from serving.analyst.schemas import DecisionOut, QueuePage
from serving.auth import AuthMiddleware, Gate
from serving.errors import ErrorShapeMiddleware, NotReady
from serving.keys import KeyStore, Role
from serving.settings import ServingSettings
from serving.state.records import NotFound
from training.registry import RegistryError


class FakeState:
    """The state store's calls the routes make, recorded."""

    def __init__(self) -> None:
        self.decided: list[tuple[str, str]] = []
        self.hidden: list[bool] = []  # whether blind review held for the caller

    def queue(self, query: Any, today: Any, view: Any = None) -> QueuePage:
        if query.cursor == "bad":
            raise ValueError("cursor: not a cursor this service gave out")
        return QueuePage(items=[], total=0, next_cursor=None)

    def latest(self, report_id: str) -> dict[str, Any]:
        raise NotFound(report_id)

    def decide(
        self, decision: Any, key_id: str, name: str, hidden: bool = False
    ) -> DecisionOut:
        if decision.report_id == "nope":
            raise NotFound(decision.report_id)
        self.decided.append((key_id, name))
        self.hidden.append(hidden)
        return DecisionOut(
            decision_id="d1",
            report_id=decision.report_id,
            decided_at="2024-06-01T00:00:00+00:00",
            analyst=name,
            key_id=key_id,
            action=decision.action,
            priority=2,
            designation=decision.designation,
            reason=decision.reason.value,
            note=decision.note,
            suggested_priority=2,
            model_version="m/1",
            supersedes=None,
        )


class FakeService:
    """Stands in for ``TipScoring``'s instance: no model is being served."""

    def __init__(self, settings: ServingSettings) -> None:
        self.gate = Gate(settings)
        self.state = FakeState()
        self.scorer = SimpleNamespace(today=lambda: None)
        self.holder = SimpleNamespace(load=self._fail)
        self._write = threading.Lock()
        self.cursors = CursorSeal(IdentifierHasher(b"test-secret-key-0123456789abcdef"))

    def _fail(self) -> None:
        raise RegistryError("cannot load models:/x@champion: no such alias")

    def _served(self) -> None:
        raise NotReady("no model is being served: cannot load models:/x@champion")


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, str]:
    store = KeyStore(tmp_path / "keys.json")
    return {role.value: store.add(role, f"Test {role.value}")[0] for role in Role}


def _client(tmp_path: Path, **settings: Any) -> tuple[TestClient, FakeService]:
    service = FakeService(
        ServingSettings(
            state_dir=tmp_path, keys_file=tmp_path / "keys.json", **settings
        )
    )
    app = analyst_app()
    app.dependency_overrides[current_service] = lambda: service
    return TestClient(app, raise_server_exceptions=False), service


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_refusals_have_the_documented_bodies(
    tmp_path: Path, keys: dict[str, str]
) -> None:
    client, _ = _client(tmp_path)
    r = client.post("/queue", json={"query": {}})
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == 'Bearer realm="tipscore"'
    assert r.json() == {
        "error": "unauthorized",
        "message": "send a valid key: Authorization: Bearer <key>",
    }
    r = client.post("/queue", json={"query": {}}, headers={"Authorization": "Basic x"})
    assert r.status_code == 401
    r = client.post("/queue", json={"query": {}}, headers=_auth(keys["intake"]))
    assert r.status_code == 403 and "www-authenticate" not in r.headers
    assert r.json() == {
        "error": "forbidden",
        "message": "this key's role may not use /queue",
    }
    r = client.post("/admin/reload", json={}, headers=_auth(keys["analyst"]))
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    r = client.get("/model_card", headers=_auth(keys["intake"]))
    assert r.status_code == 503  # any role passes; then no model is served


def test_not_ready_names_the_holders_reason(
    tmp_path: Path, keys: dict[str, str]
) -> None:
    client, _ = _client(tmp_path)
    for method in ("GET", "POST"):
        r = client.request(
            method, "/model_card", json={}, headers=_auth(keys["analyst"])
        )
        assert r.status_code == 503
        assert r.json() == {
            "error": "not_ready",
            "message": "no model is being served: cannot load models:/x@champion",
        }


def test_service_errors_are_one_object(tmp_path: Path, keys: dict[str, str]) -> None:
    client, _ = _client(tmp_path)
    analyst, admin = _auth(keys["analyst"]), _auth(keys["admin"])
    r = client.post("/report", json={"report": {"report_id": "r-1"}}, headers=analyst)
    assert r.status_code == 404
    assert r.json() == {"error": "report_id: 'r-1' was not scored here"}
    r = client.post("/queue", json={"query": {"cursor": "bad"}}, headers=analyst)
    assert r.status_code == 400
    assert r.json() == {"error": "cursor: not a cursor this service gave out"}
    r = client.post("/admin/reload", json={}, headers=admin)
    assert r.status_code == 409
    assert r.json() == {
        "error": "cannot load models:/x@champion: no such alias; "
        "still serving the previous model"
    }


@pytest.mark.parametrize(
    ("raw", "loc", "kind"),
    [
        (b'{"query": {"priority": true}}', ["query", "priority"], "int_type"),
        (b'{"query": {"limit": 5, "extra": 1}}', ["query", "extra"], "extra_forbidden"),
        (b"[]", [], "model_type"),
        (b"null", [], "model_type"),
        (b"", ["query"], "missing"),
        (b"{not json", [], "json_invalid"),
    ],
)
def test_invalid_bodies_get_the_validation_shape(
    tmp_path: Path, keys: dict[str, str], raw: bytes, loc: list[str], kind: str
) -> None:
    """As BentoML answered: 400, a count "for Input", and ``loc`` from the body."""
    client, _ = _client(tmp_path)
    headers = {**_auth(keys["analyst"]), "content-type": "application/json"}
    r = client.post("/queue", content=raw, headers=headers)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["error"] == "1 validation error for Input"
    [detail] = body["detail"]
    assert (detail["loc"], detail["type"]) == (loc, kind)
    assert set(detail) == {"loc", "msg", "type", "url"}  # no input echoed back


@pytest.mark.reliability  # an issue-18 regression (loose bodies)
def test_top_level_extras_are_refused_and_an_empty_body_is_an_object(
    tmp_path: Path, keys: dict[str, str]
) -> None:
    """Top-level extras were ignored until issue 18 (loose bodies); now refused."""
    client, _ = _client(tmp_path)
    analyst = _auth(keys["analyst"])
    r = client.post("/queue", json={"query": {}, "other": 1}, headers=analyst)
    assert r.status_code == 400
    assert r.json()["detail"][0]["type"] == "extra_forbidden"
    r = client.post("/queue", json={"query": {}}, headers=analyst)
    assert r.status_code == 200 and r.json()["total"] == 0
    r = client.post("/model_card", content=b"", headers=analyst)
    assert r.status_code == 503  # the body passed ({}); no model behind it
    r = client.post("/model_card", json=[1], headers=analyst)
    assert r.status_code == 400 and r.json()["detail"][0]["type"] == "model_type"


def test_decisions_carry_the_keys_id_and_holder(
    tmp_path: Path, keys: dict[str, str]
) -> None:
    client, service = _client(tmp_path)
    decision = {"report_id": "r-1", "action": "accept", "reason": "other"}
    r = client.post(
        "/decide", json={"decision": decision}, headers=_auth(keys["analyst"])
    )
    assert r.status_code == 200, r.text
    # the decision, its audit row (tests/service/test_analyst_api.py) and the linkage
    # mark are written by the store in one transaction, with the caller's key id
    [(key_id, name)] = service.state.decided
    assert name == "Test analyst" and key_id == r.json()["key_id"] != "dev-mode"
    assert service.state.hidden == [True]  # an analyst key: blind review holds
    r = client.post(
        "/decide",
        json={"decision": {**decision, "report_id": "nope"}},
        headers=_auth(keys["admin"]),
    )
    assert r.status_code == 404 and r.json() == {
        "error": "report_id: 'nope' was not scored here"
    }


def test_dev_mode_takes_requests_without_a_key_but_not_a_wrong_key(
    tmp_path: Path, keys: dict[str, str]
) -> None:
    client, service = _client(tmp_path, dev_mode=True)
    decision = {"report_id": "r-1", "action": "accept", "reason": "other"}
    assert client.post("/decide", json={"decision": decision}).status_code == 200
    assert service.state.decided == [("dev-mode", "dev-mode")]
    r = client.post("/decide", json={"decision": decision}, headers=_auth("tsk_x"))
    assert r.status_code == 401


def test_body_cap_before_the_key_and_while_reading(
    tmp_path: Path, keys: dict[str, str]
) -> None:
    client, _ = _client(tmp_path, max_body_bytes=1024)
    declared = client.post("/queue", content=b"{" + b" " * 2000 + b"}")
    assert declared.status_code == 413  # refused before the (missing) key
    assert declared.json()["error"] == "body_too_large"

    def chunks() -> Any:
        for _ in range(4):
            yield b" " * 512

    streamed = client.post(
        "/queue",
        content=chunks(),
        headers={**_auth(keys["analyst"]), "content-type": "application/json"},
    )
    assert streamed.status_code == 413
    assert streamed.json() == {
        "error": "body_too_large",
        "message": "request body over 1024 bytes",
    }


def test_routing_answers_are_json(tmp_path: Path, keys: dict[str, str]) -> None:
    """Issue 16 (5): 404 and 405 answer the documented JSON shape (once plain text)."""
    client, _ = _client(tmp_path)
    r = client.get("/queue", headers=_auth(keys["analyst"]))
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    assert r.json() == {
        "error": "method_not_allowed",
        "message": "GET /queue: method not allowed; this route takes POST",
    }


def test_an_unexpected_error_is_a_500_without_details(
    tmp_path: Path, keys: dict[str, str]
) -> None:
    client, service = _client(tmp_path)
    service.scorer.today = lambda: 1 / 0
    r = client.post("/queue", json={"query": {}}, headers=_auth(keys["analyst"]))
    assert r.status_code == 500
    assert r.json() == {
        "error": "An unexpected error has occurred, please check the server log."
    }


async def _downstream(scope: Any, receive: Any, send: Any) -> None:
    status = 503 if scope["path"] == "/fail" else 200
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b"a", "more_body": True})
    await send({"type": "http.response.body", "body": b"b"})


def test_scoring_middleware_leaves_the_analyst_routes_to_the_app(
    tmp_path: Path, keys: dict[str, str]
) -> None:
    settings = ServingSettings(state_dir=tmp_path, keys_file=tmp_path / "keys.json")
    client = TestClient(AuthMiddleware(_downstream, settings))
    for path in ("/queue", "/report", "/decide", "/model_card", "/admin/reload"):
        assert client.post(path).status_code == 200, path  # the app checks these
    assert client.post("/score").status_code == 401
    assert client.post("/somewhere-else").status_code == 401
    assert client.post("/score", headers=_auth(keys["analyst"])).status_code == 403
    assert client.post("/score", headers=_auth(keys["intake"])).status_code == 200
    # another method on an analyst route: the key is checked first, as everywhere
    for method in ("GET", "PUT", "HEAD", "OPTIONS"):
        r = client.request(method, "/queue")
        assert r.status_code == 401 and "allow" not in r.headers, method
    assert client.get("/queue", headers=_auth(keys["intake"])).status_code == 403
    assert (
        client.put("/admin/reload", headers=_auth(keys["analyst"])).status_code == 403
    )
    assert client.get("/model_card").status_code == 200  # the app checks this one


def test_error_middleware_streams_successes_and_reshapes_only_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import bentoml

    sent: list[Any] = []

    async def receive() -> Any:
        return {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        sent.append(message)

    middleware = ErrorShapeMiddleware(_downstream)
    scope = {"type": "http", "path": "/score", "headers": []}
    import asyncio

    asyncio.run(middleware(scope, receive, send))
    assert [m.get("body") for m in sent] == [None, b"a", b"b"]  # passed as they came
    holder = SimpleNamespace(error="cannot load models:/x@champion")
    monkeypatch.setattr(
        bentoml, "get_current_service", lambda: SimpleNamespace(holder=holder)
    )
    sent.clear()
    start = {"type": "http.response.start", "status": 503}

    async def failing(scope: Any, receive: Any, send: Any) -> None:
        await send({**start, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b'{"error": "generic"}'})

    asyncio.run(ErrorShapeMiddleware(failing)(scope, receive, send))
    assert json.loads(sent[-1]["body"]) == {
        "error": "not_ready",
        "message": "no model is being served: cannot load models:/x@champion",
    }


def test_a_503_names_the_models_error_only_while_no_model_is_served(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import bentoml

    from serving.errors import holder_error

    holder = SimpleNamespace(current=None, error="cannot load models:/x@champion")
    monkeypatch.setattr(
        bentoml, "get_current_service", lambda: SimpleNamespace(holder=holder)
    )
    assert holder_error() == "cannot load models:/x@champion"
    holder.current = object()  # a failed reload keeps the old model serving
    assert holder_error() is None


def test_a_database_outage_is_a_503_that_says_so(
    tmp_path: Path, keys: dict[str, str]
) -> None:
    """A PostgreSQL outage was an unexpected 500 on every analyst route (an outside
    operator test, session 9); directly or as the cause of another error."""
    import psycopg

    client, service = _client(tmp_path)

    def down(*_: Any) -> Any:
        raise psycopg.OperationalError("connection refused")

    def wrapped(*_: Any) -> Any:
        try:
            down()
        except psycopg.OperationalError as exc:
            raise RuntimeError("the store failed") from exc

    for failing in (down, wrapped):
        service.state.queue = failing  # type: ignore[method-assign]
        r = client.post("/queue", json={"query": {}}, headers=_auth(keys["analyst"]))
        assert r.status_code == 503, r.text
        assert r.json()["error"] == "state_unavailable"
        assert "retry later" in r.json()["message"]


def test_an_operational_error_that_is_no_outage_stays_a_500(
    tmp_path: Path, keys: dict[str, str]
) -> None:
    """A statement too complex is a bug to see, not an outage to retry (a stranger's
    review: every OperationalError, and anything raised while handling one, was a 503)."""
    import psycopg

    client, service = _client(tmp_path)

    def too_complex(*_: Any) -> Any:
        raise psycopg.errors.lookup("54001")("statement too complex")

    def while_handling(*_: Any) -> Any:
        try:
            raise psycopg.OperationalError("connection refused")
        except psycopg.OperationalError:
            raise KeyError("a bug while handling it") from None

    for failing in (too_complex, while_handling):
        service.state.queue = failing  # type: ignore[method-assign]
        r = client.post("/queue", json={"query": {}}, headers=_auth(keys["analyst"]))
        assert r.status_code == 500, r.text


def test_readyz_says_the_database_is_down_when_the_model_is_loaded() -> None:
    from serving.errors import STATE_NOT_READY, not_ready_body

    body = not_ready_body(STATE_NOT_READY)
    assert body["message"] == STATE_NOT_READY
    assert "no model is being served" not in body["message"]
