"""Each service its own Prometheus multiprocess folder (issue 22, ``serving.bento_main``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from serving.bento_main import metrics_dir, port_of
from serving.command import serve_command


def test_the_port_is_read_from_the_serve_command() -> None:
    assert port_of(serve_command("127.0.0.1", 3456)) == 3456
    assert port_of(["serve", "x", "--port=4000"]) == 4000
    assert port_of(["serve", "x"]) == 3000  # bentoml serve's default
    assert serve_command("127.0.0.1", 1)[1:3] == ["-m", "serving.bento_main"]


def test_two_services_get_two_folders_and_bentoml_empties_only_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bentoml._internal.configuration.containers import BentoMLContainer
    from bentoml.serving import ensure_prometheus_dir

    monkeypatch.setenv("TIPSCORE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("TIPSCORE_METRICS_DIR", raising=False)
    first = metrics_dir(serve_command("127.0.0.1", 3001))
    second = metrics_dir(serve_command("127.0.0.1", 3002))
    assert first == tmp_path / "state" / "metrics" / "3001" and first != second
    first.mkdir(parents=True)
    kept = first / "counter_123.db"  # a running service's worker file
    kept.write_bytes(b"counts")
    try:
        BentoMLContainer.prometheus_multiproc_dir.set(str(second))
        assert Path(ensure_prometheus_dir()) == second  # what `bentoml serve` uses
        assert kept.read_bytes() == b"counts"  # the first service's counters stay
        (second / "old.db").write_bytes(b"x")
        ensure_prometheus_dir()  # a restart of the second empties its own folder
        assert not (second / "old.db").exists() and kept.exists()
    finally:
        BentoMLContainer.prometheus_multiproc_dir.reset()
    monkeypatch.setenv("TIPSCORE_METRICS_DIR", str(tmp_path / "mine"))
    assert metrics_dir(["serve", "--port", "9"]) == tmp_path / "mine"  # the setting


def test_the_port_is_read_from_p_and_bentoml_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BENTOML_PORT", raising=False)
    assert port_of(["serve", "x", "-p", "4001"]) == 4001
    assert port_of(["serve", "x", "-p4002"]) == 4002
    monkeypatch.setenv("BENTOML_PORT", "4003")
    assert port_of(["serve", "x"]) == 4003


def test_a_metrics_folder_with_other_files_is_refused_before_bentoml_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BentoML rmtree's the folder at start: the state folder would lose its database."""
    from serving.bento_main import main

    state = tmp_path / "state"
    state.mkdir()
    for name in ("reports.db", "hmac.key", "api_keys.json"):
        (state / name).write_bytes(b"precious")
    monkeypatch.setenv("TIPSCORE_STATE_DIR", str(state))
    monkeypatch.setenv("TIPSCORE_METRICS_DIR", str(state))
    with pytest.raises(SystemExit, match="holds files other than Prometheus"):
        main(["serve", "service:TipScoring", "--port", "3999"])
    assert sorted(p.name for p in state.iterdir()) == [
        "api_keys.json",
        "hmac.key",
        "reports.db",
    ]
    assert all(p.read_bytes() == b"precious" for p in state.iterdir())
    own = tmp_path / "metrics"
    own.mkdir()
    (own / "counter_12.db").write_bytes(b"")
    (own / "gauge_livesum_12.db").write_bytes(b"")
    from serving.bento_main import check_metrics_dir

    check_metrics_dir(own)  # a metrics folder of its own: accepted
    check_metrics_dir(tmp_path / "new")  # not there yet: accepted


SERVE_FAKED = """
import os, sys, types
from pathlib import Path
made = []

def cli(args):
    folder = Path(sys.argv[1]) / "made"
    folder.mkdir()
    (folder / "counter_1.db").write_bytes(b"")
    print(oct(folder.stat().st_mode & 0o777), oct((folder / "counter_1.db").stat().st_mode & 0o777))

fake = types.ModuleType("bentoml_cli.cli")
fake.cli = cli
sys.modules["bentoml_cli.cli"] = fake
os.umask(0o022)
from serving.bento_main import main
main(["serve", "service:TipScoring", "--port", "3999"])
"""


def test_the_server_makes_its_files_owner_only(tmp_path: Path) -> None:
    """BentoML's metrics folder was 0755 and its files 0644 (an outside test, session 9).

    In a fresh interpreter: ``main`` sets BentoML's process-wide configuration.
    """
    import os
    import subprocess
    import sys

    env = {**os.environ, "TIPSCORE_STATE_DIR": str(tmp_path / "state")}
    done = subprocess.run(
        [sys.executable, "-c", SERVE_FAKED, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["0o700", "0o600"]
