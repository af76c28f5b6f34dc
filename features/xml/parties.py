"""Reading the people in a ``<report>``: reported persons, intended recipients, victims.

Only presence, counts, stated ages under 18 and a country code are kept. Identifier values
(ESP ids, screen names, emails, phones, IPs, device ids) are collected into ``RawBag`` only to
be hashed at the end of the parse; names, addresses and free text are never read at all.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from features.xml.common import (
    Context,
    age_from_dob,
    boolean,
    child,
    children,
    filled,
    report_number,
    text,
)
from features.xml.places import address_countries

_AGE = re.compile(r"[+-]?\d{1,9}")
"""An ``xs:int`` age as written (a sign allowed); anything else is not read as an age."""

ADULT_AGE = 18


@dataclass
class RawBag:
    """Raw identifier values met while parsing; hashed and dropped before the parse returns."""

    accounts: list[str] = field(default_factory=list)
    screen_names: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    ips: list[str] = field(default_factory=list)
    devices: list[str] = field(default_factory=list)
    file_hashes: list[str] = field(default_factory=list)


@dataclass
class PartyFacts:
    """What the parties of a report tell the contract."""

    person: dict[str, Any] = field(default_factory=dict)
    victims: dict[str, Any] = field(default_factory=dict)
    recipients: dict[str, Any] = field(default_factory=dict)
    country_codes: list[str] = field(default_factory=list)


def phone_number(element: ET.Element) -> str:
    """A ``phone`` with its ``countryCallingCode`` (``+1``) in front, as it is dialled.

    ``<phone countryCallingCode="+1">5557019999</phone>``, the XSD's way, hashed apart
    from ``+1 (555) 701-9999`` (an outside XML client, session 9): the linkage keys
    compare the digits of the whole number. A number that carries the code already
    (``+1 555…``, ``1 555…``) is left as it is, and a national trunk ``0`` is dropped
    after the code (``+44`` with ``07700 900123``). XML phones with a code hashed before
    this reading do not link to the same phones read now.
    """
    code = (element.get("countryCallingCode") or "").strip()
    number = text(element)
    digits = "".join(c for c in code if c.isdigit())
    if not digits or number.startswith("+") or number.lstrip("( ").startswith(digits):
        return number  # no code, or the number carries it already
    national = number.lstrip()
    if national.startswith("0"):  # a national trunk prefix: 07700 900123 is +44 7700…
        national = national[1:]
    return f"+{digits} {national}"


def _contact(person: ET.Element | None, bag: RawBag) -> tuple[bool, bool]:
    """Collect a ``person`` element's emails and phones; say which were present."""
    if person is None:
        return False, False
    emails = [text(e) for e in children(person, "email") if text(e)]
    phones = [phone_number(p) for p in children(person, "phone") if text(p)]
    bag.emails += emails
    bag.phones += phones
    return bool(emails), bool(phones)


def _countries(party: ET.Element, person: ET.Element | None) -> list[str]:
    codes = []
    location = child(party, "estimatedLocation")
    if location is not None:
        codes.append(text(child(location, "countryCode")))
    if person is not None:
        codes += address_countries(children(person, "address"))
    return [c for c in codes if c]


def _ip_events(
    ctx: Context, party: ET.Element, path: str, bag: RawBag
) -> tuple[int, bool]:
    """Count a party's IP capture events, collect their addresses, spot an upload IP.

    An event without an ``ipAddress`` (the XSD requires one) captured nothing: it is not
    counted, and an ``Upload`` without an address is no upload IP.
    """
    events = [
        e for e in children(party, "ipCaptureEvent") if text(child(e, "ipAddress"))
    ]
    hollow(ctx, party, "ipCaptureEvent", len(events), path, "an ipAddress")
    bag.ips += [text(child(e, "ipAddress")) for e in events]
    return len(events), upload_event(events)


def upload_event(events: Iterable[ET.Element]) -> bool:
    """Whether any of these IP capture events (each with an address) is an upload."""
    return any(text(child(e, "eventName")) == "Upload" for e in events)


def hollow(
    ctx: Context, parent: ET.Element, tag: str, kept: int, path: str, needs: str
) -> None:
    """Warn once for ``tag`` elements under ``parent`` left out for lack of ``needs``."""
    left_out = len(list(children(parent, tag))) - kept
    if left_out:
        ctx.warn(
            "hollow_element",
            f"{path}/{tag}",
            f"{left_out} without {needs} (the XSD requires it): not counted",
        )


