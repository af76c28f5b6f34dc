"""The case routes (issue 21): the case list, one case, one decision for a whole case.

Same conventions as ``serving.analyst.routes``: bodies keyed by the parameter name, role
checks as dependencies, errors as the app's handlers answer them, reads in the access log.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from serving.analyst.case_schemas import (
    CaseDecisionOut,
    CaseInput,
    CasePage,
    CasesInput,
    CaseView,
    DecideCaseInput,
)
from serving.analyst.deps import Service, json_body
from serving.analyst.errors import RESPONSES, ApiError, BadRequest
from serving.analyst.routes import TAGS, _body, _read, analyst
from serving.analyst.triage_view import hides_blind, targets
from serving.auth import Caller
from serving.state.records import DecisionRefused, NotFound

router = APIRouter(tags=TAGS, responses=RESPONSES)


class CaseNotFound(ApiError):
    """No case has this id."""

    status = 404


@router.post("/cases", operation_id="tipscore__cases", openapi_extra=_body(CasesInput))
def cases(
    caller: Annotated[Caller, Depends(analyst)],
    body: Annotated[CasesInput, Depends(json_body(CasesInput))],
    request: Request,
    service: Service,
) -> CasePage:
    """The case list: linked reports and viral bursts, highest suggested priority first."""
    try:  # cursors sealed: they hold a case's priority (serving.analyst.cursors)
        cursor = service.cursors.open(body.query.cursor)
        query = body.query.model_copy(update={"cursor": cursor})
        page = service.state.cases(
            query, targets(service), datetime.now(UTC), hides_blind(caller)
        )
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    page = page.model_copy(
        update={"next_cursor": service.cursors.seal(page.next_cursor)}
    )
    _read(service, caller, request, "cases")
    return page


@router.post("/case", operation_id="tipscore__case", openapi_extra=_body(CaseInput))
def case(
    caller: Annotated[Caller, Depends(analyst)],
    body: Annotated[CaseInput, Depends(json_body(CaseInput))],
    request: Request,
    service: Service,
) -> CaseView:
    """One case: its members with suggestions, reasons and decisions; shared identifiers."""
    try:
        found = service.state.case(
            body.case, hides_blind(caller), targets(service), datetime.now(UTC)
        )
    except NotFound:
        raise CaseNotFound(f"case_id: no case {body.case.case_id}") from None
    _read(service, caller, request, "case")
    return found


@router.post(
    "/decide_case",
    operation_id="tipscore__decide_case",
    openapi_extra=_body(DecideCaseInput),
)
def decide_case(
    caller: Annotated[Caller, Depends(analyst)],
    body: Annotated[DecideCaseInput, Depends(json_body(DecideCaseInput))],
    service: Service,
) -> CaseDecisionOut:
    """One decision for every undecided report of a case (each gets its own row).

    All or nothing: if the outcome rules refuse one member's decision, none is recorded.
    """
    decision = body.decision
    with service._write:
        try:
            return service.state.decide_case(
                decision, caller.key_id, caller.name, hides_blind(caller)
            )
        except NotFound:
            raise CaseNotFound(f"case_id: no case {decision.case_id}") from None
        except DecisionRefused as exc:
            raise BadRequest(str(exc)) from None
