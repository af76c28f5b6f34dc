"""Champion against challenger on the reports both scored: pure functions of flat rows.

The rows are what the service kept (``serving.state.shadow``): each report's flattened
metadata, the champion's and the challenger's probability and priority, and the analyst's
latest priority when the report was decided. Everything here is a function of a frame of
them, so ``tipscore compare``, promotion's ``shadow`` gate and the tests share one reading.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from features.flat import FLAT_COLUMNS, rows_frame
from training.audit.groups import base_labels, esp_size_tiers, jurisdictions

PRIORITIES = (1, 2, 3)
SHADOW_COLUMNS = (
    "report_id",
    "champion_version",
    "challenger_version",
    "challenger_run_id",
    "champion_probability",
    "champion_priority",
    "challenger_probability",
    "challenger_priority",
    "decision_priority",
)
GROUP_ATTRIBUTES = ("esp_size_tier", "jurisdiction", "incident_type")
"""The per-group differences: platform size tier, jurisdiction, incident type."""


def shadow_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Stored shadow rows (ISO times) as the typed flat frame with the shadow columns."""
    if not rows:
        return pd.DataFrame(
            columns=list(dict.fromkeys([*FLAT_COLUMNS, *SHADOW_COLUMNS]))
        )
    times = [n for n, kind in FLAT_COLUMNS.items() if kind == "timestamp"]
    parsed = [
        {**r, **{n: datetime.fromisoformat(r[n]) for n in times if r.get(n)}}
        for r in rows
    ]
    frame = rows_frame(parsed)
    for name in SHADOW_COLUMNS:
        frame[name] = [r.get(name) for r in rows]
    frame["decision_priority"] = pd.array(frame["decision_priority"], dtype="Int64")
    for name in ("champion_priority", "challenger_priority"):
        frame[name] = frame[name].astype(np.int64)
    return frame


def confusion(frame: pd.DataFrame) -> list[list[int]]:
    """Counts of champion priority (rows) × challenger priority (columns), 1 to 3."""
    return [
        [
            int(
                (
                    (frame["champion_priority"] == a)
                    & (frame["challenger_priority"] == b)
                ).sum()
            )
            for b in PRIORITIES
        ]
        for a in PRIORITIES
    ]


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def p1_overlap(frame: pd.DataFrame) -> dict[str, Any]:
    """How much the two priority-1 queues overlap: Jaccard, and champion's P1 kept."""
    ours = set(frame.loc[frame["champion_priority"] == 1, "report_id"])
    theirs = set(frame.loc[frame["challenger_priority"] == 1, "report_id"])
    both, either = len(ours & theirs), len(ours | theirs)
    return {
        "champion_p1": len(ours),
        "challenger_p1": len(theirs),
        "both_p1": both,
        "jaccard": _share(both, either),
        "champion_p1_kept": _share(both, len(ours)),
    }


def analyst_sides(frame: pd.DataFrame) -> dict[str, Any]:
    """On decided reports: how often each model's priority is the analyst's.

    ``sided_with_*`` count the decided reports where the models disagreed and the analyst
    chose one model's priority.
    """
    decided = frame[frame["decision_priority"].notna()]
    analyst = decided["decision_priority"].astype(np.int64)
    ours = decided["champion_priority"] == analyst
    theirs = decided["challenger_priority"] == analyst
    differ = decided["champion_priority"] != decided["challenger_priority"]
    n = len(decided)
    return {
        "decided": n,
        "champion_agreement": _share(int(ours.sum()), n),
        "challenger_agreement": _share(int(theirs.sum()), n),
        "models_disagreed": int(differ.sum()),
        "sided_with_champion": int((differ & ours).sum()),
        "sided_with_challenger": int((differ & theirs).sum()),
        "sided_with_neither": int((differ & ~ours & ~theirs).sum()),
    }


def group_labels(frame: pd.DataFrame, large_country_share: float) -> pd.DataFrame:
    """Platform size tier, jurisdiction and incident type of each row (the audit's)."""
    base = base_labels(frame)
    return pd.DataFrame(
        {
            "esp_size_tier": esp_size_tiers(base["esp_name"].astype(str)),
            "jurisdiction": jurisdictions(base["country"], large_country_share),
            "incident_type": base["incident_type"],
        },
        index=frame.index,
    )


def group_differences(
    frame: pd.DataFrame, large_country_share: float
) -> list[dict[str, Any]]:
    """Per group: reports, each model's priority-1 share, agreement, priority changes."""
    labels = group_labels(frame, large_country_share)
    same = frame["champion_priority"] == frame["challenger_priority"]
    out = []
    for attribute in GROUP_ATTRIBUTES:
        for group, index in labels.groupby(attribute).groups.items():
            rows, n = frame.loc[index], len(index)
            ours = float((rows["champion_priority"] == 1).mean())
            theirs = float((rows["challenger_priority"] == 1).mean())
            out.append(
                {
                    "attribute": attribute,
                    "group": str(group),
                    "reports": n,
                    "champion_p1_share": ours,
                    "challenger_p1_share": theirs,
                    "p1_share_difference": theirs - ours,
                    "agreement": float(same.loc[index].mean()),
                    "changed": int((~same.loc[index]).sum()),
                }
            )
    return out


CHANGE_COLUMNS = (
    "report_id",
    "received_at",
    "esp",
    "incident_type",
    "champion_priority",
    "challenger_priority",
    "champion_probability",
    "challenger_probability",
    "decision_priority",
)


def changes(frame: pd.DataFrame) -> pd.DataFrame:
    """The reports whose priority the challenger would change, the largest moves first."""
    moved = frame[frame["champion_priority"] != frame["challenger_priority"]]
    out = moved.loc[:, list(CHANGE_COLUMNS)].copy()
    out["received_at"] = out["received_at"].map(lambda t: t.isoformat())
    out["step"] = (out["challenger_priority"] - out["champion_priority"]).abs()
    out = out.sort_values(
        ["step", "received_at", "report_id"], ascending=[False, True, True]
    )
    return out.drop(columns="step").reset_index(drop=True)


def compare(frame: pd.DataFrame, large_country_share: float = 0.03) -> dict[str, Any]:
    """Everything ``tipscore compare`` reports, as one JSON-ready dict."""
    n = len(frame)
    table = confusion(frame)
    agreeing = sum(table[i][i] for i in range(len(PRIORITIES)))
    received = frame["received_at"] if n else pd.Series(dtype="datetime64[ns, UTC]")
    return {
        "reports": n,
        "champion_versions": sorted(set(frame["champion_version"])),
        "challenger_versions": sorted(set(frame["challenger_version"])),
        "challenger_run_ids": sorted(
            {str(r) for r in frame["challenger_run_id"] if r is not None}
        ),
        "received": {
            "first": received.min().isoformat() if n else None,
            "last": received.max().isoformat() if n else None,
        },
        "agreement": {
            "share": _share(agreeing, n),
            "confusion": table,
            "rows": "champion priority 1..3",
            "columns": "challenger priority 1..3",
        },
        "p1_overlap": p1_overlap(frame),
        "analysts": analyst_sides(frame),
        "groups": group_differences(frame, large_country_share) if n else [],
        "changed": n - agreeing,
    }
