"""A backtest's outputs: pooled predictions (Parquet), figures (JSON) and a report (HTML).

``predictions.parquet`` is a public format (docs/model.md, "Backtests"): one row per
report of the scored periods, its out-of-time probability and priority, its final label,
``p_true`` where known, the group sources the bias audit reads, each fold's thresholds and
the reference model's priority, so ``tipscore audit --predictions DIR`` needs nothing else.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from training.audit.groups import base_labels
from training.audit.predictions import AUDIT_COLUMNS, TRAINING_GROUPS
from training.audit.report import _png
from training.backtest.fit import HEADLINE
from training.plots import pyplot

PREDICTION_COLUMNS = AUDIT_COLUMNS
"""The columns of ``predictions.parquet`` the bias audit reads (``training.audit.
predictions.AUDIT_COLUMNS``: the prediction, then the group sources), then ``received_at``,
``reference_priority`` and ``reference_probability`` (when the reference model was
fitted), each fold's ``p1_threshold`` and ``p2_threshold``, and its ``trained_on`` (rows
the fold's model learnt from)."""
LABELS = {
    "pr_auc": "PR-AUC",
    "p1_recall": "priority-1 recall",
    "p1_precision": "priority-1 precision",
    "p12_recall": "priority 1-2 recall",
    "ece": "calibration error (ECE)",
}


def prediction_frame(
    flat: pd.DataFrame, columns: dict[str, np.ndarray]
) -> pd.DataFrame:
    """Scored rows' predictions (``columns``) beside their group sources (rows of ``flat``)."""
    frame = pd.DataFrame(columns)
    frame.insert(0, "report_id", flat["report_id"].astype(str).to_numpy())
    groups = base_labels(flat).reset_index(drop=True)
    frame = pd.concat([frame.reset_index(drop=True), groups], axis=1)
    frame["received_at"] = flat["received_at"].to_numpy()
    ordered = [c for c in PREDICTION_COLUMNS if c in frame] + [
        c for c in frame if c not in PREDICTION_COLUMNS
    ]
    return frame[ordered]


def write_backtest(
    result: dict[str, Any],
    predictions: pd.DataFrame,
    out: Path,
    training: dict[str, Any] | None = None,
) -> dict[str, Path]:
    """Write the predictions, ``backtest.json`` and ``backtest.html`` into ``out``.

    ``training``: each fold's expected training escalations per group source value
    (``training_groups.json``, beside the predictions for the audit).
    """
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "predictions": out / "predictions.parquet",
        "json": out / "backtest.json",
        "html": out / "backtest.html",
    }
    predictions.to_parquet(paths["predictions"], index=False)
    if training is not None:
        paths["training_groups"] = out / TRAINING_GROUPS
        paths["training_groups"].write_text(json.dumps(training) + "\n")
    paths["json"].write_text(
        json.dumps(json_safe(result), indent=2, allow_nan=False) + "\n"
    )
    paths["html"].write_text(render_html(result))
    return paths


def json_safe(value: Any) -> Any:
    """The value with every non-finite float as None (JSON has no NaN or infinity)."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _cell(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "undefined"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return html.escape(str(value))


def period_table(result: dict[str, Any]) -> list[list[str]]:
    """Rows of the per-period table: period, reports, escalations, figures, oracle's."""
    rows = []
    for period in result["periods"]:
        model, oracle = period["model"], period.get("oracle", {})
        row = [period["period"], str(period["reports"]), str(period["positives"])]
        row += [_cell(model.get(name)) for name in HEADLINE]
        row += [_cell(oracle.get("pr_auc")), _cell(oracle.get("p1_recall"))]
        rows.append(row)
    return rows


TABLE_HEADERS = [
    "period",
    "reports",
    "escalated",
    *[LABELS[name] for name in HEADLINE],
    "oracle PR-AUC",
    "oracle P1 recall",
]


def text_table(result: dict[str, Any]) -> str:
    """The per-period table for the terminal."""
    rows = [TABLE_HEADERS, *period_table(result)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(TABLE_HEADERS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    )


def _plot(result: dict[str, Any], names: tuple[str, ...], title: str) -> str:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.2))
    periods = [p["period"] for p in result["periods"]]
    x = list(range(len(periods)))  # positions, labelled below (dates are categories)
    for name in names:
        values = [p["model"].get(name, math.nan) for p in result["periods"]]
        ax.plot(x, values, marker="o", label=f"model {LABELS[name]}")
        oracle = [p.get("oracle", {}).get(name, math.nan) for p in result["periods"]]
        if any(not math.isnan(v) for v in oracle):
            ax.plot(
                periods, oracle, marker="x", ls="--", label=f"oracle {LABELS[name]}"
            )
    ax.set_title(title)
    ax.set_ylim(bottom=0)
    ax.set_xticks(x, periods, rotation=45)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return _png(fig)


def render_html(result: dict[str, Any]) -> str:
    """A self-contained page: what was run, the per-period table, three plots."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in TABLE_HEADERS)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>"
        for row in period_table(result)
    )
    about = html.escape(
        f"{result['folds']} {result['step']}s from {result['data']}; "
        f"{result['predictions']} out-of-time predictions; engine {result['engine']}"
    )
    plots = [
        _plot(result, ("pr_auc",), "PR-AUC per period"),
        _plot(result, ("p1_recall", "p1_precision"), "Priority 1 per period"),
        _plot(result, ("ece",), "Calibration error per period"),
    ]
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Backtest</title>"
        "<style>body{font:14px sans-serif;margin:2em}td,th{padding:2px 8px;"
        "border-bottom:1px solid #ddd;text-align:right}</style></head><body>"
        f"<h1>Backtest</h1><p>{about}</p>"
        "<p>Each period is scored by a model trained only on reports whose outcome was "
        "known before the period began (decided before it, or never decided). Labels "
        "are the final outcomes.</p>"
        f"<table><tr>{head}</tr>{body}</table>{''.join(plots)}</body></html>"
    )
