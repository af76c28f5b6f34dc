"""Reading one ``<report>`` document into report-level contract fields.

Drift tolerated with a named warning: a near-miss ``incidentType`` (the missing trailing "s"
of "Sexual Acts"), unknown annotation tags (``informational``), empty containers, unknown
elements, ``<tag>true</tag>`` flags, date-times without a zone. Refused with an error: a
missing ``incidentSummary``, ``incidentType`` or ``incidentDateTime``, an ``incidentType``
that matches no XSD value even loosely, an unreadable date-time.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any

from features.vocab import INCIDENT_KINDS, IncidentType
from features.xml.common import (
    Context,
    child,
    children,
    date_time,
    local,
    presence_flag,
    text,
    warn_repeated,
    warn_unknown,
)
from features.xml.parties import (
    PartyFacts,
    RawBag,
    phone_number,
    read_party_summary,
    read_reported,
    upload_event,
)
from features.xml.safe import XmlIntakeError

SUMMARY = "/report/incidentSummary"

ANNOTATION_TAGS: dict[str, str] = {
    "sextortion": "sextortion",
    "csamSolicitation": "csam_solicitation",
    "minorToMinorInteraction": "minor_to_minor_interaction",
    "spam": "spam",
    "sadisticOnlineExploitation": "sadistic_online_exploitation",
}

INCIDENT_TAGS: dict[str, str] = dict(
    zip(
        (
            "webPageIncident",
            "emailIncident",
            "newsgroupIncident",
            "chatImIncident",
            "onlineGamingIncident",
            "cellPhoneIncident",
            "peer2peerIncident",
            "nonInternetIncident",
        ),
        INCIDENT_KINDS,
        strict=True,
    )
)

REPORT_CHILDREN = frozenset(
    {
        "batchedReport",
        "incidentSummary",
        "internetDetails",
        "lawEnforcement",
        "reporter",
        "personOrUserReported",
        "intendedRecipient",
        "victim",
        "additionalInfo",
    }
)
REPORT_SINGLES = frozenset(
    {"batchedReport", "incidentSummary", "lawEnforcement", "reporter", "additionalInfo"}
)
"""``<report>`` children the XSD allows once (``maxOccurs`` 1): the first is read."""

SUMMARY_CHILDREN = frozenset(
    {
        "incidentType",
        "platform",
        "escalateToHighPriority",
        "reportAnnotations",
        "incidentDateTime",
        "incidentDateTimeDescription",
    }
)
"""``<incidentSummary>``'s children, each allowed once by the XSD."""
_LOOSE = re.compile(r"[^a-z]+")


def _loose(value: str) -> str:
    return _LOOSE.sub("", value.lower()).rstrip("s")


_LOOSE_TYPES = {_loose(t.value): t for t in IncidentType}


def read_incident_type(ctx: Context, summary: ET.Element) -> IncidentType:
    """The incident type: exact, or a near miss with a warning, or an error."""
    path = f"{SUMMARY}/incidentType"
    raw = text(child(summary, "incidentType"))
    if not raw:
        raise XmlIntakeError(
            "missing_element", path, "required element is missing or empty"
        )
    try:
        return IncidentType(raw)
    except ValueError:
        pass
    match = _LOOSE_TYPES.get(_loose(raw))
    if match is None:
        allowed = "; ".join(repr(t.value) for t in IncidentType)
        raise XmlIntakeError(
            "invalid_value", path, f"got {raw[:80]!r}; expected one of: {allowed}"
        )
    ctx.warn(
        "enum_near_miss",
        path,
        f"value {ctx.redact(raw)} is not an XSD value; read as {match.value!r}",
    )
    return match


def read_annotations(ctx: Context, summary: ET.Element) -> dict[str, bool]:
    """The report annotation flags; unknown tags are warnings."""
    container = child(summary, "reportAnnotations")
    flags = dict.fromkeys(ANNOTATION_TAGS.values(), False)
    if container is None:
        return flags
    path = f"{SUMMARY}/reportAnnotations"
    found = list(children(container))
    if not found:
        ctx.warn("empty_container", path, "empty <reportAnnotations/>; no flags set")
    for element in found:
        name = local(element.tag)
        if name in ANNOTATION_TAGS:
            flags[ANNOTATION_TAGS[name]] = presence_flag(ctx, element, f"{path}/{name}")
        else:
            ctx.warn("unknown_annotation", f"{path}/{name}", "not in the XSD; ignored")
    return flags


def read_escalation(ctx: Context, summary: ET.Element) -> bool:
    """Whether the ESP asked for escalation (its reason text is never read further)."""
    element = child(summary, "escalateToHighPriority")
    if element is None:
        return False
    if not text(element):
        ctx.warn(
            "blank_escalation",
            f"{SUMMARY}/escalateToHighPriority",
            "present but blank; the XSD documentation requires a reason; read as not set",
        )
        return False
    return True


