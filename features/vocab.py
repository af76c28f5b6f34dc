"""Declared vocabularies of the report contract: enum values and fixed category lists.

Why here: categories are part of the model contract. A model is trained on exactly these
categories (pandas ``category`` dtype with fixed categories), so the same report yields the
same codes in training and serving. Changing a list changes ``FEATURE_SPEC_VERSION``.
"""

from __future__ import annotations

from enum import StrEnum


class IncidentType(StrEnum):
    """The eight exact ``incidentSummary/incidentType`` values of the CyberTipline XSD."""

    CHILD_PORNOGRAPHY = "Child Pornography (possession, manufacture, and distribution)"
    CHILD_SEX_TRAFFICKING = "Child Sex Trafficking"
    CHILD_SEX_TOURISM = "Child Sex Tourism"
    CHILD_SEXUAL_MOLESTATION = "Child Sexual Molestation"
    MISLEADING_DOMAIN_NAME = "Misleading Domain Name"
    MISLEADING_WORDS_OR_IMAGES = "Misleading Words or Digital Images on the Internet"
    ONLINE_ENTICEMENT = "Online Enticement of Children for Sexual Acts"
    UNSOLICITED_OBSCENE_MATERIAL = "Unsolicited Obscene Material Sent to a Child"


class ReporterType(StrEnum):
    """Who filed the report: an electronic service provider or a member of the public."""

    ESP = "esp"
    PUBLIC = "public"


class MediaKind(StrEnum):
    """What kind of file a reported file is (from intake metadata, never from bytes)."""

    IMAGE = "image"
    VIDEO = "video"
    OTHER = "other"
    UNKNOWN = "unknown"


class HashMatch(StrEnum):
    """Result of the clearinghouse's hash-matching stage for one file."""

    KNOWN = "known"
    NOVEL = "novel"
    UNKNOWN = "unknown"


class IndustryClass(StrEnum):
    """``industryClassification`` on the Tech Coalition industry scale (A1 is most severe)."""

    A1 = "A1"
    A2 = "A2"
    B1 = "B1"
    B2 = "B2"


class FileRelevance(StrEnum):
    """``fileRelevance`` of a file: the reported content itself or supporting context."""

    REPORTED = "Reported"
    SUPPLEMENTAL = "Supplemental Reported"


class LocationSource(StrEnum):
    """How the report's country was determined."""

    SUPPLIED = "supplied"
    IP_DERIVED = "ip_derived"
    UNKNOWN = "unknown"


REPORT_ANNOTATIONS: tuple[str, ...] = (
    "sextortion",
    "csam_solicitation",
    "minor_to_minor_interaction",
    "spam",
    "sadistic_online_exploitation",
)
"""Report annotation flags, in contract (snake_case) spelling."""

FILE_ANNOTATIONS: tuple[str, ...] = (
    "anime_drawing_virtual_hentai",
    "potential_meme",
    "viral",
    "possible_self_production",
    "physical_harm",
    "violence_gore",
    "bestiality",
    "live_streaming",
    "infant",
    "generative_ai",
)
"""The ten ``fileAnnotations`` tags of the XSD, in contract spelling."""

INCIDENT_KINDS: tuple[str, ...] = (
    "web_page",
    "email",
    "newsgroup",
    "chat_im",
    "online_gaming",
    "cell_phone",
    "peer_to_peer",
    "non_internet",
)
"""The eight ``internetDetails`` incident kinds, in contract spelling."""

ESP_CATEGORIES: tuple[str, ...] = (
    "Facebook",
    "Instagram",
    "WhatsApp",
    "TikTok",
    "Google",
    "Snapchat",
    "X Corp",
    "Imgur",
    "Reddit",
    "Discord",
    "Kik",
    "Microsoft",
    "Grindr",
    "Pinterest",
    "Amazon",
    "OpenAI",
    "Telegram",
    "Threads",
    "other",
    "none",
)
"""ESPs the model knows by name: the largest reporters of 2024 (NCMEC 2024 reports by ESP),
plus ``other`` (any smaller ESP) and ``none`` (reports from the public)."""

ESP_ALIASES: dict[str, str] = {
    "meta": "Facebook",
    "facebook": "Facebook",
    "fb": "Facebook",
    "instagram": "Instagram",
    "whatsapp": "WhatsApp",
    "tiktok": "TikTok",
    "google": "Google",
    "youtube": "Google",
    "snapchat": "Snapchat",
    "snap": "Snapchat",
    "x": "X Corp",
    "xcorp": "X Corp",
    "twitter": "X Corp",
    "imgur": "Imgur",
    "reddit": "Reddit",
    "discord": "Discord",
    "kik": "Kik",
    "microsoft": "Microsoft",
    "xbox": "Microsoft",
    "bing": "Microsoft",
    "grindr": "Grindr",
    "pinterest": "Pinterest",
    "amazon": "Amazon",
    "amazonphotos": "Amazon",
    "amazonaiservices": "Amazon",
    "openai": "OpenAI",
    "telegram": "Telegram",
    "threads": "Threads",
}
"""Normalised spellings (lower case, letters and digits only) mapped to an ESP category."""

COUNTRY_CATEGORIES: tuple[str, ...] = (
    "US",
    "IN",
    "PH",
    "BD",
    "ID",
    "PK",
    "SA",
    "TR",
    "DZ",
    "IQ",
    "MX",
    "EG",
    "CO",
    "BR",
    "MA",
    "VN",
    "TH",
    "NG",
    "other",
    "unknown",
)
"""Countries the model knows by name: the United States and the 17 countries with the most
reports in 2023 (NCMEC 2023 reports by country), plus ``other`` and ``unknown``."""

INDUSTRY_WORST: tuple[str, ...] = ("A1", "A2", "B1", "B2", "none")
"""Most severe industry class over a report's files, most severe first."""
