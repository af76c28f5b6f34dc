"""Writing a monitoring pass: ``monitor.json`` (the public format) and ``monitor.html``.

The HTML is self-contained (inline PNGs, no scripts or links), like the audit's, so it
opens offline and attaches to a ticket. Alerts come first, then each section.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from training.monitor import plots

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; max-width: 80em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
tr.flag td, td.flag { background: #fde2e1; font-weight: bold; }
.ok { color: #176b28; } .bad { color: #a31515; }
img { max-width: 100%; }
"""


def write_monitor(result: dict[str, Any], out: Path) -> tuple[Path, Path]:
    """Write ``monitor.json`` and ``monitor.html`` into ``out``; return both paths."""
    out.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out / "monitor.json", out / "monitor.html"
    json_path.write_text(
        json.dumps(result, indent=2, allow_nan=False, default=str) + "\n"
    )
    html_path.write_text(render_html(result))
    return json_path, html_path


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def table(
    headers: list[str],
    rows: list[list[Any]],
    flagged: frozenset[tuple[int, int]] | set[tuple[int, int]] = frozenset(),
) -> str:
    """An HTML table; ``flagged`` cells (row, column) are highlighted."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{' class=flag' if (i, j) in flagged else ''}>{html.escape(_cell(v))}</td>"
            for j, v in enumerate(row)
        )
        + "</tr>"
        for i, row in enumerate(rows)
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _alerts(result: dict[str, Any]) -> str:
    alerts = result["alerts"]
    if not alerts:
        return '<p class="ok">No alert.</p>'
    items = "".join(f"<li>{html.escape(a['message'])}</li>" for a in alerts)
    return f'<p class="bad">{len(alerts)} alert(s):</p><ul>{items}</ul>'


def _volume(result: dict[str, Any]) -> str:
    volume = result["volume"]
    alerted = {a["platform"] for a in result["alerts"] if a["kind"] == "volume"}
    rows = volume["platforms"]
    keys = [
        "platform",
        "reports",
        "per_day",
        "baseline_per_day",
        "recent_per_day",
        "ratio",
    ]
    flagged = {(i, 5) for i, r in enumerate(rows) if r["platform"] in alerted}
    tier = [
        [*(r[k] for k in keys), result["tiers"].get(r["platform"], "")] for r in rows
    ]
    return (
        "<h2>Volume per platform</h2>"
        + plots.volume_plot(volume, result["periods"])
        + table([*keys, "size tier"], tier, flagged)
    )


def _completeness(result: dict[str, Any]) -> str:
    section = result["completeness"]
    fields = section["fields"]
    alerted = {
        (a["platform"], a["field"])
        for a in result["alerts"]
        if a["kind"] == "completeness"
    }
    parts = ["<h2>Completeness per platform (scorecard)</h2>"]
    for name, title in (
        ("scorecard", "whole window"),
        ("baseline", "baseline period"),
        ("recent", "recent period"),
    ):
        rows = section[name]
        flagged = {
            (i, 2 + j)
            for i, r in enumerate(rows)
            for j, f in enumerate(fields)
            if (r["platform"], f) in alerted and name != "scorecard"
        }
        parts.append(f"<h3>{title}</h3>")
        parts.append(
            table(
                ["platform", "reports", *fields],
                [[r["platform"], r["reports"], *(r[f] for f in fields)] for r in rows],
                flagged,
            )
        )
    return "".join(parts)


def _drift(result: dict[str, Any]) -> str:
    drift = result["drift"]
    if drift["status"] != "judged":
        return f"<h2>Drift</h2><p>Not judged: {html.escape(drift['reason'])}.</p>"
    rows = drift["features"]
    flagged = {(i, 1) for i, r in enumerate(rows) if r["status"] == "alert"}
    excluded = ", ".join(drift["excluded"])
    return (
        "<h2>Drift against the training window (PSI)</h2>"
        f"<p>{drift['reports']:,} served reports. Not judged (not kept with a served "
        f"report): {html.escape(excluded)}.</p>"
        + plots.psi_plot(rows)
        + table(
            ["feature", "PSI", "status"],
            [[r["feature"], r["psi"], r["status"]] for r in rows],
            flagged,
        )
        + "<h3>Score and priority mix</h3>"
        + plots.shares_plot(drift["score"], "score (calibrated probability) bins")
        + table(
            ["", "PSI", "status"],
            [
                ["score", drift["score"]["psi"], drift["score"]["status"]],
                [
                    "priority mix",
                    drift["priority_mix"]["psi"],
                    drift["priority_mix"]["status"],
                ],
            ],
        )
        + table(
            ["priority", "reference share", "served share"],
            [
                [
                    k,
                    drift["priority_mix"]["reference"][k],
                    drift["priority_mix"]["served"][k],
                ]
                for k in sorted(drift["priority_mix"]["reference"])
            ],
        )
    )


def _overrides(result: dict[str, Any]) -> str:
    rates = result["overrides"]
    if not rates["decided"]:
        return "<h2>Analysts' overrides</h2><p>No decision in the window.</p>"
    rows = [["all", rates["decided"], rates["overridden"], rates["override_rate"]]]
    for group in ("by_suggested_priority", "by_tier"):
        label = "suggested P" if group == "by_suggested_priority" else "tier "
        rows += [
            [f"{label}{k}", v["decided"], v["overridden"], v["override_rate"]]
            for k, v in rates[group].items()
        ]
    return (
        "<h2>Analysts' overrides</h2>"
        + plots.overrides_plot(rates["weekly"])
        + table(["", "decided", "overridden", "override rate"], rows)
    )


def _decision_times(result: dict[str, Any]) -> str:
    times = result.get("time_to_decision") or {}
    if not times:
        return ""
    keys = ["decided", "median_minutes", "p90_minutes", "target_minutes"]
    rows = [
        [
            f"P{p}",
            *(f[k] for k in keys),
            f["within_target"],
            f["undecided"],
            f["overdue"],
        ]
        for p, f in sorted(times.items())
    ]
    flagged = {(i, 7) for i, r in enumerate(rows) if r[7]}
    return "<h2>Time to decision (reports received in the window)</h2>" + table(
        [
            "suggested priority",
            "decided",
            "median minutes",
            "p90 minutes",
            "target minutes",
            "share within target",
            "undecided",
            "overdue now",
        ],
        rows,
        flagged,
    )


def render_html(result: dict[str, Any]) -> str:
    """The whole monitoring pass as one HTML page with inline plots."""
    model = result["model"] or {}
    periods = result["periods"]
    about = table(
        ["", ""],
        [
            ["model", f"{model.get('name', '–')} version {model.get('version', '–')}"],
            ["window", f"{periods['start']} .. {periods['end']} (exclusive)"],
            [
                "baseline period",
                f"{periods['baseline_start']} .. {periods['recent_start']}",
            ],
            ["recent period", f"{periods['recent_start']} .. {periods['end']}"],
            ["served reports", result["reports"]],
            ["decisions", result["decisions"]],
            ["generated", result.get("generated_at", "")],
        ],
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>Monitoring</title><style>{STYLE}</style></head><body>"
        "<h1>Monitoring the served model</h1>"
        + about
        + "<h2>Alerts</h2>"
        + _alerts(result)
        + _volume(result)
        + _completeness(result)
        + _drift(result)
        + _overrides(result)
        + _decision_times(result)
        + "<p>How to read this: docs/monitoring.md.</p></body></html>\n"
    )
