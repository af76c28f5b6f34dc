"""What the analyst API takes and answers: the queue, one report's view, decisions."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    field_validator,
)

from serving.analyst.notes import identifier_in
from serving.schemas import KeyFactOut, ScoreResponse, WarningOut


class Reason(StrEnum):
    """Why an analyst decided as they did (a fixed list, so decisions can be counted)."""

    AGREE = "agree_with_suggestion"
    IMMINENT_RISK = "imminent_risk_in_report"
    CONTACT_OFFENCE = "contact_offence_indicated"
    INSUFFICIENT_INFORMATION = "insufficient_information"
    KNOWN_CONTENT = "known_or_viral_content"
    ROUTING = "jurisdiction_or_routing"
    LINKED_CASE = "linked_to_open_case"
    MODEL_MISSED_CONTEXT = "model_missed_context"
    OTHER = "other"


REASON_TEXT = {
    Reason.AGREE: "Agree with the suggestion and its reasons",
    Reason.IMMINENT_RISK: "The report shows imminent risk to a child",
    Reason.CONTACT_OFFENCE: "Contact offence or enticement indicated",
    Reason.INSUFFICIENT_INFORMATION: "Not enough user, location or file information",
    Reason.KNOWN_CONTENT: "Known, viral or meme content",
    Reason.ROUTING: "Jurisdiction or routing",
    Reason.LINKED_CASE: "Linked to an open case",
    Reason.MODEL_MISSED_CONTEXT: "The suggestion misses context in the report",
    Reason.OTHER: "Other (say why in the note)",
}


class In(BaseModel):
    """Request models: unknown fields are refused, so a typo is an error, not a no-op."""

    model_config = ConfigDict(extra="forbid")


class QueueQuery(In):
    """Filters and a page of the queue (ordered by suggested priority, then probability)."""

    priority: Annotated[StrictInt, Field(ge=1, le=3)] | None = None
    esp: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    decided: StrictBool | None = None
    limit: Annotated[StrictInt, Field(ge=1, le=200)] = 50
    cursor: Annotated[str, Field(max_length=512)] | None = Field(
        default=None, description="`next_cursor` of the previous page"
    )
    order: Literal["priority", "priority_age"] = Field(
        default="priority",
        description="'priority': suggested priority, then probability (the default); "
        "'priority_age': suggested priority, then the longest waiting first",
    )


class QueueAgeing(BaseModel):
    """How long a report has waited against its priority's service target."""

    queued_at: str = Field(description="when it entered the queue (first scored)")
    waiting_minutes: float = Field(
        description="from entering the queue until now, or until its latest decision"
    )
    target_minutes: int | None
    overdue: bool = Field(description="undecided past its service target")


class Badges(BaseModel):
    """The rule warnings of a report, as short badges."""

    files_not_viewed: bool
    preservation_deadline: str | None
    preservation_days_left: int | None
    likely_informational: bool
    linked_reports: bool


class QueueItem(BaseModel):
    """One report in the queue."""

    report_id: str
    received_at: str
    esp: str | None
    incident_type: str
    suggested_priority: int | None = Field(
        description="null only for a blind report not yet decided (analyst keys)"
    )
    escalation_probability: float | None = Field(
        description="null only for a blind report not yet decided (analyst keys)"
    )
    model_version: str
    badges: Badges
    decided: bool
    decided_priority: int | None
    case_id: int | None = Field(
        default=None, description="the case it belongs to (POST /case)"
    )
    viral_burst: int | None = Field(
        default=None,
        description="part of a viral burst: the distinct accounts that sent its file",
    )
    blind: bool = Field(default=False, description="chosen for blind review")
    ageing: QueueAgeing | None = None


class QueuePage(BaseModel):
    """A page of the queue, the total matching, and where the next page starts."""

    items: list[QueueItem]
    total: int
    next_cursor: str | None


class ReportRef(In):
    """Which report to open."""

    report_id: Annotated[str, Field(min_length=1, max_length=64)]


class LinkedReport(BaseModel):
    """An earlier report sharing a hashed identifier with this one."""

    report_id: str
    received_at: str
    shared: list[str]
    escalated: bool
    in_queue: bool


class DecisionIn(In):
    """An analyst's decision: accept the suggestion or set another priority."""

    report_id: Annotated[str, Field(min_length=1, max_length=64)]
    action: Literal["accept", "override"]
    priority: Annotated[StrictInt, Field(ge=1, le=3)] | None = Field(
        default=None,
        description="required to override; must differ from the suggestion",
    )
    designation: Literal["referral", "informational"] = Field(
        default="referral",
        description="a priority-1 decision must be 'referral' (the training-data "
        "rules, features/outcome.py; the report view lists what each priority allows)",
    )
    reason: Reason
    note: Annotated[str, Field(max_length=1000)] = ""
    seen_scored_at: Annotated[str, Field(max_length=40)] | None = Field(
        default=None,
        description="the report view's `scored_at`: the suggestion the analyst saw. If the "
        "report was scored again since, the decision is refused (409, naming "
        "`seen_scored_at`) and the analyst opens it again; without it the decision applies to the newest suggestion",
    )

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


class DecisionOut(BaseModel):
    """A recorded decision (decisions are append-only; the latest one counts)."""

    decision_id: str
    report_id: str
    decided_at: str
    analyst: str
    key_id: str
    action: str
    priority: int
    designation: str
    reason: str
    note: str
    suggested_priority: int
    model_version: str
    supersedes: str | None


class ReportView(BaseModel):
    """Everything the report page shows."""

    report_id: str
    received_at: str
    scored_at: str
    esp: str | None
    incident_type: str
    suggestion: ScoreResponse | None = Field(
        description="null only for a blind report not yet decided (analyst keys)"
    )
    badges: Badges
    linked: list[LinkedReport]
    decisions: list[DecisionOut]
    reasons: dict[str, str]
    designations: dict[str, list[str]] = Field(
        default_factory=dict,
        description="the designations a decision may take at each priority ('1'-'3'): "
        "the training-data rules, so the page offers only valid combinations",
    )
    warnings: list[WarningOut] = Field(
        default_factory=list,
        description="the rule warnings (shown even when the suggestion is withheld), "
        "with viral_burst when its file is a burst",
    )
    key_facts: list[KeyFactOut] = Field(
        default_factory=list, description="facts read from the report, not the model"
    )
    case_id: int | None = None
    blind: bool = False
    viral_burst: int | None = Field(
        default=None, description="the distinct accounts of its file's viral burst"
    )
    ageing: QueueAgeing | None = None


class Input(BaseModel):
    """A request body: an object keyed by parameter name, as BentoML's APIs take theirs.

    Unknown top-level keys are refused (``extra_forbidden``), as the models inside refuse
    theirs: ``{"query": {...}, "debug": true}`` is an error, not a silent no-op (issue 18;
    they were ignored before). Named ``Input`` so validation errors read as they did
    ("1 validation error for Input").
    """

    model_config = ConfigDict(title="Input", extra="forbid")


class QueueInput(Input):
    """``POST /queue``: ``{"query": QueueQuery}``."""

    query: QueueQuery


class ReportInput(Input):
    """``POST /report``: ``{"report": ReportRef}``."""

    report: ReportRef


class DecideInput(Input):
    """``POST /decide``: ``{"decision": DecisionIn}``."""

    decision: DecisionIn


class NoInput(Input):
    """``POST /model_card`` and ``POST /admin/reload``: ``{}`` (or no body)."""
