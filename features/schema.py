"""The report contract: ``TipReport``, the metadata of one CyberTipline report and its files.

Why this shape: it models the ESP Reporting API (``<report>`` + ``<fileDetails>``) reduced to
what a metadata-only model may see (see docs/report-contract.md). Identifiers exist here only
as keyed hashes (``linkage``), free text not at all, file content never. Every model forbids
unknown fields so a typo or a smuggled field is an error that names it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    model_validator,
)

from features.refusal import refuse_content
from features.report_id import (
    REPORT_ID_PATTERN,
    check_report_id,
    refuse_identifier_shape,
)
from features.vocab import (
    FileRelevance,
    HashMatch,
    IncidentType,
    IndustryClass,
    LocationSource,
    MediaKind,
    ReporterType,
)

SCHEMA_VERSION = "2.0"
"""Version of the report contract (what a request may hold); bumped on any incompatible change.

It describes the request contract, not the feature row: each training run records it
(``contract_version``), the OpenAPI document carries it (``info.x-contract-version``) and
docs/report-contract.md names it. The feature row has its own version
(``features.spec.FEATURE_SPEC_VERSION``), which a model is checked against when loaded;
that one is unchanged by contract changes that produce the same rows, so registered models
stay valid.

- 2.0 (issue 18): reports valid under 1.0 may now be refused — at most 1,000 files,
  200 identifiers of each kind and 2,000 file hashes per report; ``report_id`` follows a
  strict pattern and is never an IP address or a phone number; ``incident_at`` and
  ``received_at`` lie between 1990 and 2100 (UTC).
- 1.0: the first contract.
"""

MAX_FILES = 1_000
"""Most files per report (one per ``<fileDetails>``; the XML intake takes as many)."""
MAX_FILE_HASHES = 2_000
"""Most file hashes per report (two per file on average: e.g. MD5 and a PhotoDNA id)."""
MAX_IDENTIFIERS = 200
"""Most identifiers of one kind (accounts, screen names, emails, phones, IPs, devices)
per report. Each becomes a linkage row and a lookup, so the work of one report is bounded:
at most 6 × 200 + 2,000 rows (issue 18: 10,000 hashes per report stalled the service)."""
MAX_COUNT = 100_000
CLOCK_SKEW = timedelta(hours=1)
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
"""The range of every report time (UTC): a year 9999 or an offset that carries a time
past the calendar's end made date arithmetic overflow (a 500); now it is a 400."""

HexDigest = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
"""An HMAC-SHA256 digest as 64 lower-case hex characters (never a raw identifier)."""

Count = Annotated[StrictInt, Field(ge=0, le=MAX_COUNT)]

ReportId = Annotated[
    str,
    Field(min_length=1, max_length=64, pattern=REPORT_ID_PATTERN),
    BeforeValidator(refuse_identifier_shape),
    AfterValidator(check_report_id),
]
"""The sender's report id: ASCII letters, digits, ``_ . : -``; never an IP address, a phone
number, an email or a MAC address (``features.report_id``). The shape is checked before
the pattern, so ``+15557019999`` is refused as a phone number, not as a pattern, and again
on the final (stripped) value, so no spelling of the value as sent can slip past it."""


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _not_a_number(value: Any) -> Any:
    """Refuse a number for a time: pydantic would read it as Unix time, guessing the unit."""
    if isinstance(value, int | float) or (isinstance(value, str) and _is_number(value)):
        raise ValueError(
            "expected an ISO 8601 date-time with a time zone, e.g. "
            f"2024-06-01T10:00:00Z; got the number {value!r}"
        )
    return value


def _in_range(value: datetime) -> datetime:
    """Refuse a time outside 1990..2100 (UTC), before any arithmetic can overflow on it."""
    try:
        utc: datetime | None = value.astimezone(UTC)
    except (OverflowError, ValueError):  # e.g. 9999-12-31T23:00:00-05:00
        utc = None
    if utc is None or not EARLIEST <= utc <= LATEST:
        raise ValueError(
            "expected a date-time from 1990-01-01 to 2100-12-31 (UTC); got "
            f"{value.isoformat()[:40]}"
        )
    return value


