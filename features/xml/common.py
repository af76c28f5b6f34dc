"""Small, lenient readers shared by the ``<report>`` and ``<fileDetails>`` parsers.

Why lenient: real clients drift from the XSD (see shared/samples/xml/SOURCES.md). What can
still be read unambiguously is read and noted as a ``ParseWarning``; what cannot be a report
raises ``XmlIntakeError``. Values of identifier and free-text elements never appear in a
warning or an error message.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from features.identifiers import IdentifierHasher
from features.report_id import REPORT_ID_PATTERN, identifier_shape
from features.xml.safe import ParseWarning, XmlIntakeError

_PLAIN_SEGMENT = re.compile(r"^[A-Za-z][A-Za-z_]{0,39}(?:\[\d{1,6}\])?$")
"""A path segment kept as written: a letters-only name up to 40 characters (XSD names are),
with an optional ``[n]`` index; anything else is named by its digest."""
_XS_DATETIME = re.compile(
    r"-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?"
)
"""The lexical form of ``xs:dateTime``."""
_END_OF_DAY = re.compile(r"\d{4}-\d{2}-\d{2}T24:00:00(\.0+)?(Z|[+-]\d{2}:\d{2})?")
_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


def local(tag: object) -> str:
    """The element's name; an element in a namespace keeps it (``{urn:x}report``).

    The XSD has no target namespace: its elements are in none. An element in some
    namespace is another vocabulary's, so it matches no name of the XSD (it is an
    unknown element, or a wrong root). Before, the namespace was stripped: a document
    in any namespace was read as a CyberTipline report, and a foreign
    ``<x:escalateToHighPriority>`` escalated one (an outside XML client, session 9).
    """
    return str(tag)


def children(element: ET.Element, name: str | None = None) -> Iterator[ET.Element]:
    """Child elements (comments skipped), optionally only those called ``name``."""
    for child in element:
        if not isinstance(child.tag, str):
            continue
        if name is None or local(child.tag) == name:
            yield child


def child(element: ET.Element, name: str) -> ET.Element | None:
    """The first child element called ``name``, if any."""
    return next(children(element, name), None)


def text(element: ET.Element | None) -> str:
    """Stripped text of an element ('' when absent or empty)."""
    if element is None or element.text is None:
        return ""
    return element.text.strip()


def filled(element: ET.Element | None) -> bool:
    """Whether an element is present with some text in it or below it.

    An empty optional element (``<age/>``, ``<estimatedLocation/>``) says nothing: it is
    read as absent, as a blank ``<email> </email>`` already was.
    """
    return element is not None and any(t.strip() for t in element.itertext())


WARNINGS_PER_CODE = 20
"""Most warnings of one code a parse lists (the rest are counted in one more)."""


@dataclass
class Context:
    """What a parser carries while walking one document: warnings and the hasher."""

    hasher: IdentifierHasher
    warnings: list[ParseWarning] = field(default_factory=list)
    unlisted: Counter[str] = field(default_factory=Counter)

    def warn(self, code: str, path: str, message: str) -> None:
        """Record a tolerated deviation; a path segment that is no XSD-like name is hashed.

        Warnings are kept (the audit log, the stored response), so an element name the
        sender chose — a 1 MB name, or one spelling an identifier — never appears as sent.
        At most ``WARNINGS_PER_CODE`` of one code are listed; the rest are counted
        (``listed``): 49,990 unknown elements made 49,990 warnings, a 3.8 MB answer and a
        4.9 MB stored row (an outside XML client, session 9).
        """
        if sum(w.code == code for w in self.warnings) >= WARNINGS_PER_CODE:
            self.unlisted[code] += 1
            return
        self.warnings.append(
            ParseWarning(code=code, path=self.safe_path(path), message=message)
        )

    def listed(self) -> list[ParseWarning]:
        """The warnings, with one more per code that had more than could be listed."""
        more = [
            ParseWarning(
                code=code,
                path="/",
                message=f"{count} more {code} warning(s) not listed "
                f"(at most {WARNINGS_PER_CODE} of a kind are)",
            )
            for code, count in sorted(self.unlisted.items())
        ]
        return [*self.warnings, *more]

    def redact(self, value: str) -> str:
        """A raw value as a warning may name it: ``#`` and a short keyed digest."""
        return f"#{self.hasher.short(value)}"

    def reference(self, value: str) -> str:
        """A sender's reference (a file id) as a warning may name it.

        Quoted when it is a short plain reference not shaped like an identifier (the
        report-id rule), else redacted.
        """
        plain = len(value) <= 40 and re.fullmatch(REPORT_ID_PATTERN, value)
        if plain and identifier_shape(value) is None:
            return repr(value)
        return self.redact(value)

    def safe_path(self, path: str) -> str:
        """``path`` with every segment that is not a short plain name replaced by its digest."""
        return "/".join(
            s if not s or _PLAIN_SEGMENT.fullmatch(s) else self.redact(s)
            for s in path.split("/")
        )


