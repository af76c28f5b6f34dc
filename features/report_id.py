"""What a report id may be: a sender's reference, never an identifier of a person.

Why: the report id is stored as sent — in every table, the queue, the audit log and the
exports — so it must not be able to carry an IP address, a phone number, an email or a
MAC address (an outside test stored ``198.51.100.9``, ``2001:db8::1`` and
``555-701-9999``). Real ids fit a narrow shape: CyberTipline report numbers
(``4564654``), platforms' references (``ESP-2024-000123``, ``R-1234567``, a UUID,
``20241127103001``, ``2024.11.27.001``) and the XML intake's derived ``xml-<16 hex>``.

The rule (docs/report-contract.md): 1-64 ASCII letters, digits and ``_ . : -``, a letter
or digit first, and none of these shapes anywhere in it — surrounding whitespace stripped,
any of ``_ . : -`` counting as a separator (``198_51_100_9`` is ``198.51.100.9``) and a
letter ending a run of digit groups (``ip10.0.0.1`` and ``555-701-9999x`` are found):

- IPv4: four groups of 1-3 digits, each ≤ 255, joined by one separator; ``0x`` and 8 hex;
  four 2-hex groups with a letter.
- IPv6: any ``::``; hex groups joined by ``:`` that parse as an IPv6 address, or joined
  by ``-``, ``_`` or ``.`` and parsing so with a ``::`` (``2001-db8--1``) or a hex letter.
- A MAC address: six 2-hex groups (one separator) or ``xxxx.xxxx.xxxx``.
- An email spelled out: an ``at`` token followed by a domain (``john_at_example_com``).
- A phone number: three or more digit groups with 7-15 digits (``555_701_9999``),
  ``ddd-dddd``, two groups with 10-15 digits, or one bare digit run that is phone-shaped.
  A group of more than 5 digits can only end a number, and only where the run ends:
  ``555-7019999`` is refused, ``112-1234567-1234567`` and ``CASE-00123456-789`` pass.

Trade-offs (second review): a bare 8-hex token passes (``5f3c9a2b``, ``C0A80164``): ~97%
of random 8-hex references (short hashes) have a letter and a digit, and a sender writing
an IPv4 address as bare hex is far less likely than one using a short hash — written with
``0x`` it is refused. A bare 12-hex token (``001a2b3c4d5e``) passes: a MAC address is
refused only with separators, as bare it is a hex reference. A bare 32-hex token passes:
it is an MD5 digest as much as an IPv6 address. Text over 64 characters is refused before
any pattern runs.

A bare digit run is ambiguous — ``4564654`` is a report number, ``5557019999`` a phone
number and ``3325256809`` a decimal IPv4 address. The choice: runs of up to 9 digits
pass (an 8-9 digit decimal IPv4 cannot be told from a report number); 10 and 11 digits
are refused (national and NANP phone numbers, the decimal IPv4 range); 12-15 digits are
refused unless they start with ``1`` (zone 1 is NANP only, whose numbers have 11 digits
with the country code, so ``123456789012`` is no phone number); a run starting ``000`` is
a zero-padded sequence and is judged without its zeros; ``00`` and ``011`` are dialling
prefixes. Date stamps pass: a calendar date (1990-2099) as ``YYYYMMDD`` (leading a run
of 8 or 12+ digits: a 10-11 digit run is judged as a number), ``YYYY-MM-DD``
or ``DD-MM-YYYY`` (any separator), a time after it and a year-led sequence
(``ESP-2024-000123``) are set aside and only what follows is judged, so
``20241127103001`` and ``20241127-1030-01`` pass but ``2024-06-01-555-701-9999`` does
not. The known cost: a number written with Egypt's country code (``20``) whose next digits
read as a date passes. UUIDs (any version, with or without dashes) always pass.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from datetime import date
from typing import Any

REPORT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
"""ASCII letters, digits and ``_ . : -``; 1-64 characters; a letter or digit first.

