"""The BentoML service: ``/score``, ``/score_batch``, ``/score_xml``, ``/model_card``.

Kept thin: it loads the champion (via ``ModelHolder``), turns requests into contracts,
calls ``Scorer``, writes the audit log before answering, and maps errors to precise 4xx
responses. ``bentoml serve serving.service:TipScoring`` (or ``tipscore serve``) runs it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

import bentoml
from bentoml.exceptions import BentoMLException, InvalidArgument

from features.identifiers import to_contract
from features.linkage import LinkageStore
from features.schema import ReportSubmission, TipReport
from features.settings import IntakeSettings
from features.xml.intake import IntakeOptions, parse_submission
from features.xml.safe import XmlIntakeError, XmlLimits
from serving import logs
from serving.analyst.schemas import (
    REASON_TEXT,
    DecisionIn,
    DecisionOut,
    LinkedReport,
    QueuePage,
    QueueQuery,
    ReportRef,
    ReportView,
)
from serving.analyst.ui_app import UiApp
from serving.audit_log import AuditLog
from serving.auth import AuthMiddleware
from serving.batcher import AdaptiveBatcher, CommittedError
from serving.errors import ErrorShapeMiddleware
from serving.model_card import model_card
from serving.model_holder import ModelHolder, Served
from serving.report_store import (
    DecisionRefused,
    NotFound,
    ReportStore,
    Scored,
    badges,
)
from serving.schemas import (
    BatchResponse,
    ModelCard,
    ScoreResponse,
    WarningOut,
    XmlSubmission,
)
from serving.scoring import Scorer, audit_rows
from serving.settings import ServingSettings
from training.registry import RegistryError, configure

logger = logging.getLogger(__name__)


class NotReady(BentoMLException):
    """No model is loaded: the service says why instead of guessing."""

    error_code = HTTPStatus.SERVICE_UNAVAILABLE


class ReportNotFound(BentoMLException):
    """No report with this id has been scored here."""

    error_code = HTTPStatus.NOT_FOUND


class ReloadFailed(BentoMLException):
    """A reload could not load the new model; the old one keeps serving."""

    error_code = HTTPStatus.CONFLICT


@dataclass(frozen=True)
class Job:
    """One accepted request's report, on its way through the adaptive batcher."""

    report: TipReport
    key_id: str
    endpoint: str
    warnings: list[WarningOut] = field(default_factory=list)
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)


def _key_id(ctx: bentoml.Context) -> str:
    state = ctx.request.scope.get("state", {})
    return str(state.get("key_id", "unknown"))


def _key_name(ctx: bentoml.Context) -> str:
    state = ctx.request.scope.get("state", {})
    return str(state.get("key_name", _key_id(ctx)))