def warn_unknown(
    ctx: Context, element: ET.Element, known: frozenset[str], at: str
) -> None:
    """Warn about children the XSD does not define (they are ignored).

    Content was refused before (``features.xml.content``), whatever the name.
    """
    for item in children(element):
        name = local(item.tag)
        if name not in known:
            ctx.warn("unknown_element", f"{at}/{name}", "not in the XSD; ignored")


def warn_repeated(
    ctx: Context, element: ET.Element, singles: frozenset[str], at: str
) -> None:
    """Warn about children the XSD allows once that came more often (the first is read)."""
    counts: dict[str, int] = {}
    for item in children(element):
        name = local(item.tag)
        if name in singles:
            counts[name] = counts.get(name, 0) + 1
    for name, count in counts.items():
        if count > 1:
            ctx.warn(
                "repeated_element",
                f"{at}/{name}",
                f"given {count} times; the XSD allows one; the first was read",
            )


def boolean(ctx: Context, element: ET.Element | None, path: str) -> bool | None:
    """Read an ``xs:boolean``; an unreadable value is a warning and counts as absent."""
    if element is None:
        return None
    written = text(element)
    value = written.lower()
    if value in _TRUE | _FALSE and written != value:  # "TRUE": xs:boolean is lower case
        ctx.warn(
            "not_xs_boolean",
            path,
            f"{value!r} written in another case; read as {value}",
        )
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    ctx.warn("invalid_boolean", path, "expected true or false; the value was ignored")
    return None


def presence_flag(ctx: Context, element: ET.Element, path: str) -> bool:
    """Read a presence flag (``<tag/>``, ``<tag>true</tag>``); ``false`` is not a flag."""
    value = text(element).lower()
    if value == "":
        return True
    if value in _TRUE:
        ctx.warn(
            "presence_flag_text",
            path,
            "presence flag written with text 'true'; read as set",
        )
        return True
    ctx.warn(
        "presence_flag_false", path, "presence flags cannot be false; read as unset"
    )
    return False


def date_time(ctx: Context, element: ET.Element | None, path: str) -> datetime | None:
    """Read an ``xs:dateTime``; a missing zone is read as UTC with a warning.

    ``24:00:00`` (the XSD's end of a day) is the next day's midnight. Other ISO 8601
    forms the XSD does not allow (``10:00Z``, a space for ``T``, a date alone) are read,
    as real clients send them, with the warning ``not_xs_datetime``.
    """
    raw = text(element)
    if not raw:
        return None
    end_of_day = _END_OF_DAY.fullmatch(raw)
    written = raw
    if end_of_day is not None:  # xs:dateTime's 24:00:00: 00:00:00 of the next day
        raw = raw.replace("T24:", "T00:", 1)
    try:
        value = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise XmlIntakeError(
            "invalid_value", path, f"expected an ISO-8601 date-time, got {raw[:40]!r}"
        ) from exc
    if end_of_day is not None:
        try:
            value += timedelta(days=1)
        except OverflowError:  # 9999-12-31T24:00:00: no next day to be
            raise XmlIntakeError(
                "invalid_value",
                path,
                f"expected an ISO-8601 date-time, got {written[:40]!r}",
            ) from None
    elif not _XS_DATETIME.fullmatch(raw):
        ctx.warn(
            "not_xs_datetime",
            path,
            "not in the xs:dateTime form (YYYY-MM-DDThh:mm:ss[.s][zone]); read as ISO 8601",
        )
    if value.tzinfo is None:
        ctx.warn("naive_datetime", path, "date-time has no zone; read as UTC")
        value = value.replace(tzinfo=UTC)
    return value


def age_from_dob(element: ET.Element | None, at: datetime) -> int | None:
    """Age in whole years at ``at`` for an ``xs:date`` of birth (never stored itself)."""
    raw = text(element)
    if not raw:
        return None
    try:
        born = date.fromisoformat(raw[:10])
    except ValueError:
        return None
    day = at.date()
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


_LONG = re.compile(r"[+-]?\d{1,19}")
XS_LONG_MAX = 2**63 - 1


def report_number(value: str) -> str | None:
    """A report number as an ``xs:long`` reads it, or None (no number, or negative).

    ``+123456`` and ``0123456`` are ``123456``.
    """
    if not _LONG.fullmatch(value) or not 0 <= int(value) <= XS_LONG_MAX:
        return None  # 9223372036854775808 is past xs:long (accepted before, session 9)
    return str(int(value))
