"""What the service answers: typed responses, in the OpenAPI document."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from features.schema import ReportId, Timestamp
from features.vocab import HashMatch, ReporterType


class Out(BaseModel):
    """Response models: frozen, no extras."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ContributionOut(Out):
    """One feature's signed push on the raw score (log-odds), in words."""

    feature: str
    value: Any
    contribution: float
    text: str


class NotApplicableOut(Out):
    """The features that do not apply to the report (no files, no account), as one line.

    Their contributions are real (a value of 0 moves the score relative to the average
    report) but are no reason a person can act on; the exact numbers stay here.
    """

    because: list[str]
    contribution: float = Field(description="the sum of their contributions (log-odds)")
    text: str
    contributions: list[ContributionOut] = Field(
        description="each such feature that moved the score, with its exact contribution"
    )


class Explanation(Out):
    """Base value + contributions of every feature = raw score (log-odds).

    ``contributions`` are the strongest reasons among the features that apply to the
    report; the others are summed in ``not_applicable``.
    """

    scale: str = "log-odds"
    base_value: float
    raw_score: float
    note: str
    contributions: list[ContributionOut]
    not_applicable: NotApplicableOut | None = None


class WarningOut(Out):
    """A rule's or the parser's finding."""

    code: str
    text: str


class KeyFactOut(Out):
    """One fact read from the report itself (not the model): a stable code and words."""

    code: str
    label: str
    text: str


class Thresholds(Out):
    """The calibrated-probability thresholds and the capacity policy they came from."""

    p1: float
    p2: float
    p1_share: float
    p12_share: float
    policy: str


class ScoreResponse(Out):
    """A suggestion for one report: nothing is decided automatically."""

    report_id: str
    escalation_probability: float
    suggested_priority: Annotated[int, Field(ge=1, le=3)]
    thresholds: Thresholds
    model_name: str
    model_version: str
    explanation: Explanation
    warnings: list[WarningOut]
    suggestion_only: str = (
        "a suggested priority with its reasons; an analyst decides, nothing is acted on "
        "automatically"
    )
    summary: list[str] = Field(
        default_factory=list,
        description="up to three short phrases for the strongest reasons",
    )
    key_facts: list[KeyFactOut] = Field(
        default_factory=list,
        description="facts read from the report itself, not the model: batched, victim "
        "age, files viewed, upload IP, prior reports, account disabled, preservation, "
        "linked reports, location and its source, reporter",
    )


class BatchResponse(Out):
    """One response per report, in order."""

    results: list[ScoreResponse]


class XmlSubmission(BaseModel):
    """A CyberTipline submission: the ``<report>`` document and its ``<fileDetails>``."""

    model_config = ConfigDict(extra="forbid")

    report_xml: Annotated[str, Field(min_length=1)]
    file_details_xml: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list, max_length=1000
    )
    esp: Annotated[str, Field(min_length=1, max_length=256)] | None = Field(
        default=None,
        description="the reporting ESP (default for an ESP's report: the platform the "
        "XML names, with the warning xml_esp_from_platform)",
    )
    reporter_type: ReporterType = Field(
        default=ReporterType.ESP,
        description="esp (an electronic service provider's report) or public",
    )
    report_id: ReportId | None = None
    received_at: Timestamp | None = Field(
        default=None,
        description="ISO 8601 time, with a zone, the report was received (default: the "
        "time the service received it, with the warning received_at_defaulted)",
    )
    hash_matches: dict[str, HashMatch] = Field(
        default_factory=dict,
        description="file id → known | novel | unknown (the clearinghouse's hash match)",
    )


class ModelCard(Out):
    """What is being served, how it was trained and judged."""

    model_name: str
    model_version: str
    model_uri: str
    run_id: str | None
    trained_at: str | None
    data_sha256: str | None
    windows: dict[str, Any]
    thresholds: Thresholds
    test_metrics: dict[str, float]
    bias_audit: dict[str, Any]
    feature_spec_version: str
    analyst_decisions: dict[str, Any] = Field(
        default_factory=dict,
        description="override rates of analysts' latest decisions: overall, by "
        "suggested priority and by ESP, for this model and for all models; analyst "
        "and admin keys only (empty for an intake key)",
    )
    shadow: dict[str, Any] = Field(
        default_factory=dict,
        description="the challenger scored in the shadows (`serving.shadow`): `active`, "
        "`uri`, `model_name`, `model_version`, `run_id`, and `reason` when shadow "
        "scoring is off (no challenger alias, a load failure, turned off); its answers "
        "are stored for `tipscore compare`, never returned",
    )
    training_data: dict[str, Any] = Field(
        default_factory=dict,
        description="where the training history came from: `synthetic` (true, false "
        "or null when the run did not say), `notice` (a plain sentence for analysts), "
        "`evidence`, and the dataset card's summary when one was found",
    )
    training_windows: list[dict[str, Any]] = Field(
        default_factory=list,
        description="the training, validation and test windows: `window`, `label`, "
        "`from` and `to` (receipt dates, UTC; null when the run did not log them), "
        "`reports`",
    )
    metrics: list[dict[str, Any]] = Field(
        default_factory=list,
        description="the test metrics in words: `key` (the MLflow key, as in "
        "`test_metrics`), `label`, `value`, `display`, `meaning`",
    )
