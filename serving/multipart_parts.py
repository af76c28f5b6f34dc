"""A ``multipart/form-data`` body split into its parts, in memory.

Why not Starlette's ``request.form()``: it spools file parts above 1 MiB to a temporary
file, and a CyberTipline document holds raw identifiers, which must never reach disk
unhashed. The body is already in memory (capped by ``serving.auth``), so the parts are
cut from it with python-multipart's streaming parser and nothing is written anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError, MultipartParseError
from python_multipart.multipart import parse_options_header

from serving.xml_facts import FormError

MAX_PARTS = 1100  # 1 report + 1,000 fileDetails + the facts, as in XmlSubmission


@dataclass
class Part:
    """One part: its form name, file name, media type and charset, and its bytes."""

    name: str = ""
    filename: str | None = None
    media_type: str = ""
    charset: str | None = None
    data: bytearray = field(default_factory=bytearray)


def _invalid(message: str) -> FormError:
    return FormError("invalid_multipart", message)


class _Collector:
    """Callbacks for ``MultipartParser``: builds the parts as the body is parsed."""

    def __init__(self) -> None:
        self.parts: list[Part] = []
        self.header: tuple[bytearray, bytearray] = (bytearray(), bytearray())
        self.headers: dict[str, bytes] = {}
        self.ended = False

    def callbacks(self) -> dict[str, object]:
        def field_(data: bytes, start: int, end: int) -> None:
            self.header[0].extend(data[start:end])

        def value(data: bytes, start: int, end: int) -> None:
            self.header[1].extend(data[start:end])

        def header_end() -> None:
            name, raw = self.header
            self.headers[bytes(name).decode("latin-1").lower()] = bytes(raw)
            self.header = (bytearray(), bytearray())

        def part_data(data: bytes, start: int, end: int) -> None:
            self.parts[-1].data.extend(data[start:end])

        return {
            "on_part_begin": self._begin,
            "on_header_field": field_,
            "on_header_value": value,
            "on_header_end": header_end,
            "on_headers_finished": self._headers_done,
            "on_part_data": part_data,
            "on_end": self._end,
        }

    def _begin(self) -> None:
        if len(self.parts) >= MAX_PARTS:
            raise _invalid(f"more than {MAX_PARTS} parts")
        self.parts.append(Part())
        self.headers = {}

    def _headers_done(self) -> None:
        part = self.parts[-1]
        _, disposition = parse_options_header(self.headers.get("content-disposition"))
        if b"name" not in disposition:
            raise _invalid(f"part {len(self.parts)} has no Content-Disposition name")
        part.name = disposition[b"name"].decode("utf-8", "replace")
        if b"filename" in disposition:
            part.filename = disposition[b"filename"].decode("utf-8", "replace")
        media, params = parse_options_header(self.headers.get("content-type"))
        part.media_type = media.decode("latin-1").lower()
        if b"charset" in params:
            part.charset = params[b"charset"].decode("latin-1")

    def _end(self) -> None:
        self.ended = True


def split_parts(body: bytes, boundary: bytes | None) -> list[Part]:
    """The parts of a ``multipart/form-data`` body (400 ``invalid_multipart`` if broken)."""
    if not boundary:
        raise _invalid("Content-Type multipart/form-data needs a boundary parameter")
    collector = _Collector()
    try:
        parser = MultipartParser(boundary, collector.callbacks())  # type: ignore[arg-type]
        parser.write(body)
        parser.finalize()
    except (MultipartParseError, FormParserError) as exc:
        raise _invalid(f"the multipart body is malformed: {exc}") from None
    except (ValueError, LookupError, UnicodeError) as exc:
        # python-multipart's own checks (a boundary it cannot use, a header it cannot
        # read) raise these: the body is malformed, not the server (issue 18: a 500)
        raise _invalid(
            f"the multipart body is malformed ({type(exc).__name__})"
        ) from None
    if not collector.ended:
        raise _invalid("the multipart body ends before its closing boundary")
    return collector.parts