Kept with ``^…$`` for pydantic and the OpenAPI document (their engines read ``$`` as the
end of the text); Python code matches it with ``re.fullmatch``, as Python's ``$`` also
matches before a final newline."""

_UUID = re.compile(
    r"(?<![0-9A-Za-z])[0-9a-f]{8}(-?)[0-9a-f]{4}\1[0-9a-f]{4}\1[0-9a-f]{4}\1[0-9a-f]{12}"
    r"(?![0-9A-Za-z])",
    re.IGNORECASE,
)
_FOREIGN = re.compile(r"[^A-Za-z0-9]+")
_SEPARATED = re.compile(r"([_.:-])")
_HEX_IPV4 = re.compile(r"0x[0-9a-f]{8}", re.IGNORECASE)
_HEX_BYTE = r"(?:0x[0-9a-f]{1,2}|[0-9a-f]{2})"
_HEX_QUAD = re.compile(
    rf"(?<![0-9A-Za-z]){_HEX_BYTE}([_.:-]){_HEX_BYTE}(?:\1{_HEX_BYTE}){{2}}(?![0-9A-Za-z])",
    re.IGNORECASE,
)
_MAC = re.compile(
    r"(?<![0-9A-Za-z])(?:[0-9a-f]{2}([_.:-])[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}"
    r"|(?=[0-9.]*[a-f])[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4})(?![0-9A-Za-z])",
    re.IGNORECASE,
)
_LONG_HEX = re.compile(r"[0-9a-f]{16,}", re.IGNORECASE)
_SHORT_PHONE = re.compile(r"\d{3}[_.:-]\d{4}")
_TIME = re.compile(r"(?:[01]\d|2[0-3])(?:[0-5]\d){0,2}")
_MINUTES = re.compile(r"[0-5]\d")
_PIECES = re.compile(r"\d+|\D+")
MAX_LENGTH = 64
"""Longer text is refused before any pattern runs (40 KB of ``1 1 1`` took 22 s)."""
LONG_GROUP = 5
"""Digit groups of a phone number have at most 5 digits, but for the last (``555-7019999``)."""


def _ipv6_with(text: str, sep: str) -> bool:
    hexes = r"[0-9A-Fa-f]{0,4}"
    pattern = (
        rf"(?<![0-9A-Za-z]){hexes}(?:{re.escape(sep)}{hexes}){{2,8}}(?![0-9A-Za-z])"
    )
    for match in re.finditer(pattern, text):
        candidate = match.group().replace(sep, ":")
        try:
            ipaddress.IPv6Address(candidate)
        except ValueError:
            continue
        if sep == ":" or "::" in candidate or re.search("[A-Fa-f]", candidate):
            return True
    return False


def _ipv6(text: str) -> bool:
    return "::" in text or any(_ipv6_with(text, sep) for sep in ":-_.")


def _email(tokens: list[str]) -> bool:
    """An ``at`` token between a name and a domain (``john_at_example_dot_com``)."""
    words = [t.lower() for t in tokens if t and t not in "_.:-"]
    for i, word in enumerate(words):
        domain = [w for w in words[i + 1 :] if w != "dot"]
        if word == "at" and i >= 1 and len(domain) >= 2:
            tld = domain[-1]
            if tld.isalpha() and 2 <= len(tld) <= 24 and not domain[0].isdigit():
                return True
    return False


def _valid_date(year: str, month: str, day: str) -> bool:
    if len(year) != 4 or not 1 <= len(month) <= 2 or not 1 <= len(day) <= 2:
        return False  # also keeps int() small: a 20-digit "month" would overflow date()
    if not 1990 <= int(year) <= 2099:
        return False
    try:
        date(int(year), int(month), int(day))
    except ValueError:
        return False
    return True


def _stamped(run: str) -> bool:
    """Does a digit run start with a ``YYYYMMDD`` date stamp?

    Only a run of 8 or 12+ digits: a 10- or 11-digit one is judged as a number
    (``2048110100`` is a phone number in Manitoba, not 2048-11-01 at 00 h).
    """
    ok = len(run) == 8 or len(run) >= 12
    return ok and _valid_date(run[:4], run[4:6], run[6:8])


def _date_length(groups: list[str], first: bool) -> int:
    """How many groups at the start of ``groups`` are a date stamp (0: none).

    A date (``YYYYMMDD`` in one group, or ``YYYY MM DD`` / ``DD MM YYYY`` in three) and
    the time groups after it (``hh``, ``hhmm``, ``hhmmss``), or — at the start of the run
    only (``first``) — a year before a sequence number (``2024-000123``).
    """
    if len(groups[0]) == 8 and _valid_date(
        groups[0][:4], groups[0][4:6], groups[0][6:]
    ):
        taken = 1
    elif len(groups) >= 3 and (
        _valid_date(*groups[:3]) or _valid_date(groups[2], groups[1], groups[0])
    ):
        taken = 3
    elif first and len(groups) > 1 and _valid_date(groups[0], "1", "1"):
        return 1
    else:
        return 0
    pattern, times = _TIME, 0
    while taken < len(groups) and times < 3 and pattern.fullmatch(groups[taken]):
        taken, times, pattern = taken + 1, times + 1, _MINUTES
    return taken


def _grouped(groups: list[str], seps: list[str], first: bool = True) -> str | None:
    """The shape of digit groups joined by separators, a date stamp set aside."""
    for i in range(len(groups)):
        taken = _date_length(groups[i:], first and i == 0)
        if taken:
            before = _digits_shape(groups[:i], seps[: max(i - 1, 0)])
            return before or _grouped(groups[i + taken :], seps[i + taken :], False)
    return _digits_shape(groups, seps)


def _digits_shape(groups: list[str], seps: list[str]) -> str | None:
    """IPv4 (four small groups, one separator) or a phone number (see the docstring)."""
    for i in range(len(groups) - 3):
        same = len(set(seps[i : i + 3])) == 1
        if same and all(len(g) <= 3 and int(g) <= 255 for g in groups[i : i + 4]):
            return "an IPv4 address"
    sizes = [len(g.lstrip("0")) if g.startswith("000") else len(g) for g in groups]
    for i in range(len(groups)):
        for j in range(i + 2, len(groups) + 1):
            if len(groups[j - 2]) > LONG_GROUP:
                break  # a long group ends a phone number: none continues past it
            if len(groups[j - 1]) > LONG_GROUP and j < len(groups):
                continue  # ``112-1234567-1234567``: the run goes on, no number ends here
            digits = sum(sizes[i:j])
            pair = j - i == 2 and (
                10 <= digits <= 15
                or bool(_SHORT_PHONE.fullmatch(groups[i] + seps[i] + groups[i + 1]))
            )
            if pair or (j - i >= 3 and 7 <= digits <= 15):
                return "a phone number"
    return "a phone number" if any(_phone_digits(g) for g in groups) else None


def _split_date_stamps(groups: list[str], seps: list[str]) -> None:
    """Split a group that starts with ``YYYYMMDD`` in two, so the date can be set aside."""
    for i in range(len(groups) - 1, -1, -1):
        group = groups[i]
        if len(group) > 8 and _stamped(group):
            groups[i : i + 1] = [group[:8], group[8:]]
            seps.insert(i, "")


def _pieces(token: str) -> list[str]:
    """A token split where letters meet digits (``ip10`` → ``ip``, ``10``), a digest kept."""
    if token.isdigit() or _LONG_HEX.fullmatch(token):
        return [token]
    return _PIECES.findall(token) or [token]


def _runs(flat: str) -> list[tuple[list[str], list[str]]]:
    """Runs of digit groups and the separators between them, over the whole text.

    A letter ends a run: ``src203.0.113.9`` holds the run ``203 . 0 . 113 . 9``.
    """
    parts = _SEPARATED.split(flat)
    runs: list[tuple[list[str], list[str]]] = []
    groups: list[str] = []
    seps: list[str] = []
    for k in range(0, len(parts), 2):
        after = parts[k + 1] if k + 1 < len(parts) else ""
        pieces = _pieces(parts[k])
        for n, piece in enumerate(pieces):
            if piece.isdigit():
                groups.append(piece)
                seps.append(after if n == len(pieces) - 1 else "")
                continue
            if groups:
                runs.append((groups, seps[: len(groups) - 1]))
            groups, seps = [], []
    if groups:
        runs.append((groups, seps[: len(groups) - 1]))
    return runs


def _phone_digits(run: str) -> bool:
    """Is one bare digit run phone-shaped (or a decimal IPv4 address)? See the docstring."""
    if run.startswith("000"):
        run = run.lstrip("0")  # a zero-padded sequence number
    elif run.startswith(
        ("00", "011")
    ):  # a dialling prefix, then country code and number
        rest = run[3:] if run.startswith("011") else run[2:]
        nanp = not rest.startswith("1") or len(rest) == 11
        return 8 <= len(rest) <= 15 and not rest.startswith("0") and nanp
    elif run.startswith("0"):  # a trunk prefix, then a national number
        return 10 <= len(run) <= 12
    if len(run) in (10, 11):
        return True
    return 12 <= len(run) <= 15 and not run.startswith("1")


def _hex_shape(text: str) -> str | None:
    if _MAC.search(text):
        return "a MAC address"
    if _HEX_IPV4.search(text):
        return "an IPv4 address"
    for match in _HEX_QUAD.finditer(text):
        if re.search("[a-fx]", match.group(), re.IGNORECASE):
            return "an IPv4 address"
    if _ipv6(text):
        return "an IPv6 address"
    return None


def identifier_shape(report_id: str) -> str | None:
    """What identifier the id looks like, in words (``None``: it looks like a report id).

    Any text is judged (a value the pattern refuses too, so its refusal can say why);
    surrounding whitespace is ignored, as the contract strips it. Text over 64 characters
    is refused unread: no pattern runs on a long input.
    """
    if len(report_id) > MAX_LENGTH:
        return "text too long for a report id"
    text = _UUID.sub("U", unicodedata.normalize("NFKC", report_id.strip()))
    if "@" in text:
        return "an email address"
    shape = _hex_shape(text)
    if shape is not None:
        return shape
    flat = text if re.fullmatch(REPORT_ID_PATTERN, text) else _FOREIGN.sub("-", text)
    if _email(_SEPARATED.split(flat)):
        return "an email address"
    for groups, seps in _runs(flat):
        _split_date_stamps(groups, seps)
        shape = _grouped(groups, seps)
        if shape is not None:
            return shape
    return None


def check_report_id(report_id: str) -> str:
    """Refuse an id that looks like an identifier (a pydantic ``AfterValidator``).

    Run on the final value too, not only before the pattern: a check on the value as sent
    once let ``10.0.0.1`` and a newline through (the newline hid the last digit group).
    """
    if len(report_id) > MAX_LENGTH:
        raise ValueError(f"a report id has at most {MAX_LENGTH} characters")
    shape = identifier_shape(report_id)
    if shape is not None:
        raise ValueError(
            f"looks like {shape}; a report id must be the sender's reference, not an "
            "identifier (letters, digits and _ . : -, e.g. 4564654, ESP-2024-000123 or "
            "a UUID; docs/report-contract.md)"
        )
    return report_id


def refuse_identifier_shape(value: Any) -> Any:
    """The same check before the pattern (a ``BeforeValidator``), on the stripped text.

    Why: ``+15557019999`` is then refused as a phone number, not as a pattern mismatch.
    Stripped, as the model strips it: ``10.0.0.1`` and a newline is judged as ``10.0.0.1``.
    """
    if isinstance(value, str) and len(value.strip()) <= MAX_LENGTH:
        check_report_id(value.strip())
    return value
