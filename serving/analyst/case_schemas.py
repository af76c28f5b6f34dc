"""What the case routes take and answer (issue 21): the case list, a case, its decision."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictBool, StrictInt, field_validator

from serving.analyst.notes import identifier_in
from serving.analyst.schemas import DecisionOut, In, Input, Reason
from serving.analyst.schemas import QueueAgeing as Ageing


class CaseQuery(In):
    """Filters and a page of the case list."""

    priority: Annotated[StrictInt, Field(ge=1, le=3)] | None = None
    decided: StrictBool | None = None
    kind: Literal["linked", "burst"] | None = None
    order: Literal["priority", "priority_age"] = Field(
        default="priority",
        description="'priority': highest suggested priority, then probability; "
        "'priority_age': highest suggested priority, then the longest waiting",
    )
    limit: Annotated[StrictInt, Field(ge=1, le=200)] = 50
    cursor: Annotated[str, Field(max_length=512)] | None = Field(
        default=None, description="`next_cursor` of the previous page"
    )


class Burst(BaseModel):
    """A viral burst: one file hash sent by many distinct accounts."""

    file_hash_prefix: str
    accounts: int


class CaseItem(BaseModel):
    """One entry of the case list: a case of linked reports, or a viral burst."""

    case_id: int
    kind: Literal["linked", "burst"]
    members: int
    undecided: int
    decided: bool
    top_priority: int = Field(description="the highest suggested priority of a member")
    top_probability: float | None = Field(
        description="the highest probability of a member; null for an analyst key while "
        "a member is under blind review"
    )
    oldest_received_at: str
    newest_received_at: str
    linked_by: list[str] = Field(
        description="the identifier kinds that link its reports (accounts, emails...)"
    )
    burst: Burst | None
    ageing: Ageing


class CasePage(BaseModel):
    """A page of the case list, the total matching, and where the next page starts."""

    items: list[CaseItem]
    total: int
    next_cursor: str | None


class CaseRef(In):
    """Which case to open (a merged case's id opens the case it merged into)."""

    case_id: Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]  # an SQL integer
    limit: Annotated[StrictInt, Field(ge=1, le=500)] = 100


class CaseReason(BaseModel):
    """One of a member's strongest reasons, in words."""

    feature: str
    text: str
    contribution: float


class CaseMember(BaseModel):
    """A report of the case with its suggestion, reasons and latest decision.

    For a blind report not yet decided (analyst keys), the suggestion, probability and
    reasons are withheld (null and empty).
    """

    report_id: str
    received_at: str
    esp: str | None
    incident_type: str
    suggested_priority: int | None
    escalation_probability: float | None
    summary: list[str] = Field(
        description="up to three phrases for the strongest reasons"
    )
    reasons: list[CaseReason]
    warnings: list[str]
    blind: bool
    decided: bool
    decision: DecisionOut | None
    ageing: Ageing


class SharedIdentifier(BaseModel):
    """A hashed identifier several members share, as a short prefix of its hash."""

    kind: str
    hash_prefix: str
    reports: int


class CaseView(BaseModel):
    """Everything the case page shows."""

    case: CaseItem
    requested_case_id: int = Field(description="the id asked for (merged: an older id)")
    members: list[CaseMember] = Field(description="highest suggested priority first")
    members_shown: int
    shared: list[SharedIdentifier]
    merged_from: list[int] = Field(
        description="case ids merged into this one, in merge order (the first `limit`)"
    )
    merged_total: int = Field(
        default=0, description="how many cases were merged into this one in all"
    )


class CaseDecisionIn(In):
    """One decision for every undecided member of a case (each gets its own row).

    ``accept`` keeps each member's own suggested priority; ``override`` sets
    ``priority`` on every member (a member already suggested that priority is recorded
    as accepting it, as a single decision would have to be).
    """

    case_id: Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]  # an SQL integer
    action: Literal["accept", "override"]
    priority: Annotated[StrictInt, Field(ge=1, le=3)] | None = None
    designation: Literal["referral", "informational"] = "referral"
    reason: Reason
    note: Annotated[str, Field(max_length=1000)] = ""

    @field_validator("note")
    @classmethod
    def _no_identifiers(cls, note: str) -> str:
        """Notes are kept; they must not carry raw identifiers (they are not hashed)."""
        name = identifier_in(note)
        if name is not None:
            raise ValueError(
                f"looks like it holds {name}; notes must not carry raw identifiers "
                "(refer to the report id instead)"
            )
        return note.strip()


class CaseDecisionOut(BaseModel):
    """The decisions recorded for a case's undecided members."""

    case_id: int
    decisions: list[DecisionOut]
    left_for_blind_review: list[str] = Field(
        default_factory=list,
        description="undecided members under blind review that an analyst key's "
        "'accept' left undecided: each is decided by naming a priority",
    )


class CasesInput(Input):
    """``POST /cases``: ``{"query": CaseQuery}``."""

    query: CaseQuery


class CaseInput(Input):
    """``POST /case``: ``{"case": CaseRef}``."""

    case: CaseRef


class DecideCaseInput(Input):
    """``POST /decide_case``: ``{"decision": CaseDecisionIn}``."""

    decision: CaseDecisionIn