@bentoml.service(
    name="tipscore",
    traffic={"timeout": 60},
    workers=1,
)
class TipScoring:
    """Suggested priorities with reasons for tip reports; an analyst decides."""

    def __init__(self) -> None:
        logs.install()
        self.settings = ServingSettings()
        if self.settings.dev_mode:
            logger.warning("DEV MODE: requests without a key are accepted as admin")
        configure()
        self.intake = IntakeSettings()
        self.hasher = self.intake.hasher()
        self.holder = ModelHolder(self.settings.model_uri)
        try:
            self.holder.load()
        except RegistryError:
            logger.error("not ready: %s", self.holder.error)
        self.scorer = Scorer(
            LinkageStore(self.settings.linkage_path), self.settings.top_n
        )
        self.audit = AuditLog(self.settings.audit_path)
        self.reports = ReportStore(self.settings.reports_path)
        self._write = threading.Lock()
        self.batcher: AdaptiveBatcher[Job, ScoreResponse] = AdaptiveBatcher(
            self._score_jobs,
            max_batch=self.settings.coalesce_max,
            max_wait_ms=self.settings.coalesce_wait_ms,
        )

    def __is_ready__(self) -> bool:
        return self.holder.current is not None

    def _served(self) -> Served:
        try:
            return self.holder.get()
        except RegistryError as exc:
            raise NotReady(f"no model is being served: {exc}") from None

    def _score_jobs(self, jobs: list[Job]) -> list[ScoreResponse]:
        """Score jobs in one pass; audit-log them (one transaction) before answering."""
        served = self._served()
        reports = [job.report for job in jobs]
        with self._write:
            responses = self.scorer.score(served, reports, [j.warnings for j in jobs])
            rows = [
                row
                for job, response in zip(jobs, responses, strict=True)
                for row in audit_rows(
                    [response], job.request_id, job.key_id, job.endpoint
                )
            ]
            self.audit.append(rows)
            try:
                self.reports.add(
                    [
                        Scored(
                            job.report,
                            response,
                            job.request_id,
                            self.scorer.policy.deadline(job.report.received_at),
                        )
                        for job, response in zip(jobs, responses, strict=True)
                    ]
                )
                self.scorer.record(reports)
            except Exception as exc:  # logged: a retry item by item would log twice
                raise CommittedError(
                    f"audit-logged, then {type(exc).__name__}"
                ) from exc
        return responses

    def _run(
        self, reports: list[TipReport], ctx: bentoml.Context, endpoint: str
    ) -> list[ScoreResponse]:
        """A whole batch request: one request id for all its reports."""
        request_id, key_id = uuid.uuid4().hex, _key_id(ctx)
        return self._score_jobs(
            [Job(r, key_id, endpoint, request_id=request_id) for r in reports]
        )

    async def _single(self, job: Job) -> ScoreResponse:
        self._served()  # not ready: 503 at once, not after queueing
        return await self.batcher.submit(job)

    @bentoml.api(route="/score")
    async def score(
        self, report: ReportSubmission, ctx: bentoml.Context
    ) -> ScoreResponse:
        """Score one report (JSON contract with raw identifiers, hashed on arrival).

        Concurrent calls are scored together (adaptive batching, ``serving.batcher``).
        """
        contract = to_contract(report, self.hasher)
        return await self._single(Job(contract, _key_id(ctx), "/score"))

    @bentoml.api(route="/score_batch")
    def score_batch(
        self, reports: list[ReportSubmission], ctx: bentoml.Context
    ) -> BatchResponse:
        """Score many reports in one call, answers in the same order.

        The size is checked here, not by ``max_length`` on the input: the limit is a runtime
        setting (``TIPSCORE_MAX_BATCH``), and BentoML's validation errors would not carry
        these documented messages.
        """
        if not reports:
            raise InvalidArgument("reports: at least one report is needed")
        if len(reports) > self.settings.max_batch:
            raise InvalidArgument(
                f"reports: at most {self.settings.max_batch} per batch, got {len(reports)}"
            )
        contracts = [to_contract(r, self.hasher) for r in reports]
        return BatchResponse(results=self._run(contracts, ctx, "/score_batch"))

    @bentoml.api(route="/score_xml")
    async def score_xml(
        self, submission: XmlSubmission, ctx: bentoml.Context
    ) -> ScoreResponse:
        """Score a CyberTipline ``<report>`` with its ``<fileDetails>`` documents."""
        options = self._xml_options(submission)
        documents = [submission.report_xml.encode()] + [
            d.encode() for d in submission.file_details_xml
        ]
        try:
            # off the event loop: a large submission takes a while to parse
            parsed = await asyncio.to_thread(
                parse_submission, documents, self.hasher, options
            )
        except XmlIntakeError as exc:
            raise InvalidArgument(f"{exc.code} at {exc.path}: {exc.message}") from None
        warnings = [
            WarningOut(code=f"xml_{w.code}", text=f"{w.path}: {w.message}")
            for w in parsed.warnings
        ]
        return await self._single(
            Job(parsed.report, _key_id(ctx), "/score_xml", warnings)
        )

    def _xml_options(self, submission: XmlSubmission) -> IntakeOptions:
        return IntakeOptions(
            esp=submission.esp,
            report_id=submission.report_id,
            received_at=submission.received_at or datetime.now(UTC),
            hash_matches=dict(submission.hash_matches),
            limits=XmlLimits(
                max_bytes=self.intake.xml_max_bytes,
                max_depth=self.intake.xml_max_depth,
                max_elements=self.intake.xml_max_elements,
            ),
        )

    @bentoml.api(route="/model_card")
    def model_card(self) -> ModelCard:
        """What is served: version, training window, test metrics, bias-audit summary.

        Also answers ``GET /model_card`` (the middleware maps it to this call).
        """
        served = self._served()
        decisions = {
            "this_model": self.reports.override_rates(
                f"{served.name}/{served.version}"
            ),
            "all_models": self.reports.override_rates(),
        }
        return model_card(served).model_copy(update={"analyst_decisions": decisions})

    @bentoml.api(route="/queue")
    def queue(self, query: QueueQuery) -> QueuePage:
        """The analyst queue: suggested priority 1 first, then by probability; paged."""
        try:
            return self.reports.queue(query, self.scorer.today())
        except ValueError as exc:
            raise InvalidArgument(str(exc)) from None

    @bentoml.api(route="/report")
    def report(self, report: ReportRef) -> ReportView:
        """One report: its suggestion, reasons, warnings, linked reports and decisions."""
        try:
            kept = self.reports.latest(report.report_id)
        except NotFound:
            raise ReportNotFound(
                f"report_id: {report.report_id!r} was not scored here"
            ) from None
        linked = self.scorer.linkage.linked_to(report.report_id)
        known = self.reports.in_queue([item["report_id"] for item in linked])
        return ReportView(
            report_id=report.report_id,
            received_at=kept["received_at"],
            scored_at=kept["scored_at"],
            esp=kept["esp"],
            incident_type=kept["incident_type"],
            suggestion=kept["response"],
            badges=badges(kept["codes"], kept["deadline"], self.scorer.today()),
            linked=[
                LinkedReport(
                    report_id=item["report_id"],
                    received_at=datetime.fromtimestamp(
                        item["received_us"] / 1e6, UTC
                    ).isoformat(),
                    shared=[k.removeprefix("link_") for k in item["kinds"]],
                    escalated=item["escalated"],
                    in_queue=item["report_id"] in known,
                )
                for item in linked
            ],
            decisions=self.reports.decisions(report.report_id),
            reasons={r.value: text for r, text in REASON_TEXT.items()},
        )

    @bentoml.api(route="/decide")
    def decide(self, decision: DecisionIn, ctx: bentoml.Context) -> DecisionOut:
        """Record an analyst's decision (append-only); the suggestion is never changed.

        The decision is also audit-logged, and a priority-1 decision marks the report as
        escalated in the linkage store, so later reports count it.
        """
        with self._write:
            try:
                out = self.reports.decide(decision, _key_id(ctx), _key_name(ctx))
            except NotFound:
                raise ReportNotFound(
                    f"report_id: {decision.report_id!r} was not scored here"
                ) from None
            except DecisionRefused as exc:
                raise InvalidArgument(str(exc)) from None
            self.audit.append(
                [
                    {
                        "request_id": out.decision_id,
                        "at": out.decided_at,
                        "key_id": out.key_id,
                        "endpoint": "/decide",
                        "report_id": out.report_id,
                        "model_version": out.model_version,
                        "probability": None,
                        "priority": out.priority,
                        "reasons": [{"decision": out.action, "reason": out.reason}],
                        "warnings": [],
                    }
                ]
            )
            self.scorer.linkage.set_escalated(out.report_id, out.priority == 1)
        return out

    @bentoml.api(route="/admin/reload")
    def reload(self) -> dict[str, Any]:
        """Load the current champion; on failure the old model keeps serving."""
        try:
            served = self.holder.load()
        except RegistryError as exc:
            raise ReloadFailed(f"{exc}; still serving the previous model") from None
        return {"model_name": served.name, "model_version": served.version}


TipScoring.mount_asgi_app(UiApp(), path="/ui")  # type: ignore[attr-defined]
TipScoring.add_asgi_middleware(ErrorShapeMiddleware)  # type: ignore[attr-defined]
TipScoring.add_asgi_middleware(AuthMiddleware)  # type: ignore[attr-defined]
