"""Pooling groups before they are judged: countries by region, small groups together.

Why: a group with a handful of escalations cannot be judged at any sensible interval, and
a list of forty "too few" rows tells a data scientist nothing. Pooling (``[pool]`` in the
audit config) merges what the config says before judging, so the audit judges fewer,
larger groups: every country into its region (``"region"``), or only the countries (or
ESPs, or groups) with fewer than ``min_positives`` escalations into an ``other ...`` group
(``"small"``). The reference group is never pooled away when it is named.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.audit.config import AuditConfig

OTHER_INTERNATIONAL = "other international"
OTHER_POOLED = "other (pooled)"


def _region(code: object, regions: dict[str, str]) -> str:
    return regions.get(str(code), OTHER_INTERNATIONAL)


def _countries(
    codes: pd.Series, positives: pd.Series, mode: str, cfg: AuditConfig
) -> pd.Series:
    """Jurisdiction labels: US and unknown as ever; other countries by region or size."""
    codes = codes.astype("object")
    counts = positives.groupby(codes.fillna("")).sum()
    kept = set(counts.index[counts >= cfg.min_positives]) if mode == "small" else set()
    labels = []
    for code in codes:
        if pd.isna(code):
            labels.append("unknown")
        elif code == "US" or code in kept:
            labels.append(str(code))
        elif mode == "region":
            labels.append(_region(code, cfg.regions))
        else:
            region = cfg.regions.get(str(code))
            labels.append(f"other {region}" if region else OTHER_INTERNATIONAL)
    return pd.Series(labels, index=codes.index)


def _small(labels: pd.Series, keep: set[str], other: str) -> pd.Series:
    """Groups with fewer than the threshold's escalations (``keep`` excepted) → ``other``."""
    return labels.where(labels.isin(keep), other)


def pool_groups(
    groups: pd.DataFrame, base: pd.DataFrame, y: np.ndarray, cfg: AuditConfig
) -> pd.DataFrame:
    """``groups`` (one column per attribute) with the config's pooling applied."""
    if not cfg.pool:
        return groups
    pooled = groups.copy()
    positives = pd.Series(np.asarray(y, int), index=groups.index)
    for attribute, mode in cfg.pool.items():
        if attribute == "jurisdiction":
            pooled[attribute] = _countries(base["country"], positives, mode, cfg)
            continue
        source = (
            base["esp_name"].astype(str) if attribute == "esp" else groups[attribute]
        )
        counts = positives.groupby(source.to_numpy()).sum()
        keep = set(counts.index[counts >= cfg.min_positives]) | {"public"}
        named = cfg.references.get(attribute, "largest")
        if named != "largest":
            keep.add(named)
        other = "other" if attribute == "esp" else OTHER_POOLED
        pooled[attribute] = _small(source, keep, other)
    return pooled
