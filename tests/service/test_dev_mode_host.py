"""Dev mode only on 127.0.0.1: settings read once by ``tipscore serve``; the worker checks its
own socket (issue 18, item 2).

Before: ``tipscore serve --host 127.0.0.2`` checked one reading of the settings, the worker
made another, and with ``TIPSCORE_DEV_MODE=true`` where only the worker looked, ``/queue``
and ``/admin/reload`` answered 200 without a key.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from serving import settings as serving_settings
from serving.auth import AuthMiddleware
from serving.body_timeout import BodyTimeoutMiddleware
from serving.dev_mode import DevModeRefused, check_dev_mode, listening_hosts
from serving.json_bodies import JsonBodyMiddleware
from tipscore.cli import app

pytestmark = pytest.mark.reliability  # an issue-18 regression: `make test-reliability`


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home whose ``.env`` turns dev mode on, and a working folder whose ``.env`` does not."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".env").write_text("TIPSCORE_DEV_MODE=true\nTIPSCORE_TOP_N=7\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / ".env").write_text("TIPSCORE_DEV_MODE=false\n")
    monkeypatch.setenv("TIPSCORE_HOME", str(home))
    monkeypatch.delenv("TIPSCORE_DEV_MODE", raising=False)
    monkeypatch.delenv("TIPSCORE_TOP_N", raising=False)
    monkeypatch.chdir(elsewhere)
    return home


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, str]]:
    """The environments ``tipscore serve`` would start the service with (no exec)."""
    seen: list[dict[str, str]] = []

    def fake_exec(file: str, args: Any, env: dict[str, str]) -> None:
        seen.append(dict(env))

    monkeypatch.setattr(os, "execvpe", fake_exec)
    return seen


def test_serve_refuses_the_homes_dev_mode_on_another_host(
    home: Path, started: list[dict[str, str]]
) -> None:
    result = CliRunner().invoke(app, ["serve", "--host", "127.0.0.2"])
    assert result.exit_code != 0 and "127.0.0.1" in result.output
    assert started == []


def test_serve_hands_the_worker_the_settings_it_read(
    home: Path, started: list[dict[str, str]]
) -> None:
    result = CliRunner().invoke(app, ["serve", "--host", "127.0.0.1"])
    assert result.exit_code == 0, result.output
    (env,) = started
    assert env["TIPSCORE_DEV_MODE"] == "true" and env["TIPSCORE_TOP_N"] == "7"
    assert env["TIPSCORE_HOME"] == str(home)
    assert [k for k in env if k.upper() == "TIPSCORE_DEV_MODE"] == ["TIPSCORE_DEV_MODE"]


def test_serve_pins_dev_mode_off_too(home: Path, started: list[dict[str, str]]) -> None:
    (home / ".env").write_text("TIPSCORE_TOP_N=7\n")
    result = CliRunner().invoke(app, ["serve", "--host", "127.0.0.2"])
    assert result.exit_code == 0, result.output
    assert started[0]["TIPSCORE_DEV_MODE"] == "false"  # a later .env cannot turn it on


def test_the_worker_refuses_dev_mode_on_any_host_but_127_0_0_1() -> None:
    for hosts in ({"127.0.0.2"}, {"0.0.0.0"}, {"127.0.0.1", "10.0.0.5"}):
        with pytest.raises(DevModeRefused, match=r"only listens on 127\.0\.0\.1"):
            check_dev_mode(True, hosts)
    check_dev_mode(True, {"127.0.0.1"})
    check_dev_mode(False, {"0.0.0.0"})
    check_dev_mode(False, set())


def test_the_worker_sees_the_host_it_listens_on() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.2", 0))
        listener.listen()
        assert "127.0.0.2" in listening_hosts()
        with pytest.raises(DevModeRefused):
            check_dev_mode(True)


def test_dev_mode_fails_closed_without_a_listening_socket(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No socket proves nothing: dev mode is refused, with a log line saying why."""
    with pytest.raises(DevModeRefused, match="no listening socket"):
        check_dev_mode(True, set())
    assert "no listening socket" in caplog.text
    assert (
        listening_hosts() == set()
    )  # this test process listens nowhere: the real case
    with pytest.raises(DevModeRefused, match="no listening socket"):
        check_dev_mode(True)


def test_dev_mode_is_refused_when_the_sockets_cannot_be_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import psutil

    def denied(self: object, kind: str = "inet") -> list[object]:
        raise psutil.AccessDenied(pid=os.getpid())

    monkeypatch.setattr(psutil.Process, "net_connections", denied)
    with pytest.raises(DevModeRefused, match="cannot be read"):
        check_dev_mode(True)
    check_dev_mode(False)  # off: nothing to prove


@pytest.fixture
def fresh_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    """No settings read yet; the session's reading (the in-process service's) comes back."""
    monkeypatch.setattr(serving_settings._Current, "settings", None)


def test_the_middlewares_use_the_services_one_reading(
    home: Path, fresh_reading: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read once at the worker's start; a later ``.env`` or variable changes no part."""
    (home / ".env").write_text(
        "TIPSCORE_DEV_MODE=true\nTIPSCORE_BODY_TIMEOUT_S=7\nTIPSCORE_MAX_BATCH=3\n"
    )
    loaded = serving_settings.load()
    (home / ".env").write_text("TIPSCORE_DEV_MODE=false\nTIPSCORE_BODY_TIMEOUT_S=9\n")
    monkeypatch.setenv("TIPSCORE_MAX_BATCH", "5")
    auth_mw, timed, bodies = (
        AuthMiddleware(_app),
        BodyTimeoutMiddleware(_app),
        JsonBodyMiddleware(_app),
    )
    assert serving_settings.current() is loaded
    assert auth_mw.gate.settings is loaded and auth_mw.gate.settings.dev_mode
    assert timed.timeout == 7 and bodies.settings is loaded
    assert bodies.settings.max_batch == 3


def test_no_part_of_the_service_reads_the_settings_itself() -> None:
    """``ServingSettings(...)`` is built in ``serving/settings.py`` only (``load``)."""
    serving = Path(serving_settings.__file__).parent
    readers = sorted(
        str(path.relative_to(serving))
        for path in serving.rglob("*.py")
        if path.name != "settings.py"
        and "ServingSettings("
        in path.read_text(encoding="utf-8").replace("``ServingSettings(...)``", "")
    )
    assert readers == []


async def _app(scope: object, receive: object, send: object) -> None:
    """A downstream app that is never called here."""
