"""Does an analyst's note hold a raw identifier? A detector that sees through spellings.

Why: notes are kept as written (they are not hashed), so a note must not carry an email
address, an IP address, a MAC address or a phone number. A plain pattern is easy to walk around
(``john.doe(at)example.com``, ``192[.]168[.]1[.]100``, a fullwidth ``＠``, ``0xC0A80164``,
``(555) 123-4567``, ``john%40example.com``, ``john&#64;example.com``, ``example。com``),
so the note is first normalised — ``%xx`` and HTML entities decoded, Unicode NFKC,
invisible (format) characters dropped, ideographic and other full stops made ``.``, every
Unicode dash and the minus sign made ``-``, the bracketed ``at``/``dot`` obfuscations undone — and then matched. The note kept is the one
written; the normalised text is used only to decide.

What is *not* an identifier, so analysts can write it: file hashes (hex runs of 16 or
more, e.g. an MD5), dates (``2026-11-27``, ``27.11.2026``), times (``10:30``), counts,
percentages, report numbers up to 9 digits, versions with a part above 255, with other
than four parts or with a one-digit part after the first (``Chrome 120.0.6099.109``).
References the report-id rule accepts are set aside before digits are judged
(``ESP-2024-000123``, ``20241127103001``, ``r0000000007``, a UUID), and so are lists of
numbers of 4+ digits split by spaces or slashes (``reports 4564654 4564655``; not when
the first starts ``0`` or ``+``) and coordinates (``40.712776 -74.005974``). Digit
groups may be joined by spaces, ``. - / ( )`` and ``_ | ~ ·``. A dotted quad whose four
parts are all ≤ 255 is an IPv4 address and refused, even when meant as a version
(``1.2.3.4``): write ``v1.2.3 build 4``. MAC addresses (six 2-hex groups joined by ``:``
or ``-``, ``xxxx.xxxx.xxxx``) are refused.

An email spelled with ``@`` (however escaped) is refused whatever its top-level domain,
its dots spaced or spoken (``jdoe@yahoo dot com``, ``john@example. com``). Spelled with
``at``, the word before it must be able to be a mailbox (``posted at reddit.com`` names
a site) and the domain must be plausible labels: spoken (``john at example dot
photography``, ``at example . org``) any top-level word; written tight (``john at
example.org``) two letters or a common generic one, not a file extension (``looked at
notes.md``). Ordinary English is not one: ``looked at it dot by dot`` (a trailing
``dot``, a pronoun as the domain), ``met at Starbucks. In the chat`` (a sentence's end).
"""

from __future__ import annotations

import html
import ipaddress
import re
import unicodedata
from urllib.parse import unquote

from features.report_id import REPORT_ID_PATTERN, identifier_shape

