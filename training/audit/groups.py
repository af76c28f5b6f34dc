"""The groups a bias audit compares: which platform, where, what kind, how complete.

Each attribute maps a history's flat rows to one string label per row; the labels are built
from the data itself (the largest ESPs, the large countries), so the audit adapts to any
history.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ATTRIBUTES = (
    "esp",
    "esp_size_tier",
    "jurisdiction",
    "incident_type",
    "completeness",
    "files_viewed",
    "bundled",
)
SHORT_TYPES = {
    "Child Pornography (possession, manufacture, and distribution)": "CSAM",
    "Online Enticement of Children for Sexual Acts": "enticement",
    "Child Sex Trafficking": "trafficking",
    "Child Sexual Molestation": "molestation",
    "Child Sex Tourism": "sex tourism",
    "Unsolicited Obscene Material Sent to a Child": "obscene material",
    "Misleading Domain Name": "misleading domain",
    "Misleading Words or Digital Images on the Internet": "misleading words/images",
}


PREDICTION_GROUP_COLUMNS = (
    "esp_name",
    "country",
    "incident_type",
    "completeness",
    "files_viewed",
    "bundled",
)
"""Per-report group sources a predictions file carries beside its scores (strings; ``country``
null when unknown). Every audited attribute is derived from these on the audited rows, so
data-dependent groups (the largest ESPs, the large countries) are chosen over the pooled
rows, not per fold. ``base_labels`` computes them from a history's flat rows."""


def _esp_names(flat: pd.DataFrame) -> pd.Series:
    names = flat["esp"].astype("object").where(flat["reporter_type"] == "esp", "public")
    return names.fillna("unnamed ESP").astype(str)


def esp_groups(names: pd.Series, top: int) -> pd.Series:
    """The ``top`` largest ESPs by name; the rest are ``other``."""
    largest = names[names != "public"].value_counts().index[:top]
    return names.where(names.isin(largest) | (names == "public"), "other")


def esp_size_tiers(names: pd.Series) -> pd.Series:
    """ESP size tier by its share of these reports: large (>=5%), medium (>=0.5%), small."""
    share = names.map(names.value_counts(normalize=True))
    tiers = np.where(
        share >= 0.05, "large", np.where(share >= 0.005, "medium", "small")
    )
    return pd.Series(np.where(names == "public", "public", tiers), index=names.index)


def jurisdictions(codes: pd.Series, large_share: float) -> pd.Series:
    """US, each large country, other international, unknown."""
    codes = codes.astype("object")
    share = codes.map(codes.value_counts(normalize=True))
    labels = np.where(
        codes.isna(),
        "unknown",
        np.where(
            codes == "US",
            "US",
            np.where(share >= large_share, codes, "other international"),
        ),
    )
    return pd.Series(labels, index=codes.index).astype(str)


def completeness(flat: pd.DataFrame) -> pd.Series:
    """Which of user id, location and upload IP the report supplied."""
    user = flat[["rp_esp_user_id", "rp_screen_name", "rp_email", "rp_phone"]].any(
        axis=1
    )
    location = flat["location_source"] != "unknown"
    upload = flat["rp_upload_ip"].astype(bool)
    parts = [
        np.where(user, "user id", ""),
        np.where(location, "location", ""),
        np.where(upload, "upload IP", ""),
    ]
    joined = [
        " + ".join(p for p in row if p) or "none" for row in zip(*parts, strict=True)
    ]
    return pd.Series(joined, index=flat.index)


def files_viewed(flat: pd.DataFrame) -> pd.Series:
    """Whether the ESP viewed every reported file (missing flags count as not viewed)."""
    n, viewed = flat["files_count"], flat["files_viewed"]
    labels = np.where(
        n == 0, "no files", np.where(viewed >= n, "all viewed", "some not viewed")
    )
    return pd.Series(labels, index=flat.index)


def base_labels(flat: pd.DataFrame) -> pd.DataFrame:
    """The ``PREDICTION_GROUP_COLUMNS`` of a history's flat rows."""
    return pd.DataFrame(
        {
            "esp_name": _esp_names(flat),
            "country": flat["country_code"].astype("object"),
            "incident_type": flat["incident_type"]
            .astype(str)
            .map(SHORT_TYPES)
            .fillna("other"),
            "completeness": completeness(flat),
            "files_viewed": files_viewed(flat),
            "bundled": np.where(
                flat["bundle_batched"].astype(bool), "bundled", "single"
            ),
        },
        index=flat.index,
    )


def attribute_columns(
    base: pd.DataFrame, top_esps: int, large_country_share: float
) -> pd.DataFrame:
    """One label column per audited attribute, from ``base_labels``-shaped columns."""
    names = base["esp_name"].astype(str)
    return pd.DataFrame(
        {
            "esp": esp_groups(names, top_esps),
            "esp_size_tier": esp_size_tiers(names),
            "jurisdiction": jurisdictions(base["country"], large_country_share),
            "incident_type": base["incident_type"].astype(str),
            "completeness": base["completeness"].astype(str),
            "files_viewed": base["files_viewed"].astype(str),
            "bundled": base["bundled"].astype(str),
        },
        index=base.index,
    )


def group_columns(
    flat: pd.DataFrame, top_esps: int, large_country_share: float
) -> pd.DataFrame:
    """One label column per audited attribute."""
    return attribute_columns(base_labels(flat), top_esps, large_country_share)


MISSING = "(missing)"
"""A group source's missing value, spelled out (JSON keys and groupby keep it)."""


def source_values(column: pd.Series) -> np.ndarray:
    """A group source column as strings, a missing value as ``MISSING`` (never dropped)."""
    values: np.ndarray = (
        column.astype(object).where(column.notna(), MISSING).astype(str).to_numpy()
    )
    return values
