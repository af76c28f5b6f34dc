"""Auditing pooled out-of-time predictions (``tipscore audit --predictions DIR``).

Why: one test window at the real escalation rate holds too few escalations to judge most
groups. A backtest (``tipscore backtest``) scores every period of the history's later part
with a model trained only on what came before; pooled, every report counts once, and many
more groups can be judged.

The format (Parquet, a file or a folder of parts, one row per report) is
``AUDIT_COLUMNS``: ``PREDICTION_COLUMNS`` then the group sources
``PREDICTION_GROUP_COLUMNS`` (``training.audit.groups.base_labels`` computes them from a
history's flat rows). Optional: ``REFERENCE_COLUMNS`` (the reference model's priority per
report, ``training.audit.reference.fit_reference_model`` per fold) and
``THRESHOLD_COLUMNS`` (each fold's P1 and P2 thresholds; inferred per period when absent).
Beside a folder of predictions, ``training_groups.json`` (``tipscore backtest`` writes it)
gives each fold's expected training escalations per group source value, for
``mean_score``'s training chance.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from training.audit.config import AuditConfig
from training.audit.groups import PREDICTION_GROUP_COLUMNS, base_labels
from training.audit.job import AuditOutcome
from training.audit.mean_score import MEAN_SCORE
from training.audit.report import write_audit
from training.audit.window import Audited, audit_frame, oracle_queues
from training.data import History
from training.model import EscalationModel

PREDICTION_COLUMNS = (
    "report_id",
    "period",
    "probability",
    "priority",
    "label",
    "p_true",
)
"""What a backtest writes per report: its id, the period (fold) it was scored in, the fold
model's calibrated probability and priority (1-3), the final label (bool), and ``p_true``
(nullable: known only for synthetic history)."""
AUDIT_COLUMNS = PREDICTION_COLUMNS + PREDICTION_GROUP_COLUMNS
"""Every column ``tipscore audit --predictions`` needs, in order."""
REFERENCE_COLUMNS = ("reference_priority", "reference_probability")
"""Optional: the priority (1-3) and the calibrated probability the fold's reference model
(no platform or location features) gave the report; enable the reference-model comparison
(the priority for the queue metrics, the probability for ``mean_score``)."""
THRESHOLD_COLUMNS = ("p1_threshold", "p2_threshold")
"""Optional: the fold model's thresholds (for the oracle's queues)."""
TRAINING_GROUPS = "training_groups.json"
"""Beside the predictions: ``{period: {column: {value: expected escalations}}}`` over each
fold's training rows (``training.backtest.job.training_groups``)."""


def prediction_frame(
    model: EscalationModel,
    history: History,
    rows: slice,
    period: str,
    reference: EscalationModel | None = None,
) -> pd.DataFrame:
    """What a backtest writes per fold: ``AUDIT_COLUMNS`` and the optional columns.

    ``rows`` of ``history`` scored by the fold's ``model``, with the group sources beside
    them so the audit needs no join; ``reference``: the fold's reference model (``fit_reference_model``), to write
    ``reference_priority`` too.
    """
    from training.audit.reference import hidden

    scores = model.scores(history.matrix[rows])
    flat = history.flat.iloc[rows]
    truth = history.p_true[rows] if history.p_true is not None else None
    frame = pd.DataFrame(
        {
            "report_id": flat["report_id"].astype(str).to_numpy(),
            "period": period,
            "probability": scores.probability,
            "priority": scores.priority,
            "label": history.labels[rows].astype(bool),
            "p_true": truth if truth is not None else np.full(len(scores.raw), np.nan),
        }
    )
    frame = pd.concat([frame, base_labels(flat).reset_index(drop=True)], axis=1)
    if reference is not None:
        theirs = reference.scores(hidden(history.matrix[rows]))
        frame["reference_priority"] = theirs.priority
        frame["reference_probability"] = theirs.probability
    frame["p1_threshold"] = model.policy.p1_threshold
    frame["p2_threshold"] = model.policy.p2_threshold
    return frame


