"""The direct ``POST /score`` route: it answers only what BentoML's route would answer alike.

``serving.direct`` scores a valid body itself and hands everything else, body intact, to
the BentoML route. These tests drive the middleware with a stand-in service; the real
server's answers through both routes are compared in ``tests/service/test_direct_route.py``.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import pytest
from bentoml.exceptions import InvalidArgument
from pydantic import BaseModel

from serving import direct
from serving.errors import STATE_UNAVAILABLE, NotReady, StateUnavailable


class Answer(BaseModel):
    report_id: str
    p: float


@dataclass(frozen=True)
class Sent:
    """As ``serving.service.Answer``: the response and its JSON text, made once."""

    response: Answer
    text: str


class Stub:
    """What the middleware needs of ``TipScoring``: a holder, input check, scoring."""

    def __init__(self, fail: Exception | None = None, ready: bool = True) -> None:
        self.holder = type("Holder", (), {"current": object() if ready else None})()
        self.fail = fail
        self.calls: list[tuple[Any, str]] = []

    def direct_input(self, raw: bytes) -> dict[str, Any]:
        data = json.loads(raw)  # ValueError for a body that is not JSON
        if "report_id" not in data.get("report", {}):
            raise ValueError("report_id: Field required")
        return dict(data["report"])

    async def direct(self, report: dict[str, Any], key_id: str) -> Sent:
        self.calls.append((report, key_id))
        if self.fail is not None:
            raise self.fail
        answer = Answer(report_id=report["report_id"], p=0.25)
        # the text the service made once; spaced unlike model_dump_json, so a middleware
        # serialising the response again would be seen
        return Sent(answer, json.dumps(answer.model_dump(), indent=1))


def call(
    stub: Stub | None,
    body: bytes,
    path: str = "/score",
    method: str = "POST",
    monkeypatch: pytest.MonkeyPatch | None = None,
) -> tuple[list[dict[str, Any]], list[bytes]]:
    """Run the middleware once: the messages it sent, and the bodies the inner app read."""
    sent: list[dict[str, Any]] = []
    passed: list[bytes] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        message = await receive()
        passed.append(message.get("body", b""))
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b"inner"})

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "path": path,
        "method": method,
        "headers": [],
        "state": {"key_id": "k-1"},
    }
    assert monkeypatch is not None
    monkeypatch.setattr(direct, "_service", lambda: stub)
    asyncio.run(direct.DirectScoreMiddleware(inner)(scope, receive, send))
    return sent, passed


def test_a_valid_report_is_scored_here_with_bentomls_json_and_headers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stub = Stub()
    sent, passed = call(
        stub, b'{"report": {"report_id": "r-1"}}', monkeypatch=monkeypatch
    )
    assert passed == []  # the BentoML route never saw it
    assert stub.calls == [({"report_id": "r-1"}, "k-1")]
    start, body = sent
    assert start["status"] == 200
    headers = dict(start["headers"])
    assert headers[b"content-type"] == b"application/json"
    assert headers[b"server"] == b"BentoML Service/tipscore"
    sent_text = json.dumps(Answer(report_id="r-1", p=0.25).model_dump(), indent=1)
    assert body["body"] == sent_text.encode()  # the service's text, not made again
    assert headers[b"content-length"] == str(len(body["body"])).encode()


@pytest.mark.parametrize(
    "body", [b'{"report": {}}', b"not json", b'{"report": {"esp": 5}}']
)
def test_an_invalid_body_goes_to_the_bentoml_route_intact(
    monkeypatch: pytest.MonkeyPatch, body: bytes
) -> None:
    stub = Stub()
    sent, passed = call(stub, body, monkeypatch=monkeypatch)
    assert passed == [body]
    assert stub.calls == []
    assert sent[0]["status"] == 299


@pytest.mark.parametrize(
    ("path", "method"), [("/score_batch", "POST"), ("/score", "GET"), ("/", "POST")]
)
def test_other_routes_and_methods_pass_through(
    monkeypatch: pytest.MonkeyPatch, path: str, method: str
) -> None:
    body = b'{"report": {"report_id": "r-1"}}'
    sent, passed = call(Stub(), body, path, method, monkeypatch=monkeypatch)
    assert passed == [body] and sent[0]["status"] == 299


def test_without_a_scoring_service_the_bentoml_route_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = b'{"report": {"report_id": "r-1"}}'
    sent, passed = call(None, body, monkeypatch=monkeypatch)
    assert passed == [body] and sent[0]["status"] == 299


def test_no_model_means_no_service_to_score_with(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``_service`` declines when no model is loaded, so BentoML's 503 is the answer."""
    stub = Stub(ready=False)
    monkeypatch.setattr(direct.bentoml, "get_current_service", lambda: stub)
    assert direct._service() is None
    monkeypatch.setattr(direct.bentoml, "get_current_service", lambda: Stub())
    assert direct._service() is not None


@pytest.mark.parametrize(
    ("error", "status", "text"),
    [
        (NotReady("no model is being served: gone"), 503, "An unexpected error"),
        (InvalidArgument("report_id: bad"), 400, "report_id: bad"),
        (RuntimeError("disk full at /secret/path"), 500, "An unexpected error"),
        # a database outage says so (an outside operator test: a 500 before, session 9)
        (StateUnavailable(STATE_UNAVAILABLE), 503, "state_unavailable"),
    ],
)
def test_errors_while_scoring_are_answered_as_bentomls_wrapper_answers(
    monkeypatch: pytest.MonkeyPatch, error: Exception, status: int, text: str
) -> None:
    sent, passed = call(
        Stub(fail=error), b'{"report": {"report_id": "r-1"}}', monkeypatch=monkeypatch
    )
    assert passed == []  # not scored twice
    assert sent[0]["status"] == status
    body = json.loads(sent[1]["body"])
    assert text in body["error"]
    assert "/secret/path" not in sent[1]["body"].decode()
