"""The one feature path: spec order and dtypes, fixed categories, one row either way."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pyarrow.parquet as pq
import pytest

from features.extract import (
    FeatureInputError,
    build_columns,
    build_features,
    country_category,
    esp_category,
    history_rows,
    model_input,
    to_matrix,
)
from features.flat import FLAT_COLUMNS, flat_frame, flatten
from features.linkage import history_frame_features
from features.schema import TipReport
from features.spec import FEATURE_NAMES, FEATURE_SPEC, FEATURES
from serving.explain import LazyRow, sentence
from tests.factories import make_report, report_columns, reports_to_frame

DTYPES = {"bool": "bool", "int": "int64", "float": "float64"}


def rich_report(report_id: str = "r-2", **overrides: object):  # type: ignore[no-untyped-def]
    files = [
        {"media_kind": "video", "viewed_by_esp": True, "industry_classification": "B1"},
        {"media_kind": "image", "viewed_by_esp": None, "annotations": {"infant": True}},
        {"media_kind": "image", "viewed_by_esp": False, "hash_match": "known"},
        {"media_kind": "image", "industry_classification": "A2", "hash_match": "novel"},
    ]
    base = {
        "report_id": report_id,
        "files": files,
        "esp": "twitter",
        "location": {"country_code": "FR", "source": "ip_derived"},
        "reported_person": {"count": 1, "upload_ip": True, "ip_events": 2},
        "victims": {"count": 1, "minor_stated": True},
    }
    return make_report(**{**base, **overrides})


def test_frame_follows_the_spec() -> None:
    frame = reports_to_frame([rich_report(), make_report()])
    assert tuple(frame.columns) == FEATURE_NAMES
    for feature in FEATURE_SPEC:
        column = frame[feature.name]
        if feature.kind == "category":
            assert isinstance(column.dtype, pd.CategoricalDtype)
            assert tuple(column.cat.categories) == feature.categories
        else:
            assert column.dtype == DTYPES[feature.kind], feature.name


def test_file_fields_are_aggregated_per_report() -> None:
    row = reports_to_frame([rich_report()]).iloc[0]
    assert row["files_count"] == 4
    assert row["files_video"] == 1
    assert row["files_not_viewed"] == 3  # missing flag counts as not viewed
    assert row["files_tag_infant"] == 1
    assert row["files_worst_class"] == "A2"
    assert row["files_hash_known"] == 1 and row["files_hash_novel"] == 1
    assert row["esp"] == "X Corp"
    assert row["country"] == "other"
    assert row["location_source"] == "ip_derived"
    assert row["incident_lag_days"] == pytest.approx(2 + 4 / 24)


def test_no_files_means_worst_class_none() -> None:
    assert reports_to_frame([make_report()]).iloc[0]["files_worst_class"] == "none"


@pytest.mark.parametrize(
    ("name", "public", "expected"),
    [
        ("Meta", False, "Facebook"),
        ("X Corp.", False, "X Corp"),
        ("  discord ", False, "Discord"),
        ("Tiny Forum LLC", False, "other"),
        (None, False, "other"),
        (None, True, "none"),
    ],
)
def test_esp_names_map_to_fixed_categories(
    name: str | None, public: bool, expected: str
) -> None:
    assert esp_category(name, public) == expected


def test_country_categories() -> None:
    assert country_category("US") == "US"
    assert country_category("FR") == "other"
    assert country_category(None) == "unknown"


def test_public_reports_have_esp_none() -> None:
    frame = reports_to_frame([make_report(reporter_type="public", esp=None)])
    assert frame.iloc[0]["esp"] == "none"
    assert bool(frame.iloc[0]["reporter_public"])


def flat_with_history(reports: list) -> pd.DataFrame:  # type: ignore[type-arg]
    flat = flat_frame(reports)
    return flat.assign(**history_frame_features(flat))


def test_same_rows_from_contracts_and_from_a_parquet_history(tmp_path: Path) -> None:
    reports = [rich_report(f"r-{i}") for i in range(3)] + [make_report(report_id="r-9")]
    path = tmp_path / "history.parquet"
    flat_frame(reports).to_parquet(path)
    stored = pd.read_parquet(path)
    from_history = build_features(stored.assign(**history_frame_features(stored)))
    history = history_frame_features(flat_frame(reports))
    pdt.assert_frame_equal(reports_to_frame(reports, history), from_history)


def test_model_input_is_one_matrix_from_a_table_a_frame_or_columns(
    tmp_path: Path,
) -> None:
    reports = [rich_report(f"r-{i}") for i in range(3)] + [make_report(report_id="r-9")]
    path = tmp_path / "history.parquet"
    flat_frame(reports).to_parquet(path)
    table = pq.read_table(path)
    links = {  # any linkage counts: the path must carry them into the matrix
        name: np.arange(4, dtype=np.int64) * (i + 1)
        for i, name in enumerate(history_frame_features(flat_frame(reports)))
    }
    expected = build_columns(report_columns(reports, links))
    from_table = model_input(table, links)
    assert list(from_table.columns) == list(expected)  # built columns, for reasons
    for name, values in expected.items():
        np.testing.assert_array_equal(from_table.columns[name], values)
    frame = history_rows(table)
    assert not [name for name in frame.columns if name.startswith("link_")]
    same = [
        model_input(history_rows(table, links)),
        model_input(frame, links),
        model_input(report_columns(reports), links),
        model_input(report_columns(reports, links)),
    ]
    for inputs in same:
        np.testing.assert_array_equal(inputs.matrix, from_table.matrix)
    np.testing.assert_array_equal(from_table.matrix, to_matrix(expected))
    for name, counts in links.items():
        np.testing.assert_array_equal(
            from_table.matrix[:, FEATURE_NAMES.index(name)], counts
        )


def test_one_report_alone_gives_its_row_in_a_batch() -> None:
    reports = [
        rich_report("a"),
        make_report(report_id="b"),
        rich_report("c", esp="Kik"),
    ]
    batch = reports_to_frame(reports)
    for index, report in enumerate(reports):
        alone = reports_to_frame([report])
        pdt.assert_frame_equal(alone, batch.iloc[[index]].reset_index(drop=True))


def test_missing_column_is_named() -> None:
    flat = flat_with_history([make_report()]).drop(columns=["files_count"])
    with pytest.raises(FeatureInputError, match="column 'files_count': missing"):
        build_features(flat)


def test_unknown_category_value_is_named() -> None:
    flat = flat_with_history([make_report()])
    flat["incident_type"] = "Theft"
    with pytest.raises(
        FeatureInputError, match="column 'incident_type': value 'Theft'"
    ):
        build_features(flat)


def test_missing_boolean_is_refused() -> None:
    flat = flat_with_history([make_report()])
    flat["esp_escalated"] = pd.array([None], dtype="boolean")
    with pytest.raises(
        FeatureInputError, match="'esp_escalated': booleans may not be missing"
    ):
        build_features(flat)


def test_flat_row_has_every_column() -> None:
    assert set(flatten(rich_report())) == set(FLAT_COLUMNS)


def described_rows(reports: list[TipReport]) -> list[LazyRow]:
    """The rows the service words its reasons from (built columns, category labels)."""
    columns = model_input(report_columns(reports)).columns
    return [LazyRow(columns, i) for i in range(len(reports))]


def test_descriptions_use_the_rows_values() -> None:
    row = described_rows([rich_report()])[0]
    names = ["files_not_viewed", "rp_upload_ip", "esp"]
    text = [sentence(name, row, 1.0) for name in names]
    assert text == [
        "3 of 4 files were not viewed by the platform: raises priority",
        "Reporter supplied an upload IP address: raises priority",
        "Reporting platform: X Corp: raises priority",
    ]
    assert sentence("esp", row, -1.0) == "Reporting platform: X Corp: lowers priority"


def test_every_feature_can_be_described() -> None:
    for row in described_rows([rich_report(), make_report()]):
        sentences = [sentence(name, row, 1.0) for name in FEATURE_NAMES]
        assert all(s and "{" not in s for s in sentences)
        # the spec's own sentence every time, never the fallback "name = value"
        assert not [
            s
            for n, s in zip(FEATURE_NAMES, sentences, strict=True)
            if s.startswith(f"{n} = ")
        ]
    assert set(FEATURES) == set(FEATURE_NAMES)


def test_vectorised_path_handles_numpy_columns() -> None:
    flat = flat_with_history([rich_report(), make_report()])
    as_arrays = {name: flat[name].to_numpy() for name in flat.columns}
    as_arrays["esp"] = np.array(["twitter", "Discord"], dtype=object)
    pdt.assert_frame_equal(build_features(as_arrays), build_features(flat))


def test_negative_count_is_refused() -> None:
    flat = flat_with_history([make_report()])
    flat["files_count"] = -1
    with pytest.raises(
        FeatureInputError, match="'files_count': counts may not be negative"
    ):
        build_features(flat)