_FULL_STOPS = str.maketrans(
    dict.fromkeys("\u3002\uff61\ufe12\ufe52\uff0e\u2024", ".")
    | {
        "\u2044": "/",
        "\u2215": "/",
        "\u2043": "-",
    }  # fraction and division slash, hyphen bullet
)
_INVISIBLE = frozenset(
    "\u034f\u115f\u1160\u3164\uffa0" + "".join(map(chr, range(0xFE00, 0xFE10)))
)
"""Invisible characters that are not of Unicode's format category (``Cf``, all dropped)."""
_BRACKETED_AT = re.compile(r"\s*[(\[{<]\s*(?:at|@)\s*[)\]}>]\s*", re.IGNORECASE)
_BRACKETED_DOT = re.compile(r"\s*[(\[{<]\s*(?:dot|\.)\s*[)\]}>]\s*", re.IGNORECASE)
_SPOKEN_DIGIT_DOT = re.compile(r"(?<=\d)\s+dot\s+(?=\d)", re.IGNORECASE)
_GENERIC_TLDS = re.compile(
    "com|net|org|edu|gov|mil|int|info|biz|name|pro|mobi|app|dev|io|ai|xyz|online|site|"
    "shop|store|tech|cloud|blog|email|page|live|life|world|today|news|link|click|top|"
    "club|art|website|space|fun|icu|vip|win|bid|stream|download|host|press|media|social|"
    "chat|group|team|one|love|cam|porn|sex|xxx|adult|tube"
)
"""Common generic top-level domains (any two letters count too: a country's)."""
_FILE_EXTENSIONS = re.compile(
    "md|py|js|ts|sh|rb|gz|xz|db|ps|cs|pl|go|rs|kt|cc|hh|jpg|jpeg|png|gif|bmp|webp|heic|"
    "mp4|mov|avi|mkv|wmv|webm|zip|rar|tar|txt|pdf|doc|docx|xls|xlsx|csv|json|xml|html|log"
)
"""File extensions, which follow a dot in notes far more often than a domain does."""
_NOT_A_DOMAIN = re.compile(
    "it|its|the|a|an|this|that|these|those|them|him|her|his|he|she|we|you|they|me|my|"
    "our|your|all|any|some|least|most|first|last|once|home|work|school|night|noon|dawn|"
    "dusk|which|what|who|whom|one|two|three|end|start|time|times"
)
"""Words after ``at`` that begin English, not a domain (``looked at it dot by dot``)."""
_DOT = r"(?:\.|\s+\.\s+)"
"""A dot in a domain: ``.`` or `` . `` (not ``. ``, the end of a sentence)."""
_AT_DOT = r"(?:\s*\.\s*|\s+dot\s+)"
"""A dot in a domain after an ``@``: any spacing (``example. com``) or ``dot`` spoken."""
_EMAIL = re.compile(
    rf"(?<![\w.+-])[\w.+-]+\s*@\s*[\w-]+(?:{_AT_DOT}[\w-]+)*{_AT_DOT}[A-Za-z]{{2,24}}\b",
    re.IGNORECASE,
)
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_SPOKEN_EMAIL = re.compile(
    rf"(?<![\w.+-])([\w.+-]+)\s+at\s+({_LABEL}(?:(?:{_DOT}|\s+dot\s+){_LABEL})+)"
    rf"(?!\w|{_DOT}\w|\s+dot\b)",
    re.IGNORECASE,
)
_SPOKEN_SPLIT = re.compile(r"\s*\.\s*|\s+dot\s+", re.IGNORECASE)
_IPV4 = re.compile(
    r"(?<![\w.,])(\d{1,3})\s*([.,_|~\u00b7])\s*(\d{1,3})\s*\2\s*(\d{1,3})\s*\2\s*(\d{1,3})"
    r"(?!\w|\s*[.,]\s*\d)"
)
_IPV4_HEX = re.compile(
    r"\b0x[0-9a-f]{8}\b|\b0x[0-9a-f]{1,2}(?:\.0x[0-9a-f]{1,2}){3}\b", re.IGNORECASE
)
_IPV6_CANDIDATE = re.compile(r"(?<![0-9A-Fa-f:.%])[0-9A-Fa-f:.%]*:[0-9A-Fa-f:.%]*")
_HASH = re.compile(r"(?<![0-9A-Za-z])[0-9A-Fa-f]{16,}(?![0-9A-Za-z])")
_DATE = re.compile(
    r"(?<![\d./-])(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}([./-])\d{1,2}\1(?:\d{4}|\d{2}))"
    r"(?![\d]|[./-]\d)"
)
_TIME = re.compile(r"(?<![\d:])\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?![\d:])")
_DIGIT_RUN = re.compile(r"\+?\(?\d(?:[\s().\-/_|~\u00b7:\u2027\u2022\u2219]{0,3}\d)+")
_MAC = re.compile(
    r"(?<![0-9A-Za-z:.-])(?:[0-9a-f]{2}([:-])[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}"
    r"|[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4})(?![0-9A-Za-z]|[:.-][0-9A-Za-z])",
    re.IGNORECASE,
)
_PAIRS = re.compile(
    r"(?<![0-9A-Za-z])[0-9A-Fa-f]{2}(?: [0-9A-Fa-f]{2})+(?![0-9A-Za-z])"
)
"""Space-separated pairs of hex digits, the whole run."""
_SPACED_OUT = re.compile(r"(?<!\S)(?:\S )+\S(?!\S)")
"""Characters written one by one with spaces (``j d o e @ e x a m p l e . c o m``)."""
_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|x([0-9a-fA-F]{2}))")
_UUID = re.compile(
    r"[0-9a-f]{8}(-?)[0-9a-f]{4}\1[0-9a-f]{4}\1[0-9a-f]{4}\1[0-9a-f]{12}", re.IGNORECASE
)
_VERSION = re.compile(r"(?<![\w.])\d{1,5}(?:\.\d{1,6}){2,}(?![\w.])")
_COORDINATE = re.compile(r"[-+]?\d{1,3}\.\d{4,}")
_NOT_A_LOCAL_PART = re.compile(
    "posted|posting|posts|post|found|seen|seem|cited|hosted|hosting|uploaded|uploading|"
    "shared|sharing|published|listed|mentioned|available|located|registered|logged|"
    "arrived|arrive|looked|looking|look|looks|stored|saved|linked|referenced|linking|"
    "advertised|sold|selling|offered|offering|streamed|streaming|based|reached|"
    "contacted|reported|visible|accessible|searched|searching|viewed|viewing|pointed|"
    "pointing|started|ended|signed|joined|employed|working|worked|works|work|lives|"
    "living|lived|live|met|meet|meeting|spotted|detected|caught|shown|showed|appears|"
    "appeared|kept|left|made|sent|got|bought|paid|read|saw|see|sees|is|are|was|were|"
    "be|been|am|and|or|but|also|only|even|just|still|both|here|there|online|"
    "him|her|them|it|us|me|up|out|on|in|off|once|again|twice|active|present|"
    "originally|first|last|later|earlier|directly|elsewhere|hits|results?|links?|"
    "accounts?|profiles?|pages?|users?|members?"
)
"""Words before ``at`` that end English, not a mailbox (``posted at reddit.com``)."""
MIN_PHONE_DIGITS = 10


