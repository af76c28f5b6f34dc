"""The simulation's report: JSON, a Markdown table, plots, and one MLflow parent run.

``simulation.json`` holds everything (every month's figures, candidates, gates, steps
with their errors); ``simulation.md`` the table a reader wants first; ``simulation.png``
the served model's PR-AUC against the oracle's and the analysts' agreement, month by
month. MLflow: one parent run in the config's experiment (params, a metric series per
month, the three files), a child run per month; only ``training.registry`` touches MLflow.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from training import registry

COLUMNS = (
    ("month", "month", "{}"),
    ("served by", "served_by", "{}"),
    ("PR-AUC", "pr_auc", "{:.3f}"),
    ("oracle", "oracle_pr_auc", "{:.3f}"),
    ("ratio", "pr_auc_vs_oracle", "{:.2f}"),
    ("P1 recall", "p1_recall", "{:.2f}"),
    ("oracle P1", "oracle_p1_recall", "{:.2f}"),
    ("decided", "decided", "{:.0f}"),
    ("agree blind", "agreement_blind", "{:.2f}"),
    ("agree shown", "agreement_shown", "{:.2f}"),
    ("override", "override_rate_shown", "{:.2f}"),
    ("drift alerts", "drift_alerts", "{}"),
    ("audit flags", "audit_flags", "{}"),
    ("promotion", "promotion", "{}"),
)
SERIES = (
    "pr_auc",
    "oracle_pr_auc",
    "pr_auc_vs_oracle",
    "p1_recall",
    "oracle_p1_recall",
    "decided",
    "agreement_blind",
    "agreement_shown",
    "override_rate_shown",
    "analyst_label_accuracy",
)


def _cell(record: dict[str, Any], key: str, fmt: str) -> str:
    value = record.get(key)
    if value is None:
        return "–"
    if key == "promotion":
        if value.get("promoted"):
            return f"promoted v{value['version']}"
        return "kept champion: " + ", ".join(value.get("failed") or ["?"])
    if isinstance(value, list):
        return str(len(value)) if key != "served_by" else ", ".join(value)
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    return fmt.format(value)


def markdown(report: dict[str, Any]) -> str:
    """The table of months, then every step that failed with its error."""
    lines = [
        "| " + " | ".join(h for h, _, _ in COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    lines += [
        "| " + " | ".join(_cell(m, k, f) for _, k, f in COLUMNS) + " |"
        for m in report["months"]
    ]
    lines.append("")
    lines.append(
        "Promotion: the candidate trained at the month's end, judged after its"
    )
    lines.append(
        "shadow days of the next month (the row's month is the one it was trained after)."
    )
    lines.append("")
    failed = report["failed"]
    lines.append(f"Failed steps: {len(failed)}")
    lines += [
        f"- {s['month']} {s['step']}: {s['error']}"
        + (
            f" (months not simulated: {', '.join(s['skipped_months'])})"
            if s.get("skipped_months")
            else ""
        )
        for s in failed
    ]
    lines.append(f"\nTook {report['seconds']:.0f} s.")
    return "\n".join(lines) + "\n"


def figure(report: dict[str, Any]) -> Any:
    """PR-AUC (served, oracle) and agreement (blind, shown) by month."""
    from training.plots import pyplot

    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    months = [m["month"] for m in report["months"]]
    for key, label in (
        ("pr_auc", "served model"),
        ("oracle_pr_auc", "oracle (p_true)"),
    ):
        left.plot(
            months, [m.get(key) for m in report["months"]], marker="o", label=label
        )
    left.set_title("PR-AUC on each month")
    left.legend()
    for key, label in (("agreement_blind", "blind"), ("agreement_shown", "shown")):
        right.plot(
            months, [m.get(key) for m in report["months"]], marker="o", label=label
        )
    right.set_title("analysts' agreement with the suggestion")
    right.legend()
    fig.tight_layout()
    return fig


def _metrics(record: dict[str, Any]) -> dict[str, float]:
    return {
        k: float(record[k])
        for k in SERIES
        if isinstance(record.get(k), int | float) and not math.isnan(record[k])
    }


def log_parent_run(report: dict[str, Any], experiment: str, files: list[Path]) -> str:
    """One parent run with a metric series per month, and a child run per month."""
    with registry.start_run(experiment) as run_id:
        registry.set_tags({"kind": "simulation", "failed_steps": len(report["failed"])})
        registry.log_params(
            {
                "history": report["history"],
                "start_months": report["start_months"],
                "months": report["months_simulated"],
                **{
                    f"{section}.{key}": value
                    for section, values in report["config"].items()
                    if isinstance(values, dict)
                    for key, value in values.items()
                },
            }
        )
        for step, record in enumerate(report["months"]):
            registry.log_metrics(_metrics(record), step=step)
            with registry.start_child_run(record["month"]):
                registry.log_metrics(_metrics(record))
                registry.log_dict(record, "month.json")
        registry.log_dict(report, "simulation.json")
        registry.log_text(files[1].read_text(), "simulation.md")
        registry.log_figure(figure(report), "simulation.png")
    return run_id


def write_report(report: dict[str, Any], out: Path, experiment: str) -> dict[str, Any]:
    """Write the three files and log the parent run; the report with its run id."""
    paths = [out / "simulation.json", out / "simulation.md", out / "simulation.png"]
    paths[1].write_text(markdown(report))
    fig = figure(report)
    fig.savefig(paths[2], dpi=100)
    try:
        report["mlflow_run_id"] = log_parent_run(report, experiment, paths)
    except Exception as exc:
        report["failed"].append(
            {
                "month": "report",
                "step": "log to MLflow",
                "ok": False,
                "error": f"{type(exc).__name__}: {exc}",
            }
        )
        paths[1].write_text(markdown(report))
    paths[0].write_text(json.dumps(report, indent=2, default=str))
    return report