def _devices(ctx: Context, party: ET.Element, path: str, bag: RawBag) -> int:
    values = [text(child(d, "idValue")) for d in children(party, "deviceId")]
    kept = [v for v in values if v]
    hollow(ctx, party, "deviceId", len(kept), path, "an idValue")
    bag.devices += kept
    return len(kept)


def _prior_reports(ctx: Context, party: ET.Element, path: str) -> int:
    """Prior CyberTipline report numbers cited (``xs:long``; anything else is not one)."""
    numbers = [text(p) for p in children(party, "priorCTReports")]
    kept = sum(
        report_number(n) is not None for n in numbers
    )  # as fileDetails reads one
    hollow(ctx, party, "priorCTReports", kept, path, "a report number (xs:long)")
    return kept


def _associated(ctx: Context, party: ET.Element, path: str, bag: RawBag) -> None:
    for index, account in enumerate(children(party, "associatedAccount")):
        where = f"{path}/associatedAccount[{index + 1}]"
        if text(child(account, "espIdentifier")):
            bag.accounts.append(text(child(account, "espIdentifier")))
        if text(child(account, "screenName")):
            bag.screen_names.append(text(child(account, "screenName")))
        _contact(account, bag)
        _ip_events(ctx, account, where, bag)
        _devices(ctx, account, where, bag)


_ANY = (
    "esp_user_id",
    "screen_name",
    "email",
    "phone",
    "upload_ip",
    "age_or_dob",
    "estimated_location",
    "account_temporarily_disabled",
    "account_permanently_disabled",
)
_SUM = ("ip_events", "device_ids", "prior_ct_reports")


def _one_reported(
    ctx: Context, party: ET.Element, path: str, bag: RawBag
) -> dict[str, Any]:
    """Facts about one ``personOrUserReported`` element."""
    person = child(party, "personOrUserReportedPerson")
    has_email, has_phone = _contact(person, bag)
    ip_count, upload = _ip_events(ctx, party, path, bag)
    esp_id, screen = (
        text(child(party, "espIdentifier")),
        text(child(party, "screenName")),
    )
    bag.accounts += [esp_id] if esp_id else []
    bag.screen_names += [screen] if screen else []
    _associated(ctx, party, path, bag)
    facts: dict[str, Any] = {
        "esp_user_id": bool(esp_id),
        "screen_name": bool(screen),
        "email": has_email,
        "phone": has_phone,
        "ip_events": ip_count,
        "upload_ip": upload,
        "device_ids": _devices(ctx, party, path, bag),
        "age_or_dob": person is not None
        and (filled(child(person, "age")) or filled(child(person, "dateOfBirth"))),
        "estimated_location": filled(child(party, "estimatedLocation")),
        "prior_ct_reports": _prior_reports(ctx, party, path),
    }
    for flag, name in (
        ("account_temporarily_disabled", "accountTemporarilyDisabled"),
        ("account_permanently_disabled", "accountPermanentlyDisabled"),
    ):
        facts[flag] = bool(boolean(ctx, child(party, name), f"{path}/{name}"))
    return facts


def read_reported(ctx: Context, parties: list[ET.Element], bag: RawBag) -> PartyFacts:
    """Summarise the ``personOrUserReported`` elements of a report (any / sum over them)."""
    facts = PartyFacts(person={"count": len(parties)})
    for index, party in enumerate(parties):
        path = f"/report/personOrUserReported[{index + 1}]"
        one = _one_reported(ctx, party, path, bag)
        for key in _ANY:
            facts.person[key] = facts.person.get(key, False) or one[key]
        for key in _SUM:
            facts.person[key] = facts.person.get(key, 0) + one[key]
        facts.country_codes += _countries(
            party, child(party, "personOrUserReportedPerson")
        )
    return facts


def _stated_age(person: ET.Element | None, at: datetime) -> int | None:
    if person is None:
        return None
    raw = text(child(person, "age"))
    if _AGE.fullmatch(raw) and int(raw) >= 0:  # an xs:int: "+15" is 15
        return int(raw)
    age = age_from_dob(child(person, "dateOfBirth"), at)
    return None if age is None or age < 0 else age  # born after the incident: no age


def read_party_summary(
    parties: list[ET.Element], person_tag: str, at: datetime, facts: PartyFacts
) -> dict[str, Any]:
    """Count victims or recipients and say whether any is stated to be under 18."""
    minor = False
    for party in parties:
        person = child(party, person_tag)
        age = _stated_age(person, at)
        minor = minor or (age is not None and age < ADULT_AGE)
        facts.country_codes += _countries(party, person)
    return {"count": len(parties), "minor_stated": minor}
