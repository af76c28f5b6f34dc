"""The per-report limits are settings, and the contract's version says they changed.

Issue 18 lowered the per-report limits in code without bumping ``SCHEMA_VERSION``; the
review asked for the limits as documented settings (the contract's values as defaults and
ceilings) that both intakes and the OpenAPI document's ``maxItems`` follow.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from features.report_limits import ReportLimits
from features.schema import MAX_FILE_HASHES, MAX_FILES, MAX_IDENTIFIERS, SCHEMA_VERSION
from features.xml.limits import check_limits
from features.xml.parties import RawBag
from features.xml.safe import XmlIntakeError
from serving import settings as serving_settings
from serving.json_bodies import refusal
from serving.settings import ServingSettings

pytestmark = pytest.mark.reliability  # an issue-18 regression: `make test-reliability`

ROOT = Path(__file__).resolve().parents[2]
LOWER = {
    "max_files_per_report": 2,
    "max_identifiers_per_kind": 3,
    "max_file_hashes_per_report": 4,
}


def test_the_contracts_version_was_bumped_and_is_documented() -> None:
    assert SCHEMA_VERSION == "2.0"  # 1.0 before the lowered limits and the new rules
    title = (ROOT / "docs" / "report-contract.md").read_text().splitlines()[0]
    assert f"schema version {SCHEMA_VERSION}" in title


def test_the_limits_default_to_the_contract_and_may_only_be_lowered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert ServingSettings().report_limits == ReportLimits(
        MAX_FILES, MAX_IDENTIFIERS, MAX_FILE_HASHES
    )
    assert not ReportLimits().lowered
    with pytest.raises(ValidationError):
        ServingSettings(max_identifiers_per_kind=MAX_IDENTIFIERS + 1)
    with pytest.raises(ValueError, match="per-report limit"):
        ReportLimits(files=0)
    monkeypatch.setenv("TIPSCORE_MAX_FILES_PER_REPORT", "5")
    assert ServingSettings().report_limits == ReportLimits(files=5)


def _report(ips: int = 1, files: int = 1) -> dict[str, Any]:
    return {
        "report_id": "r-1",
        "identifiers": {"ips": [f"198.51.100.{i}" for i in range(ips)]},
        "files": [{"media_kind": "image"}] * files,
    }


def test_the_json_intake_holds_reports_to_lowered_limits() -> None:
    lowered = ServingSettings(**LOWER)
    body = json.dumps({"report": _report(ips=4)}).encode()
    found = refusal("/score", body, lowered)
    assert found == {"error": "report.identifiers.ips: at most 3 per report, got 4"}
    assert refusal("/score", body, ServingSettings()) is None  # the schema's limits
    batch = json.dumps({"reports": [_report(), _report(files=3)]}).encode()
    found = refusal("/score_batch", batch, lowered)
    assert found == {"error": "reports[1].files: at most 2 per report, got 3"}
    assert (
        refusal("/score_batch", json.dumps({"reports": [_report()]}).encode(), lowered)
        is None
    )


def test_the_xml_intake_holds_reports_to_lowered_limits() -> None:
    bag = RawBag(ips=["198.51.100.1", "198.51.100.2"])
    check_limits(bag, [])  # the contract's limits
    with pytest.raises(
        XmlIntakeError, match="at most 1 distinct IP addresses"
    ) as caught:
        check_limits(bag, [], ReportLimits(identifiers=1))
    assert caught.value.code == "too_many_identifiers"
    with pytest.raises(XmlIntakeError) as caught:
        check_limits(RawBag(), [object()] * 3, ReportLimits(files=2))
    assert caught.value.code == "too_many_files"


def _max_items(spec: dict[str, Any]) -> dict[str, int]:
    schemas = spec["components"]["schemas"]
    found: dict[str, int] = {}
    for name, schema in schemas.items():
        for prop, value in (schema.get("properties") or {}).items():
            if "maxItems" in value:
                found[f"{name}.{prop}"] = value["maxItems"]
    return found


def _document() -> dict[str, Any]:
    from serving.analyst.app import request_components
    from serving.openapi_doc import complete
    from serving.service import TipScoring

    return complete(TipScoring.openapi_spec.asdict(), request_components())


def test_the_openapi_document_carries_the_limits_in_force(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(serving_settings._Current, "settings", ServingSettings())
    default = _document()
    assert default["info"]["x-contract-version"] == SCHEMA_VERSION
    items = _max_items(default)
    assert MAX_FILES in items.values() and MAX_IDENTIFIERS in items.values()
    monkeypatch.setattr(serving_settings._Current, "settings", ServingSettings(**LOWER))
    lowered = _max_items(_document())
    changed = {k: (items[k], lowered[k]) for k in items if items[k] != lowered[k]}
    assert changed, "no maxItems follows the settings"
    for key, (was, now) in changed.items():
        prop = key.rsplit(".", 1)[1]
        if prop in ("files", "file_details_xml"):
            assert (was, now) == (MAX_FILES, 2), key
        elif prop == "file_hashes":
            assert (was, now) == (MAX_FILE_HASHES, 4), key
        else:
            assert now == 3 * (was // MAX_IDENTIFIERS), key
    props = {key.rsplit(".", 1)[1] for key in changed}
    assert {"files", "file_details_xml", "ips", "file_hashes", "accounts"} <= props