def read_incident_kinds(ctx: Context, root: ET.Element, bag: RawBag) -> dict[str, bool]:
    """Which incident kinds appear under ``internetDetails``; P2P/phone ids are collected."""
    kinds = dict.fromkeys(INCIDENT_KINDS, False)
    for index, details in enumerate(children(root, "internetDetails")):
        path = f"/report/internetDetails[{index + 1}]"
        found = list(children(details))
        if not found:
            ctx.warn("empty_container", path, "empty <internetDetails/>; ignored")
        for element in found:
            name = local(element.tag)
            if name not in INCIDENT_TAGS:
                ctx.warn("unknown_element", f"{path}/{name}", "not in the XSD; ignored")
                continue
            kinds[INCIDENT_TAGS[name]] = True
            bag.ips += [
                text(child(e, "ipAddress"))
                for e in children(element, "ipCaptureEvent")
                if text(child(e, "ipAddress"))
            ]
            phone = child(element, "phoneNumber")
            if phone is not None and text(phone):
                bag.phones.append(phone_number(phone))
    return kinds


def incident_upload(root: ET.Element) -> bool:
    """Whether a peer-to-peer incident captured an upload IP (an ``Upload`` with an address).

    The peer sharing the file is the reported user: their upload IP counts as the report's
    (before, only ``personOrUserReported``'s events did, and a P2P report was told it had
    no upload IP).
    """
    return upload_event(
        event
        for details in children(root, "internetDetails")
        for incident in children(details, "peer2peerIncident")
        for event in children(incident, "ipCaptureEvent")
        if text(child(event, "ipAddress"))
    )


def read_bundle(root: ET.Element, reported_count: int) -> dict[str, Any]:
    """A batched report stands for one incident per reported user it lists."""
    if child(root, "batchedReport") is None:
        return {"batched": False, "incident_count": 1}
    return {"batched": True, "incident_count": max(1, reported_count)}


def read_parties(
    ctx: Context, root: ET.Element, at: datetime, bag: RawBag
) -> PartyFacts:
    """Reported persons, recipients and victims of the report."""
    facts = read_reported(ctx, list(children(root, "personOrUserReported")), bag)
    facts.recipients = read_party_summary(
        list(children(root, "intendedRecipient")), "intendedRecipientPerson", at, facts
    )
    facts.victims = read_party_summary(
        list(children(root, "victim")), "victimPerson", at, facts
    )
    return facts


def check_report_children(ctx: Context, root: ET.Element) -> None:
    """Warn about elements the XSD does not define or allows once but came more often.

    Also requires a reporter, as the XSD does (a warning: it carries nothing scored).
    """
    warn_unknown(ctx, root, REPORT_CHILDREN, "/report")
    warn_repeated(ctx, root, REPORT_SINGLES, "/report")
    summary = child(root, "incidentSummary")
    if summary is not None:
        warn_unknown(ctx, summary, SUMMARY_CHILDREN, SUMMARY)
        warn_repeated(ctx, summary, SUMMARY_CHILDREN, SUMMARY)
    if child(root, "reporter") is None:
        ctx.warn("missing_reporter", "/report/reporter", "required by the XSD; absent")


def read_summary(ctx: Context, root: ET.Element) -> tuple[ET.Element, datetime]:
    """The required ``incidentSummary`` and its ``incidentDateTime``."""
    summary = child(root, "incidentSummary")
    if summary is None:
        raise XmlIntakeError(
            "missing_element",
            SUMMARY,
            "required element is missing; expected <incidentSummary> with "
            "<incidentType> and <incidentDateTime>",
        )
    at = date_time(
        ctx, child(summary, "incidentDateTime"), f"{SUMMARY}/incidentDateTime"
    )
    if at is None:
        raise XmlIntakeError(
            "missing_element",
            f"{SUMMARY}/incidentDateTime",
            "required element is missing or empty",
        )
    return summary, at


PLATFORM_PARTIES = ("personOrUserReported", "intendedRecipient", "victim")
"""Parties whose ``espService`` names the reporter's product they used (XSD wording)."""


def read_platform(root: ET.Element) -> tuple[str, str] | None:
    """The platform the report names, and where: for a report whose ESP was not supplied.

    ``incidentSummary/platform`` ("the full application name where the reported content
    occurred") first, then the first ``espService`` of a party ("the name of the
    reporter's product or service" the party used). Longer names are cut to 256 characters.
    """
    summary = child(root, "incidentSummary")
    platform = text(child(summary, "platform")) if summary is not None else ""
    if platform:
        return platform[:256], f"{SUMMARY}/platform"
    for name in PLATFORM_PARTIES:
        for index, party in enumerate(children(root, name)):
            service = text(child(party, "espService"))
            if service:
                return service[:256], f"/report/{name}[{index + 1}]/espService"
    return None
