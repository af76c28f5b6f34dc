"""What a report id may be: a sender's reference, never an identifier of a person.

Why: the report id is stored as sent — in every table, the queue, the audit log and the
exports — so it must not be able to carry an IP address, a phone number or an email
address (an outside test stored ``198.51.100.9``, ``2001:db8::1`` and ``555-701-9999``).
Real ids fit a narrow shape: CyberTipline report numbers (``4564654``), senders' references
(``FBI-case-7``, ``web-meme-1``) and the XML intake's derived ``xml-<16 hex>``. The rule
(docs/report-contract.md): 1-64 ASCII letters, digits and ``_ . : -``, starting with a
letter or digit, and none of the shapes below anywhere in it.
"""

from __future__ import annotations

import ipaddress
import re

REPORT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
"""ASCII letters, digits and ``_ . : -``; 1-64 characters; a letter or digit first."""

_DOTTED_QUAD = re.compile(r"(?<![0-9])\d{1,3}(?:\.\d{1,3}){3}(?![0-9])")
_HEX_IPV4 = re.compile(r"0x[0-9a-f]{8}", re.IGNORECASE)
_TOKENS = re.compile(r"[_-]")
_DIGIT_GROUPS = re.compile(r"(?<![0-9A-Za-z])\d+(?:[-.]\d+)+(?![0-9A-Za-z])")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[-.]\d{1,6})?$")
_SHORT_PHONE = re.compile(r"^\d{3}[-.]\d{4}$")


def _ipv6(report_id: str) -> bool:
    if "::" in report_id:
        return True
    for token in _TOKENS.split(report_id):
        if token.count(":") >= 2:
            try:
                ipaddress.IPv6Address(token)
            except ValueError:
                continue
            return True
    return False


def _phone(report_id: str) -> bool:
    for match in _DIGIT_GROUPS.finditer(report_id):
        run = match.group()
        if _DATE.match(run):
            continue
        digits = sum(c.isdigit() for c in run)
        groups = len(re.split(r"[-.]", run))
        if _SHORT_PHONE.match(run) or (groups >= 3 and 7 <= digits <= 15):
            return True
    return False


def identifier_shape(report_id: str) -> str | None:
    """What identifier the id looks like, in words (``None``: it looks like a report id)."""
    if _DOTTED_QUAD.search(report_id) or _HEX_IPV4.search(report_id):
        return "an IPv4 address"
    if _ipv6(report_id):
        return "an IPv6 address"
    if _phone(report_id):
        return "a phone number"
    return None


def check_report_id(report_id: str) -> str:
    """Refuse an id that looks like an identifier (a pydantic ``AfterValidator``)."""
    shape = identifier_shape(report_id)
    if shape is not None:
        raise ValueError(
            f"looks like {shape}; a report id must be the sender's reference, not an "
            "identifier (letters, digits and _ . : -, e.g. 4564654 or web-case-17)"
        )
    return report_id