Timestamp = Annotated[
    AwareDatetime, BeforeValidator(_not_a_number), AfterValidator(_in_range)
]
"""An ISO 8601 date-time with a zone, given as text (or a ``datetime``), never a number,
from 1990 to 2100 (UTC)."""


class Strict(BaseModel):
    """Base for every contract model: unknown fields are errors; instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class ReportAnnotations(Strict):
    """``incidentSummary/reportAnnotations`` presence flags set by the ESP."""

    sextortion: StrictBool = False
    csam_solicitation: StrictBool = False
    minor_to_minor_interaction: StrictBool = False
    spam: StrictBool = False
    sadistic_online_exploitation: StrictBool = False


class IncidentKinds(Strict):
    """Which ``internetDetails`` incident kinds the report contains."""

    web_page: StrictBool = False
    email: StrictBool = False
    newsgroup: StrictBool = False
    chat_im: StrictBool = False
    online_gaming: StrictBool = False
    cell_phone: StrictBool = False
    peer_to_peer: StrictBool = False
    non_internet: StrictBool = False


class ReportedPerson(Strict):
    """What was supplied about the reported person(s): presence and counts, never values."""

    count: Count = 0
    esp_user_id: StrictBool = False
    screen_name: StrictBool = False
    email: StrictBool = False
    phone: StrictBool = False
    ip_events: Count = 0
    upload_ip: StrictBool = False
    device_ids: Count = 0
    age_or_dob: StrictBool = False
    estimated_location: StrictBool = False
    account_temporarily_disabled: StrictBool = False
    account_permanently_disabled: StrictBool = False
    prior_ct_reports: Count = 0


class PartySummary(Strict):
    """Victims or intended recipients: how many, and whether any is stated to be under 18."""

    count: Count = 0
    minor_stated: StrictBool = False


class Location(Strict):
    """The report's country (ISO 3166 alpha-2, or a GeoIP pseudo-code) and how it was found."""

    country_code: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]$")] | None = None
    source: LocationSource = LocationSource.UNKNOWN

    @model_validator(mode="after")
    def _source_matches_code(self) -> Location:
        if (self.country_code is None) != (self.source is LocationSource.UNKNOWN):
            raise ValueError(
                "location: source must be 'unknown' exactly when country_code is null; "
                f"got country_code={self.country_code!r}, source={self.source.value!r}"
            )
        return self


class Bundle(Strict):
    """Batched (bundled) reports: one report standing for several incidents of viral content."""

    batched: StrictBool = False
    incident_count: Annotated[StrictInt, Field(ge=1, le=MAX_COUNT)] = 1


class FileAnnotations(Strict):
    """The ten ``fileAnnotations`` tags of one file."""

    anime_drawing_virtual_hentai: StrictBool = False
    potential_meme: StrictBool = False
    viral: StrictBool = False
    possible_self_production: StrictBool = False
    physical_harm: StrictBool = False
    violence_gore: StrictBool = False
    bestiality: StrictBool = False
    live_streaming: StrictBool = False
    infant: StrictBool = False
    generative_ai: StrictBool = False


class FileMeta(Strict):
    """Metadata of one reported file (``<fileDetails>``); no name, hash value or bytes.

    ``viewed_by_esp`` is ``None`` when the ESP did not say: the law treats that as "not
    viewed", and so do the features and warnings built on it.
    """

    media_kind: MediaKind = MediaKind.UNKNOWN
    viewed_by_esp: StrictBool | None = None
    exif_viewed_by_esp: StrictBool | None = None
    publicly_available: StrictBool | None = None
    relevance: FileRelevance = FileRelevance.REPORTED
    annotations: FileAnnotations = FileAnnotations()
    industry_classification: IndustryClass | None = None
    hash_match: HashMatch = HashMatch.UNKNOWN
    upload_ip: StrictBool = False


