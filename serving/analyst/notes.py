"""Does an analyst's note hold a raw identifier? A detector that sees through spellings.

Why: notes are kept as written (they are not hashed), so a note must not carry an email
address, an IP address or a phone number. A plain pattern is easy to walk around
(``john.doe(at)example.com``, ``192[.]168[.]1[.]100``, a fullwidth ``＠``, ``0xC0A80164``,
``(555) 123-4567``), so the note is first normalised — Unicode NFKC, invisible characters
dropped, the common ``at``/``dot`` obfuscations undone — and then matched. The note kept is
the one written; the normalised text is used only to decide.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata

_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u2060-\u2064\ufeff]")
_BRACKETED_AT = re.compile(r"\s*[(\[{<]\s*(?:at|@)\s*[)\]}>]\s*", re.IGNORECASE)
_BRACKETED_DOT = re.compile(r"\s*[(\[{<]\s*(?:dot|\.)\s*[)\]}>]\s*", re.IGNORECASE)
_SPOKEN_DOT = re.compile(r"\s+dot\s+", re.IGNORECASE)
_TLDS = (
    "com|net|org|edu|gov|mil|int|info|biz|io|co|me|us|uk|de|fr|es|it|nl|ru|cn|jp|in|br|"
    "au|ca|mx|ph|id|pk|bd|tr|sa|eg|ng|vn|th|kr|pl|se|no|fi|dk|ch|at|be|ie|nz|za|app|dev"
)
_EMAIL = re.compile(r"[\w.+-]+\s*@\s*[\w-]+(?:\s*\.\s*[\w-]+)*\s*\.\s*[A-Za-z]{2,}")
_SPOKEN_EMAIL = re.compile(
    rf"\b[\w.+-]+\s+at\s+[\w-]+(?:\.[\w-]+)*\.(?:{_TLDS})\b", re.IGNORECASE
)
_IPV4 = re.compile(r"(?<![\w.])\d{1,4}(?:\s*\.\s*\d{1,4}){3}(?!\w|\.\d)")
_IPV4_HEX = re.compile(
    r"\b0x[0-9a-f]{8}\b|\b0x[0-9a-f]{1,2}(?:\.0x[0-9a-f]{1,2}){3}\b", re.IGNORECASE
)
_IPV6_CANDIDATE = re.compile(r"[0-9A-Fa-f:.%]*:[0-9A-Fa-f:.%]*")
_DATE_TIME = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2}(?::\d{2})?)?")
_DIGIT_RUN = re.compile(r"\+?\(?\d(?:[\s().\-/]{0,3}\d)+")
MIN_PHONE_DIGITS = 10


def normalise(note: str) -> str:
    """The note as a detector reads it: NFKC, no invisible marks, ``at``/``dot`` undone."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", note))
    text = _BRACKETED_AT.sub("@", text)
    text = _BRACKETED_DOT.sub(".", text)
    return _SPOKEN_DOT.sub(".", text)


def _ipv6(text: str) -> bool:
    for match in _IPV6_CANDIDATE.finditer(text):
        token = match.group().strip(".:")
        if match.group().startswith("::"):
            token = "::" + token
        if match.group().endswith("::"):
            token += "::"
        if token.count(":") < 2 or not re.search(r"[0-9A-Fa-f]", token):
            continue
        try:
            ipaddress.IPv6Address(token.split("%")[0])
        except ValueError:
            continue
        return True
    return False


def _phone(text: str) -> bool:
    text = _DATE_TIME.sub(" ", text)
    return any(
        sum(c.isdigit() for c in m.group()) >= MIN_PHONE_DIGITS
        for m in _DIGIT_RUN.finditer(text)
    )


def identifier_in(note: str) -> str | None:
    """What kind of raw identifier the note seems to hold, in words (``None``: none)."""
    text = normalise(note)
    if _EMAIL.search(text) or _SPOKEN_EMAIL.search(text):
        return "an email address"
    if _IPV4.search(text) or _IPV4_HEX.search(text) or _ipv6(text):
        return "an IP address"
    if _phone(text):
        return "a phone number"
    return None
