"""The ``shadow`` table: the challenger's answers kept beside the champion's suggestions.

Written by the service in the scored batch's own transaction (``Transaction.add_shadow``);
read by ``tipscore compare`` and promotion's ``shadow`` gate as flat rows: each report's
latest shadow answer, the champion's suggestion it shadowed (with the report's flattened
metadata, hashed identifiers only) and the analyst's latest decision on the report.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from serving.state import sql
from serving.state.backend import Connection


@dataclass(frozen=True)
class ShadowAnswer:
    """What the challenger said about one report (never sent to the caller)."""

    report_id: str
    request_id: str
    champion_version: str
    challenger_version: str
    challenger_run_id: str | None
    probability: float
    priority: int


def insert(
    db: Connection, answers: Sequence[ShadowAnswer], scored_seqs: Sequence[int], at: str
) -> None:
    """Keep the answers, each pointing at the ``scored`` row it shadows."""
    db.many(
        sql.INSERT_SHADOW,
        [
            [a.report_id, a.request_id, seq, at, a.champion_version,
             a.challenger_version, a.challenger_run_id, a.probability, a.priority]
            for a, seq in zip(answers, scored_seqs, strict=True)
        ],
    )  # fmt: skip


def shadowed(
    db: Connection,
    since: str,
    until: str,
    challenger: str | None = None,
    run_id: str | None = None,
) -> list[dict[str, Any]]:
    """Reports received in ``[since, until)`` (ISO UTC) with both answers, in receipt order.

    Only the answers of ``challenger`` (``NAME/VERSION``) or of the model trained by
    ``run_id`` when given. Each row: the shadow columns, ``champion_*`` and
    ``challenger_*`` probability and priority, ``decision_priority`` (None: undecided),
    and the report's flattened metadata under its own column names.
    """
    where, params = "1 = 1", []
    if challenger is not None:
        where, params = "x.challenger_version = ?", [challenger]
    elif run_id is not None:
        where, params = "x.challenger_run_id = ?", [run_id]
    rows = db.rows(sql.SHADOWED.format(where=where), [*params, since, until])
    out = []
    for row in rows:
        flat = json.loads(row["flat"])
        values = {k: row[k] for k in row.keys() if k != "flat"}  # noqa: SIM118
        out.append({**flat, **values})
    return out


def challengers(db: Connection) -> list[dict[str, Any]]:
    """Every challenger shadowed here, the latest first: version, run id, answers kept."""
    return [
        {
            "challenger_version": r["challenger_version"],
            "challenger_run_id": r["challenger_run_id"],
            "answers": int(r["n"]),
        }
        for r in db.rows(sql.SHADOW_CHALLENGERS)
    ]
