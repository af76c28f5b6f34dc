"""docs/report-contract.md documents every contract field, warning and error code."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from features.schema import FileMeta, LinkageKeys, RawIdentifiers, TipReport

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "report-contract.md").read_text()


def field_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    paths = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if (
            isinstance(annotation, type)
            and issubclass(annotation, BaseModel)
            and annotation not in (LinkageKeys,)
        ):
            paths += field_paths(annotation, f"{prefix}{name}.")
        else:
            paths.append(prefix + name)
    return paths


def test_every_report_field_is_documented() -> None:
    for path in field_paths(TipReport) + field_paths(FileMeta):
        assert f"`{path}`" in DOC, path
    for name in list(LinkageKeys.model_fields) + list(RawIdentifiers.model_fields):
        assert f"`{name}`" in DOC, name


def test_every_warning_and_error_code_is_documented() -> None:
    source = "\n".join(p.read_text() for p in (ROOT / "features").rglob("*.py"))
    codes = set(re.findall(r'warn\(\s*"([a-z_]+)"', source))
    codes |= set(re.findall(r'XmlIntakeError\(\s*"([a-z_]+)"', source))
    assert len(codes) > 20
    for code in codes:
        assert f"`{code}`" in DOC, code


def test_every_history_column_is_documented() -> None:
    from training.data_format import history_schema, provenance_schema

    doc = (ROOT / "docs" / "training-data.md").read_text()
    for name in history_schema(with_p_true=True).names + provenance_schema().names:
        assert f"`{name}`" in doc, name


def test_agreement_metric_keys_are_documented() -> None:
    doc = (ROOT / "docs" / "training-data.md").read_text()
    for window in ("test", "eval"):
        for name in ("rows", "agreement", "kappa", "recorded_override_rate"):
            assert f"`{window}_analyst_{name}`" in doc, (window, name)
