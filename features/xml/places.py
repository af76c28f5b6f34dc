"""Where a ``<report>`` places its incident and its people: the country codes it gives.

Why its own module: the contract keeps one country (``Location``), and an analyst's
"Likely informational: no location" depends on it. Before, only an ``estimatedLocation``'s
``countryCode`` and a person's ``address/country`` were read, so a report giving the
incident's address (``nonInternetIncident/incidentAddress``) or a US ``state`` was told
it had no location (an outside XML client, session 9). Read here, in this order:

1. the incident's own addresses (``nonInternetIncident/incidentAddress``);
2. the parties' estimated locations and addresses (``features.xml.parties``).

An address without ``country`` but with a US ``state`` (the XSD's ``state`` type holds
only US states and territories) is in the US, or in Guam, Puerto Rico or the US Virgin
Islands, which ISO 3166 codes of their own. A code that is not one of the XSD's 257
(``ZZ``) is not a country: a warning, and it is not read. Places given without any
country (a city, coordinates, a location name) cannot be coded: the parse says so in a
``location_without_country`` warning, so the analyst knows why the location is unknown.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable

from features.xml.common import Context, child, children, filled, text

XSD_COUNTRIES = frozenset(
    [
        "A1",
        "A2",
        "O1",
        "AD",
        "AE",
        "AF",
        "AG",
        "AI",
        "AL",
        "AM",
        "AN",
        "AO",
        "AP",
        "AQ",
        "AR",
        "AS",
        "AT",
        "AU",
        "AW",
        "AX",
        "AZ",
        "BA",
        "BB",
        "BD",
        "BE",
        "BF",
        "BG",
        "BH",
        "BI",
        "BJ",
        "BL",
        "BM",
        "BN",
        "BO",
        "BQ",
        "BR",
        "BS",
        "BT",
        "BV",
        "BW",
        "BY",
        "BZ",
        "CA",
        "CC",
        "CD",
        "CF",
        "CG",
        "CH",
        "CI",
        "CK",
        "CL",
        "CM",
        "CN",
        "CO",
        "CR",
        "CU",
        "CV",
        "CX",
        "CW",
        "CY",
        "CZ",
        "DE",
        "DJ",
        "DK",
        "DM",
        "DO",
        "DZ",
        "EC",
        "EE",
        "EG",
        "EH",
        "ER",
        "ES",
        "ET",
        "EU",
        "FI",
        "FJ",
        "FK",
        "FM",
        "FO",
        "FR",
        "FX",
        "GA",
        "GB",
        "GD",
        "GE",
        "GF",
        "GG",
        "GH",
        "GI",
        "GL",
        "GM",
        "GN",
        "GP",
        "GQ",
        "GR",
        "GS",
        "GT",
        "GU",
        "GW",
        "GY",
        "HK",
        "HM",
        "HN",
        "HR",
        "HT",
        "HU",
        "ID",
        "IE",
        "IL",
        "IM",
        "IN",
        "IO",
        "IQ",
        "IR",
        "IS",
        "IT",
        "JE",
        "JM",
        "JO",
        "JP",
        "KE",
        "KG",
        "KH",
        "KI",
        "KM",
        "KN",
        "KP",
        "KR",
        "KW",
        "KY",
        "KZ",
        "LA",
        "LB",
        "LC",
        "LI",
        "LK",
        "LR",
        "LS",
        "LT",
        "LU",
        "LV",
        "LY",
        "MA",
        "MC",
        "MD",
        "ME",
        "MF",
        "MG",
        "MH",
        "MK",
        "ML",
        "MM",
        "MN",
        "MO",
        "MP",
        "MQ",
        "MR",
        "MS",
        "MT",
        "MU",
        "MV",
        "MW",
        "MX",
        "MY",
        "MZ",
        "NA",
        "NC",
        "NE",
        "NF",
        "NG",
        "NI",
        "NL",
        "NO",
        "NP",
        "NR",
        "NU",
        "NZ",
        "OM",
        "PA",
        "PE",
        "PF",
        "PG",
        "PH",
        "PK",
        "PL",
        "PM",
        "PN",
        "PR",
        "PS",
        "PT",
        "PW",
        "PY",
        "QA",
        "RE",
        "RO",
        "RS",
        "RU",
        "RW",
        "SA",
        "SB",
        "SC",
        "SD",
        "SE",
        "SG",
        "SH",
        "SI",
        "SJ",
        "SK",
        "SL",
        "SM",
        "SN",
        "SO",
        "SR",
        "SS",
        "ST",
        "SV",
        "SX",
        "SY",
        "SZ",
        "TC",
        "TD",
        "TF",
        "TG",
        "TH",
        "TJ",
        "TK",
        "TL",
        "TM",
        "TN",
        "TO",
        "TR",
        "TT",
        "TV",
        "TW",
        "TZ",
        "UA",
        "UG",
        "UM",
        "US",
        "UY",
        "UZ",
        "VA",
        "VC",
        "VE",
        "VG",
        "VI",
        "VN",
        "VU",
        "WF",
        "WS",
        "XK",
        "YE",
        "YT",
        "ZA",
        "ZM",
        "ZW",
    ]
)
"""The XSD's ``country`` enumeration (ISO 3166 alpha-2 and GeoIP pseudo-codes), 257 codes."""
US_STATES = frozenset(
    [
        "AK",
        "AL",
        "AR",
        "AZ",
        "CA",
        "CO",
        "CT",
        "DC",
        "DE",
        "FL",
        "GA",
        "GU",
        "HI",
        "IA",
        "ID",
        "IL",
        "IN",
        "KS",
        "KY",
        "LA",
        "MA",
        "MD",
        "ME",
        "MI",
        "MN",
        "MO",
        "MS",
        "MT",
        "NC",
        "ND",
        "NE",
        "NH",
        "NJ",
        "NM",
        "NV",
        "NY",
        "OH",
        "OK",
        "OR",
        "PA",
        "PR",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VA",
        "VI",
        "VT",
        "WA",
        "WI",
        "WV",
        "WY",
    ]
)
"""The XSD's ``state`` enumeration (US states and territories)."""
OWN_CODES = frozenset({"GU", "PR", "VI"})
"""Territories in ``US_STATES`` that ISO 3166 codes as countries of their own."""
_PLACE_PARTS = ("street", "city", "zipCode", "nonUsaState")


