"""The synthetic-history generator's knobs (``training/configs/synthetic.toml``), validated.

Why pydantic with ``extra="forbid"``: a misspelt knob silently ignored would generate a
different history than the data scientist thinks; here it is an error naming every bad key
(``training.toml_config``).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from features.vocab import IncidentType
from training.toml_config import ConfigFileError, load_toml_model

RISK_KEYS = frozenset(
    [
        "enticement",
        "trafficking",
        "molestation",
        "sex_tourism",
        "unsolicited_obscene",
        "misleading",
        "esp_escalated",
        "sextortion",
        "csam_solicitation",
        "sadistic",
        "minor_to_minor",
        "spam",
        "victim_minor",
        "recipient_minor",
        "enticement_minor_upload_ip",
        "upload_ip",
        "per_identifier_kind",
        "us",
        "infant",
        "physical_harm",
        "live_streaming",
        "self_production",
        "viral_share",
        "generative_ai",
        "worst_a1",
        "worst_b1",
        "novel_share",
        "prior_reports_log",
        "lag_log",
        "beyond_preservation",
        "batched",
    ]
)
INFO_KEYS = frozenset(
    [
        "unknown_location",
        "no_user_identifier",
        "viral_share",
        "batched",
        "enticement_or_contact",
        "esp_escalated",
        "low_quality_esp",
    ]
)
CHANNEL_TYPES = frozenset(
    [
        "csam",
        "enticement",
        "trafficking",
        "molestation",
        "tourism",
        "obscene",
        "misleading",
    ]
)
PARTY_KEYS = frozenset(
    [
        "recipient_enticement",
        "recipient_minor_enticement",
        "victim_contact",
        "victim_minor_contact",
        "victim_csam",
        "victim_minor_csam",
        "age_given",
        "ip_events_mean",
        "devices_mean",
        "temporarily_disabled",
        "permanently_disabled",
        "esp_cites_prior",
    ]
)
TAG_KEYS = frozenset(
    [
        "viral_content",
        "viral_given_viral_content",
        "meme_given_viral_content",
        "infant",
        "physical_harm",
        "violence_gore",
        "bestiality",
        "live_streaming",
        "live_streaming_enticement",
        "self_production",
        "self_production_enticement",
        "anime",
        "exif_viewed_given_viewed",
        "public",
        "supplemental",
        "known_given_viral",
        "known_otherwise",
        "novel_given_not_known",
    ]
)
DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "synthetic.toml"
Prob = Annotated[float, Field(ge=0.0, le=1.0)]
Shares = dict[str, Annotated[float, Field(ge=0.0)]]


class Knob(BaseModel):
    """A group of knobs with the figure it is calibrated to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(min_length=3)


class Strict(BaseModel):
    """A knob group without its own source line."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Calendar(Knob):
    """Dates of regime changes and the relative report volume per year."""

    report_act_date: date
    bundling_start: date
    volume_by_year: dict[int, Annotated[int, Field(gt=0)]]


class BaseRate(Knob):
    """The overall escalation rate the latent model is calibrated to."""

    base_rate: Annotated[float, Field(gt=0.0, lt=0.5)]


class Reporter(Knob):
    """Share of reports from the public."""

    public_share: Prob


class Jurisdiction(Knob):
    """US / international / unknown shares before and from 2024."""

    before_2024: Shares
    from_2024: Shares

    @model_validator(mode="after")
    def _keys(self) -> Jurisdiction:
        for shares in (self.before_2024, self.from_2024):
            if set(shares) != {"US", "international", "unknown"}:
                raise ValueError(
                    "jurisdiction shares need exactly US, international, unknown"
                )
        return self


class Countries(Knob):
    """Shares of named countries among all attributions, and the rest's countries."""

    shares: Shares
    international_total: Prob
    other_countries: list[Annotated[str, Field(pattern=r"^[A-Z]{2}$")]]


class Esp(Knob):
    """ESP mix overall and for US reports, the long tail, low-quality reporters, drift."""

    overall: Shares
    us: Shares
    tail_share: Prob
    tail_count: Annotated[int, Field(ge=1, le=10_000)]
    tail_zipf_exponent: Annotated[float, Field(gt=0.0)]
    low_quality: list[str]
    low_quality_tail_share: Prob
    new_esp: str
    new_esp_start: date


class Profile(Strict):
    """How often an ESP's reports carry each element."""

    esps: list[str] = Field(default_factory=list)
    user_id: Prob
    screen_name: Prob
    email: Prob
    phone: Prob
    upload_ip: Prob
    location_supplied: Prob
    file_viewed: Prob
    unknown_location: Prob | None = None


class IncidentMix(Knob):
    """Incident-type mix before and after the REPORT Act, and for US reports after it."""

    before_act: Shares
    after_act: Shares
    us_after_act: Shares

    @model_validator(mode="after")
    def _types(self) -> IncidentMix:
        allowed = {t.value for t in IncidentType}
        for shares in (self.before_act, self.after_act, self.us_after_act):
            unknown = set(shares) - allowed
            if unknown:
                raise ValueError(f"unknown incident types: {sorted(unknown)}")
        return self


class Annotations(Knob):
    """Report and file annotation rates."""

    sextortion_of_enticement_before_act: Prob
    sextortion_of_enticement_after_act: Prob
    genai_before_2024: Prob
    genai_from_2024: Prob
    csam_solicitation: Prob
    minor_to_minor: Prob
    spam: Prob
    sadistic: Prob


class EspEscalation(Knob):
    """How often ESPs flag a report for urgent escalation."""

    us: Prob
    international: Prob


