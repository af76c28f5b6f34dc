"""Hardened XML reading: bytes in, an element tree out, or a precise refusal.

Why this way: CyberTipline XML arrives from outside. Before any element is looked at, the
document must be small enough, have no DTD (so no entities, no external references, no
entity expansion — the whole XXE and "billion laughs" family is refused up front), be
well-formed, and not nest or sprawl beyond configured bounds. The reader never opens a file
or a connection: expat is driven by defusedxml with DTDs forbidden, and lxml (used only for
optional XSD validation) runs with network access, DTD loading and entity resolution off.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # only for types and TreeBuilder; parsing is defused
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import XMLParser
from pydantic import BaseModel, ConfigDict


class XmlIntakeError(ValueError):
    """A document that cannot be taken as a report: says which element and what was wrong.

    Attributes:
        code: stable machine-readable reason (e.g. ``dtd_forbidden``, ``missing_element``).
        path: the XML path of the offending element, or ``/`` for the whole document.
    """

    def __init__(self, code: str, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.code = code
        self.path = path
        self.message = message


class ParseWarning(BaseModel):
    """A tolerated deviation from the XSD, reported beside the parsed report."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    path: str
    message: str


@dataclass(frozen=True)
class XmlLimits:
    """Bounds a document must stay within."""

    max_bytes: int = 4 * 1024 * 1024
    max_depth: int = 32
    max_elements: int = 50_000


@dataclass(frozen=True)
class XmlDocument:
    """A safely parsed document: its root and facts about its form that warnings need."""

    root: ET.Element
    has_declaration: bool
    has_comments: bool


class _BoundedBuilder(ET.TreeBuilder):
    """A tree builder that stops as soon as depth or element count exceed their bounds.

    Comments are counted (a warning says they were ignored) but kept out of the tree, so
    an element's text is its whole character data: with comments in the tree,
    ``<age><!-- stated -->14</age>`` read as an empty age and ``Child Sex
    <!--x-->Trafficking`` as ``Child Sex``.
    """

    def __init__(self, limits: XmlLimits) -> None:
        super().__init__(insert_comments=False)
        self._limits = limits
        self._depth = 0
        self._count = 0
        self.comments = 0

    def start(self, tag: Any, attrs: Any) -> ET.Element:
        self._depth += 1
        self._count += 1
        if self._depth > self._limits.max_depth:
            raise XmlIntakeError(
                "too_deep", "/", f"elements nest deeper than {self._limits.max_depth}"
            )
        if self._count > self._limits.max_elements:
            raise XmlIntakeError(
                "too_many_elements",
                "/",
                f"document has more than {self._limits.max_elements} elements",
            )
        return super().start(tag, attrs)

    def end(self, tag: Any) -> ET.Element:
        self._depth -= 1
        return super().end(tag)

    def comment(self, text: Any) -> ET.Element:
        self.comments += 1
        return super().comment(text)


def _check_prolog(data: bytes, limits: XmlLimits) -> None:
    if len(data) > limits.max_bytes:
        raise XmlIntakeError(
            "too_large",
            "/",
            f"document is {len(data)} bytes; the limit is {limits.max_bytes} bytes",
        )
    if not data.strip():
        raise XmlIntakeError("empty", "/", "document is empty")


def read_xml(
    data: bytes, limits: XmlLimits | None = None, encoding: str | None = None
) -> XmlDocument:
    """Parse ``data`` into an element tree, refusing anything unsafe or malformed.

    ``encoding`` overrides the document's own declaration (for text already decoded by the
    caller and encoded again, e.g. as UTF-8); without it the declaration decides.

    Raises:
        XmlIntakeError: too large, empty, has a DTD or entity, not well-formed, too deep
            or too many elements.
    """
    limits = limits or XmlLimits()
    _check_prolog(data, limits)
    builder = _BoundedBuilder(limits)
    parser = XMLParser(
        target=builder,
        encoding=encoding,
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=True,
    )
    try:
        parser.feed(data)
        root = parser.close()
    except DefusedXmlException as exc:
        raise XmlIntakeError(
            "dtd_forbidden",
            "/",
            "DOCTYPE, entity declarations and external references are not accepted "
            f"({type(exc).__name__})",
        ) from exc
    except ET.ParseError as exc:
        line, column = exc.position
        raise XmlIntakeError(
            "not_well_formed",
            "/",
            f"not well-formed XML at line {line}, column {column}: {_reason(exc)}",
        ) from exc
    return XmlDocument(
        root=root,
        has_declaration=_has_declaration(data),
        has_comments=builder.comments > 0,
    )


_WIDE_STARTS = (
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
    (b"<\x00?\x00", "utf-16-le"),
    (b"\x00<\x00?", "utf-16-be"),
)


def _has_declaration(data: bytes) -> bool:
    """Whether the document starts with ``<?xml``, in UTF-16 as in 8-bit encodings."""
    head = data[:64]
    for start, codec in _WIDE_STARTS:
        if head.startswith(start):
            head = head.decode(codec, "ignore").lstrip("\ufeff").encode("utf-8")
            break
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<?xml")


def _reason(exc: ET.ParseError) -> str:
    text = str(exc)
    return text.split(":", 1)[0] if ":" in text else text


@dataclass(frozen=True)
class Xsd:
    """An XSD document, read by the caller, and where it came from (for messages)."""

    data: bytes
    source: str


def validate_xsd(data: bytes, xsd: Xsd, encoding: str | None = None) -> list[str]:
    """Validate a document (already accepted by ``read_xml``) against an XSD.

    ``encoding`` overrides the document's declaration, as in ``read_xml``.

    Returns:
        The schema violations as ``line N: message`` strings; empty when valid.
    """
    from lxml import etree  # local: strict validation is optional and lxml is heavy

    safe = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        schema = etree.XMLSchema(etree.fromstring(xsd.data, parser=safe))
    except (etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
        raise XmlIntakeError(
            "xsd_unusable", "/", f"cannot load the XSD at {xsd.source}: {exc}"
        ) from exc
    reader = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        encoding=encoding,
    )
    document = etree.fromstring(data, parser=reader)
    if schema.validate(document):
        return []
    errors: Iterable[Any] = schema.error_log  # type: ignore[assignment]
    return [f"line {e.line}: {e.message}" for e in errors]