class LinkageKeys(Strict):
    """Keyed hashes of identifiers, kept only to link related reports (never for the model)."""

    accounts: list[HexDigest] = Field(
        default_factory=list, max_length=2 * MAX_IDENTIFIERS
    )  # accounts and screen names
    emails: list[HexDigest] = Field(default_factory=list, max_length=MAX_IDENTIFIERS)
    phones: list[HexDigest] = Field(default_factory=list, max_length=MAX_IDENTIFIERS)
    ips: list[HexDigest] = Field(default_factory=list, max_length=MAX_IDENTIFIERS)
    devices: list[HexDigest] = Field(default_factory=list, max_length=MAX_IDENTIFIERS)
    file_hashes: list[HexDigest] = Field(
        default_factory=list, max_length=MAX_FILE_HASHES
    )


class ReportMetadata(Strict):
    """All metadata fields of a report: shared by the contract and the JSON submission."""

    report_id: ReportId
    incident_type: IncidentType
    incident_at: Timestamp
    received_at: Timestamp
    reporter_type: ReporterType = ReporterType.ESP
    esp: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    esp_escalated: StrictBool = False
    annotations: ReportAnnotations = ReportAnnotations()
    incident_kinds: IncidentKinds = IncidentKinds()
    reported_person: ReportedPerson = ReportedPerson()
    victims: PartySummary = PartySummary()
    recipients: PartySummary = PartySummary()
    location: Location = Location()
    bundle: Bundle = Bundle()
    files: list[FileMeta] = Field(default_factory=list, max_length=MAX_FILES)

    @model_validator(mode="before")
    @classmethod
    def _metadata_only(cls, data: Any) -> Any:
        return refuse_content(data)

    @model_validator(mode="after")
    def _consistent(self) -> ReportMetadata:
        if self.incident_at > self.received_at + CLOCK_SKEW:
            raise ValueError(
                "incident_at: must not be after received_at; got incident_at="
                f"{self.incident_at.isoformat()}, received_at={self.received_at.isoformat()}"
            )
        return self


class TipReport(ReportMetadata):
    """The contract: one report's metadata plus the keyed hashes that link it to others."""

    linkage: LinkageKeys = LinkageKeys()


class RawIdentifiers(Strict):
    """Identifiers as an intake system knows them; hashed on arrival, never stored raw."""

    accounts: list[Annotated[str, Field(min_length=1, max_length=256)]] = Field(
        default_factory=list, max_length=MAX_IDENTIFIERS
    )
    screen_names: list[Annotated[str, Field(min_length=1, max_length=256)]] = Field(
        default_factory=list, max_length=MAX_IDENTIFIERS
    )
    emails: list[Annotated[str, Field(min_length=3, max_length=320)]] = Field(
        default_factory=list, max_length=MAX_IDENTIFIERS
    )
    phones: list[Annotated[str, Field(min_length=3, max_length=50)]] = Field(
        default_factory=list, max_length=MAX_IDENTIFIERS
    )
    ips: list[Annotated[str, Field(min_length=2, max_length=64)]] = Field(
        default_factory=list, max_length=MAX_IDENTIFIERS
    )
    devices: list[Annotated[str, Field(min_length=1, max_length=2083)]] = Field(
        default_factory=list, max_length=MAX_IDENTIFIERS
    )
    file_hashes: list[Annotated[str, Field(min_length=8, max_length=512)]] = Field(
        default_factory=list, max_length=MAX_FILE_HASHES
    )


class ReportSubmission(ReportMetadata):
    """A report as an intake system sends it as JSON: metadata plus raw identifiers.

    ``features.identifiers.to_contract`` turns it into a ``TipReport``; the raw values live
    only in memory for that call.
    """

    identifiers: RawIdentifiers = RawIdentifiers()
