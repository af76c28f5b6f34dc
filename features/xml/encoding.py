"""The text of an XML document that arrived as bytes, by its charset or its own declaration.

Why here: an intake system may send the raw ``<report>`` with ``Content-Type:
application/xml; charset=ISO-8859-1``, or with no charset and an ``<?xml ...
encoding="..."?>`` declaration, or UTF-16 with a byte-order mark. The service carries every
document on as text (the JSON form's strings), so the bytes are decoded once, here, the way
RFC 7303 and the XML specification (appendix F) say: a declared charset wins; without one,
a byte-order mark, then the declaration, then UTF-8. The parser then reads that text as
UTF-8 whatever its declaration says (``features.xml.safe.read_xml``).
"""

from __future__ import annotations

import codecs
import re

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_NO_BOM = {
    b"<\x00?\x00": "utf-16-le",
    b"\x00<\x00?": "utf-16-be",
    b"<\x00\x00\x00": "utf-32-le",
    b"\x00\x00\x00<": "utf-32-be",
}
_DECLARED = re.compile(
    rb"^\s*<\?xml[^>]*?\sencoding\s*=\s*[\"']([A-Za-z][A-Za-z0-9._-]{0,39})[\"']"
)
_WIDE = ("utf-16", "utf-32")


class EncodingError(ValueError):
    """Bytes that cannot be read as text: an unknown charset, or bytes that do not fit it.

    Attributes:
        code: ``unsupported_charset`` (no such text encoding) or ``undecodable`` (the
            bytes are not valid in the charset).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _codec(name: str, where: str) -> str:
    try:
        info = codecs.lookup(name)
    except LookupError:
        raise EncodingError(
            "unsupported_charset", f"{where} {name[:40]!r} is not a known charset"
        ) from None
    if not getattr(info, "_is_text_encoding", True):
        raise EncodingError(
            "unsupported_charset", f"{where} {name[:40]!r} is not a text charset"
        )
    return info.name


def sniffed_encoding(data: bytes) -> tuple[str, str]:
    """The encoding the document itself gives, and where it was read from."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name, "byte-order mark"
    if data[:4] in _NO_BOM:
        return _NO_BOM[data[:4]], "first bytes"
    declared = _DECLARED.match(data[:200])
    if declared is None:
        return "utf-8", "default"
    name = _codec(declared.group(1).decode("ascii"), "XML declaration encoding")
    if name.startswith(_WIDE):
        raise EncodingError(
            "undecodable",
            f"the XML declaration says {name} but the document starts as 8-bit text",
        )
    return name, "XML declaration"


def xml_text(data: bytes, charset: str | None = None) -> str:
    """The document as text: by ``charset`` if given, else as the document says.

    Raises:
        EncodingError: the charset is unknown, or the bytes are not valid in it.
    """
    if charset:
        name, source = _codec(charset.strip().strip("\"'"), "charset"), "charset"
    else:
        name, source = sniffed_encoding(data)
    try:
        return data.decode(name)
    except UnicodeDecodeError as exc:
        raise EncodingError(
            "undecodable",
            f"byte {exc.start} is not valid {name} (encoding from the {source})",
        ) from None
