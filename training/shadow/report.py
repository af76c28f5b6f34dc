"""Writing a comparison: ``compare.json``, a self-contained ``compare.html``, ``changes.csv``.

The HTML carries its plots as inline PNGs (as the audit's, ``training.audit.report``) and
no scripts or links, so it opens offline and attaches to a ticket. ``changes.csv`` lists
every report whose priority the challenger would change.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from training.plots import pyplot
from training.shadow.compare import PRIORITIES, changes

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; max-width: 80em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
img { max-width: 100%; }
"""


def write_comparison(
    result: dict[str, Any], frame: pd.DataFrame, out: Path
) -> dict[str, Path]:
    """Write the three files into ``out``; their paths by kind."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": out / "compare.json",
        "html": out / "compare.html",
        "csv": out / "changes.csv",
    }
    paths["json"].write_text(json.dumps(result, indent=2, allow_nan=False) + "\n")
    changes(frame).to_csv(paths["csv"], index=False)
    paths["html"].write_text(render_html(result, frame))
    return paths


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    pyplot().close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="plot" src="data:image/png;base64,{data}">'


def _confusion_plot(table: list[list[int]]) -> str:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4.5, 4))
    counts = np.array(table)
    ax.imshow(counts, cmap="Blues")
    dark = counts.max() / 2
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            color = "white" if count > dark else "black"
            ax.text(j, i, f"{count:,}", ha="center", va="center", color=color)
    ticks = list(range(len(PRIORITIES)))
    labels = [f"P{p}" for p in PRIORITIES]
    ax.set(xticks=ticks, yticks=ticks, xticklabels=labels, yticklabels=labels)
    ax.set(
        xlabel="challenger", ylabel="champion", title="Priority: champion × challenger"
    )
    fig.tight_layout()
    return _png(fig)


def _probability_plot(frame: pd.DataFrame) -> str:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 4.5))
    ax.scatter(
        frame["champion_probability"], frame["challenger_probability"], s=4, alpha=0.4
    )
    ax.set(xscale="log", yscale="log", xlabel="champion", ylabel="challenger")
    ax.set_title("Escalation probability, each report")
    fig.tight_layout()
    return _png(fig)


def _groups_plot(groups: list[dict[str, Any]], attribute: str) -> str:
    rows = [g for g in groups if g["attribute"] == attribute]
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 0.4 * len(rows) + 1.5))
    y = np.arange(len(rows))
    ax.barh(y - 0.2, [g["champion_p1_share"] for g in rows], 0.4, label="champion")
    ax.barh(y + 0.2, [g["challenger_p1_share"] for g in rows], 0.4, label="challenger")
    ax.set(yticks=y, yticklabels=[g["group"] for g in rows], xlabel="priority-1 share")
    ax.set_title(f"Priority-1 share by {attribute.replace('_', ' ')}")
    ax.legend()
    fig.tight_layout()
    return _png(fig)


def _summary(result: dict[str, Any]) -> str:
    overlap, analysts = result["p1_overlap"], result["analysts"]
    rows = [
        ["reports scored by both", f"{result['reports']:,}"],
        ["champion version(s)", ", ".join(result["champion_versions"])],
        ["challenger version(s)", ", ".join(result["challenger_versions"])],
        ["received", f"{result['received']['first']} .. {result['received']['last']}"],
        ["same priority", _pct(result["agreement"]["share"])],
        ["priority would change", f"{result['changed']:,}"],
        ["P1 queues: Jaccard", _pct(overlap["jaccard"])],
        ["champion's P1 kept by challenger", _pct(overlap["champion_p1_kept"])],
        ["P1: champion / challenger / both",
         f"{overlap['champion_p1']} / {overlap['challenger_p1']} / {overlap['both_p1']}"],
        ["decided by analysts", f"{analysts['decided']:,}"],
        ["analyst agrees with champion", _pct(analysts["champion_agreement"])],
        ["analyst agrees with challenger", _pct(analysts["challenger_agreement"])],
        ["models differed; analyst sided with champion / challenger / neither",
         f"{analysts['sided_with_champion']} / {analysts['sided_with_challenger']} / "
         f"{analysts['sided_with_neither']}"],
    ]  # fmt: skip
    return _table(["", ""], rows)


def render_html(result: dict[str, Any], frame: pd.DataFrame) -> str:
    """The comparison as one self-contained HTML page."""
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Champion vs challenger</title><style>{STYLE}</style></head><body>",
        "<h1>Champion vs challenger (shadow scoring)</h1>",
        _summary(result),
    ]
    if result["reports"]:
        parts += [
            "<h2>Agreement on priority</h2>",
            _confusion_plot(result["agreement"]["confusion"]),
            _probability_plot(frame),
            "<h2>Per group</h2>",
        ]
        groups = result["groups"]
        for attribute in dict.fromkeys(g["attribute"] for g in groups):
            parts.append(_groups_plot(groups, attribute))
        parts.append(
            _table(
                [
                    "attribute",
                    "group",
                    "reports",
                    "champion P1",
                    "challenger P1",
                    "agreement",
                    "changed",
                ],
                [
                    [
                        g["attribute"],
                        g["group"],
                        f"{g['reports']:,}",
                        _pct(g["champion_p1_share"]),
                        _pct(g["challenger_p1_share"]),
                        _pct(g["agreement"]),
                        f"{g['changed']:,}",
                    ]
                    for g in groups
                ],
            )
        )
        parts.append(
            f"<p>{result['changed']:,} report(s) would change priority: "
            "listed in changes.csv beside this page.</p>"
        )
    else:
        parts.append("<p>No report was scored by both models in this window.</p>")
    parts.append("</body></html>")
    return "\n".join(parts)
