"""The one feature path: flat report rows in, the typed model frame out.

``build_features`` is vectorised (numpy over whole columns; categoricals mapped once per
distinct value), so training calls it on millions of rows and serving on one, through the
same code. ``model_input`` is the one way to the booster's matrix, from a history table or
flat columns plus their linkage features: training, the Dask engine, batch rescoring and
the service all call it. A contract reaches it as flat columns (``features.flat.flat_columns``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from features.spec import FEATURE_SPEC, FEATURES, FeatureDef
from features.vocab import COUNTRY_CATEGORIES, ESP_ALIASES, ESP_CATEGORIES

_ALNUM = re.compile(r"[^a-z0-9]")
_KNOWN_ESPS = {_ALNUM.sub("", e.lower()): e for e in ESP_CATEGORIES[:-2]}
_KNOWN_COUNTRIES = frozenset(COUNTRY_CATEGORIES[:-2])
_SECONDS_PER_DAY = 86_400.0


class FeatureInputError(ValueError):
    """Flat input the feature path cannot use: names the column and what was wrong."""


def esp_category(name: str | None, public: bool) -> str:
    """Map an ESP's name, however spelled, to its category (``other``/``none`` if unknown)."""
    if name is None:
        return "none" if public else "other"
    key = _ALNUM.sub("", name.lower())
    return ESP_ALIASES.get(key) or _KNOWN_ESPS.get(key) or "other"


def country_category(code: str | None) -> str:
    """Map a country code to its category (``unknown`` if absent, ``other`` if not named)."""
    if code is None:
        return "unknown"
    return code if code in _KNOWN_COUNTRIES else "other"


_DTYPES = {
    "bool": np.dtype(bool),
    "int": np.dtype(np.int64),
    "float": np.dtype(np.float64),
}
CATEGORY_DTYPES: dict[str, pd.CategoricalDtype] = {
    f.name: pd.CategoricalDtype(list(f.categories))
    for f in FEATURE_SPEC
    if f.categories
}
"""The fixed pandas dtype of every categorical feature."""


def _array(flat: Mapping[str, Any], name: str) -> np.ndarray:
    """One flat column as a numpy array (tz-aware times become naive UTC datetime64)."""
    try:
        column = flat[name]
    except KeyError as exc:
        raise FeatureInputError(
            f"column {name!r}: missing from the flat input"
        ) from exc
    if isinstance(column, pd.Series):
        if isinstance(column.dtype, pd.DatetimeTZDtype):
            column = column.dt.tz_convert("UTC").dt.tz_localize(None)
        values: np.ndarray = column.to_numpy()
        return values
    return np.asarray(column)


def _missing(values: np.ndarray) -> np.ndarray:
    if values.dtype == object:
        return np.asarray(pd.isna(values), dtype=bool)
    if values.dtype.kind == "f":
        return np.asarray(np.isnan(values), dtype=bool)
    if values.dtype.kind == "M":
        return np.asarray(np.isnat(values), dtype=bool)
    return np.zeros(len(values), dtype=bool)


