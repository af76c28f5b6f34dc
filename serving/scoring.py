"""Scoring reports: the one feature path, the champion, TreeSHAP reasons, rules, linkage.

Pure of HTTP: the BentoML service, the CLI and the benchmarks call ``Scorer.score``; it
returns typed responses and the audit-log rows; ``Scorer.record`` adds each report's hashed
identifiers to the caller's state transaction so later reports see them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from features.extract import model_input
from features.flat import flat_columns
from features.linkage import LINK_FEATURES, to_micros
from features.schema import TipReport
from serving.explain import (
    SCALE_NOTE,
    Contribution,
    NotApplicable,
    described,
    grouped,
    not_applicable_mask,
    plain_columns,
    summary,
)
from serving.key_facts import key_facts
from serving.model_holder import Served
from serving.rules import PreservationPolicy, warnings_for
from serving.schemas import (
    ContributionOut,
    Explanation,
    NotApplicableOut,
    ScoreResponse,
    Thresholds,
    WarningOut,
)
from serving.shadow import ShadowHolder, ShadowScores
from serving.state.records import LinkRecord
from serving.state.store import StateStore, Transaction
from serving.wording import context_of


def linkage_keys(report: TipReport) -> dict[str, list[str]]:
    """The report's hashed identifiers by linkage column."""
    keys = report.linkage
    return {
        "link_accounts": keys.accounts,
        "link_emails": keys.emails,
        "link_phones": keys.phones,
        "link_ips": keys.ips,
        "link_devices": keys.devices,
        "link_file_hashes": keys.file_hashes,
    }


def thresholds(served: Served) -> Thresholds:
    """The served model's thresholds and the capacity policy behind them."""
    policy = served.model.policy
    return Thresholds(
        p1=policy.p1_threshold,
        p2=policy.p2_threshold,
        p1_share=policy.p1_share,
        p12_share=policy.p12_share,
        policy=(
            f"priority 1 for the top {policy.p1_share:.1%} of reports, priority 1 or 2 "
            f"for the top {policy.p12_share:.1%} (analyst capacity), as set when the "
            "model was trained"
        ),
    )


@dataclass
class Scorer:
    """Scores contracts with the served model; its linkage features come from the store."""

    linkage: StateStore
    top_n: int = 5
    today: Callable[[], date] = field(default=lambda: datetime.now(UTC).date())
    policy: PreservationPolicy = field(default_factory=PreservationPolicy)

    def links(self, reports: Sequence[TipReport]) -> list[dict[str, int]]:
        """Linkage features of each report from earlier reports, in the store or the batch."""
        return self.linkage.lookup_batch(link_records(reports))

    def score(
        self,
        served: Served,
        reports: Sequence[TipReport],
        extra_warnings: Sequence[Sequence[WarningOut]] = (),
    ) -> list[ScoreResponse]:
        """Score, explain and warn for every report; then record them for linkage."""
        return self.score_shadowed(served, reports, extra_warnings)[0]

    def score_shadowed(
        self,
        served: Served,
        reports: Sequence[TipReport],
        extra_warnings: Sequence[Sequence[WarningOut]] = (),
        shadow: ShadowHolder | None = None,
    ) -> tuple[list[ScoreResponse], ShadowScores | None]:
        """``score``, and the challenger's answers on the same matrix (``serving.shadow``).

        The challenger scores after the champion, from the champion's matrix: nothing of
        the responses depends on it. None when no challenger is loaded (or it failed).
        """
        links = self.links(reports)
        history = {
            d.name: np.array([link[d.name] for link in links], dtype=np.int64)
            for d in LINK_FEATURES
        }
        inputs = model_input(flat_columns(reports), history)
        scores = served.model.scores(inputs.matrix, explain=True)
        contexts = [context_of(r) for r in reports]
        plain = plain_columns(inputs.columns)  # read many times below: made plain once
        mask = not_applicable_mask(plain, contexts)
        shap = scores.feature_contributions
        applicable = np.where(mask, 0.0, shap)
        base = scores.base_value[:, None]
        reasons = replace(scores, contributions=np.hstack([applicable, base]))
        chosen = reasons.reasons(self.top_n)
        limits, today = thresholds(served), self.today()
        out = []
        for i, report in enumerate(reports):
            ctx = contexts[i]
            top = described(plain, i, *chosen.row(i), ctx)
            rest = grouped(plain, i, shap[i], mask[i], ctx)
            rules = [
                WarningOut(code=w.code, text=w.text)
                for w in warnings_for(report, links[i], today, self.policy)
            ]
            parsed = list(extra_warnings[i]) if extra_warnings else []
            out.append(
                ScoreResponse(
                    report_id=report.report_id,
                    escalation_probability=float(scores.probability[i]),
                    suggested_priority=int(scores.priority[i]),
                    thresholds=limits,
                    model_name=served.name,
                    model_version=served.version,
                    explanation=Explanation(
                        base_value=float(scores.base_value[i]),
                        raw_score=float(scores.raw[i]),
                        note=SCALE_NOTE,
                        contributions=[_out(c) for c in top],
                        not_applicable=_grouped_out(rest),
                    ),
                    warnings=rules + parsed,
                    summary=summary(top),
                    key_facts=key_facts(report, links[i], today, self.policy),
                )
            )
        return out, (shadow.scores(inputs.matrix) if shadow is not None else None)

    def record(self, tx: Transaction, reports: Sequence[TipReport]) -> None:
        """Remember the reports' hashed identifiers for later reports (in ``tx``)."""
        tx.record_links(link_records(reports))


def _out(reason: Contribution) -> ContributionOut:
    return ContributionOut(**reason.__dict__)


def _grouped_out(rest: NotApplicable | None) -> NotApplicableOut | None:
    if rest is None:
        return None
    return NotApplicableOut(
        because=list(rest.because),
        contribution=rest.contribution,
        text=rest.text,
        contributions=[_out(c) for c in rest.contributions],
    )


def link_records(reports: Sequence[TipReport]) -> list[LinkRecord]:
    """``(report_id, received_us, hashes)`` of each report, for the linkage store."""
    micros = to_micros([r.received_at for r in reports])
    return [
        (report.report_id, int(t), linkage_keys(report))
        for t, report in zip(micros, reports, strict=True)
    ]


def audit_rows(
    responses: Sequence[ScoreResponse], request_id: str, key_id: str, endpoint: str
) -> list[dict[str, Any]]:
    """Audit-log rows for responses: ids, score, reasons' features, warning codes."""
    at = datetime.now(UTC).isoformat(timespec="milliseconds")
    return [
        {
            "request_id": request_id,
            "at": at,
            "key_id": key_id,
            "endpoint": endpoint,
            "report_id": r.report_id,
            "model_version": f"{r.model_name}/{r.model_version}",
            "probability": r.escalation_probability,
            "priority": r.suggested_priority,
            "reasons": [
                {"feature": c.feature, "contribution": round(c.contribution, 6)}
                for c in r.explanation.contributions
            ],
            "warnings": [w.code for w in r.warnings],
        }
        for r in responses
    ]
