"""State files are owner-only: the folder 0700, every file in it 0600 (issue 18, item 10).

Checked with ``os.stat`` on a fresh state folder, on one an older version left
world-readable, and on the session service's own folder.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from serving.intake import load_or_create_key
from serving.keys import KeyStore, Role
from serving.settings import ServingSettings
from serving.state.migrate import open_state
from tests.service.conftest import Deployed, auth, submission

pytestmark = pytest.mark.reliability  # an issue-18 regression: `make test-reliability`


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The usual 022 umask, under which files are created world-readable by default."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _state_files(state: Path) -> list[Path]:
    return [p for p in state.iterdir() if p.is_file()]


def _use(state: Path) -> None:
    """Open the store, write through it (so the WAL and SHM files exist), keep it open."""
    store = open_state(ServingSettings(state_dir=state))
    try:
        with store.transaction():
            pass
        names = {p.name for p in _state_files(state)}
        assert {"reports.db", "reports.db-wal", "reports.db-shm"} <= names, names
        for path in _state_files(state):
            assert _mode(path) == 0o600, (path, oct(_mode(path)))
    finally:
        store.close()


@pytest.mark.usefixtures("loose_umask")
def test_a_new_state_folder_is_owner_only(tmp_path: Path) -> None:
    state = tmp_path / "state"
    load_or_create_key(state / "hmac.key")
    KeyStore(state / "api_keys.json").add(Role.INTAKE, "t")
    _use(state)
    assert _mode(state) == 0o700
    assert {p.name for p in _state_files(state)} >= {"hmac.key", "api_keys.json"}


@pytest.mark.usefixtures("loose_umask")
def test_an_existing_world_readable_folder_is_narrowed_on_open(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o755)
    db = sqlite3.connect(state / "reports.db")
    db.execute("PRAGMA journal_mode=WAL")
    db.close()
    sqlite3.connect(state / "audit.db").close()  # an older version's audit log
    (state / "hmac.key").write_text("ab" * 32 + "\n")
    keys = KeyStore(state / "api_keys.json")
    keys.add(Role.INTAKE, "t")
    for path in [state, *_state_files(state)]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    load_or_create_key(state / "hmac.key")
    KeyStore(state / "api_keys.json").records()
    _use(state)
    assert _mode(state) == 0o700
    for path in _state_files(state):
        assert _mode(path) == 0o600, (path, oct(_mode(path)))


def test_the_running_service_keeps_its_state_owner_only(
    client: TestClient, deployed: Deployed
) -> None:
    r = client.post(
        "/score",
        json={"report": submission("perm-1")},
        headers=auth(deployed.keys["intake"]),
    )
    assert r.status_code == 200, r.text
    assert _mode(deployed.state) == 0o700
    files = _state_files(deployed.state)
    assert {"reports.db", "hmac.key", "api_keys.json"} <= {p.name for p in files}
    for path in files:
        assert _mode(path) == 0o600, (path, oct(_mode(path)))
