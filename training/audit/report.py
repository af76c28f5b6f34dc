"""Writing an audit: ``audit.json`` (the public format) and a self-contained ``audit.html``.

The HTML carries its plots as inline PNGs and no scripts or external links, so it opens
offline, attaches to a ticket, and renders the same in a year. The printed summary is built
from the same rows as the HTML's first table.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from pathlib import Path
from typing import Any

from training.audit.printout import bound, flag_summary, summary_rows, text_table
from training.plots import pyplot, reliability_plot

__all__ = [
    "bound",
    "flag_summary",
    "render_html",
    "summary_rows",
    "text_table",
    "write_audit",
]

GROUP_COLUMNS = (
    ("size", "reports", "{:,.0f}"),
    ("positives", "escalations", "{:,.0f}"),
    ("prevalence", "prevalence", "{:.4%}"),
    ("mean_predicted", "mean predicted", "{:.4%}"),
    ("selection_rate_p1", "selected P1", "{:.3%}"),
    ("recall_p1", "recall P1", "{:.3f}"),
    ("fpr_p1", "FPR P1", "{:.4f}"),
    ("precision_p1", "precision P1", "{:.3f}"),
    ("selection_rate_p12", "selected P1+P2", "{:.3%}"),
    ("recall_p12", "recall P1+P2", "{:.3f}"),
    ("fpr_p12", "FPR P1+P2", "{:.4f}"),
    ("precision_p12", "precision P1+P2", "{:.3f}"),
    ("pr_auc", "PR-AUC", "{:.3f}"),
)
TRUTH_COLUMNS = (
    ("mean_p_true", "mean p_true", "{:.4%}"),
    ("label_rate_over_truth", "label rate / p_true", "{:.2f}"),
    ("truth_recall_p12", "recall P1+P2 vs truth", "{:.3f}"),
)
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; max-width: 80em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
tr.flag td { background: #fde2e1; font-weight: bold; }
tr.ref td { background: #eef4ff; }
.ok { color: #176b28; } .bad { color: #a31515; }
img { max-width: 100%; }
"""


def write_audit(result: dict[str, Any], out: Path) -> tuple[Path, Path]:
    """Write ``audit.json`` and ``audit.html`` into ``out``; return both paths."""
    out.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out / "audit.json", out / "audit.html"
    json_path.write_text(json.dumps(result, indent=2, allow_nan=False) + "\n")
    html_path.write_text(render_html(result))
    return json_path, html_path


def _fmt(value: Any, pattern: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return pattern.format(value)


def _table(headers: list[str], rows: list[list[str]], classes: list[str]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        f'<tr class="{c}">'
        + "".join(f"<td>{html.escape(v)}</td>" for v in row)
        + "</tr>"
        for row, c in zip(rows, classes, strict=True)
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    pyplot().close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="plot" src="data:image/png;base64,{data}">'


def _ratio_plot(attribute: str, checked: list[dict[str, Any]]) -> str:
    rows = [
        c for c in checked if c["attribute"] == attribute and c["ratio"] is not None
    ]
    if not rows:
        return ""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(rows) + 1.2))
    for i, c in enumerate(rows):
        colour = "#a31515" if c["flagged"] else "#1f5fa8"
        ax.errorbar(
            c["ratio"],
            i,
            xerr=[
                [c["ratio"] - (c["ci_low"] or c["ratio"])],
                [(c["ci_high"] or c["ratio"]) - c["ratio"]],
            ],
            fmt="o",
            color=colour,
            capsize=3,
        )
        for name, marker in (("reference_model", "s"), ("oracle", "D")):
            other = c.get("comparisons", {}).get(name, {}).get("ratio")
            if other is not None:
                ax.plot(other, i, marker, mfc="none", color="#555", label=name)
        if c["min_ratio"]:
            ax.axvline(c["min_ratio"], color="#a31515", linestyle=":", linewidth=1)
    ax.axvline(1.0, color="#555", linewidth=1)
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        unique = dict(zip(labels, handles, strict=True))
        ax.legend(unique.values(), unique.keys(), fontsize="small")
    ax.set_yticks(range(len(rows)), [f"{c['group']} ({c['metric']})" for c in rows])
    references = sorted({str(c["reference"]) for c in rows})
    against = (
        f"ratio to reference {references[0]!r}"
        if len(references) == 1
        else "ratio to each row's reference (" + ", ".join(references) + ")"
    )
    ax.set(xlabel=against, title=attribute)
    fig.tight_layout()
    return _png(fig)


