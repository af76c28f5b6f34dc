"""FEATURE_SPEC: the only list of model columns, their dtypes, groups and plain words.

Why one declared spec: the training frame, the serving row, the model's column order, the
category codes and the sentences analysts read in explanations all come from here, so they
cannot drift apart. ``group`` lets the bias audit ask how much the model leans on *who*
reported (``platform``, ``location``) rather than *what* was reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from features.vocab import (
    COUNTRY_CATEGORIES,
    ESP_CATEGORIES,
    FILE_ANNOTATIONS,
    INDUSTRY_WORST,
    IncidentType,
    LocationSource,
)

FEATURE_SPEC_VERSION = "1.2"
"""Bumped when a feature's columns or meaning change. 1.2 (issue 19): in training,
``hist_*_escalations_365d`` count an earlier report only if it was decided before the report
arrived, as the service always has; models of 1.1 were trained on final-label counts."""

Kind = Literal["bool", "int", "float", "category"]
Group = Literal[
    "report", "platform", "location", "identifiers", "parties", "files", "history"
]


@dataclass(frozen=True)
class FeatureDef:
    """One model column.

    Attributes:
        name: column name.
        kind: ``bool``, ``int`` (int64), ``float`` (float64) or ``category``.
        group: what the feature is about (used by the bias audit's attribution view).
        text: sentence template, formatted with the row's values (``{value}`` is this
            feature's own). A pair is (when true, when false) for booleans.
        categories: the fixed categories of a ``category`` feature.
    """

    name: str
    kind: Kind
    group: Group
    text: str | tuple[str, str]
    categories: tuple[str, ...] = ()

    def describe(self, row: Mapping[str, Any]) -> str:
        """The plain-language sentence for this feature's value in ``row``."""
        value = row[self.name]
        if isinstance(self.text, tuple):
            template = self.text[0] if bool(value) else self.text[1]
        else:
            template = self.text
        shown = f"{value:.1f}" if isinstance(value, float) else value
        return template.format_map(_WithValue(row, shown))


class _WithValue:
    """The row's fields for a template, ``{value}`` being the described feature's own.

    Looks fields up only when the template names them, so describing one feature of a
    wide row does not touch the others.
    """

    def __init__(self, row: Mapping[str, Any], value: Any) -> None:
        self.row, self.value = row, value

    def __getitem__(self, key: str) -> Any:
        return self.value if key == "value" else self.row[key]


def _flag(name: str, group: Group, yes: str, no: str) -> FeatureDef:
    return FeatureDef(name, "bool", group, (yes, no))


_ANNOTATION_WORDS = {
    "sextortion": "sextortion",
    "csam_solicitation": "solicitation of abuse material",
    "minor_to_minor_interaction": "an interaction between minors",
    "spam": "spam",
    "sadistic_online_exploitation": "sadistic online exploitation",
}
_INCIDENT_WORDS = {
    "web_page": "a web page",
    "email": "email",
    "newsgroup": "a newsgroup",
    "chat_im": "chat or instant messaging",
    "online_gaming": "online gaming",
    "cell_phone": "a cell phone",
    "peer_to_peer": "a peer-to-peer network",
    "non_internet": "an offline (non-internet) setting",
}
TAG_WORDS = {  # how each fileAnnotations tag reads in a sentence (also serving.wording)
    "anime_drawing_virtual_hentai": "drawn or virtual",
    "potential_meme": "a potential meme",
    "viral": "viral",
    "possible_self_production": "possibly self-produced",
    "physical_harm": "depicting physical harm",
    "violence_gore": "depicting violence or gore",
    "bestiality": "involving an animal",
    "live_streaming": "live-streamed",
    "infant": "depicting an infant",
    "generative_ai": "generative AI",
}

_REPORT = [
    FeatureDef(
        "incident_type",
        "category",
        "report",
        "Incident type: {value}",
        tuple(t.value for t in IncidentType),
    ),
    _flag(
        "esp_escalated",
        "report",
        "The platform asked for urgent escalation",
        "The platform did not ask for urgent escalation",
    ),
    *(
        _flag(
            f"ann_{key}",
            "report",
            f"The platform tagged the report as {words}",
            f"The report is not tagged as {words}",
        )
        for key, words in _ANNOTATION_WORDS.items()
    ),
    *(
        _flag(
            f"inc_{key}",
            "report",
            f"The incident involved {words}",
            f"The incident did not involve {words}",
        )
        for key, words in _INCIDENT_WORDS.items()
    ),
    _flag(
        "bundle_batched", "report", "A batched (viral) report", "Not a batched report"
    ),
    FeatureDef(
        "bundle_incident_count",
        "int",
        "report",
        "The report stands for {value} incident(s)",
    ),
    FeatureDef(
        "incident_lag_days",
        "float",
        "report",
        "Reported {value} days after the incident",
    ),
]

_PLATFORM = [
    _flag(
        "reporter_public",
        "platform",
        "Reported by a member of the public",
        "Reported by an online platform",
    ),
    FeatureDef(
        "esp", "category", "platform", "Reporting platform: {value}", ESP_CATEGORIES
    ),
]

_LOCATION = [
    FeatureDef(
        "country", "category", "location", "Country: {value}", COUNTRY_CATEGORIES
    ),
    FeatureDef(
        "location_source",
        "category",
        "location",
        "Location source: {value}",
        tuple(s.value for s in LocationSource),
    ),
]

_IDENTIFIERS = [
    FeatureDef(
        "rp_count", "int", "identifiers", "{value} reported person(s) described"
    ),
    _flag(
        "rp_esp_user_id",
        "identifiers",
        "A platform user id was supplied",
        "No platform user id",
    ),
    _flag(
        "rp_screen_name", "identifiers", "A screen name was supplied", "No screen name"
    ),
    _flag(
        "rp_email", "identifiers", "An email address was supplied", "No email address"
    ),
    _flag("rp_phone", "identifiers", "A phone number was supplied", "No phone number"),
    FeatureDef(
        "rp_ip_events", "int", "identifiers", "{value} IP capture event(s) supplied"
    ),
    _flag(
        "rp_upload_ip",
        "identifiers",
        "Reporter supplied an upload IP address",
        "No upload IP address was supplied",
    ),
    FeatureDef("rp_device_ids", "int", "identifiers", "{value} device id(s) supplied"),
    _flag(
        "rp_age_or_dob",
        "identifiers",
        "The reported person's age was given",
        "No age given",
    ),
    _flag(
        "rp_estimated_location",
        "identifiers",
        "The platform estimated the reported person's location",
        "No estimated location for the reported person",
    ),
    _flag(
        "rp_account_temporarily_disabled",
        "identifiers",
        "The account was temporarily disabled",
        "The account was not temporarily disabled",
    ),
    _flag(
        "rp_account_permanently_disabled",
        "identifiers",
        "The account was permanently disabled",
        "The account was not permanently disabled",
    ),
    FeatureDef(
        "rp_prior_ct_reports",
        "int",
        "identifiers",
        "The platform cites {value} earlier CyberTipline report(s) on this person",
    ),
]

_PARTIES = [
    FeatureDef("victims_count", "int", "parties", "{value} victim(s) described"),
    _flag(
        "victims_minor_stated",
        "parties",
        "A victim is stated to be under 18",
        "No victim is stated to be under 18",
    ),
    FeatureDef(
        "recipients_count", "int", "parties", "{value} intended recipient(s) described"
    ),
    _flag(
        "recipients_minor_stated",
        "parties",
        "An intended recipient is stated to be under 18",
        "No intended recipient is stated to be under 18",
    ),
]

_FILES = [
    FeatureDef("files_count", "int", "files", "{value} file(s) reported"),
    FeatureDef(
        "files_video", "int", "files", "{value} of {files_count} files are videos"
    ),
    FeatureDef(
        "files_not_viewed",
        "int",
        "files",
        "{value} of {files_count} files were not viewed by the platform",
    ),
    FeatureDef(
        "files_public",
        "int",
        "files",
        "{value} of {files_count} files were publicly available",
    ),
    FeatureDef(
        "files_supplemental",
        "int",
        "files",
        "{value} of {files_count} files are supplemental context",
    ),
    *(
        FeatureDef(
            f"files_tag_{tag}",
            "int",
            "files",
            f"{{value}} of {{files_count}} files tagged {TAG_WORDS[tag]}",
        )
        for tag in FILE_ANNOTATIONS
    ),
    FeatureDef(
        "files_worst_class",
        "category",
        "files",
        "Most severe industry classification: {value}",
        INDUSTRY_WORST,
    ),
    FeatureDef(
        "files_hash_known",
        "int",
        "files",
        "{value} of {files_count} files match known hashes",
    ),
    FeatureDef(
        "files_hash_novel",
        "int",
        "files",
        "{value} of {files_count} files are new (no hash match)",
    ),
]

_HISTORY = [
    FeatureDef(
        "hist_account_reports_30d",
        "int",
        "history",
        "The reported account appeared in {value} earlier report(s) in the past 30 days",
    ),
    FeatureDef(
        "hist_account_reports_365d",
        "int",
        "history",
        "The reported account appeared in {value} earlier report(s) in the past year",
    ),
    FeatureDef(
        "hist_account_escalations_365d",
        "int",
        "history",
        "{value} earlier report(s) on this account were escalated in the past year",
    ),
    FeatureDef(
        "hist_email_reports_365d",
        "int",
        "history",
        "The reported email appeared in {value} earlier report(s) in the past year",
    ),
    FeatureDef(
        "hist_phone_reports_365d",
        "int",
        "history",
        "The reported phone appeared in {value} earlier report(s) in the past year",
    ),
    FeatureDef(
        "hist_ip_reports_365d",
        "int",
        "history",
        "The IP address appeared in {value} earlier report(s) in the past year",
    ),
    FeatureDef(
        "hist_device_reports_365d",
        "int",
        "history",
        "The device appeared in {value} earlier report(s) in the past year",
    ),
    FeatureDef(
        "hist_file_reports_365d",
        "int",
        "history",
        "A reported file appeared in {value} earlier report(s) in the past year",
    ),
]

FEATURE_SPEC: tuple[FeatureDef, ...] = (
    *_REPORT,
    *_PLATFORM,
    *_LOCATION,
    *_IDENTIFIERS,
    *_PARTIES,
    *_FILES,
    *_HISTORY,
)
"""Every model column, in model order."""

FEATURES: dict[str, FeatureDef] = {f.name: f for f in FEATURE_SPEC}
FEATURE_NAMES: tuple[str, ...] = tuple(FEATURES)
