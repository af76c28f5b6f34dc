"""The analyst and admin routes: queue, report view, decisions, model card, reload.

Bodies keep the shape BentoML's APIs gave them — an object keyed by the parameter name
(``{"query": {...}}``) — so callers and the analyst page see no change. Role checks are
dependencies (``serving.analyst.deps``); errors are exceptions answered by the handlers
in ``serving.analyst.errors``. The stores are the service instance's own.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from features.outcome import allowed_designations
from serving import heap
from serving.analyst.deps import Allowed, Backend, Service, json_body
from serving.analyst.errors import (
    DECIDE_RESPONSES,
    RELOAD_RESPONSES,
    RESPONSES,
    UNSUPPORTED,
    BadRequest,
    ReloadFailed,
    ReportNotFound,
    Stale,
)
from serving.analyst.schemas import (
    REASON_TEXT,
    DecideInput,
    DecisionIn,
    DecisionOut,
    LinkedReport,
    NoInput,
    QueueInput,
    QueuePage,
    ReportInput,
    ReportView,
)
from serving.analyst.triage_view import hides_blind, queue_view, report_triage, targets
from serving.auth import ADMIN_ROLES, ANALYST_ROLES, ANY_ROLE, Caller
from serving.model_card import model_card
from serving.schemas import ModelCard
from serving.state.queue import badges
from serving.state.records import DecisionRefused, NotFound, Rescored
from training.registry import RegistryError

TAGS: list[str | Any] = ["Service APIs"]
any_key = Allowed(ANY_ROLE)
analyst = Allowed(ANALYST_ROLES)
admin = Allowed(ADMIN_ROLES)


def _body(model: type[Any]) -> dict[str, Any]:
    """The OpenAPI request body of a route whose body is read by ``json_body``."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)  # listed among the document's components
    return {
        "requestBody": {
            "content": {"application/json": {"schema": schema}},
            "required": True,
        },
        "responses": {"415": UNSUPPORTED},
    }


router = APIRouter(tags=TAGS, responses=RESPONSES)


@router.get("/model_card", operation_id="tipscore__model_card__get")
def model_card_get(
    caller: Annotated[Caller, Depends(any_key)], request: Request, service: Service
) -> ModelCard:
    """What is served: version, training window, test metrics, bias-audit summary."""
    return _card(service, caller, request)


@router.post(
    "/model_card",
    operation_id="tipscore__model_card",
    openapi_extra=_body(NoInput),
)
def model_card_post(
    caller: Annotated[Caller, Depends(any_key)],
    _: Annotated[NoInput, Depends(json_body(NoInput))],
    request: Request,
    service: Service,
) -> ModelCard:
    """What is served: version, training window, test metrics, bias-audit summary."""
    return _card(service, caller, request)


def _card(service: Backend, caller: Caller, request: Request) -> ModelCard:
    """The card; analysts' override rates (by ESP too) only for analyst and admin keys."""
    served = service._served()
    card = model_card(served)
    shadow = getattr(service, "shadow", None)  # serving.shadow: on, or why not
    if shadow is not None:
        card = card.model_copy(update={"shadow": shadow.about()})
    if caller.role not in ANALYST_ROLES:  # an intake key: the model, not the analysts
        _read(service, caller, request, "model card (no analyst decisions)")
        return card
    version = f"{served.name}/{served.version}"
    decisions = {
        "this_model": service.state.override_rates(version),
        "all_models": service.state.override_rates(),
        # issue 21: blind vs shown agreement (this model), time to decision
        **service.state.review_stats(version, targets(service)),
    }
    _read(service, caller, request, "model card")
    return card.model_copy(update={"analyst_decisions": decisions})


def _read(service: Backend, caller: Caller, request: Request, what: str) -> None:
    """Keep a read of analysts' data in the access log (``serving.access``)."""
    log = getattr(service, "access", None)
    if log is not None:
        log.record(caller.key_id, request.method, request.url.path, 200, f"read {what}")


