"""The BentoML service: ``/score``, ``/score_batch``, ``/score_xml`` (BentoML APIs).

Kept thin: it loads the champion (via ``ModelHolder``), turns requests into contracts,
calls ``Scorer``, writes the audit log before answering, and maps errors to precise 4xx
responses. The analyst and admin routes (queue, report, decide, model card, reload, the
page) are a FastAPI app mounted in it (``serving.analyst.app``) that uses this instance's
stores. ``bentoml serve serving.service:TipScoring`` (or ``tipscore serve``) runs it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import bentoml
from bentoml.exceptions import InvalidArgument
from psycopg.errors import RaiseException

from features.identifiers import to_contract
from features.platforms import Platforms
from features.schema import CLOCK_SKEW, ReportSubmission, TipReport
from features.vocab import ReporterType
from features.xml.intake import IntakeOptions, parse_submission
from features.xml.safe import XmlIntakeError, XmlLimits
from serving import connections, heap, live_metrics, logs
from serving.access import AccessLog
from serving.analyst.app import analyst_app
from serving.analyst.cursors import CursorSeal
from serving.auth import (
    ANALYST_PATHS,
    OPEN_PATHS,
    OPEN_PREFIXES,
    ROLES_BY_PATH,
    AuthMiddleware,
    Gate,
)
from serving.batcher import AdaptiveBatcher
from serving.body_timeout import BodyTimeoutMiddleware
from serving.dev_mode import check_dev_mode
from serving.direct import DirectScoreMiddleware
from serving.errors import (
    STATE_UNAVAILABLE,
    ErrorShapeMiddleware,
    NotReady,
    StateUnavailable,
    is_outage,
)
from serving.intake import IntakeSettings, intake_hasher
from serving.json_bodies import JsonBodyMiddleware
from serving.metrics import RouteMetricsMiddleware
from serving.model_holder import ModelHolder, Served
from serving.schemas import (
    BatchResponse,
    ScoreResponse,
    WarningOut,
    XmlSubmission,
)
from serving.scoring import Scorer, audit_rows
from serving.settings import load as load_settings
from serving.shadow import ShadowHolder, answers
from serving.start_refusal import stop_server
from serving.state.key_check import KeyMismatch, check_key
from serving.state.migrate import open_state
from serving.state.records import Scored
from serving.triage import case_entries
from serving.xml_facts import received_at_warning
from serving.xml_forms import XmlFormsMiddleware
from training.registry import RegistryError, configure

logger = logging.getLogger(__name__)
__all__ = ["NotReady", "TipScoring"]


@dataclass(frozen=True)
class Job:
    """One accepted request's report, on its way through the adaptive batcher."""

    report: TipReport
    key_id: str
    endpoint: str
    warnings: list[WarningOut] = field(default_factory=list)
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass(frozen=True)
class Answer:
    """A scored report's response and its JSON text, made once.

    The state keeps the text and ``POST /score`` sends it (``serving.direct``); it was
    serialised twice before, once for each.
    """

    response: ScoreResponse
    text: str


def not_ahead(
    received_at: datetime, where: str = "received_at", on: bool = True
) -> None:
    """Refuse a receipt time ahead of this service's clock (beyond the contract's skew).

    The contract takes 1990-2100 (``features.schema``: it also validates histories, and
    knows no clock); a report scored now cannot have been received in 2100, and its time
    features (days from incident to report) would be wrong (an outside security test).
    ``on``: the setting ``refuse_future_receipts`` (off for ``tipscore simulate``).
    """
    now = datetime.now(UTC)
    if on and received_at > now + CLOCK_SKEW:
        raise InvalidArgument(
            f"{where}: {received_at.isoformat()} is ahead of this service's clock "
            f"({now.isoformat(timespec='seconds')}) by more than "
            f"{CLOCK_SKEW.total_seconds() / 60:g} minutes; a report cannot have been "
            "received in the future"
        )


def _key_id(ctx: bentoml.Context) -> str:
    state = ctx.request.scope.get("state", {})
    return str(state.get("key_id", "unknown"))


ROUTES = OPEN_PATHS | ANALYST_PATHS | frozenset(ROLES_BY_PATH)
"""Every path the service answers; others are kept and logged as ``(unmatched)``."""

UNTRACED = [r"^[a-z]+://[^/]+/score(_batch|_xml)?/?$"]
"""Routes left out of BentoML's OpenTelemetry spans: the scoring APIs.

No span exporter is configured, so those spans went nowhere, and making them (two spans
per answer, one per ASGI message) cost about 1 ms of CPU per ``/score`` call, a quarter
of the call (measured with ``benchmarks/serve_bench.py``). Every scoring call is in the
audit log with its request id instead. The analyst routes keep their spans.
"""