def _decoded(text: str) -> str:
    """``%40``, ``&#64;``/``&commat;``/``&#x40;`` and backslash escapes decoded, twice.

    A backslash escape is ``u0040`` or ``x40`` after a backslash, as JSON or a C string
    writes ``@``.
    """
    for _ in range(2):
        text = html.unescape(unquote(text))
        text = _ESCAPE.sub(lambda m: chr(int(m[1] or m[2], 16)), text)
    return text


def normalise(note: str) -> str:
    """The note as a detector reads it: decoded, NFKC, no invisible marks, obfuscations undone.

    Every Unicode dash (``‐``, ``–``, ``−``) is read as ``-``: ``555‐123‐4567`` is a number.
    """
    text = unicodedata.normalize("NFKC", _decoded(unicodedata.normalize("NFKC", note)))
    text = "".join(
        "-" if c == "\u2212" or unicodedata.category(c) == "Pd" else c
        for c in text
        if unicodedata.category(c) != "Cf"
        and c not in _INVISIBLE
        and (unicodedata.category(c) != "Cc" or c in "\t\n\r")  # NUL, ESC, DEL, BEL
    )
    text = text.translate(_FULL_STOPS)
    text = _BRACKETED_AT.sub("@", text)
    text = _BRACKETED_DOT.sub(".", text)
    return _SPOKEN_DIGIT_DOT.sub(".", text)


def _top_level(tld: str, spoken: bool) -> bool:
    """Could ``tld`` end a domain? Spoken (``dot org``, `` . org``): any word of letters.

    Written tight (``at example.org``) only two letters or a common generic one, and not
    a file's extension: ``looked at notes.md`` names a file.
    """
    if not tld.isalpha() or not 2 <= len(tld) <= 24:
        return False
    if spoken:
        return True
    if _FILE_EXTENSIONS.fullmatch(tld):
        return False
    return len(tld) == 2 or bool(_GENERIC_TLDS.fullmatch(tld))


def _spoken_email(text: str) -> bool:
    """``john at example dot org``: plausible labels ending in a top-level domain.

    The word before ``at`` must be able to be a mailbox: ``posted at reddit.com`` and
    ``Found at google.com`` name a site, not an address.
    """
    for match in _SPOKEN_EMAIL.finditer(text):
        if _NOT_A_LOCAL_PART.fullmatch(match.group(1).lower()):
            continue  # ``posted at reddit.com``: a place, no mailbox before ``at``
        domain = match.group(2)
        labels = [label.lower() for label in _SPOKEN_SPLIT.split(domain)]
        first = labels[0]
        domain_like = not _NOT_A_DOMAIN.fullmatch(first) and not first.isdigit()
        spoken = any(c.isspace() for c in domain)
        if domain_like and _top_level(labels[-1], spoken):
            return True
    return False


def _ipv4(text: str) -> bool:
    """Four parts ≤ 255 joined by dots (spaced or not) or by commas.

    Commas only when written tight, with a first part ≥ 10 and not as thousands
    (``1, 2, 3, 4`` and ``1,2,3,4`` are lists, ``12,000,000,000`` a number).
    """
    for match in _IPV4.finditer(text):
        found = [match.group(i) for i in (1, 3, 4, 5)]
        parts = [int(p) for p in found]
        list_like = match.group(2) == "," and (
            " " in match.group() or parts[0] < 10 or all(len(p) == 3 for p in found[1:])
        )
        if all(p <= 255 for p in parts) and not list_like:
            return True
    return bool(_IPV4_HEX.search(text))


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


