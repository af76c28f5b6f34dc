"""Every regression test of the outside security test (issue 18) runs in `make test-reliability`.

``make test-reliability`` runs ``pytest -m reliability``; the tests of issue 18 live in
``tests/service`` and ``tests/unit`` too (they need the in-process service or are fast), so
they carry the ``reliability`` marker beside their folder's. A new file that names the issue
and forgets the marker fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.reliability  # an issue-18 regression: `make test-reliability`

TESTS = Path(__file__).resolve().parents[1]
MARK = "pytest.mark.reliability"


def _issue_18_files() -> list[Path]:
    return [
        path
        for path in sorted(TESTS.rglob("test_*.py"))
        if "issue 18" in path.read_text(encoding="utf-8").lower()
    ]


def test_every_file_naming_issue_18_carries_the_reliability_marker() -> None:
    files = _issue_18_files()
    assert len(files) >= 10  # the search itself works
    unmarked = [
        str(path.relative_to(TESTS))
        for path in files
        if path.parent.name != "reliability"
        and MARK not in path.read_text(encoding="utf-8")
    ]
    assert unmarked == []


@pytest.mark.parametrize(
    "module",
    [
        "test_metrics_cardinality",
        "test_unloadable_model",
        "test_keys_file_broken",
        "test_input_hardening_api",
        "test_state_permissions",
        "test_access_log",
        "test_dev_mode_host",
        "test_slow_clients_guard",
    ],
)
def test_the_service_regressions_are_marked_for_the_whole_module(module: str) -> None:
    """The marker is the module's own (``pytestmark``), so every test in it is selected."""
    import importlib

    loaded = importlib.import_module(f"tests.service.{module}")
    marks = getattr(loaded, "pytestmark", [])
    marks = marks if isinstance(marks, list) else [marks]
    assert "reliability" in {mark.name for mark in marks}
