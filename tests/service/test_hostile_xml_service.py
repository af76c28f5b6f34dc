"""The hostile XML corpus sent to ``/score_xml``: every one a fast 4xx, no file, no socket.

The parser-level proof is in tests/unit/test_xml_hostile.py; this one goes through HTTP,
the key check, the body cap, JSON decoding and the service, as an attacker would.
"""

from __future__ import annotations

import json
import socket
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.service.conftest import Deployed, auth
from tests.unit.test_xml_hostile import CASES


def _body(document: bytes) -> bytes:
    """The JSON body carrying the document (raw bytes where JSON cannot carry them)."""
    try:
        text = document.decode("utf-8")
    except UnicodeDecodeError:  # invalid UTF-8 / UTF-16: put the raw bytes in the body
        return b'{"submission": {"report_xml": "' + document + b'", "esp": "X"}}'
    return json.dumps({"submission": {"report_xml": text, "esp": "X"}}).encode()


@pytest.fixture
def watched(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Files opened (beyond imports) and connections attempted while a request runs."""
    events: list[str] = []
    active = [False]

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if not active[0]:
            return
        if event == "open" and isinstance(args[0], str):
            if not args[0].endswith((".py", ".pyc", ".so")):
                events.append(f"open {args[0]}")
        elif event in {"socket.connect", "socket.getaddrinfo"}:
            events.append(f"{event} {args[1:]!r}")

    sys.addaudithook(hook)
    real_connect = socket.socket.connect

    def connect(sock: socket.socket, address: Any) -> Any:
        if active[0]:
            events.append(f"connect {address!r}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    events.append("armed")
    active[0] = True
    yield events
    active[0] = False


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_submission_is_refused_fast_without_io(
    client: TestClient, deployed: Deployed, watched: list[str], name: str
) -> None:
    body = _body(CASES[name][0])
    headers = {**auth(deployed.keys["intake"]), "content-type": "application/json"}
    started = time.perf_counter()
    r = client.post("/score_xml", content=body, headers=headers)
    elapsed = time.perf_counter() - started
    assert 400 <= r.status_code < 500, (name, r.status_code, r.text[:300])
    # a bound on blow-ups (entity expansion would take minutes), not a speed target: wide
    # enough for a busy 2-core CI machine (too_many_elements took 1.1 s under load)
    assert elapsed < 5.0, f"{name} took {elapsed:.2f}s"
    keys_file = f"open {deployed.state / 'api_keys.json'}"  # the key check's own file
    assert [e for e in watched if e != keys_file] == ["armed"], watched
    assert "root:" not in r.text  # nothing of /etc/passwd in the answer


def test_the_watch_sees_a_file_read_and_a_connection(
    watched: list[str], tmp_path: Any
) -> None:
    """The watch itself works: otherwise the test above could not fail."""
    (tmp_path / "secret.txt").write_text("x")
    watched.clear()
    (tmp_path / "secret.txt").read_text()
    with socket.socket() as sock:
        sock.settimeout(0.2)
        with pytest.raises(ConnectionRefusedError):
            sock.connect(("127.0.0.1", 9))
    assert any("secret.txt" in e for e in watched)
    assert any(e.startswith("connect") for e in watched)