class PredictionsError(ValueError):
    """Pooled predictions that cannot be audited; names every problem."""


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*.parquet") if p.is_file())


def predictions_sha256(path: Path) -> str:
    """SHA-256 over the Parquet files' names and bytes, in name order."""
    digest = hashlib.sha256()
    for file in _files(path):
        digest.update(
            str(file.relative_to(path) if path.is_dir() else file.name).encode()
        )
        digest.update(file.read_bytes())
    return digest.hexdigest()


def _problems(frame: pd.DataFrame) -> list[str]:
    missing = [c for c in AUDIT_COLUMNS if c not in frame.columns]
    if missing:
        return [f"missing column(s) {missing}; expected {list(AUDIT_COLUMNS)}"]
    problems = []
    if frame["report_id"].duplicated().any():
        problems.append("report_id is not unique (one row per report)")
    if not frame["priority"].isin([1, 2, 3]).all():
        problems.append("priority must be 1, 2 or 3")
    if not frame["label"].isin([0, 1, True, False]).all():
        problems.append("label must be a boolean (or 0/1)")
    probability = pd.to_numeric(frame["probability"], errors="coerce")
    if not probability.between(0, 1).all():
        problems.append("probability must be a number in [0, 1]")
    truth = pd.to_numeric(frame["p_true"], errors="coerce")
    if not (truth.isna() | truth.between(0, 1)).all():
        problems.append("p_true must be null or in [0, 1]")
    if (
        "reference_priority" in frame
        and not frame["reference_priority"].isin([1, 2, 3]).all()
    ):
        problems.append("reference_priority must be 1, 2 or 3")
    if (
        "reference_probability" in frame
        and not pd.to_numeric(frame["reference_probability"], errors="coerce")
        .between(0, 1)
        .all()
    ):
        problems.append("reference_probability must be a number in [0, 1]")
    return problems


def load_predictions(path: Path) -> pd.DataFrame:
    """Read and validate pooled predictions (a Parquet file or a folder of parts).

    Raises:
        PredictionsError: no such file or folder, no Parquet in it, or bad columns.
    """
    files = _files(path) if path.exists() else []
    if not files:
        raise PredictionsError(f"no Parquet predictions at {path}")
    try:
        frame = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    except (OSError, ValueError) as exc:
        raise PredictionsError(f"cannot read predictions at {path}: {exc}") from exc
    problems = _problems(frame)
    if problems:
        raise PredictionsError(f"{path}: " + "; ".join(problems))
    return frame


