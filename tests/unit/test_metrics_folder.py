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
