"""The audit as printed: the summary table's rows and the one-line flag summary.

Shared by the terminal (``tipscore audit``), the HTML page's first table and the promotion
gate's message, so all three say the same: an undefined ratio reads "undefined" (never
"ok"), an infinite bound reads "∞", and a flag names its attribute, group and metric once.
"""

from __future__ import annotations

import math
from typing import Any

INFINITY = "∞"
UNDEFINED = "undefined"
COMPARATOR_LABELS = {"reference_model": "reference model", "oracle": "oracle"}


def bound(row: dict[str, Any], key: str, pattern: str = "{:.2f}") -> str:
    """A number of an audit row as printed: +inf as ∞, null (undefined) as "undefined"."""
    if key in row.get("infinite", ()):
        return INFINITY
    value = row.get(key)
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return UNDEFINED
    return pattern.format(value)


def _interval(row: dict[str, Any], low: str = "ci_low", high: str = "ci_high") -> str:
    return f"[{bound(row, low)}, {bound(row, high)}]"


def _comparison(row: dict[str, Any], name: str) -> str:
    """``0.97 [0.90, 1.04]; excess 0.55 [0.45, 0.66]`` for one comparator (or "")."""
    found = row.get("comparisons", {}).get(name)
    if not found:
        return ""
    excess = f"{bound(found, 'excess')} {_interval(found, 'excess_ci_low', 'excess_ci_high')}"
    return f"{bound(found, 'ratio')} {_interval(found)}; excess {excess}"


def _status(row: dict[str, Any]) -> str:
    """The row's verdict in words.

    FLAGGED; undefined; ok (within the bound); beyond the bound but shared with a
    comparator; or beyond the bound but not significant.
    """
    if row["flagged"]:
        return "FLAGGED"
    if not row.get("defined", row.get("ratio") is not None):
        return UNDEFINED
    if row.get("judged_on") == "excess":
        return _excess_status(row)
    if not _beyond(row):
        return "ok"
    if not row.get("disparity", row["flagged"]):
        return "not significant"
    shared = [
        COMPARATOR_LABELS.get(name, name)
        for name, c in row.get("comparisons", {}).items()
        if c.get("exceeds") is False
    ]
    return "shared with " + " and ".join(shared or ["a comparator"]) + " (not flagged)"


def _excess_status(row: dict[str, Any]) -> str:
    """A ``mean_score`` row's verdict: only its excesses over the comparators are judged."""
    beyond = [
        COMPARATOR_LABELS.get(name, name)
        for name, c in row.get("comparisons", {}).items()
        if _beyond(row, c.get("excess"))
    ]
    if not beyond:
        return "ok (excess within the bound)"
    if not row.get("disparity"):
        return "excess not significant"
    significant = [
        COMPARATOR_LABELS.get(name, name)
        for name, c in row.get("comparisons", {}).items()
        if c.get("exceeds") is True
    ]
    return "excess only over " + " and ".join(significant) + " (not flagged)"


def _beyond(row: dict[str, Any], value: Any = "ratio") -> bool:
    ratio = row.get("ratio") if value == "ratio" else value
    low, high = row.get("min_ratio"), row.get("max_ratio")
    if ratio is None:
        return False
    return (low is not None and ratio < low) or (high is not None and ratio > high)


def _detectable(row: dict[str, Any]) -> str:
    value = row.get("detectable_ratio")
    return "none" if value is None else f"{value:.2f}"


def summary_rows(result: dict[str, Any]) -> list[dict[str, str]]:
    """One row per judged comparison and per group too small to judge."""
    compared = result.get("compared_with", [])
    rows = []
    for c in result["checked"]:
        row = {
            "attribute": c["attribute"],
            "group": c["group"],
            "metric": c["metric"],
            "vs": c["reference"],
            "ratio": bound(c, "ratio"),
            "interval": _interval(c),
        }
        row |= {COMPARATOR_LABELS[n]: _comparison(c, n) for n in compared}
        row |= {"detectable": _detectable(c), "status": _status(c)}
        rows.append(row)
    for t in result["too_few_positives"]:
        row = dict.fromkeys(rows[0] if rows else (), "") | {
            "attribute": t["attribute"],
            "group": t["group"],
            "metric": t.get("metric", ""),
            "vs": "",
            "ratio": "",
            "interval": "",
            "detectable": _detectable(t) if "reason" not in t else "",
            "status": t.get("reason") or _too_few(t),
        }
        rows.append(row)
    return rows


def _too_few(row: dict[str, Any]) -> str:
    if "expected" in row:  # mean_score: expected escalations, not labelled ones
        return (
            f"too few expected escalations ({row['expected']:.1f} vs "
            f"{row['reference_expected']:.1f})"
        )
    return f"too few positives ({row['positives']} vs {row['reference_positives']})"


def flag_summary(flags: list[dict[str, Any]]) -> str:
    """Flagged comparisons naming each attribute, group and metric once.

    ``jurisdiction=IN [recall_p1, recall_p12], PK [recall_p12]; esp=X [recall_p12]``
    """
    tree: dict[str, dict[str, list[str]]] = {}
    for f in flags:
        metrics = tree.setdefault(f["attribute"], {}).setdefault(f["group"], [])
        if f["metric"] not in metrics:
            metrics.append(f["metric"])
    return "; ".join(
        f"{attribute}="
        + ", ".join(f"{group} [{', '.join(m)}]" for group, m in groups.items())
        for attribute, groups in tree.items()
    )


def text_table(rows: list[dict[str, str]]) -> str:
    """A fixed-width table for the terminal."""
    if not rows:
        return "(nothing to judge)"
    keys = list(rows[0])
    widths = {k: max(len(k), *(len(r[k]) for r in rows)) for k in keys}
    lines = ["  ".join(k.ljust(widths[k]) for k in keys)]
    lines += ["  ".join(r[k].ljust(widths[k]) for k in keys) for r in rows]
    return "\n".join(lines)