def _unless_date(match: re.Match[str]) -> str:
    """A calendar date is blanked; other digits that look like one are kept."""
    numbers = [int(n) for n in re.findall(r"\d+", match.group())]
    day_month = numbers[1:] if numbers[0] > 31 else numbers[:2]
    ok = all(1 <= n <= 31 for n in day_month) and min(day_month) <= 12
    return " " if ok else match.group()


def _reference(match: re.Match[str]) -> str:
    """A reference an analyst pastes is set aside before digits are judged.

    Why: ``ESP-2024-000123``, ``20241127103001``, ``r0000000007`` and a UUID read as
    phone numbers when judged as digits. Set aside: a UUID; a token the report-id rule
    accepts that starts with a letter and has 5+ digits, or has no letter and 10+ digits.
    Tokens of a few digits, or digits then letters, are kept: ``555 123 4567`` is three
    tokens, and ``555 701 9999x`` must not hide its number behind the ``x``.
    """
    token = match.group().strip(".,;:!?()[]{}<>\"'")
    if _UUID.fullmatch(token):
        return " "
    digits = sum(c.isdigit() for c in token)
    lettered = token[:1].isalpha() and digits >= 5
    numbered = digits >= MIN_PHONE_DIGITS and not re.search("[A-Za-z]", token)
    if not (lettered or numbered) or not re.fullmatch(REPORT_ID_PATTERN, token):
        return match.group()
    return " " if identifier_shape(token) is None else match.group()


def _unless_version(match: re.Match[str]) -> str:
    """A version has a one-digit part after the first (``120.0.6099.109``): set aside."""
    parts = match.group().split(".")
    return " " if any(len(p) == 1 for p in parts[1:]) else match.group()


def _chunks(run: str) -> list[str]:
    """A run of digit groups, or its space- or slash-separated pieces judged alone.

    Pieces are judged alone when each is one group of 4+ digits (``4564654 4564655``,
    ``1024 2048 4096``) — unless the run starts ``0`` or ``+``, a trunk or country
    prefix (``07700 900123``) — or when one is a coordinate (``40.712776 -74.005974``).
    """
    pieces = [p for p in re.split(r"\s*/\s*|\s+", run) if p]
    if len(pieces) < 2:
        return [run]
    counts = [re.findall(r"\d+", p) for p in pieces]
    prefixed = run.lstrip("(").startswith(("0", "+"))
    long_alone = all(len(g) == 1 and len(g[0]) >= 4 for g in counts) and not prefixed
    if long_alone or any(_COORDINATE.fullmatch(p) for p in pieces):
        return pieces
    return [run]


def _phone(text: str) -> bool:
    """10+ digits in one run of phone-like groups (hashes, dates and times set aside).

    A group of one digit is allowed only first (``+1 555 …``): ``0.93 0.87 0.55`` is a
    list of scores, not a number. References, versions and lists of long numbers are
    set aside first (``_reference``, ``_unless_version``, ``_chunks``).
    """
    text = re.sub(r"\S+", _reference, text)
    text = _VERSION.sub(_unless_version, text)
    text = _HASH.sub(" ", text)
    text = _DATE.sub(_unless_date, text)
    text = _TIME.sub(" ", text)
    for match in _DIGIT_RUN.finditer(text):
        for chunk in _chunks(match.group()):
            groups = re.findall(r"\d+", chunk)
            if sum(len(g) for g in groups) < MIN_PHONE_DIGITS:
                continue
            if sum(len(g) == 1 for g in groups[1:]) <= 1:
                return True
    return False


def identifier_in(note: str) -> str | None:
    """What kind of raw identifier the note seems to hold, in words (``None``: none)."""
    text = normalise(note)
    joined = _SPACED_OUT.sub(lambda m: m.group().replace(" ", ""), text)
    if _EMAIL.search(text) or _spoken_email(text) or _EMAIL.search(joined):
        return "an email address"
    if _ipv4(text) or _ipv6(text):
        return "an IP address"
    if _MAC.search(text) or any(_spaced_mac(m.group()) for m in _PAIRS.finditer(text)):
        return "a MAC address"
    if _phone(text):
        return "a phone number"
    return None


def _spaced_mac(run: str) -> bool:
    """Six upper-case hex pairs with spaces, a letter among them: a MAC address.

    ``10 20 30 40 50 60`` is a list of numbers, ``de ad be ef 00 11`` a hash prefix,
    ``FF D8 FF E0 00 10 4A 46`` a dump of a file's first bytes (more than six pairs).
    """
    return (
        len(run.split()) == 6
        and run == run.upper()
        and not run.replace(" ", "").isdigit()
    )