@bentoml.service(
    name="tipscore",
    traffic={"timeout": 60},
    tracing={"excluded_urls": UNTRACED},
    metrics={"enabled": False},  # labelled by raw path; ours: serving.metrics
    workers=1,
)
@bentoml.asgi_app(analyst_app(), path="/")
class TipScoring:
    """Suggested priorities with reasons for tip reports; an analyst decides."""

    def __init__(self) -> None:
        logs.install(ROUTES, OPEN_PREFIXES)  # no raw path or header value in a log line
        self.settings = load_settings()  # the one reading; middlewares use it too
        check_dev_mode(self.settings.dev_mode)  # refuses any host but 127.0.0.1
        connections.install(
            self.settings.header_timeout_s, self.settings.max_connections_per_client
        )
        self.gate = Gate(self.settings)  # keys and roles of the analyst app's routes
        configure()
        self.intake = IntakeSettings()
        self.hasher = intake_hasher(self.intake)
        self.cursors = CursorSeal(self.hasher)  # the analyst page's paging cursors
        self.platforms = Platforms(self.intake.esp_names)  # what `esp` is kept as
        self.holder = ModelHolder(self.settings.model_uri)
        try:
            self.holder.load()
        except RegistryError:
            logger.error("not ready: %s", self.holder.error)
        # a challenger scored in the shadows (serving.shadow); optional, never blocking
        self.shadow = ShadowHolder(self.settings.challenger_uri)
        self.shadow.load(self.holder.current)
        try:
            self.state = open_state(
                self.settings, self.platforms
            )  # old ESP names closed
            check_key(self.state, self.hasher)  # PostgreSQL: every replica's one secret
        except (KeyMismatch, RaiseException) as exc:  # the server stops, saying why
            # (RaiseException: the database's own refusal, e.g. the owner's role)
            stop_server(str(exc))
            raise
        live_metrics.install(  # /metrics: suggestions, decisions, monitor status, model
            live_metrics.LiveFigures(
                self.state,
                self.settings.reports_path.parent / live_metrics.STATUS_FILE,
                self._model_about,
            )
        )
        self.scorer = Scorer(self.state, self.settings.top_n)
        # refusals and reads of analysts' data, written off the scoring path
        self.access = AccessLog(self.state, ROUTES)
        self._write = threading.Lock()
        self.batcher: AdaptiveBatcher[Job, Answer] = AdaptiveBatcher(
            self._answer_jobs,
            max_batch=self.settings.coalesce_max,
            max_wait_ms=self.settings.coalesce_wait_ms,
            # a batch of one on the event loop saves a thread hop on SQLite, unless
            # another write holds the lock (it would block the loop till it ends); on
            # PostgreSQL its write-lock wait would block the loop: a worker thread
            inline_single=(lambda: not self._write.locked())
            if not self.state.backend.write_lock
            else False,
        )
        heap.settle()  # the loaded model and modules out of the collector's way

    def _model_about(self) -> tuple[str, str] | None:
        """(name, version) of the model serving now, for ``/metrics``."""
        current = self.holder.current
        return None if current is None else (current.name, current.version)

    def __is_ready__(self) -> bool:
        # on PostgreSQL also the database: a replica that cannot reach it is taken out
        return self.holder.current is not None and self.state.reachable()

    @bentoml.on_shutdown
    def write_pending_access(self) -> None:
        """At shutdown, write the access events still buffered (they were lost before).

        BentoML calls this when the worker stops (SIGTERM, the end of a test client).
        """
        self.access.close()

    def _served(self) -> Served:
        try:
            return self.holder.get()
        except RegistryError as exc:
            raise NotReady(f"no model is being served: {exc}") from None

    def _score_jobs(self, jobs: list[Job]) -> list[ScoreResponse]:
        """Score jobs in one pass and keep them (``_answer_jobs``); their responses."""
        return [answer.response for answer in self._answer_jobs(jobs)]

    def _answer_jobs(self, jobs: list[Job]) -> list[Answer]:
        """``_keep_jobs``, a database outage answered as one (``StateUnavailable``, 503)."""
        try:
            return self._keep_jobs(jobs)
        except Exception as exc:
            if is_outage(exc):
                raise StateUnavailable(STATE_UNAVAILABLE) from exc
            raise

    def _keep_jobs(self, jobs: list[Job]) -> list[Answer]:
        """Score jobs in one pass; keep them (one transaction, all or none) before answering.

        Audit rows, suggestions, queue and linkage commit together, so a failed batch
        leaves nothing behind and the batcher may retry it item by item.
        """
        served = self._served()
        # the ESP name is kept as its closed-vocabulary spelling (features.platforms)
        reports = [self.platforms.closed(job.report) for job in jobs]
        # exclusive: on PostgreSQL the replicas' write lock, from linkage read to commit
        with self._write, self.state.exclusive():
            responses, shadowed = self.scorer.score_shadowed(
                served, reports, [j.warnings for j in jobs], self.shadow
            )
            texts = [response.model_dump_json() for response in responses]
            rows = [
                row
                for job, response in zip(jobs, responses, strict=True)
                for row in audit_rows(
                    [response], job.request_id, job.key_id, job.endpoint
                )
            ]
            with self.state.transaction() as tx:
                tx.append_audit(rows)
                seqs = tx.add_scored(
                    [
                        Scored(
                            report,
                            response,
                            job.request_id,
                            # a public report starts no platform's preservation
                            None
                            if report.reporter_type is ReporterType.PUBLIC
                            else self.scorer.policy.deadline(report.received_at),
                            text,
                        )
                        for job, report, response, text in zip(
                            jobs, reports, responses, texts, strict=True
                        )
                    ]
                )
                if shadowed is not None:  # the challenger's answers, never returned
                    tx.add_shadow(
                        answers(
                            shadowed,
                            served,
                            [r.report_id for r in responses],
                            [j.request_id for j in jobs],
                        ),
                        seqs,
                    )
                self.scorer.record(tx, reports)
                tx.maintain_cases(  # cases, bursts, blind review (issue 21)
                    case_entries(reports, responses, self.settings.blind_share),
                    self.settings.case_config,
                )
        return [Answer(r, t) for r, t in zip(responses, texts, strict=True)]

    def _run(
        self, reports: list[TipReport], ctx: bentoml.Context, endpoint: str
    ) -> list[ScoreResponse]:
        """A whole batch request: one request id for all its reports."""
        request_id, key_id = uuid.uuid4().hex, _key_id(ctx)
        return self._score_jobs(
            [Job(r, key_id, endpoint, request_id=request_id) for r in reports]
        )

    async def _single(self, job: Job) -> Answer:
        self._served()  # not ready: 503 at once, not after queueing
        return await self.batcher.submit(job)

    @bentoml.api(route="/score")
    async def score(
        self, report: ReportSubmission, ctx: bentoml.Context
    ) -> ScoreResponse:
        """Score one report (JSON contract with raw identifiers, hashed on arrival).

        Concurrent calls are scored together (adaptive batching, ``serving.batcher``).
        """
        return (await self.direct(report, _key_id(ctx))).response

    def direct_input(self, raw: bytes) -> ReportSubmission:
        """A ``/score`` body validated exactly as BentoML's route validates it.

        ``serving.direct`` answers valid calls without BentoML's per-API machinery; it
        uses this API's own input model, so both accept and refuse the same bodies.
        """
        spec = TipScoring.apis["score"].input_spec  # type: ignore[attr-defined]
        report: ReportSubmission = spec.model_validate_json(raw).report
        ahead = report.received_at > datetime.now(UTC) + CLOCK_SKEW
        if ahead and self.settings.refuse_future_receipts:
            raise ValueError(
                "received_at ahead of the clock"
            )  # BentoML's route says so
        return report

    async def direct(self, report: ReportSubmission, key_id: str) -> Answer:
        """One report scored for ``/score`` (both its BentoML route and the direct one)."""
        not_ahead(report.received_at, on=self.settings.refuse_future_receipts)
        contract = to_contract(report, self.hasher)
        return await self._single(Job(contract, key_id, "/score"))

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
        for index, report in enumerate(reports):
            where = f"reports[{index}].received_at"
            not_ahead(report.received_at, where, self.settings.refuse_future_receipts)
        contracts = [to_contract(r, self.hasher) for r in reports]
        return BatchResponse(results=self._run(contracts, ctx, "/score_batch"))

    @bentoml.api(route="/score_xml")
    async def score_xml(
        self, submission: XmlSubmission, ctx: bentoml.Context
    ) -> ScoreResponse:
        """Score a CyberTipline ``<report>`` with its ``<fileDetails>`` documents.

        The raw ``<report>`` body and the multipart form arrive here as this JSON form
        (``serving.xml_forms``). The documents are text: the parser reads them as such.
        """
        arrived = datetime.now(UTC)
        if submission.received_at is not None:
            not_ahead(submission.received_at, on=self.settings.refuse_future_receipts)
        options = self._xml_options(submission, arrived)
        documents = [submission.report_xml, *submission.file_details_xml]
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
        if submission.received_at is None:
            warnings.append(received_at_warning(arrived))
        job = Job(parsed.report, _key_id(ctx), "/score_xml", warnings)
        return (await self._single(job)).response

    def _xml_options(
        self, submission: XmlSubmission, arrived: datetime
    ) -> IntakeOptions:
        return IntakeOptions(
            esp=submission.esp,
            reporter_type=submission.reporter_type,
            report_id=submission.report_id,
            received_at=submission.received_at or arrived,
            hash_matches=dict(submission.hash_matches),
            platforms=self.platforms,
            report_limits=self.settings.report_limits,
            limits=XmlLimits(
                max_bytes=self.intake.xml_max_bytes,
                max_depth=self.intake.xml_max_depth,
                max_elements=self.intake.xml_max_elements,
            ),
        )


TipScoring.add_asgi_middleware(RouteMetricsMiddleware)  # type: ignore[attr-defined]
TipScoring.add_asgi_middleware(BodyTimeoutMiddleware)  # type: ignore[attr-defined]
TipScoring.add_asgi_middleware(ErrorShapeMiddleware)  # type: ignore[attr-defined]
TipScoring.add_asgi_middleware(AuthMiddleware)  # type: ignore[attr-defined]
TipScoring.add_asgi_middleware(XmlFormsMiddleware)  # type: ignore[attr-defined]
TipScoring.add_asgi_middleware(JsonBodyMiddleware)  # type: ignore[attr-defined]
TipScoring.add_asgi_middleware(DirectScoreMiddleware)  # type: ignore[attr-defined]