def _codes(
    values: np.ndarray, mapper: Callable[[Any], str], feature: FeatureDef
) -> np.ndarray:
    """Map a column to fixed category codes, calling ``mapper`` once per distinct value."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    lookup = {c: i for i, c in enumerate(feature.categories)}
    targets = [mapper(u) for u in uniques]
    # code -1 (missing) indexes the last slot: map None there only if it occurs.
    targets.append(mapper(None) if (codes < 0).any() else feature.categories[0])
    try:
        mapped = np.array([lookup[t] for t in targets], dtype=np.int16)
    except KeyError as exc:
        raise FeatureInputError(
            f"column {feature.name!r}: value {exc.args[0]!r} is not one of "
            f"{list(feature.categories)}"
        ) from exc
    result: np.ndarray = mapped[codes]
    return result


def _ints(flat: Mapping[str, Any], name: str) -> np.ndarray:
    values = _array(flat, name)
    if _missing(values).any():
        raise FeatureInputError(f"column {name!r}: counts may not be missing")
    try:
        ints: np.ndarray = values.astype(np.int64)
    except (TypeError, ValueError) as exc:
        raise FeatureInputError(f"column {name!r}: expected integers") from exc
    if (ints < 0).any():
        raise FeatureInputError(f"column {name!r}: counts may not be negative")
    return ints


def _bools(flat: Mapping[str, Any], name: str) -> np.ndarray:
    values = _array(flat, name)
    if _missing(values).any():
        raise FeatureInputError(f"column {name!r}: booleans may not be missing")
    bools: np.ndarray = values.astype(bool)
    return bools


def _epoch_seconds(flat: Mapping[str, Any], name: str) -> np.ndarray:
    values = _array(flat, name)
    if values.dtype.kind != "M":
        values = pd.to_datetime(values, utc=True).tz_localize(None).to_numpy()
    if np.isnat(values).any():
        raise FeatureInputError(f"column {name!r}: times may not be missing")
    seconds: np.ndarray = values.astype("datetime64[us]").astype(np.int64) / 1e6
    return seconds


def _worst_class(flat: Mapping[str, Any], n: int) -> np.ndarray:
    stacked = np.stack(
        [_ints(flat, f"files_class_{c}") > 0 for c in ("a1", "a2", "b1", "b2")]
        + [np.ones(n, dtype=bool)]
    )
    codes: np.ndarray = stacked.argmax(axis=0).astype(np.int16)
    return codes


def _derived(flat: Mapping[str, Any]) -> dict[str, np.ndarray]:
    public = _array(flat, "reporter_type") == "public"
    esp = _codes(_array(flat, "esp"), lambda v: esp_category(v, False), FEATURES["esp"])
    esp[public] = FEATURES["esp"].categories.index("none")
    lag = _epoch_seconds(flat, "received_at") - _epoch_seconds(flat, "incident_at")
    return {
        "reporter_public": public,
        "esp": esp,
        "country": _codes(
            _array(flat, "country_code"), country_category, FEATURES["country"]
        ),
        "incident_lag_days": np.clip(lag / _SECONDS_PER_DAY, 0.0, None),
        "files_not_viewed": _ints(flat, "files_count") - _ints(flat, "files_viewed"),
        "files_worst_class": _worst_class(flat, len(public)),
    }


def build_columns(flat: Mapping[str, Any] | pd.DataFrame) -> dict[str, np.ndarray]:
    """Flat rows → one numpy array per feature (categoricals as ``int16`` codes).

    The numpy core of the feature path: ``build_features`` wraps it in a typed frame, and a
    caller that needs a plain matrix (e.g. single-row serving) can stack it directly.

    Raises:
        FeatureInputError: a needed column is missing or holds unusable values.
    """
    out = _derived(flat)
    for feature in FEATURE_SPEC:
        if feature.name in out:
            continue
        if feature.kind == "category":
            out[feature.name] = _codes(_array(flat, feature.name), lambda v: v, feature)
        elif feature.kind == "bool":
            out[feature.name] = _bools(flat, feature.name)
        elif feature.kind == "int":
            out[feature.name] = _ints(flat, feature.name)
        else:
            out[feature.name] = _array(flat, feature.name).astype(np.float64)
    return {f.name: out[f.name] for f in FEATURE_SPEC}


def build_features(flat: Mapping[str, Any] | pd.DataFrame) -> pd.DataFrame:
    """Turn flat report rows into the model frame: ``FEATURE_SPEC`` columns and dtypes.

    Raises:
        FeatureInputError: a needed column is missing or holds unusable values.
    """
    columns = build_columns(flat)
    typed: dict[str, Any] = {}
    for feature in FEATURE_SPEC:
        values = columns[feature.name]
        if feature.kind == "category":
            typed[feature.name] = pd.Categorical.from_codes(
                values, dtype=CATEGORY_DTYPES[feature.name]
            )
        else:
            typed[feature.name] = values.astype(_DTYPES[feature.kind], copy=False)
    return pd.DataFrame(typed)


CATEGORICAL_INDEX: tuple[int, ...] = tuple(
    i for i, f in enumerate(FEATURE_SPEC) if f.kind == "category"
)
"""Positions of the categorical features in the model matrix."""


def to_matrix(columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """Feature columns (from ``build_columns``) as the model's float64 matrix.

    Categorical features become their fixed category codes, which LightGBM is told are
    categorical; training and serving build the booster's input this one way.
    """
    matrix = np.empty(
        (len(next(iter(columns.values()))), len(FEATURE_SPEC)), dtype=np.float64
    )
    for i, feature in enumerate(FEATURE_SPEC):
        matrix[:, i] = columns[feature.name]
    return matrix


def history_rows(
    table: pa.Table, links: Mapping[str, np.ndarray] | None = None
) -> pd.DataFrame:
    """A history table's flat rows as pandas, with their linkage features if given.

    The ``link_*`` lists stay in Arrow (features never read them; turning them into
    Python lists is the slow part of ``to_pandas``).
    """
    names = [n for n in table.column_names if not n.startswith("link_")]
    frame: pd.DataFrame = table.select(names).to_pandas()
    return frame.assign(**links) if links else frame


@dataclass(frozen=True)
class ModelInput:
    """Rows ready for the model: the built feature columns and the booster's matrix.

    ``columns`` (from ``build_columns``) give reasons their values and sentences.
    """

    columns: dict[str, np.ndarray]
    matrix: np.ndarray


def model_input(
    rows: pa.Table | pd.DataFrame | Mapping[str, Any],
    links: Mapping[str, np.ndarray] | None = None,
) -> ModelInput:
    """The one path from rows to the model: a history table or flat columns, plus links.

    ``links`` are the rows' linkage features (``hist_*``), when ``rows`` do not carry
    them already; however they were computed (point-in-time over a history, a Dask
    shuffle, the service's store), the matrix is built here the same way.

    Raises:
        FeatureInputError: a needed column is missing or holds unusable values.
    """
    flat: pd.DataFrame | Mapping[str, Any]
    if isinstance(rows, pa.Table):
        flat = history_rows(rows, links)
    elif not links:
        flat = rows
    elif isinstance(rows, pd.DataFrame):
        flat = rows.assign(**links)
    else:
        flat = {**rows, **links}
    columns = build_columns(flat)
    return ModelInput(columns, to_matrix(columns))