def _group_section(attribute: str, result: dict[str, Any]) -> str:
    groups = [g for g in result["groups"] if g["attribute"] == attribute]
    flagged = {f["group"] for f in result["flags"] if f["attribute"] == attribute}
    columns = GROUP_COLUMNS + (TRUTH_COLUMNS if result["has_truth"] else ())
    share = (result.get("attribution") or {}).get("by_group", {}).get(attribute, {})
    headers = ["group", *(c[1] for c in columns), "who-reported |SHAP| share"]
    rows = [
        [
            g["group"] + (" (reference)" if g["reference"] else ""),
            *(_fmt(g.get(key), pattern) for key, _, pattern in columns),
            _fmt(share.get(g["group"]), "{:.1%}"),
        ]
        for g in groups
    ]
    classes = [
        "flag" if g["group"] in flagged else ("ref" if g["reference"] else "")
        for g in groups
    ]
    return (
        f"<h3>{html.escape(attribute)}</h3>"
        + _table(headers, rows, classes)
        + _ratio_plot(attribute, result["checked"])
    )


def _calibration_section(result: dict[str, Any]) -> str:
    """The reliability plot with bins in every priority region, and the two ECEs."""
    calibration = result.get("calibration")
    if not calibration or not calibration["bins"]:
        return ""
    thresholds = (result["thresholds"]["p1"], result["thresholds"]["p2"])
    figure = reliability_plot(
        calibration["bins"], thresholds, "Calibration (audited window)"
    )
    return (
        "<h2>Calibration where decisions are made</h2>"
        f"<p>ECE over all reports {_fmt(calibration['ece'], '{:.4f}')}; over reports "
        f"at or above the P2 threshold {_fmt(calibration['ece_above_p2'], '{:.4f}')}. "
        "Bins are equal-mass within each priority region (P3, P2, P1).</p>"
        + _png(figure)
    )


def render_html(result: dict[str, Any]) -> str:
    """The whole audit as one HTML page with inline plots."""
    flags = result["flags"]
    verdict = (
        f'<p class="bad">{len(flags)} {"group" if len(flags) == 1 else "groups"} flagged.</p>'
        if flags
        else '<p class="ok">No group flagged.</p>'
    )
    summary = summary_rows(result)
    summary_html = _table(
        list(summary[0]) if summary else ["status"],
        [list(r.values()) for r in summary],
        ["flag" if r["status"] == "FLAGGED" else "" for r in summary],
    )
    attributes = list(dict.fromkeys(g["attribute"] for g in result["groups"]))
    meta = result.get("meta", {})
    meta_html = _table(
        ["", ""], [[k, str(v)] for k, v in meta.items()], [""] * len(meta)
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>Bias audit</title><style>{STYLE}</style></head><body>"
        "<h1>Bias audit</h1>"
        + meta_html
        + verdict
        + f"<p>{result['rows']:,} reports, {result['positives']:,} escalations; "
        f"P1 threshold {result['thresholds']['p1']:.4f}, P1+P2 threshold "
        f"{result['thresholds']['p2']:.4f}{result.get('thresholds_note', '')}. "
        "How to read this: docs/bias-audit.md.</p>"
        "<h2>Disparities judged</h2>"
        + summary_html
        + "<h2>Per-group metrics</h2>"
        + "".join(_group_section(a, result) for a in attributes)
        + _calibration_section(result)
        + _attribution_section(result.get("attribution"))
        + "</body></html>\n"
    )


def _attribution_section(attribution: dict[str, Any] | None) -> str:
    """The who-reported share of |SHAP| (absent for pooled predictions: no one model)."""
    if not attribution:
        return ""
    return (
        "<h2>Attribution</h2>" + f"<p>Platform- and location-related features carry "
        f"{attribution['overall_share']:.1%} of total |SHAP| over "
        f"{attribution['rows']:,} sampled reports: "
        + html.escape(", ".join(attribution["features"]))
        + ".</p>"
    )