def _thresholds(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each row's fold thresholds: given, or the lowest probability in each queue per period.

    The lowest probability the fold put in P1 is at or above its P1 threshold and no
    P2 report's probability reaches it, so the oracle's queue at it is the same queue.
    A period with an empty queue gets +inf (the oracle selects nothing there either).
    """
    if all(c in frame for c in THRESHOLD_COLUMNS):
        return (
            frame["p1_threshold"].to_numpy(float),
            frame["p2_threshold"].to_numpy(float),
        )
    p = frame["probability"].astype(float)
    lowest = [
        p.where(frame["priority"] <= level).groupby(frame["period"]).transform("min")
        for level in (1, 2)
    ]
    first, both = (s.fillna(np.inf).to_numpy(float) for s in lowest)
    return first, both


def audited(frame: pd.DataFrame) -> tuple[Audited, dict[str, Any]]:
    """The audited rows of pooled predictions, and notes on what could be compared."""
    priority = frame["priority"].to_numpy(int)
    p = frame["probability"].to_numpy(float)
    first, both = _thresholds(frame)
    truth = pd.to_numeric(frame["p_true"], errors="coerce").to_numpy(float)
    known = bool(np.isfinite(truth).all())
    medians = tuple(
        float(np.median(t[np.isfinite(t)])) if np.isfinite(t).any() else 1.0
        for t in (first, both)
    )
    rows = Audited(
        y=frame["label"].to_numpy(bool),
        p=p,
        sel1=priority <= 1,
        sel12=priority <= 2,
        base=frame[list(PREDICTION_GROUP_COLUMNS)].reset_index(drop=True),
        thresholds=(medians[0], medians[1]),
        truth=truth if known else None,
    )
    if known:
        rows.comparators["oracle"] = oracle_queues(truth, (first, both))
        rows.comparator_scores["oracle"] = truth
    if "reference_priority" in frame:
        theirs = frame["reference_priority"].to_numpy(int)
        rows.comparators["reference_model"] = (theirs <= 1, theirs <= 2)
    if "reference_probability" in frame:
        chances = frame["reference_probability"].to_numpy(float)
        rows.comparator_scores["reference_model"] = chances
    notes = {
        "periods": sorted(str(v) for v in frame["period"].unique()),
        "p_true_missing": int((~np.isfinite(truth)).sum()),
        "reference_model": "reference_priority" in frame,
        "reference_probability": "reference_probability" in frame,
    }
    return rows, notes


def fold_training(
    path: Path, periods: list[str]
) -> dict[str, dict[str, dict[str, float]]] | None:
    """The backtest's ``training_groups.json`` beside the predictions, when it has them.

    Each of ``periods`` must be in it (another backtest's file is not these predictions');
    None when there is none, so the training chance is not counted.

    Raises:
        PredictionsError: the file is there but is not such a mapping.
    """
    file = (path if path.is_dir() else path.parent) / TRAINING_GROUPS
    if not file.is_file():
        return None
    try:
        found = json.loads(file.read_text())
        folds = {
            str(period): {
                str(column): {str(v): float(e) for v, e in values.items()}
                for column, values in columns.items()
            }
            for period, columns in found.items()
        }
    except (OSError, ValueError, AttributeError, TypeError) as exc:
        raise PredictionsError(
            f"{file}: not {{period: {{column: {{value: expected}}}}}}: {exc}"
        ) from exc
    missing = sorted(set(periods) - set(folds))
    if missing:
        raise PredictionsError(f"{file} has no training sums for period(s) {missing}")
    return folds


def audit_predictions(path: Path, cfg: AuditConfig, out: Path) -> AuditOutcome:
    """Audit pooled predictions; write ``out/audit.{json,html}`` (nothing is logged).

    Raises:
        PredictionsError: the predictions cannot be read or lack columns.
    """
    frame = load_predictions(path)
    rows, notes = audited(frame)
    if cfg.training_chance and any(j.metric == MEAN_SCORE for j in cfg.judge):
        rows.fold_training = fold_training(path, notes["periods"])
    rows.periods = frame["period"].astype(str).to_numpy()
    notes["training_groups"] = rows.fold_training is not None
    result = audit_frame(rows, cfg)
    result["thresholds_note"] = " (medians over the periods' own thresholds)"
    result["attribution"] = None
    result["meta"] = {
        "source": "predictions",
        "predictions_path": str(path),
        "predictions_sha256": predictions_sha256(path),
        **notes,
        "audited_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    json_path, html_path = write_audit(result, out)
    return AuditOutcome(result, json_path, html_path, None)


def read_backtest_audit(path: Path) -> dict[str, Any]:
    """The ``audit.json`` of ``tipscore audit --predictions`` (the file or its folder).

    Raises:
        ValueError: no such file, not JSON, or not an audit of pooled predictions.
    """
    file = path / "audit.json" if path.is_dir() else path
    try:
        result: dict[str, Any] = json.loads(file.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read the backtest audit {file}: {exc}") from exc
    if result.get("meta", {}).get("source") != "predictions":
        raise ValueError(
            f"{file} is not an audit of pooled predictions "
            "(tipscore audit --predictions DIR)"
        )
    return result