def address_countries(addresses: Iterable[ET.Element]) -> list[str]:
    """The country each address gives, or derives from its US ``state``."""
    codes = []
    for address in addresses:
        country = text(child(address, "country"))
        state = text(child(address, "state")).upper()
        if country:
            codes.append(country)
        elif state in US_STATES:
            codes.append(state if state in OWN_CODES else "US")
    return codes


def incident_countries(root: ET.Element) -> list[str]:
    """Countries of the incident's own addresses (``nonInternetIncident``)."""
    return address_countries(
        address
        for details in children(root, "internetDetails")
        for incident in children(details, "nonInternetIncident")
        for address in children(incident, "incidentAddress")
    )


def uncoded_places(root: ET.Element) -> list[str]:
    """Places the report gives that carry no country: what the warning names."""
    found = []
    for details in children(root, "internetDetails"):
        for incident in children(details, "nonInternetIncident"):
            if filled(child(incident, "locationName")) or any(
                filled(child(a, part))
                for a in children(incident, "incidentAddress")
                for part in _PLACE_PARTS
            ):
                found.append("the incident's address or location name")
        for phone in children(details, "cellPhoneIncident"):
            if filled(child(phone, "latitude")) or filled(child(phone, "longitude")):
                found.append("the cell phone incident's coordinates")
    for tag in ("personOrUserReported", "intendedRecipient", "victim"):
        for party in children(root, tag):
            if filled(child(party, "estimatedLocation")):
                found.append(f"an estimated location ({tag})")
    return sorted(set(found))


def country_of(ctx: Context, codes: list[str], root: ET.Element) -> str | None:
    """The first code that is an XSD country; warnings for the rest and for no country.

    Case is forgiven (``de`` is DE); a code outside the XSD's list is not read.
    """
    for code in codes:
        upper = code.strip().upper()
        if upper in XSD_COUNTRIES:
            return upper
        ctx.warn(  # the value named by its digest: it is the sender's text
            "invalid_country",
            "/report",
            f"value {ctx.redact(code)} is not a country code of the XSD (ISO 3166 "
            "alpha-2); not read",
        )
    places = uncoded_places(root)
    if places:
        ctx.warn(
            "location_without_country",
            "/report",
            f"the report gives {', '.join(places)} but no country; only a country is "
            "read, so its location counts as unknown",
        )
    return None
