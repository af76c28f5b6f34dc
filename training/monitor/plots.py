"""The monitor's figures, as inline PNG ``<img>`` tags (``training.plots.pyplot``)."""

from __future__ import annotations

import base64
import io
from datetime import date
from typing import Any

from training.plots import pyplot


def png(fig: Any) -> str:
    """A figure as an inline ``<img>`` (closed afterwards)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    pyplot().close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="plot" src="data:image/png;base64,{data}">'


def volume_plot(volume: dict[str, Any], periods: dict[str, str]) -> str:
    """Reports per day per platform, the recent period shaded."""
    if not volume["daily"]:
        return ""
    plt = pyplot()
    days = [date.fromisoformat(d) for d in volume["days"]]
    fig, ax = plt.subplots(figsize=(9, 4))
    for platform, counts in volume["daily"].items():
        ax.plot(days, counts, label=platform, linewidth=1)
    ax.axvspan(date.fromisoformat(periods["recent_start"]), days[-1], color="#eee")
    ax.set(ylabel="reports per day", title="Volume per platform (recent period shaded)")
    ax.legend(fontsize="small", ncol=2)
    fig.autofmt_xdate()
    fig.tight_layout()
    return png(fig)


def psi_plot(rows: list[dict[str, Any]], top: int = 20) -> str:
    """The strongest feature shifts (PSI), strongest at the top."""
    shown = rows[:top][::-1]
    if not shown:
        return ""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(shown) + 1.2))
    colours = [
        "#a31515"
        if r["status"] == "alert"
        else "#d99a00"
        if r["status"] == "warn"
        else "#1f5fa8"
        for r in shown
    ]
    ax.barh([r["feature"] for r in shown], [r["psi"] for r in shown], color=colours)
    ax.set(xlabel="population stability index", title="Feature drift (strongest)")
    fig.tight_layout()
    return png(fig)


def shares_plot(entry: dict[str, Any], title: str) -> str:
    """Reference and served shares per bin."""
    plt = pyplot()
    bins = range(len(entry["reference"]))
    fig, ax = plt.subplots(figsize=(7, 3))
    ax.bar([b - 0.2 for b in bins], entry["reference"], width=0.4, label="reference")
    ax.bar([b + 0.2 for b in bins], entry["served"], width=0.4, label="served")
    ax.set(xlabel="bin", ylabel="share", title=title)
    ax.legend()
    fig.tight_layout()
    return png(fig)


def overrides_plot(weekly: list[dict[str, Any]]) -> str:
    """Weekly override rate, overall and per suggested priority."""
    if not weekly:
        return ""
    plt = pyplot()
    weeks = [date.fromisoformat(w["week"]) for w in weekly]
    fig, ax = plt.subplots(figsize=(9, 3.5))
    ax.plot(weeks, [w["override_rate"] for w in weekly], marker="o", label="all")
    for priority in ("1", "2", "3"):
        rates = [
            w["by_suggested_priority"].get(priority, {}).get("override_rate")
            for w in weekly
        ]
        ax.plot(
            weeks,
            [float("nan") if r is None else r for r in rates],
            marker=".",
            label=f"suggested P{priority}",
        )
    ax.set(ylabel="override rate", title="Analysts' overrides per week")
    ax.legend(fontsize="small")
    fig.autofmt_xdate()
    fig.tight_layout()
    return png(fig)
