"""The text of an XML document that arrived as bytes, by its charset or its own declaration.

Why here: an intake system may send the raw ``<report>`` with ``Content-Type:
application/xml; charset=ISO-8859-1``, or with no charset and an ``<?xml ...
encoding="..."?>`` declaration, or UTF-16 with a byte-order mark. The service carries every
document on as text (the JSON form's strings), so the bytes are decoded once, here, the way
RFC 7303 and the XML specification (appendix F) say: a byte-order mark wins (RFC 7303 made
it authoritative over the charset parameter: a UTF-16 document sent with the NCMEC API's
``charset=utf-8`` header is UTF-16); then a declared charset; then the first bytes or the
declaration; then UTF-8. The parser then reads that text as
UTF-8 whatever its declaration says (``features.xml.safe.read_xml``).

Which encodings are accepted (``ACCEPTED``): UTF-8, UTF-16 (with or without a byte-order
mark), US-ASCII, ISO-8859-1 to -16 and windows-1250 to -1258 — what CyberTipline clients
send. Everything else is refused as ``unsupported_charset``, whether the Content-Type, a
multipart part, the byte-order mark or the XML declaration names it: UTF-7 (it turns plain
ASCII into other characters, even lone surrogates), UTF-32, the East Asian multi-byte
encodings (Shift_JIS, EUC-*, GB*, Big5), EBCDIC and codecs that are no charsets at all
(``punycode``, ``idna``), some of which failed with a server error (issue 18).
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
_DECLARED = re.compile(rb"^\s*<\?xml[^>]*?\sencoding\s*=\s*([\"'])(.*?)\1", re.S)
_ENC_NAME = re.compile(rb"[A-Za-z][A-Za-z0-9._-]*")
"""The XML specification's ``EncName`` production."""
DECLARATION_WINDOW = 4096
"""Bytes searched for the declaration's ``encoding`` (its length is not bounded by XML)."""
_WIDE = ("utf-16", "utf-32")
_UTF32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
_UTF32_FIRST = (b"<\x00\x00\x00", b"\x00\x00\x00<")
ACCEPTED = frozenset(
    {"utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "ascii"}
    | {f"iso8859-{n}" for n in range(1, 17) if n != 12}  # there is no ISO-8859-12
    | {f"cp125{n}" for n in range(9)}  # windows-1250 … windows-1258
)
"""Python codec names (``codecs.lookup(name).name``) of the accepted encodings."""
ACCEPTED_WORDS = "UTF-8, UTF-16, US-ASCII, ISO-8859-1…16 or windows-1250…1258"


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
    except (
        LookupError,
        ValueError,
    ):  # ValueError: a NUL in the name (a multipart part's)
        raise EncodingError(
            "unsupported_charset", f"{where} {name[:40]!r} is not a known charset"
        ) from None
    if not getattr(info, "_is_text_encoding", True):
        raise EncodingError(
            "unsupported_charset", f"{where} {name[:40]!r} is not a text charset"
        )
    if info.name not in ACCEPTED:
        raise EncodingError(
            "unsupported_charset",
            f"{where} {name[:40]!r} is not accepted; send {ACCEPTED_WORDS}",
        )
    return info.name


def declared_encoding(data: bytes) -> str | None:
    """The encoding an ``<?xml ... encoding="..."?>`` declaration names, if any.

    Any length: a name of 40+ characters (``UTF----…----7`` is UTF-7 to Python's codec
    lookup) must meet the same check as a short one.

    Raises:
        EncodingError: ``unsupported_charset`` when the name is no XML ``EncName``.
    """
    declared = _DECLARED.match(data[:DECLARATION_WINDOW])
    if declared is None:
        return None
    name = declared.group(2)
    if _ENC_NAME.fullmatch(name) is None:
        shown = name[:40].decode("ascii", "replace")
        raise EncodingError(
            "unsupported_charset",
            f"XML declaration encoding {shown!r} is not an encoding name",
        )
    return name.decode("ascii")


def check_declaration(data: bytes) -> None:
    """Refuse text whose declaration names an encoding that is not accepted.

    For documents that arrive as text (the JSON form): the declaration no longer says how
    the text is read, but a document declaring UTF-7 or Shift_JIS is refused in every form,
    so what is accepted does not depend on how it was sent.

    Raises:
        EncodingError: ``unsupported_charset``.
    """
    name = declared_encoding(data)
    if name is not None:
        _codec(name, "XML declaration encoding")


def check_encoding(data: bytes) -> None:
    """Refuse bytes that are in, or declare, an encoding that is not accepted.

    For bytes the parser reads itself (``tipscore parse``): nothing is decoded here, so
    a document in an accepted encoding is read exactly as before.

    Raises:
        EncodingError: ``unsupported_charset``.
    """
    if data.startswith(_UTF32_BOMS) or data[:4] in _UTF32_FIRST:
        raise EncodingError(
            "unsupported_charset",
            f"the document is UTF-32, which is not accepted; send {ACCEPTED_WORDS}",
        )
    check_declaration(data)


def sniffed_encoding(data: bytes) -> tuple[str, str]:
    """The encoding the document itself gives, and where it was read from."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return _codec(name, "byte-order mark of"), "byte-order mark"
    if data[:4] in _NO_BOM:
        return _codec(_NO_BOM[data[:4]], "first bytes of"), "first bytes"
    declared = declared_encoding(data)
    if declared is None:
        return "utf-8", "default"
    name = _codec(declared, "XML declaration encoding")
    if name.startswith(_WIDE):
        raise EncodingError(
            "undecodable",
            f"the XML declaration says {name} but the document starts as 8-bit text",
        )
    return name, "XML declaration"


def xml_text(data: bytes, charset: str | None = None) -> str:
    """The document as text: by its byte-order mark, else ``charset``, else as it says.

    Raises:
        EncodingError: the charset is unknown, or the bytes are not valid in it.
    """
    bom = next((name for mark, name in _BOMS if data.startswith(mark)), None)
    if charset and bom is None:
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
    except UnicodeError:  # a codec's own failure (none accepted raises it; kept safe)
        raise EncodingError(
            "undecodable",
            f"the bytes are not valid {name} (encoding from the {source})",
        ) from None
