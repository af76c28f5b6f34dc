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


def test_the_reliability_selection_holds_the_service_regressions(
    request: pytest.FixtureRequest,
) -> None:
    """The marker really selects: the items pytest collected carry it (folder or file)."""
    marked = {
        Path(str(item.fspath)).name
        for item in request.session.items
        if item.get_closest_marker("reliability") is not None
    }
    if len(request.session.items) < 50:  # run alone: only this file was collected
        pytest.skip("needs the collection of the whole suite")
    assert {
        "test_metrics_cardinality.py",
        "test_unloadable_model.py",
        "test_keys_file_broken.py",
        "test_input_hardening_api.py",
        "test_state_permissions.py",
        "test_access_log.py",
        "test_dev_mode_host.py",
    } <= marked
