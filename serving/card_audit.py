"""The bias audit on the model card: the reference groups' own figures beside the ratios.

Why: the audit judges each group by its ratio to a reference group, so "no group flagged"
only says the groups are treated alike. If the reference group itself is served badly
(e.g. a priority-1 recall of 0.07), every ratio can sit near 1 and hide it. The card
therefore shows each reference group's own recall, and a sentence that says so.
Pure: the audit's ``audit.json`` dict in, JSON-ready dicts out.
"""

from __future__ import annotations

from typing import Any

from serving.card_text import ATTRIBUTES, AUDIT_METRICS, shown

REFERENCE_FIGURES = ("recall_p1", "recall_p12", "precision_p1", "precision_p12")
LOW_RECALL = 0.5
"""A reference group's P1+P2 recall below this gets a caution on the card."""


def reference_groups(audit: dict[str, Any]) -> list[dict[str, Any]]:
    """Each attribute's reference group with its size and its own recall and precision."""
    rows = max(int(audit.get("rows") or 0), 1)
    out = []
    for group in audit.get("groups", []):
        if not group.get("reference"):
            continue
        attribute = group["attribute"]
        row: dict[str, Any] = {
            "attribute": attribute,
            "attribute_label": ATTRIBUTES.get(attribute, attribute),
            "group": group["group"],
            "reports": int(group.get("size") or 0),
            "share_of_reports": (group.get("size") or 0) / rows,
            "escalations": int(group.get("positives") or 0),
        }
        row |= {key: group.get(key) for key in REFERENCE_FIGURES}
        out.append(row)
    return out


def comparisons(audit: dict[str, Any]) -> list[dict[str, Any]]:
    """Every judged disparity: the group's value, the reference's value, ratio, interval."""
    return [
        {
            "attribute": c["attribute"],
            "attribute_label": ATTRIBUTES.get(c["attribute"], c["attribute"]),
            "group": c["group"],
            "reference": c.get("reference"),
            "metric": c["metric"],
            "metric_label": AUDIT_METRICS.get(c["metric"], c["metric"]),
            "group_value": c.get("value"),
            "reference_value": c.get("reference_value"),
            "ratio": c.get("ratio"),
            "ci_low": c.get("ci_low"),
            "ci_high": c.get("ci_high"),
            "flagged": bool(c.get("flagged")),
        }
        for c in audit.get("checked", [])
    ]


def cautions(references: list[dict[str, Any]]) -> list[str]:
    """A sentence for each reference group whose own recall is low."""
    out = []
    for ref in references:
        recall = ref.get("recall_p12")
        if recall is None or recall >= LOW_RECALL:
            continue
        out.append(
            f"The reference group for {ref['attribute_label']}, {ref['group']} "
            f"({shown(ref['share_of_reports'], 'rate')} of the audited reports), has a "
            f"P1 recall of {shown(ref.get('recall_p1'), 'score')} and a P1+P2 recall of "
            f"{shown(recall, 'score')}: ratios near 1 mean other groups are served as "
            "poorly, not that they are served well."
        )
    return out


def audit_card(audit: dict[str, Any]) -> dict[str, Any]:
    """The fields the card adds to its ``bias_audit`` summary from ``audit.json``."""
    references = reference_groups(audit)
    flags = audit.get("flags", [])
    verdict = (
        f"{len(flags)} {'group' if len(flags) == 1 else 'groups'} flagged"
        if flags
        else "No group flagged"
    )
    out: dict[str, Any] = {
        "verdict": verdict,
        "audited_reports": int(audit.get("rows") or 0),
        "audited_escalations": int(audit.get("positives") or 0),
        "reference_groups": references,
        "comparisons": comparisons(audit),
        "cautions": cautions(references),
        "how_to_read": "Each ratio is a group's figure divided by its reference "
        "group's; a group is flagged when the ratio is beyond the bound and its "
        "interval excludes 1. Read the reference group's own recall first. "
        "Label-rate rows judge the history's labels, not the model: a group's recorded "
        "escalations over their true expected count, against every other row.",
    }
    calibration = audit.get("calibration")
    if calibration:
        out["calibration"] = {
            "ece": calibration.get("ece"),
            "ece_above_p2": calibration.get("ece_above_p2"),
        }
    return out