@router.post(
    "/queue",
    operation_id="tipscore__queue",
    openapi_extra=_body(QueueInput),
)
def queue(
    caller: Annotated[Caller, Depends(analyst)],
    body: Annotated[QueueInput, Depends(json_body(QueueInput))],
    request: Request,
    service: Service,
) -> QueuePage:
    """The analyst queue: suggested priority 1 first, then by probability; paged."""
    query = body.query
    if query.esp is not None:  # "twitter" finds the reports kept as "X Corp"
        query = query.model_copy(
            update={"esp": service.platforms.filter_value(query.esp)}
        )
    try:  # cursors sealed: they hold the hidden priority (serving.analyst.cursors)
        query = query.model_copy(update={"cursor": service.cursors.open(query.cursor)})
        page = service.state.queue(
            query, service.scorer.today(), queue_view(caller, service)
        )
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    page = page.model_copy(
        update={"next_cursor": service.cursors.seal(page.next_cursor)}
    )
    _read(service, caller, request, "queue")
    return page


@router.post(
    "/report",
    operation_id="tipscore__report",
    openapi_extra=_body(ReportInput),
)
def report(
    caller: Annotated[Caller, Depends(analyst)],
    body: Annotated[ReportInput, Depends(json_body(ReportInput))],
    request: Request,
    service: Service,
) -> ReportView:
    """One report: its suggestion, reasons, warnings, linked reports and decisions."""
    report_id = body.report.report_id
    try:
        kept = service.state.latest(report_id)
    except NotFound:
        raise ReportNotFound(f"report_id: {report_id!r} was not scored here") from None
    linked = service.state.linked_to(report_id)
    known = service.state.in_queue([item["report_id"] for item in linked])
    made = service.state.decisions(report_id)
    triage = report_triage(service, caller, kept, made[0].decided_at if made else None)
    _read(service, caller, request, "report")
    return ReportView(
        report_id=report_id,
        received_at=kept["received_at"],
        scored_at=kept["scored_at"],
        esp=kept["esp"],
        incident_type=kept["incident_type"],
        key_facts=kept["response"].key_facts,
        **triage,
        badges=badges(kept["codes"], kept["deadline"], service.scorer.today()),
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
        decisions=made,
        reasons={r.value: text for r, text in REASON_TEXT.items()},
        designations={str(p): allowed_designations(p) for p in (1, 2, 3)},
    )


@router.post(
    "/decide",
    operation_id="tipscore__decide",
    openapi_extra=_body(DecideInput),
    responses=DECIDE_RESPONSES,
)
def decide(
    caller: Annotated[Caller, Depends(analyst)],
    body: Annotated[DecideInput, Depends(json_body(DecideInput))],
    service: Service,
) -> DecisionOut:
    """Record an analyst's decision (append-only); the suggestion is never changed.

    The decision, its audit row and (priority 1) the report's escalation mark in the
    linkage rows, so later reports count it, commit in one transaction.
    """
    return _record(service, body.decision, caller)


def _record(service: Backend, decision: DecisionIn, caller: Caller) -> DecisionOut:
    with service._write:
        try:
            return service.state.decide(
                decision, caller.key_id, caller.name, hides_blind(caller)
            )
        except NotFound:
            raise ReportNotFound(
                f"report_id: {decision.report_id!r} was not scored here"
            ) from None
        except Rescored as exc:
            raise Stale(str(exc)) from None
        except DecisionRefused as exc:
            raise BadRequest(str(exc)) from None


@router.post(
    "/admin/reload",
    dependencies=[Depends(admin)],
    operation_id="tipscore__reload",
    openapi_extra=_body(NoInput),
    responses=RELOAD_RESPONSES,
)
def reload(
    _: Annotated[NoInput, Depends(json_body(NoInput))], service: Service
) -> dict[str, Any]:
    """Load the current champion (and challenger); on failure the old model keeps serving.

    The challenger (``serving.shadow``) is looked up again for the champion now served;
    whether it loaded never fails the reload (``shadow`` says what is shadowing, or why
    nothing is).
    """
    try:
        served = service.holder.load()
    except RegistryError as exc:
        raise ReloadFailed(f"{exc}; still serving the previous model") from None
    out: dict[str, Any] = {"model_name": served.name, "model_version": served.version}
    shadow = getattr(service, "shadow", None)
    if shadow is not None:
        shadow.load(served)
        out["shadow"] = shadow.about()
    heap.settle()  # the new model's objects are long-lived too (serving.heap)
    return out