class Files(Knob):
    """Files per report and media mix."""

    mean: Annotated[float, Field(gt=0.0, le=100.0)]
    zero_share_csam: Prob
    zero_share_other: Prob
    lognormal_sigma: Annotated[float, Field(gt=0.0, le=5.0)]
    video_share: Prob
    other_share: Prob


class Industry(Knob):
    """Per-file industry classification shares (A1, A2, B1, B2, none)."""

    us: Shares
    non_us: Shares


class Hashes(Knob):
    """Known-hash share and the pool of circulating (viral) content."""

    known_share: Prob
    viral_pool: Annotated[int, Field(ge=10)]


class Bundling(Knob):
    """Batched reports from 2024."""

    mean_incidents_from_2024: Annotated[float, Field(ge=1.0)]
    bundle_share: Prob


class Designation(Knob):
    """Informational share per regime."""

    informational_before_2024: Prob
    informational_from_2024: Prob


class Preservation(Knob):
    """Provider preservation window in days."""

    days_before_act: Annotated[int, Field(gt=0)]
    days_after_act: Annotated[int, Field(gt=0)]


class History(Knob):
    """Repeat offenders: how hashed identifiers recur."""

    pool_per_report: Annotated[float, Field(gt=0.0, le=10.0)]
    zipf_exponent: Annotated[float, Field(gt=1.0)]
    ip_reuse: Prob
    window_days: Annotated[int, Field(gt=0)]


class Priority(Strict):
    """Priority 2/3 of non-escalated referrals as a function of risk."""

    p2_per_risk: Annotated[float, Field(ge=0.0)]
    p3_per_risk: Annotated[float, Field(ge=0.0)]
    cap: Prob


class LagDistribution(Strict):
    """Decision lag of one outcome: log-normal hours after receipt, or never reviewed."""

    median_hours: Annotated[float, Field(gt=0.0, le=24.0 * 3650)]
    sigma: Annotated[float, Field(ge=0.0, le=5.0)] = 0.8
    """Log-normal shape: the 5-95% range is median x exp(-/+ 1.645 sigma)."""
    never_reviewed: Prob = 0.0
    """Share of such reports no analyst ever decides (``decided_at`` null)."""


class DecisionLag(Strict):
    """When each outcome was decided (``decided_at``), per final priority."""

    source: str = Field(
        default="ASSUMPTION: no public per-priority review times", min_length=3
    )
    priority_1: LagDistribution = LagDistribution(median_hours=4.0)
    priority_2: LagDistribution = LagDistribution(median_hours=72.0)
    priority_3: LagDistribution = LagDistribution(median_hours=240.0)
    priority_e: LagDistribution = LagDistribution(median_hours=504.0)

    @model_validator(mode="after")
    def _escalations_decided(self) -> DecisionLag:
        if self.priority_1.never_reviewed:
            raise ValueError(
                "decision_lag.priority_1.never_reviewed must be 0: an escalation is a "
                "decision"
            )
        return self

    def by_priority(self) -> dict[str, LagDistribution]:
        """The distribution of each priority value (``1``, ``2``, ``3``, ``E``)."""
        return {
            "1": self.priority_1,
            "2": self.priority_2,
            "3": self.priority_3,
            "E": self.priority_e,
        }


class LabelBias(Strict):
    """Historical under-escalation of one group (changes labels, never p_true)."""

    attribute: Literal["country", "esp", "jurisdiction"]
    group: str
    factor: Annotated[float, Field(ge=0.0, le=1.0)]


class GeneratorConfig(Strict):
    """Every knob of the generator."""

    chunk_rows: Annotated[int, Field(ge=1_000, le=5_000_000)]
    calendar: Calendar
    escalation: BaseRate
    reporter: Reporter
    jurisdiction: Jurisdiction
    countries: Countries
    esp: Esp
    profiles: dict[str, Profile]
    incident_type: IncidentMix
    annotations: Annotations
    esp_escalation: EspEscalation
    files: Files
    industry: Industry
    hashes: Hashes
    bundling: Bundling
    designation: Designation
    preservation: Preservation
    history: History
    risk: dict[str, float]
    informational_model: dict[str, float]
    priority: Priority
    channels: dict[str, dict[str, Prob]]
    parties: dict[str, Annotated[float, Field(ge=0.0)]]
    file_tags: dict[str, Prob]
    label_bias: list[LabelBias] = Field(default_factory=list)
    decision_lag: DecisionLag = DecisionLag()

    @model_validator(mode="after")
    def _complete(self) -> GeneratorConfig:
        if "default" not in self.profiles:
            raise ValueError("profiles: a [profiles.default] table is required")
        mismatched = [
            f"{table}: unknown keys {sorted(keys - required)}, "
            f"missing keys {sorted(required - keys)}"
            for table, keys, required in (
                ("risk", set(self.risk), RISK_KEYS),
                ("informational_model", set(self.informational_model), INFO_KEYS),
                ("channels", set(self.channels), CHANNEL_TYPES),
                ("parties", set(self.parties), PARTY_KEYS),
                ("file_tags", set(self.file_tags), TAG_KEYS),
            )
            if keys != required
        ]
        if mismatched:
            raise ValueError("; ".join(mismatched))
        return self


class ConfigError(ConfigFileError):
    """A generator config that cannot be used; the message names every bad key."""


def load_config(path: Path | None = None) -> GeneratorConfig:
    """Read and validate a generator config (the shipped default when ``path`` is None)."""
    config, _ = load_toml_model(
        path or DEFAULT_CONFIG, GeneratorConfig, ConfigError, "generator config"
    )
    return config
